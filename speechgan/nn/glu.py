"""Gated convolution blocks of the CycleGAN-VC and StarGAN-VC families.

* Gated linear units (Dauphin et al. 2017, "Language Modeling with Gated Convolutional
  Networks"): a convolution produces ``2 C`` channels ``[a; b]`` and the block outputs
  ``a * sigmoid(b)`` (``C`` channels), a data-driven gate on every channel and frame.
* CycleGAN-VC (Kaneko & Kameoka 2018, "Parallel-Data-Free Voice Conversion Using
  Cycle-Consistent Adversarial Networks") builds its 1-D generator
  from conv -> instance norm -> GLU blocks: strided for downsampling, and
  conv -> pixel shuffler -> instance norm -> GLU for upsampling; CycleGAN-VC2 (Kaneko et
  al. 2019, "CycleGAN-VC2: Improved CycleGAN-based Non-parallel Voice Conversion")
  has the same blocks in 2-D around a 1-D residual core. ``out_channels`` counts the
  channels after the gate, as the papers' figures do.

Several PyTorch ports of CycleGAN-VC2 compute ``x * sigmoid(x)`` (a SiLU, no separate
gate) and call it a GLU; here the gate is its own half of the convolution's channels, as
in Dauphin et al. and in Lei Mao's TensorFlow CycleGAN-VC (a gate convolution beside the
value convolution, which is the same as one convolution with twice the channels).

:class:`PixelShuffle1d` is the 1-D pixel shuffler (Shi et al. 2016, "Real-Time Single
Image and Video Super-Resolution Using an Efficient Sub-Pixel Convolutional Neural
Network"): ``(B, C r, T) -> (B, C, T r)`` with ``out[b, c, t r + i] = in[b, c r + i, t]``,
the channel order of ``torch.nn.PixelShuffle``; :class:`PixelUnshuffle1d` inverts it.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, DataError
from .conv import conv1d, conv2d

__all__ = [
    "FeatureNorm",
    "feature_norm",
    "PixelShuffle1d",
    "PixelUnshuffle1d",
    "GLUConv1d",
    "GLUConv2d",
    "GLUResidualBlock1d",
    "GLUConvTranspose2d",
]

#: Normalisation of activations between a convolution and its gate.
FeatureNorm = Literal["none", "instance", "batch"]


def feature_norm(kind: FeatureNorm, *, channels: int, dims: Literal[1, 2]) -> nn.Module:
    """Instance norm with a learned scale and shift (CycleGAN-VC), batch norm, or nothing."""
    if kind == "instance":
        return (nn.InstanceNorm1d if dims == 1 else nn.InstanceNorm2d)(channels, affine=True)
    if kind == "batch":
        return (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(channels)
    if kind != "none":
        raise ConfigError(f"unknown norm {kind!r} for a gated block: use 'none', 'instance' or 'batch'")
    return nn.Identity()


class PixelShuffle1d(nn.Module):
    """``(B, C r, T) -> (B, C, T r)``: channels become time steps (sub-pixel upsampling)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, cr, t = x.shape
        r = self.upscale_factor
        if cr % r:
            raise ConfigError(f"PixelShuffle1d: {cr} input channels are not a multiple of the upscale factor {r}")
        # (B, C, r, T) -> (B, C, T, r) -> (B, C, T r)
        return x.reshape(b, cr // r, r, t).transpose(2, 3).reshape(b, cr // r, t * r)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle1d(nn.Module):
    """``(B, C, T r) -> (B, C r, T)``: the inverse of :class:`PixelShuffle1d`."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, tr = x.shape
        r = self.downscale_factor
        if tr % r:
            raise DataError(f"PixelUnshuffle1d: length {tr} is not a multiple of the downscale factor {r}; "
                            f"pad the input to a multiple of {r}")
        # (B, C, T, r) -> (B, C, r, T) -> (B, C r, T)
        return x.reshape(b, c, tr // r, r).transpose(2, 3).reshape(b, c * r, tr // r)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class _GatedConv(nn.Module):
    """conv -> (pixel shuffle) -> norm -> GLU over the channel axis."""

    def __init__(self, *, conv: nn.Module, shuffle: nn.Module, norm: nn.Module) -> None:
        super().__init__()
        self.conv, self.shuffle, self.norm = conv, shuffle, norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C_in, ...) -> (B, 2 C_out r^n, ...) -> shuffle (B, 2 C_out, ... r) -> GLU (B, C_out, ... r)
        return F.glu(self.norm(self.shuffle(self.conv(x))), dim=1)


class GLUConv1d(_GatedConv):
    """A 1-D gated block ``(B, C_in, T) -> (B, C_out, T r / stride)``.

    ``stride=2`` is CycleGAN-VC's downsampling block, ``upscale=2`` its upsampling block
    (the convolution makes ``2 C_out r`` channels that the pixel shuffler turns into time
    steps before the norm), and the defaults its plain gated convolution.
    ``padding=None`` keeps the length at stride 1 (odd kernels).
    """

    def __init__(
        self,
        *,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int | None = None,
        upscale: int = 1,
        norm: FeatureNorm = "instance",
    ) -> None:
        super().__init__(
            conv=conv1d(in_channels=in_channels, out_channels=2 * out_channels * upscale, kernel_size=kernel_size,
                        stride=stride, padding=padding),
            shuffle=PixelShuffle1d(upscale),
            norm=feature_norm(norm, channels=2 * out_channels, dims=1),
        )


class GLUConv2d(_GatedConv):
    """A 2-D gated block ``(B, C_in, F, T) -> (B, C_out, F r / s_F, T r / s_T)`` (CycleGAN-VC2).

    ``upscale`` uses ``torch.nn.PixelShuffle``: the convolution makes ``2 C_out r^2``
    channels.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | None = None,
        upscale: int = 1,
        norm: FeatureNorm = "instance",
    ) -> None:
        super().__init__(
            conv=conv2d(in_channels=in_channels, out_channels=2 * out_channels * upscale**2, kernel_size=kernel_size,
                        stride=stride, padding=padding),
            shuffle=nn.PixelShuffle(upscale),
            norm=feature_norm(norm, channels=2 * out_channels, dims=2),
        )


