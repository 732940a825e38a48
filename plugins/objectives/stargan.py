"""StarGAN-VC (Kameoka et al. 2018, "StarGAN-VC: Non-parallel many-to-many voice conversion
with star generative adversarial networks", SLT): one generator for every speaker pair.

The generator ``G(x, c)`` converts features ``x`` (B, D, N) into speaker ``c``'s voice; the
discriminator ``D(y, c)`` judges whether ``y`` is real speech of speaker ``c``; the domain
classifier ``C(y)`` says whose speech ``y`` is (speaker logits (B, S)). Each step draws, for
every real segment of speaker ``c_s``, a target ``c_t`` uniformly among the other speakers:

* ``d/adv``: the criterion on ``D(x, c_s)`` (real) against ``D(G(x, c_t), c_t)`` (fake);
* ``d/cls``: cross-entropy of ``C(x)`` against ``c_s``, which trains the classifier (it is a
  discriminator role, ``classifier``, updated in the D round);
* ``g/adv``: the criterion's generator loss on ``D(G(x, c_t), c_t)``;
* ``g/cls``: cross-entropy of ``C(G(x, c_t))`` against ``c_t``;
* ``g/cycle``: ``|G(G(x, c_t), c_s) - x|_1``; ``g/identity``: ``|G(x, c_s) - x|_1``.

Default weights 1 for every term, as the authors' public implementation
(``kamepong/StarGAN-VC``) sets ``w_adv``, ``w_cls``, ``w_cyc`` and ``w_rec``. Batches are
``UNPAIRED`` (:mod:`speechgan.batches`): both sides' segments are pooled, so the
``unpaired_speakers`` dataset with ``prompts: disjoint`` keeps the two sides' training prompts
apart and holds out parallel pairs for evaluation. ``speaker_norm: true`` normalises each
speaker's features (:class:`.speakers.SpeakerConversion`), and :meth:`StarGAN.convert`
converts between any two known speakers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import DataError
from speechgan.losses import AdversarialCriterion, cycle_consistency_loss, identity_loss
from speechgan.objective import Objective, mean_output
from speechgan.registry import ComponentRef

from .speakers import SpeakerConversion

__all__ = ["StarGAN", "other_speakers"]


def other_speakers(source: torch.Tensor, n_speakers: int) -> torch.Tensor:
    """For each label of ``source`` (B,), a label drawn uniformly among the other ``n_speakers - 1``."""
    if n_speakers < 2:
        raise DataError(f"StarGAN-VC converts between speakers: the generator knows {n_speakers}, needs at least 2")
    shift = torch.randint(1, n_speakers, source.shape, device=source.device)  # (B,) in 1..S-1
    return (source + shift) % n_speakers


class StarGAN(SpeakerConversion, Objective):
    """Many-to-many voice conversion with one conditional generator (StarGAN-VC)."""

    generator_roles = ("generator",)
    discriminator_roles = ("discriminator", "classifier")
    terms = {"d/adv": 1.0, "d/cls": 1.0, "g/adv": 1.0, "g/cls": 1.0, "g/cycle": 1.0, "g/identity": 1.0}
    reads = frozenset({"a.features", "a.speaker", "b.features", "b.speaker"})  # of an UNPAIRED batch

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "non_saturating",  # type: ignore[assignment]
        speaker_norm: bool = False,
        features: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.criterion = criterion
        self.init_speakers(speaker_norm=speaker_norm, features=features)

    def real(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Both sides' segments pooled: features (2B, D, N) and their speaker labels (2B,)."""
        x = torch.cat([self.model_input(batch["a"]), self.model_input(batch["b"])])
        labels = torch.cat([batch["a"]["speaker"], batch["b"]["speaker"]]).to(x.device).long()
        return x, labels

    def generate(self, batch: dict[str, Any], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        x, source = self.real(batch)
        n_speakers = int(getattr(g["generator"], "n_speakers", 0))
        if int(source.max()) >= n_speakers:
            raise DataError(f"StarGAN-VC: speaker label {int(source.max())} in the batch, but the generator knows "
                            f"{n_speakers} speakers; set generators.generator.args.n_speakers to the data's count")
        target = other_speakers(source, n_speakers)  # (2B,)
        fake = g["generator"](x, target)  # (2B, D, N)
        return {"x": x, "source": source, "target": target, "fake": fake}

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        x, source, target = state["x"], state["source"], state["target"]
        real, fake = d["discriminator"](x, source), d["discriminator"](state["fake"].detach(), target)
        return {
            "d/adv": self.criterion.discriminator_loss(real, fake),
            "d/cls": F.cross_entropy(d["classifier"](x), source),
            "stats/d_real": mean_output(real),
            "stats/d_fake": mean_output(fake),
        }

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        x, source, target, fake = state["x"], state["source"], state["target"], state["fake"]
        terms = {
            "g/adv": self.criterion.generator_loss(d["discriminator"](fake, target)),
            "g/cls": F.cross_entropy(d["classifier"](fake), target),
            "g/cycle": cycle_consistency_loss(x, g["generator"](fake, source)),
        }
        if weights.get("g/identity", 0.0):
            terms["g/identity"] = identity_loss(x, g["generator"](x, source))
        return terms

    # -- conversion ---------------------------------------------------------------------------

    def direction(self, source: str, target: str) -> str:
        """The generator role (``generator``) for any two different speakers the run knows."""
        known = [*self.sides["a"], *self.sides["b"]]
        for name in (source, target):
            if name not in known:
                raise DataError(f"unknown speaker {name!r}; this run converts between {', '.join(known) or '?'}")
        if source == target:
            raise DataError(f"source and target are both {source!r}; name another target")
        return "generator"

    @torch.no_grad()
    def convert(self, features: torch.Tensor, *, g: nn.ModuleDict, source: str, target: str) -> torch.Tensor:
        """Features (C, N) of ``source``'s speech in ``target``'s voice, any N."""
        self.direction(source, target)
        if self.normalizer is None:
            raise DataError("StarGAN-VC conversion needs the speakers' labels: train with objective.args.speaker_norm")
        label = torch.tensor([self.normalizer.label_of(target)], device=features.device)
        generator = g["generator"]
        return self.converted(features, source=source, target=target, generator=lambda x: generator(x, label),
                              multiple=int(getattr(generator, "frame_multiple", 1)))
