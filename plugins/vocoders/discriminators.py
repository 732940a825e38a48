"""HiFi-GAN's multi-period and multi-scale discriminators and UnivNet's multi-resolution one.

Each takes a waveform ``(B, 1, T)`` and returns ``(logits, feature_maps)``: one logits
tensor ``(B, N_i)`` per sub-discriminator and the list of each one's feature maps, the form
the ``vocoder`` objective reads (:func:`speechgan.nn.merge_outputs`).

* :class:`MultiPeriodDiscriminator` (Kong et al. 2020, "HiFi-GAN: Generative Adversarial
  Networks for Efficient and High Fidelity Speech Synthesis", Sec. 2.2, Fig. 2b): one
  sub-discriminator per period ``p`` (2, 3, 5, 7, 11), each folding the waveform to
  ``(T / p, p)`` and convolving ``(5, 1)`` kernels over it: 32, 128, 512, 1024 channels at
  stride ``(3, 1)``, then 1024 at stride 1 and a ``(3, 1)`` output convolution; weight norm,
  leaky ReLU 0.1. 41.09M parameters (8,218,433 per period), weight norm's ``g`` aside.
* :class:`MultiScaleDiscriminator` with :func:`hifigan_msd` (Kong et al. 2020, Sec. 2.3,
  Fig. 2a, after MelGAN's): the waveform and its 2x and 4x average-pooled versions
  (``AvgPool1d(4, 2, padding=2)``), each judged by the official ``DiscriminatorS`` layers
  (:data:`HIFIGAN_SCALE_LAYERS`), spectral norm on the raw-waveform scale, weight norm on
  the others. 29.61M parameters (9,870,209 per scale), weight norm's ``g`` aside.
  :func:`speechgan_plugins.vocoders.melgan.melgan_msd` is MelGAN's on the same class.
* :class:`MultiResolutionDiscriminator` (Jang et al. 2021, "UnivNet: A Neural Vocoder with
  Multi-Resolution Spectrogram Discriminators for High-Fidelity Waveform Generation",
  Sec. 2.2): one 2-D sub-discriminator per STFT resolution ``(n_fft, hop, win)`` = (1024, 120,
  600), (2048, 240, 1200), (512, 50, 240) on the linear magnitude ``(B, 1, F, frames)``:
  32-channel ``(3, 9)`` convolutions, three of them at stride ``(1, 2)``, a ``(3, 3)`` one and
  a ``(3, 3)`` output; weight norm, leaky ReLU 0.2 (the official ``config/default.yaml``).
  The waveform is reflect-padded by ``(n_fft - hop) / 2`` on both sides and framed without
  centring. The official code calls ``torch.stft`` without a window, that is a rectangular
  one of ``win`` samples (``window="rectangular"``, the default); ``window="hann"`` tapers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.nn import (
    AvgPoolPyramid,
    ConvStack,
    Norm,
    SubDiscriminatorOutput,
    conv1d,
    conv2d,
    merge_outputs,
    reshape_by_period,
)

__all__ = [
    "DiscriminatorOutput",
    "PeriodDiscriminator",
    "MultiPeriodDiscriminator",
    "MultiScaleDiscriminator",
    "HIFIGAN_SCALE_LAYERS",
    "hifigan_scale_discriminator",
    "hifigan_msd",
    "ResolutionDiscriminator",
    "MultiResolutionDiscriminator",
]

#: ``(logits per sub-discriminator, feature maps per sub-discriminator)``
DiscriminatorOutput = tuple[list[torch.Tensor], list[list[torch.Tensor]]]

#: HiFi-GAN's ``DiscriminatorS``: (in, out, kernel, stride, groups) of each layer before the output conv
HIFIGAN_SCALE_LAYERS: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 128, 15, 1, 1),
    (128, 128, 41, 2, 4),
    (128, 256, 41, 2, 16),
    (256, 512, 41, 4, 16),
    (512, 1024, 41, 4, 16),
    (1024, 1024, 41, 1, 16),
    (1024, 1024, 5, 1, 1),
)


class PeriodDiscriminator(nn.Module):
    """One MPD sub-discriminator: ``(B, 1, T)`` folded to ``(B, 1, T / p, p)``, then ``(k, 1)`` convolutions."""

    def __init__(
        self,
        *,
        period: int,
        channels: tuple[int, ...] = (32, 128, 512, 1024, 1024),
        kernel_size: int = 5,
        stride: int = 3,
        negative_slope: float = 0.1,
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        self.period = period
        sizes = (1, *channels)
        strides = [stride] * (len(channels) - 1) + [1]  # the last layer keeps the length
        self.stack = ConvStack(
            layers=[conv2d(in_channels=c_in, out_channels=c_out, kernel_size=(kernel_size, 1), stride=(s, 1),
                           norm=norm)
                    for c_in, c_out, s in zip(sizes, sizes[1:], strides)],
            post=conv2d(in_channels=channels[-1], out_channels=1, kernel_size=(3, 1), norm=norm),
            negative_slope=negative_slope,
        )

    def forward(self, wave: torch.Tensor) -> SubDiscriminatorOutput:  # (B, 1, T)
        return self.stack(reshape_by_period(wave, period=self.period))  # logits (B, H' * p)

    def extra_repr(self) -> str:
        return f"period={self.period}"


class MultiPeriodDiscriminator(nn.Module):
    """HiFi-GAN's multi-period discriminator (MPD): one :class:`PeriodDiscriminator` per period."""

    def __init__(
        self,
        *,
        periods: tuple[int, ...] = (2, 3, 5, 7, 11),
        channels: tuple[int, ...] = (32, 128, 512, 1024, 1024),
        kernel_size: int = 5,
        stride: int = 3,
        negative_slope: float = 0.1,
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        if not periods or not channels:
            raise ConfigError(f"hifigan_mpd: periods {list(periods)} and channels {list(channels)} must not be empty")
        self.discriminators = nn.ModuleList(
            PeriodDiscriminator(period=p, channels=channels, kernel_size=kernel_size, stride=stride,
                                negative_slope=negative_slope, norm=norm)
            for p in periods
        )

    def forward(self, wave: torch.Tensor) -> DiscriminatorOutput:  # (B, 1, T)
        return merge_outputs(d(wave) for d in self.discriminators)


class MultiScaleDiscriminator(nn.Module):
    """Sub-discriminators on the waveform and its successively average-pooled versions.

    ``discriminators[i]`` judges ``pyramid(wave)[i]``; HiFi-GAN's MSD and MelGAN's
    window-based discriminator are both this, with other layers and pooling.
    """

    def __init__(self, *, discriminators: Sequence[nn.Module], pyramid: AvgPoolPyramid) -> None:
        super().__init__()
        if len(discriminators) != pyramid.num_scales:
            raise ConfigError(
                f"MultiScaleDiscriminator: {len(discriminators)} sub-discriminators for {pyramid.num_scales} scales; "
                "give one per scale"
            )
        self.discriminators = nn.ModuleList(discriminators)
        self.pyramid = pyramid

    def forward(self, wave: torch.Tensor) -> DiscriminatorOutput:  # (B, 1, T)
        return merge_outputs(d(x) for d, x in zip(self.discriminators, self.pyramid(wave)))  # x: (B, 1, ~T / 2^i)


def hifigan_scale_discriminator(*, norm: Norm = "weight", negative_slope: float = 0.1) -> ConvStack:
    """One MSD sub-discriminator: HiFi-GAN's ``DiscriminatorS``.

    The layers of :data:`HIFIGAN_SCALE_LAYERS`, then a kernel-3 convolution to the logits.
    """
    return ConvStack(
        layers=[conv1d(in_channels=c_in, out_channels=c_out, kernel_size=k, stride=s, groups=g, norm=norm)
                for c_in, c_out, k, s, g in HIFIGAN_SCALE_LAYERS],
        post=conv1d(in_channels=HIFIGAN_SCALE_LAYERS[-1][1], out_channels=1, kernel_size=3, norm=norm),
        negative_slope=negative_slope,
    )


def hifigan_msd(*, num_scales: int = 3, negative_slope: float = 0.1) -> MultiScaleDiscriminator:
    """HiFi-GAN's multi-scale discriminator (MSD): spectral norm on the first scale, weight norm on the rest."""
    if num_scales < 1:
        raise ConfigError(f"hifigan_msd: num_scales must be at least 1, got {num_scales}")
    return MultiScaleDiscriminator(
        discriminators=[hifigan_scale_discriminator(norm="spectral" if i == 0 else "weight",
                                                    negative_slope=negative_slope)
                        for i in range(num_scales)],
        pyramid=AvgPoolPyramid(num_scales=num_scales, kernel_size=4, stride=2, padding=2),
    )


class ResolutionDiscriminator(nn.Module):
    """One MRD sub-discriminator: the STFT magnitude ``(B, 1, F, frames)`` through 2-D convolutions."""

    def __init__(
        self,
        *,
        resolution: tuple[int, int, int],
        channels: int = 32,
        negative_slope: float = 0.2,
        window: Literal["rectangular", "hann"] = "rectangular",
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        n_fft, hop, win = resolution
        if not (0 < hop <= n_fft and 0 < win <= n_fft):
            raise ConfigError(
                f"univnet_mrd: resolution {tuple(resolution)} is not (n_fft, hop_length, win_length) with "
                "0 < hop_length <= n_fft and 0 < win_length <= n_fft"
            )
        if window not in ("rectangular", "hann"):
            raise ConfigError(f"univnet_mrd: unknown window {window!r}: use 'rectangular' or 'hann'")
        self.n_fft, self.hop_length, self.win_length = n_fft, hop, win
        self.register_buffer("window", torch.hann_window(win) if window == "hann" else torch.ones(win),
                             persistent=False)
        # (3, 9) kernels over (frequency, time); the 2nd to 4th halve the frames
        layers = [conv2d(in_channels=1 if i == 0 else channels, out_channels=channels, kernel_size=(3, 9),
                         stride=(1, time_stride), norm=norm)
                  for i, time_stride in enumerate((1, 2, 2, 2))]
        layers.append(conv2d(in_channels=channels, out_channels=channels, kernel_size=(3, 3), norm=norm))
        self.stack = ConvStack(
            layers=layers,
            post=conv2d(in_channels=channels, out_channels=1, kernel_size=(3, 3), norm=norm),
            negative_slope=negative_slope,
        )

    def spectrogram(self, wave: torch.Tensor) -> torch.Tensor:  # (B, 1, T) -> (B, n_fft / 2 + 1, frames)
        pad = (self.n_fft - self.hop_length) // 2
        if wave.shape[-1] <= pad:
            raise DataError(
                f"univnet_mrd: a waveform of {wave.shape[-1]} samples is too short for resolution "
                f"({self.n_fft}, {self.hop_length}, {self.win_length}) (reflect padding by {pad} needs more); "
                "train and evaluate on longer segments"
            )
        x = F.pad(wave, (pad, pad), mode="reflect").squeeze(1)  # (B, T + n_fft - hop)
        spec = torch.stft(x, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                          window=self.window, center=False, return_complex=True)
        return spec.abs()

    def forward(self, wave: torch.Tensor) -> SubDiscriminatorOutput:  # (B, 1, T)
        return self.stack(self.spectrogram(wave).unsqueeze(1))  # (B, 1, F, frames) -> logits (B, F * frames / 8)

    def extra_repr(self) -> str:
        return f"resolution=({self.n_fft}, {self.hop_length}, {self.win_length})"


class MultiResolutionDiscriminator(nn.Module):
    """UnivNet's multi-resolution spectrogram discriminator (MRD): one sub-discriminator per STFT resolution."""

    def __init__(
        self,
        *,
        resolutions: tuple[tuple[int, int, int], ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)),
        channels: int = 32,
        negative_slope: float = 0.2,
        window: Literal["rectangular", "hann"] = "rectangular",
        norm: Norm = "weight",
    ) -> None:
        super().__init__()
        if not resolutions:
            raise ConfigError("univnet_mrd: resolutions must not be empty; the paper uses "
                              "[[1024, 120, 600], [2048, 240, 1200], [512, 50, 240]]")
        self.discriminators = nn.ModuleList(
            ResolutionDiscriminator(resolution=r, channels=channels, negative_slope=negative_slope, window=window,
                                    norm=norm)
            for r in resolutions
        )

    def forward(self, wave: torch.Tensor) -> DiscriminatorOutput:  # (B, 1, T)
        return merge_outputs(d(wave) for d in self.discriminators)
