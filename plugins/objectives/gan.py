"""The unconditional GAN family of Goodfellow et al. 2014 and its descendants.

One objective covers the original minimax game and the non-saturating generator loss
(Goodfellow et al. 2014), LSGAN, hinge, and WGAN-GP (Gulrajani et al. 2017: ``wasserstein``
criterion, ``d/gp`` weight 10, 5 critic steps per generator step) by configuration alone.
Optional: R1 (Mescheder et al. 2018, ``d/r1`` weight gamma/2), instance noise, packing
(PacGAN, Lin et al. 2018): D judges ``pack`` samples at once, concatenated on the feature
axis, which penalises mode collapse; and top-k generator updates (Sinha et al. 2020).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import torch
from torch import nn

from speechgan.batches import SAMPLES
from speechgan.errors import ConfigError
from speechgan.losses import AdversarialCriterion, InstanceNoise, TopK, gradient_penalty, r1_penalty
from speechgan.objective import (
    FigureSample,
    ImageSample,
    Objective,
    d_adv_terms,
    draw_latent,
    pack,
    waveform_samples,
)
from speechgan.registry import ComponentRef

__all__ = ["GAN"]


class GAN(Objective):
    """Unconditional GAN: noise -> G -> D, any adversarial criterion (Goodfellow et al. 2014)."""

    generator_roles = ("generator",)
    discriminator_roles = ("discriminator",)
    terms = {"d/adv": 1.0, "d/gp": 0.0, "d/r1": 0.0, "g/adv": 1.0}
    reads = SAMPLES.keys  # {"x": (B, ...)}

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "non_saturating",  # type: ignore[assignment]
        pack: int = 1,
        instance_noise: Annotated[InstanceNoise | None, ComponentRef("loss")] = None,
        top_k: Annotated[TopK | None, ComponentRef("loss")] = None,
    ) -> None:
        super().__init__()
        if pack < 1:
            raise ConfigError(f"objective.args.pack must be >= 1, got {pack}")
        self.criterion, self.pack, self.noise, self.top_k = criterion, pack, instance_noise, top_k

    def generate(self, batch: Any, *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        real = batch["x"]
        return {"fake": g["generator"](draw_latent(g["generator"], real.shape[0], real.device))}

    def _d(self, d: nn.Module, x: torch.Tensor, step: int) -> Any:
        if self.noise is not None:
            x = self.noise(x, step)
        return d(pack(x, self.pack))

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        disc, fake = d["discriminator"], state["fake"].detach()
        real = batch["x"]
        if weights.get("d/r1", 0.0):
            real = real.detach().requires_grad_(True)
        real_out, fake_out = self._d(disc, real, step), self._d(disc, fake, step)
        terms = d_adv_terms(self.criterion, real_out, fake_out)
        if weights.get("d/gp", 0.0):
            terms["d/gp"] = gradient_penalty(lambda x: disc(pack(x, self.pack)), real, fake)
        if weights.get("d/r1", 0.0):
            terms["d/r1"] = r1_penalty(real_out, real)
        return terms

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        out = self._d(d["discriminator"], state["fake"], step)
        if self.top_k is not None:  # only the best-scored fakes (packs, with packing) train G
            out = self.top_k(out, step)
        return {"g/adv": self.criterion.generator_loss(out)}

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        return g["generator"](draw_latent(g["generator"], n, device))

    def samples(self, *, g: nn.ModuleDict, batch: Any, step: int) -> dict[str, Any]:
        """Images as a grid; waveforms (N, 1, T) as 4 clips at the generator's ``sample_rate`` and
        their spectrograms; points in the plane as a scatter plot over the real batch."""
        real = batch["x"]
        rate = getattr(g["generator"], "sample_rate", None)  # waveform generators say theirs: 4 clips are logged
        n = min(4, real.shape[0] * 4) if rate else min(256, real.shape[0] * 4)
        fake = self.sample(g=g, n=n, device=real.device).float().cpu()
        if fake.dim() == 4:  # images (N, C, H, W) in [-1, 1]
            return {"fake": ImageSample(fake[:64], normalize=True)}
        if fake.dim() == 3 and fake.shape[1] == 1 and rate:  # waveforms (N, 1, T) in [-1, 1]
            return waveform_samples(fake, sample_rate=int(rate), names=[f"fake_{k}" for k in range(len(fake))])
        if fake.dim() == 2 and fake.shape[1] == 2:  # points in the plane
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(4, 4))
            ax.scatter(*real.float().cpu().T, s=2, c="tab:blue", label="real")
            ax.scatter(*fake.T, s=2, c="tab:red", label="generated")
            ax.legend(loc="upper right")
            return {"scatter": FigureSample(fig)}
        return {}
