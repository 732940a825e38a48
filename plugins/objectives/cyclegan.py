"""CycleGAN (Zhu et al. 2017) and its voice-conversion forms CycleGAN-VC (Kaneko & Kameoka
2018), CycleGAN-VC2 (Kaneko et al. 2019) and MaskCycleGAN-VC (Kaneko et al. 2021).

Two generators map domain A to B (``a2b``) and back (``b2a``); two discriminators judge
each domain (``a``, ``b``). Terms: adversarial (``g/adv``, ``d/adv``), cycle consistency
L1 (``g/cycle``, lambda 10) and identity-mapping L1 (``g/identity``, 5). CycleGAN-VC keeps
the identity loss for the first 10^4 iterations only: in a config,
``loss_weights: {g/identity: {value: 5.0, stop: 10000}}``.

**Two-step adversarial loss** (CycleGAN-VC2, section 3.1): with the optional
discriminators ``a2`` and ``b2`` (both or neither), each judges its domain's real features
against the *cycle-reconstructed* ones, ``b2a(a2b(a))`` and ``a2b(b2a(b))``: ``d/adv2`` and
``g/adv2`` (weight 1, as the adversarial loss), which counteract the over-smoothing the L1
cycle loss causes. Without them the terms are not computed. Batches are ``UNPAIRED``
(:mod:`speechgan.batches`): a features batch per domain, drawn independently; the
generators translate the features ``a.features`` (B, C, N) <-> ``b.features``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
from torch import nn

from speechgan.losses import AdversarialCriterion, cycle_consistency_loss, identity_loss
from speechgan.objective import Objective, mean_output
from speechgan.registry import ComponentRef

__all__ = ["CycleGAN"]


class CycleGAN(Objective):
    """Unpaired two-domain translation with cycle-consistency and identity losses (CycleGAN)."""

    generator_roles = ("a2b", "b2a")
    discriminator_roles = ("a", "b")
    optional_discriminator_roles = ("a2", "b2")  # the two-step adversarial loss (CycleGAN-VC2)
    terms = {"d/adv": 1.0, "d/adv2": 1.0, "g/adv": 1.0, "g/adv2": 1.0, "g/cycle": 10.0, "g/identity": 5.0}
    reads = frozenset({"a.features", "b.features"})  # of an UNPAIRED batch (speechgan.batches)

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "least_squares",  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        self.criterion = criterion

    @staticmethod
    def domains(batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """The real features of domains A and B: (B, C, N) each."""
        return batch["a"]["features"], batch["b"]["features"]

    def generate(self, batch: dict[str, Any], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        a, b = self.domains(batch)
        fake_b, fake_a = g["a2b"](a), g["b2a"](b)
        # cycled in the G step's graph; the D step reads them detached (two-step loss only)
        return {"fake_a": fake_a, "fake_b": fake_b, "cycle_a": g["b2a"](fake_b), "cycle_b": g["a2b"](fake_a)}

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        a, b = self.domains(batch)
        real_a, real_b = d["a"](a), d["b"](b)
        fake_a, fake_b = d["a"](state["fake_a"].detach()), d["b"](state["fake_b"].detach())
        loss = self.criterion.discriminator_loss(real_a, fake_a) + self.criterion.discriminator_loss(real_b, fake_b)
        terms = {
            "d/adv": loss,
            "stats/d_real": (mean_output(real_a) + mean_output(real_b)) / 2,
            "stats/d_fake": (mean_output(fake_a) + mean_output(fake_b)) / 2,
        }
        if "a2" in d and weights.get("d/adv2", 0.0):
            cycled_a, cycled_b = d["a2"](state["cycle_a"].detach()), d["b2"](state["cycle_b"].detach())
            terms["d/adv2"] = (self.criterion.discriminator_loss(d["a2"](a), cycled_a)
                               + self.criterion.discriminator_loss(d["b2"](b), cycled_b))
        return terms

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        (a, b), fake_a, fake_b = self.domains(batch), state["fake_a"], state["fake_b"]
        cycle_a, cycle_b = state["cycle_a"], state["cycle_b"]  # a -> b -> a, b -> a -> b
        terms = {
            "g/adv": self.criterion.generator_loss(d["b"](fake_b)) + self.criterion.generator_loss(d["a"](fake_a)),
            "g/cycle": cycle_consistency_loss(a, cycle_a) + cycle_consistency_loss(b, cycle_b),
        }
        if "a2" in d and weights.get("g/adv2", 0.0):
            terms["g/adv2"] = (self.criterion.generator_loss(d["a2"](cycle_a))
                               + self.criterion.generator_loss(d["b2"](cycle_b)))
        if weights.get("g/identity", 0.0):  # skipped, not just zero-weighted, once switched off
            terms["g/identity"] = identity_loss(b, g["a2b"](b)) + identity_loss(a, g["b2a"](a))
        return terms
