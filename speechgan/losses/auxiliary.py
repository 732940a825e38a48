"""Auxiliary (non-adversarial) losses of GAN recipes.

* :func:`feature_matching_loss`: the L1 distance between D's intermediate feature maps on
  real and fake audio, summed over sub-discriminators and layers. MelGAN (Kumar et al.
  2019; weight 10) and HiFi-GAN (Kong et al. 2020; weight 2) use it to
  stabilise the generator. (HiFi-GAN's code doubles the sum inside the loss; here the
  factor is the weight.)
* :func:`cycle_consistency_loss` and :func:`identity_loss`: the L1 losses of CycleGAN
  (Zhu et al. 2017) and CycleGAN-VC (Kaneko & Kameoka 2018: lambda_cyc = 10,
  lambda_id = 5 for the first 10^4 iterations).

All return scalars; weights live in the config.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = [
    "FeatureMaps",
    "feature_matching_loss",
    "cycle_consistency_loss",
    "identity_loss",
    "FeatureMatchingLoss",
    "L1Loss",
]

#: Feature maps of one discriminator (a list of layers) or of several (a list of lists).
FeatureMaps = Sequence[Tensor] | Sequence[Sequence[Tensor]]


def _mean_abs_error(target: Tensor, estimate: Tensor, what: str) -> Tensor:
    if target.shape != estimate.shape:
        raise ValueError(f"{what}: shapes {tuple(target.shape)} and {tuple(estimate.shape)} differ")
    return (target - estimate).abs().mean()


def _flatten(maps: Tensor | Sequence, what: str) -> list[Tensor]:
    """Layers of all sub-discriminators in order, from a tensor, a list or a list of lists."""
    if isinstance(maps, Tensor):
        return [maps]
    if isinstance(maps, Sequence) and not isinstance(maps, str):
        return [t for item in maps for t in _flatten(item, what)]
    raise TypeError(f"{what}: expected tensors or (nested) lists of tensors, got {type(maps).__name__}")


def feature_matching_loss(real_fmaps: FeatureMaps, fake_fmaps: FeatureMaps) -> Tensor:
    """Sum over sub-discriminators and layers of ``mean |D_l(x) - D_l(G(z))|``.

    The real maps are detached: the loss trains G to match D's features, never D.
    Both arguments hold the same layers in the same order (HiFi-GAN's ``fmap_r``/``fmap_g``).
    """
    reals = _flatten(real_fmaps, "feature_matching_loss")
    fakes = _flatten(fake_fmaps, "feature_matching_loss")
    if not reals or len(reals) != len(fakes):
        raise ValueError(
            f"feature_matching_loss: {len(reals)} real but {len(fakes)} fake feature maps; "
            "pass the maps of the same discriminator layers for both"
        )
    terms = [
        _mean_abs_error(r.detach(), f, f"feature_matching_loss, map {i}")
        for i, (r, f) in enumerate(zip(reals, fakes))
    ]
    return torch.stack(terms).sum()


def cycle_consistency_loss(x: Tensor, x_cycled: Tensor) -> Tensor:
    """CycleGAN's cycle-consistency loss ``mean |x - F(G(x))|``."""
    return _mean_abs_error(x, x_cycled, "cycle_consistency_loss")


def identity_loss(x: Tensor, x_identity: Tensor) -> Tensor:
    """CycleGAN(-VC)'s identity-mapping loss ``mean |y - G(y)|`` for ``y`` already in G's target domain."""
    return _mean_abs_error(x, x_identity, "identity_loss")


class FeatureMatchingLoss(nn.Module):
    """Feature-matching loss (MelGAN, HiFi-GAN): :func:`feature_matching_loss` as a module."""

    def forward(self, real_fmaps: FeatureMaps, fake_fmaps: FeatureMaps) -> Tensor:
        return feature_matching_loss(real_fmaps, fake_fmaps)


class L1Loss(nn.Module):
    """Mean absolute error, as CycleGAN's cycle-consistency and identity losses use it."""

    def forward(self, target: Tensor, estimate: Tensor) -> Tensor:
        return _mean_abs_error(target, estimate, "l1 loss")
