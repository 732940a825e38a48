"""CycleGAN (Zhu et al. 2017) and its voice-conversion form CycleGAN-VC (Kaneko & Kameoka 2018).

Two generators map domain A to B (``a2b``) and back (``b2a``); two discriminators judge
each domain (``a``, ``b``). Terms: adversarial (``g/adv``, ``d/adv``), cycle consistency
L1 (``g/cycle``, lambda 10) and identity-mapping L1 (``g/identity``, 5). CycleGAN-VC keeps
the identity loss for the first 10^4 iterations only: in a config,
``loss_weights: {g/identity: {value: 5.0, stop: 10000}}``. Batches are ``{"a": x_a, "b": x_b}``
drawn independently from the two domains (unpaired).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
from torch import nn

from speechgan.losses import AdversarialCriterion, cycle_consistency_loss, identity_loss
from speechgan.objective import Objective
from speechgan.registry import ComponentRef

from .gan import mean_output

__all__ = ["CycleGAN"]


class CycleGAN(Objective):
    """Unpaired two-domain translation with cycle-consistency and identity losses (CycleGAN)."""

    generator_roles = ("a2b", "b2a")
    discriminator_roles = ("a", "b")
    terms = {"d/adv": 1.0, "g/adv": 1.0, "g/cycle": 10.0, "g/identity": 5.0}

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "least_squares",  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        self.criterion = criterion

    def generate(self, batch: dict[str, torch.Tensor], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        a, b = batch["a"], batch["b"]
        fake_b, fake_a = g["a2b"](a), g["b2a"](b)
        return {"fake_a": fake_a, "fake_b": fake_b}

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        real_a, real_b = d["a"](batch["a"]), d["b"](batch["b"])
        fake_a, fake_b = d["a"](state["fake_a"].detach()), d["b"](state["fake_b"].detach())
        loss = self.criterion.discriminator_loss(real_a, fake_a) + self.criterion.discriminator_loss(real_b, fake_b)
        return {
            "d/adv": loss,
            "stats/d_real": (mean_output(real_a) + mean_output(real_b)) / 2,
            "stats/d_fake": (mean_output(fake_a) + mean_output(fake_b)) / 2,
        }

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        a, b, fake_a, fake_b = batch["a"], batch["b"], state["fake_a"], state["fake_b"]
        terms = {
            "g/adv": self.criterion.generator_loss(d["b"](fake_b)) + self.criterion.generator_loss(d["a"](fake_a)),
            "g/cycle": cycle_consistency_loss(a, g["b2a"](fake_b)) + cycle_consistency_loss(b, g["a2b"](fake_a)),
        }
        if weights.get("g/identity", 0.0):  # skipped, not just zero-weighted, once switched off
            terms["g/identity"] = identity_loss(b, g["a2b"](b)) + identity_loss(a, g["b2a"](a))
        return terms