class GLUResidualBlock1d(nn.Module):
    """CycleGAN-VC's residual block: ``x + norm(conv(GLUConv1d(x)))``, length kept.

    The gated convolution widens to ``hidden_channels`` (1024 over 512 in CycleGAN-VC),
    the second convolution returns to ``channels``; no gate after the sum.
    """

    def __init__(
        self,
        *,
        channels: int,
        hidden_channels: int,
        kernel_size: int = 3,
        norm: FeatureNorm = "instance",
    ) -> None:
        super().__init__()
        self.gated = GLUConv1d(in_channels=channels, out_channels=hidden_channels, kernel_size=kernel_size, norm=norm)
        self.conv = conv1d(in_channels=hidden_channels, out_channels=channels, kernel_size=kernel_size)
        self.norm = feature_norm(norm, channels=channels, dims=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T) -> (B, C, T)
        return x + self.norm(self.conv(self.gated(x)))


class GLUConvTranspose2d(_GatedConv):
    """A 2-D gated transposed convolution ``(B, C_in, F, T) -> (B, C_out, F', T')`` (StarGAN-VC's decoder).

    Kameoka et al. 2018, "StarGAN-VC: Non-parallel Many-to-many Voice Conversion with Star
    Generative Adversarial Networks": each decoder layer is a transposed convolution ->
    instance norm -> GLU. ``F' = (F - 1) s_F - 2 p_F + k_F`` (likewise ``T'``): ``kernel 2 s``
    with ``padding s / 2`` doubles an axis at ``s = 2``, ``kernel = stride`` with no padding
    multiplies it by the stride.
    """

    def __init__(
        self,
        *,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        norm: FeatureNorm = "instance",
    ) -> None:
        super().__init__(
            conv=nn.ConvTranspose2d(in_channels, 2 * out_channels, kernel_size, stride=stride, padding=padding),
            shuffle=nn.Identity(),
            norm=feature_norm(norm, channels=2 * out_channels, dims=2),
        )
