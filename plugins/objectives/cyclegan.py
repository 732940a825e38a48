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

**Speaker normalisation** (``speaker_norm: true``, with ``features: {name: world}``): the
models see each speaker's mel-cepstrum normalised by that speaker's statistics over the
training utterances (:class:`~speechgan.features.SpeakerNormalizer`), which
:meth:`CycleGAN.prepare` computes once before training, writes to
``RUN_DIR/speaker_stats.json`` and keeps in the checkpoint. :meth:`CycleGAN.convert` then
turns a source utterance's WORLD features into the target speaker's: the generator of that
direction on the normalised mel-cepstrum, the target's statistics, the log-Gaussian F0
transform, the source's voicing and aperiodicity.

**Filling in frames** (MaskCycleGAN-VC, Kaneko et al. 2021; ``fif_max_frames: 25``, the value
of the public MaskCycleGAN-VC training script, with the ``maskcyclegan_vc`` generators): the
first conversion of each domain reads its features with a random run of up to that many
frames zeroed and the mask as a second channel (:func:`temporal_mask`), so the generator
learns to fill the gap from the surrounding frames; the cycle, identity and conversion passes
see the whole input (an all-ones mask).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.losses import AdversarialCriterion, cycle_consistency_loss, identity_loss
from speechgan.objective import Objective, mean_output
from speechgan.registry import ComponentRef

from .speakers import SpeakerConversion

__all__ = ["CycleGAN", "temporal_mask"]


def temporal_mask(x: torch.Tensor, max_frames: int) -> torch.Tensor:
    """MaskCycleGAN-VC's filling-in-frames mask for ``x`` (B, F, N): (B, 1, N) ones with one run of zeros.

    Per item, the run's length is drawn uniformly from 0..``max_frames`` (at most N) and its
    start uniformly from the positions where it fits (Kaneko et al. 2021, section 3.2).
    """
    b, n = x.shape[0], x.shape[-1]
    lengths = torch.randint(0, min(max_frames, n) + 1, (b,), device=x.device)  # (B,)
    starts = (torch.rand(b, device=x.device) * (n - lengths + 1)).long()  # (B,) in 0..N - length
    frames = torch.arange(n, device=x.device)[None]  # (1, N)
    hidden = (frames >= starts[:, None]) & (frames < (starts + lengths)[:, None])  # (B, N)
    return (~hidden).to(x.dtype)[:, None]  # (B, 1, N)


class CycleGAN(SpeakerConversion, Objective):
    """Unpaired two-domain translation with cycle-consistency and identity losses (CycleGAN)."""

    generator_roles = ("a2b", "b2a")
    discriminator_roles = ("a", "b")
    optional_discriminator_roles = ("a2", "b2")  # the two-step adversarial loss (CycleGAN-VC2)
    terms = {"d/adv": 1.0, "d/adv2": 1.0, "g/adv": 1.0, "g/adv2": 1.0, "g/cycle": 10.0, "g/identity": 5.0}
    reads = frozenset({"a.features", "b.features"})  # of an UNPAIRED batch (speechgan.batches)

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "least_squares",  # type: ignore[assignment]
        speaker_norm: bool = False,
        fif_max_frames: int = 0,
        features: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if isinstance(fif_max_frames, bool) or not isinstance(fif_max_frames, int) or fif_max_frames < 0:
            raise ConfigError(f"objective.args.fif_max_frames: must be 0 (off) or a positive number of frames, "
                              f"got {fif_max_frames!r}")
        self.criterion = criterion
        self.fif_max_frames = fif_max_frames
        self.init_speakers(speaker_norm=speaker_norm, features=features)

    @staticmethod
    def _check_masked(g: nn.ModuleDict) -> None:
        for role in ("a2b", "b2a"):
            if not getattr(g[role], "masked", False):
                raise ConfigError(f"objective.args.fif_max_frames: filling in frames feeds a mask to the generators, "
                                  f"but generators.{role} ({type(g[role]).__name__}) reads none; use maskcyclegan_vc")

    def domains(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """What the models see of domains A and B: (B, C, N) each (:meth:`SpeakerConversion.model_input`)."""
        return self.model_input(batch["a"]), self.model_input(batch["b"])

    def direction(self, source: str, target: str) -> str:
        """The generator role that converts ``source`` to ``target``: ``a2b`` or ``b2a``."""
        a, b = self.sides["a"], self.sides["b"]
        if source in a and target in b:
            return "a2b"
        if source in b and target in a:
            return "b2a"
        known = f"A = {', '.join(a) or '?'}, B = {', '.join(b) or '?'}"
        for name in (source, target):
            if name not in a and name not in b:
                raise DataError(f"unknown speaker {name!r}; this run converts between {known}")
        raise DataError(f"{source!r} and {target!r} are on the same side; this run converts between {known}")

    @torch.no_grad()
    def convert(self, features: torch.Tensor, *, g: nn.ModuleDict, source: str, target: str) -> torch.Tensor:
        """Features (C, N) of ``source``'s speech in ``target``'s voice, by the generator of that direction."""
        role = self.direction(source, target)
        return self.converted(features, source=source, target=target, generator=g[role],
                              multiple=int(getattr(g[role], "frame_multiple", 1)))

    def generate(self, batch: dict[str, Any], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        a, b = self.domains(batch)
        if self.fif_max_frames:  # filling in frames: only the first conversion sees a mask
            self._check_masked(g)
            mask_a, mask_b = temporal_mask(a, self.fif_max_frames), temporal_mask(b, self.fif_max_frames)  # (B, 1, N)
            fake_b, fake_a = g["a2b"](a, mask_a), g["b2a"](b, mask_b)
        else:
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
