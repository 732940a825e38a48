"""GAN vocoder training as in HiFi-GAN (Kong et al. 2020) and MelGAN (Kumar et al. 2019).

The generator maps features (a log-mel spectrogram) to a waveform; any number of
discriminators (multi-period, multi-scale...) each return ``(logits, feature_maps)``, both
lists over their sub-discriminators. Loss terms and HiFi-GAN's weights:
least-squares adversarial (``g/adv`` 1), feature matching (``g/fm`` 2) and the L1
distance of the log-mel spectrograms of real and generated audio (``g/mel`` 45).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.losses import AdversarialCriterion, feature_matching_loss
from speechgan.objective import AudioSample, Objective, Pair, mean_output
from speechgan.registry import ComponentRef

__all__ = ["Vocoder"]


class Vocoder(Objective):
    """Features -> waveform GAN vocoder with feature matching and mel L1 (HiFi-GAN)."""

    generator_roles = ("generator",)
    discriminator_roles = None  # any set of discriminators, e.g. {mpd, msd}
    terms = {"d/adv": 1.0, "g/adv": 1.0, "g/fm": 2.0, "g/mel": 45.0}
    reads = frozenset({"wave", "features"})  # of a FEATURES batch (speechgan.batches)

    def __init__(
        self,
        features: nn.Module,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "least_squares",  # type: ignore[assignment]
    ) -> None:
        super().__init__()
        self.features, self.criterion = features, criterion

    def generate(self, batch: dict[str, torch.Tensor], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        wave = batch["wave"]  # (B, T)
        fake = g["generator"](batch["features"])  # (B, M, N) -> (B, 1, T')
        n = min(wave.shape[-1], fake.shape[-1])
        return {"real": wave[..., :n].unsqueeze(1), "fake": fake[..., :n]}  # (B, 1, T) each

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        real, fake = state["real"], state["fake"].detach()
        loss, real_means, fake_means = [], [], []
        for disc in d.values():
            real_logits, _ = disc(real)
            fake_logits, _ = disc(fake)
            loss.append(self.criterion.discriminator_loss(real_logits, fake_logits))
            real_means.append(mean_output(real_logits))
            fake_means.append(mean_output(fake_logits))
        return {
            "d/adv": torch.stack(loss).sum(),
            "stats/d_real": torch.stack(real_means).mean(),
            "stats/d_fake": torch.stack(fake_means).mean(),
        }

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        real, fake = state["real"], state["fake"]
        adv, fm = [], []
        for disc in d.values():
            with torch.no_grad():
                _, real_maps = disc(real)
            fake_logits, fake_maps = disc(fake)
            adv.append(self.criterion.generator_loss(fake_logits))
            fm.append(feature_matching_loss(real_maps, fake_maps))
        terms = {"g/adv": torch.stack(adv).sum(), "g/fm": torch.stack(fm).sum()}
        if weights.get("g/mel", 0.0):
            terms["g/mel"] = F.l1_loss(self.features(fake.squeeze(1)), self.features(real.squeeze(1)))
        return terms

    def evaluation_pairs(self, *, g: nn.ModuleDict, dataset: Any, device: torch.device,
                         limit: int | None = None) -> Iterator[Pair]:
        rate = int(getattr(self.features, "sample_rate", 0))
        for i in range(len(dataset) if limit is None else min(limit, len(dataset))):
            item = dataset[i]
            fake = g["generator"](item["features"].unsqueeze(0).to(device)).reshape(-1).float().cpu()
            yield Pair(reference=item["wave"].reshape(-1).float().cpu(), generated=fake, sample_rate=rate,
                       id=str(item.get("id", i)))

    def samples(self, *, g: nn.ModuleDict, batch: Any, step: int) -> dict[str, Any]:
        rate = int(getattr(self.features, "sample_rate", 0))
        fake = g["generator"](batch["features"][:1]).reshape(-1)
        return {"generated": AudioSample(fake, rate), "real": AudioSample(batch["wave"][0], rate)} if rate else {}
