"""Dilated residual blocks of GAN vocoder generators.

* :class:`ResBlock1` and :class:`ResBlock2`: HiFi-GAN's residual blocks (Kong et al. 2020,
  "HiFi-GAN: Generative Adversarial Networks for Efficient and High Fidelity Speech
  Synthesis", Fig. 1). ResBlock1 (V1, V2) runs, for each dilation ``d``,
  leaky ReLU -> conv(k, dilation d) -> leaky ReLU -> conv(k, dilation 1) and adds the
  input; ResBlock2 (V3) has one leaky ReLU -> conv(k, dilation d) per dilation. Slope
  0.1, stride 1, length kept by :func:`~speechgan.nn.conv.get_padding`.
* :class:`MultiReceptiveFieldFusion`: HiFi-GAN's MRF, several such blocks with different
  kernels and dilations applied to the same input. The paper says it sums them; the
  official code divides the sum by the number of blocks, and so does this module.
* :class:`MelGANResidualUnit` and :class:`MelGANResidualStack`: MelGAN's residual stack
  (Kumar et al. 2019, "MelGAN: Generative Adversarial Networks for Conditional Waveform
  Synthesis", Sec. 2.1): leaky ReLU 0.2 -> reflection-padded conv(3,
  dilation 3^i) -> leaky ReLU 0.2 -> conv(1), plus a 1x1 convolution of the input as the
  shortcut, for ``i = 0, 1, 2``.

Attribute names follow the official code (``convs1``/``convs2``, ``convs``, ``block``/
``shortcut``), so its checkpoints map onto these blocks by renaming weight norm's
``weight_g``/``weight_v`` to ``parametrizations.weight.original0``/``original1``; MelGAN's
``block.2``/``block.4`` are ``block.1``/``block.3`` here, the reflection padding being part
of the convolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .conv import Norm, conv1d

__all__ = [
    "ResBlock1",
    "ResBlock2",
    "MultiReceptiveFieldFusion",
    "MelGANResidualUnit",
    "MelGANResidualStack",
]


def _dilated_convs(channels: int, kernel_size: int, dilations: Sequence[int], norm: Norm) -> nn.ModuleList:
    """One length-keeping ``channels -> channels`` convolution per dilation."""
    if kernel_size % 2 == 0:
        raise ConfigError(f"HiFi-GAN residual blocks need an odd kernel_size to keep the length, got {kernel_size}")
    return nn.ModuleList(
        conv1d(in_channels=channels, out_channels=channels, kernel_size=kernel_size, dilation=d, norm=norm)
        for d in dilations
    )


class ResBlock1(nn.Module):
    """HiFi-GAN's ResBlock1: two convolutions (dilated, then not) per residual connection."""

    def __init__(
        self,
        *,
        channels: int,
        kernel_size: int = 3,
        dilations: tuple[int, ...] = (1, 3, 5),
        negative_slope: float = 0.1,
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.convs1 = _dilated_convs(channels, kernel_size, dilations, norm)
        self.convs2 = _dilated_convs(channels, kernel_size, [1] * len(dilations), norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C, T)
        for dilated, plain in zip(self.convs1, self.convs2):
            h = dilated(F.leaky_relu(x, self.negative_slope))
            x = x + plain(F.leaky_relu(h, self.negative_slope))
        return x


class ResBlock2(nn.Module):
    """HiFi-GAN's ResBlock2 (V3): one dilated convolution per residual connection."""

    def __init__(
        self,
        *,
        channels: int,
        kernel_size: int = 3,
        dilations: tuple[int, ...] = (1, 3),
        negative_slope: float = 0.1,
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.convs = _dilated_convs(channels, kernel_size, dilations, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C, T)
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, self.negative_slope))
        return x


class MultiReceptiveFieldFusion(nn.Module):
    """HiFi-GAN's MRF: the mean of one residual block per (kernel size, dilations) pair.

    V1/V2 use ``block=1``, kernels (3, 7, 11) and dilations (1, 3, 5) for each; V3 uses
    ``block=2``, kernels (3, 5, 7) and dilations (1, 2), (2, 6), (3, 12).
    """

    def __init__(
        self,
        *,
        channels: int,
        kernel_sizes: tuple[int, ...] = (3, 7, 11),
        dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5)),
        block: Literal[1, 2] = 1,
        negative_slope: float = 0.1,
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        if not kernel_sizes or len(kernel_sizes) != len(dilations):
            raise ConfigError(
                f"MultiReceptiveFieldFusion: {len(kernel_sizes)} kernel sizes but {len(dilations)} dilation "
                "tuples; give one tuple of dilations per kernel size (HiFi-GAN's resblock_kernel_sizes and "
                "resblock_dilation_sizes)"
            )
        if block not in (1, 2):
            raise ConfigError(f"MultiReceptiveFieldFusion: block must be 1 (ResBlock1) or 2 (ResBlock2), got {block!r}")
        make = ResBlock1 if block == 1 else ResBlock2
        self.resblocks = nn.ModuleList(
            make(channels=channels, kernel_size=k, dilations=tuple(d), negative_slope=negative_slope, norm=norm)
            for k, d in zip(kernel_sizes, dilations)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C, T)
        total: torch.Tensor | None = None  # a running sum: no (n, B, C, T) stack in memory
        for blk in self.resblocks:
            y = blk(x)
            total = y if total is None else total + y
        assert total is not None  # at least one block (checked in __init__); refines the type for TorchScript
        return total / len(self.resblocks)


class MelGANResidualUnit(nn.Module):
    """One unit of MelGAN's residual stack: ``shortcut(x) + block(x)``."""

    def __init__(
        self,
        *,
        channels: int,
        dilation: int = 1,
        kernel_size: int = 3,
        negative_slope: float = 0.2,
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.LeakyReLU(negative_slope),
            conv1d(in_channels=channels, out_channels=channels, kernel_size=kernel_size, dilation=dilation,
                   padding_mode="reflect", norm=norm),
            nn.LeakyReLU(negative_slope),
            conv1d(in_channels=channels, out_channels=channels, kernel_size=1, norm=norm),
        )
        self.shortcut = conv1d(in_channels=channels, out_channels=channels, kernel_size=1, norm=norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C, T)
        return self.shortcut(x) + self.block(x)


class MelGANResidualStack(nn.Sequential):
    """MelGAN's residual stack: units with dilations 1, 3, 9, ... (``3 ** i``)."""

    def __init__(
        self,
        *,
        channels: int,
        num_layers: int = 3,
        kernel_size: int = 3,
        negative_slope: float = 0.2,
        norm: Norm = "weight",
    ) -> None:
        super().__init__(*(
            MelGANResidualUnit(channels=channels, dilation=3**i, kernel_size=kernel_size,
                               negative_slope=negative_slope, norm=norm)
            for i in range(num_layers)
        ))
