"""Building blocks of multi-period, multi-scale and multi-resolution discriminators.

The ``vocoder`` objective calls a discriminator on a waveform ``(B, 1, T)`` and expects
``(logits, feature_maps)``: a list with one logits tensor per sub-discriminator and a list
with each sub-discriminator's feature maps (what HiFi-GAN's ``MultiPeriodDiscriminator``
returns per input). A sub-discriminator returns one :class:`SubDiscriminatorOutput` and
:func:`merge_outputs` turns several into that pair.

* :class:`ConvStack`: conv -> leaky ReLU layers, then a final convolution giving the
  logits, keeping every activation for feature matching (HiFi-GAN's ``DiscriminatorP``
  and ``DiscriminatorS``, MelGAN's ``NLayerDiscriminator``, UnivNet's MRD sub-discriminator
  on spectrograms; 1-D or 2-D alike: the layers decide).
* :func:`reshape_by_period`: HiFi-GAN's multi-period view (Kong et al. 2020, Fig. 2b): the
  waveform reflect-padded to a multiple of the period ``p`` and folded to ``(T / p, p)``, so
  that ``(k, 1)`` kernels see the samples ``p`` apart.
* :class:`AvgPoolPyramid`: the successively average-pooled inputs of a multi-scale
  discriminator (MelGAN, Kumar et al. 2019, Sec. 2.2; HiFi-GAN's MSD, Fig. 2a).
* :class:`PhaseShuffle`: WaveGAN's phase shuffle (Donahue et al. 2019, "Adversarial Audio
  Synthesis"): D's activations shifted by a random ``-n..n`` samples with
  reflection at the edges, so that D cannot key on the phase of periodic artifacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, DataError

__all__ = [
    "SubDiscriminatorOutput",
    "merge_outputs",
    "ConvStack",
    "reshape_by_period",
    "AvgPoolPyramid",
    "PhaseShuffle",
]


class SubDiscriminatorOutput(NamedTuple):
    """What one sub-discriminator returns; unpacks as ``logits, feature_maps``."""

    logits: torch.Tensor  # (B, N): the final map flattened, one logit per patch
    feature_maps: list[torch.Tensor]  # the activations of every layer, in order


def merge_outputs(outputs: Iterable[SubDiscriminatorOutput]) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
    """``(logits per sub-discriminator, feature maps per sub-discriminator)`` for the objective."""
    logits: list[torch.Tensor] = []
    feature_maps: list[list[torch.Tensor]] = []
    for out in outputs:
        logits.append(out.logits)
        feature_maps.append(out.feature_maps)
    return logits, feature_maps


class ConvStack(nn.Module):
    """Layers each followed by a leaky ReLU, then ``post``; every activation is a feature map.

    HiFi-GAN (slope 0.1) also counts ``post``'s output as a feature map; MelGAN (slope 0.2)
    matches features on all layers but the last (``post_is_feature_map=False``). The
    logits are ``post``'s output flattened to ``(B, N)``, as in HiFi-GAN.
    """

    def __init__(
        self,
        *,
        layers: Sequence[nn.Module],
        post: nn.Module,
        negative_slope: float = 0.1,
        post_is_feature_map: bool = True,
    ) -> None:
        super().__init__()
        self.convs = nn.ModuleList(layers)
        self.conv_post = post
        self.negative_slope = negative_slope
        self.post_is_feature_map = post_is_feature_map

    def forward(self, x: torch.Tensor) -> SubDiscriminatorOutput:  # (B, C, T) or (B, C, H, W)
        feature_maps = []
        for conv in self.convs:
            x = F.leaky_relu(conv(x), self.negative_slope)
            feature_maps.append(x)
        x = self.conv_post(x)  # (B, 1, T') or (B, 1, H', W')
        if self.post_is_feature_map:
            feature_maps.append(x)
        return SubDiscriminatorOutput(x.flatten(1), feature_maps)


def reshape_by_period(x: torch.Tensor, *, period: int) -> torch.Tensor:
    """``(B, C, T) -> (B, C, ceil(T / p), p)``, reflect-padding the end to a multiple of ``p``.

    Row ``i`` holds samples ``i p .. i p + p - 1``, so column ``j`` is the subsequence
    ``x[j::p]``: a 2-D convolution with a ``(k, 1)`` kernel sees samples ``p`` apart.
    """
    b, c, t = x.shape
    pad = (-t) % period
    if pad >= t:
        raise DataError(
            f"reshape_by_period: a waveform of {t} samples is too short for period {period} (reflect padding "
            f"needs more than {pad} samples); train and evaluate on longer segments"
        )
    if pad:
        x = F.pad(x, (0, pad), mode="reflect")
    return x.reshape(b, c, (t + pad) // period, period)


class AvgPoolPyramid(nn.Module):
    """``x -> [x, pool(x), pool(pool(x)), ...]``: the inputs of ``num_scales`` sub-discriminators.

    The defaults are HiFi-GAN's ``AvgPool1d(4, 2, padding=2)``; MelGAN uses ``padding=1``
    and ``count_include_pad=False``.
    """

    def __init__(
        self,
        *,
        num_scales: int = 3,
        kernel_size: int = 4,
        stride: int = 2,
        padding: int = 2,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        if num_scales < 1:
            raise ConfigError(f"AvgPoolPyramid: num_scales must be at least 1, got {num_scales}")
        self.num_scales = num_scales
        self.pool = nn.AvgPool1d(kernel_size, stride, padding, count_include_pad=count_include_pad)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:  # (B, C, T) -> [(B, C, T), (B, C, ~T/2), ...]
        scales = [x]
        for _ in range(self.num_scales - 1):
            scales.append(self.pool(scales[-1]))
        return scales


class PhaseShuffle(nn.Module):
    """WaveGAN's phase shuffle: shift by a random ``k`` in ``-radius..radius``, reflecting at the edges.

    ``out[..., t] = x[..., t - k]``, with indices outside ``0..T-1`` reflected back in. The
    official code draws one ``k`` per batch (``per_example=False``); ``per_example=True``
    draws one per example. Active in training mode only; ``radius=0`` is the identity.
    """

    def __init__(self, *, radius: int = 2, per_example: bool = False) -> None:
        super().__init__()
        if radius < 0:
            raise ConfigError(f"PhaseShuffle: radius must be 0 or more, got {radius}")
        self.radius, self.per_example = radius, per_example

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C, T)
        if not self.training or self.radius == 0:
            return x
        b, c, t = x.shape
        shifts = torch.randint(-self.radius, self.radius + 1, (b if self.per_example else 1, 1), device=x.device)
        padded = F.pad(x, (self.radius, self.radius), mode="reflect")  # (B, C, T + 2 r)
        index = torch.arange(t, device=x.device) + self.radius - shifts  # (B or 1, T)
        return padded.gather(2, index.unsqueeze(1).expand(b, c, t))

    def extra_repr(self) -> str:
        return f"radius={self.radius}, per_example={self.per_example}"
