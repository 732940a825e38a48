"""HiFi-GAN's generator and its three paper presets.

Kong et al. 2020, "HiFi-GAN: Generative Adversarial Networks for Efficient and High
Fidelity Speech Synthesis" (Fig. 1, Table 1 and Appendix A): a log-mel spectrogram
``(B, n_mels, N)`` goes through a kernel-7 convolution, then per upsampling rate ``u``
leaky ReLU -> transposed convolution (``u`` times longer, half the channels) -> multi-receptive
field fusion (:class:`~speechgan.nn.MultiReceptiveFieldFusion`), and finally leaky ReLU ->
kernel-7 convolution to one channel -> tanh: a waveform ``(B, 1, N * prod(u))``.

The presets are the official configs (``config_v1.json`` ... ``config_v3.json``):

* V1: rates 8, 8, 2, 2, kernels 16, 16, 4, 4, 512 initial channels; ResBlock1 with kernels
  3, 7, 11, dilations 1, 3, 5 each. 13.92M parameters (13,926,017).
* V2: V1 with 128 initial channels. 0.92M parameters (925,985).
* V3: rates 8, 8, 4, kernels 16, 16, 8, 256 initial channels; ResBlock2 with kernels
  3, 5, 7, dilations (1, 2), (2, 6), (3, 12). 1.46M parameters (1,462,273).

The paper's counts are those of the inference model, weight norm removed
(:meth:`HiFiGANGenerator.remove_weight_norm`), cut to two decimals. As in the official code, the leaky ReLU
before the last convolution has PyTorch's default slope 0.01 (``F.leaky_relu(x)``), the
others 0.1.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan.nn import (
    MultiReceptiveFieldFusion,
    conv1d,
    conv_transpose1d,
    init_conv_normal,
    remove_parametrizations,
)

from .streaming import conv_reach, receptive_field_frames

__all__ = ["HiFiGANGenerator", "hifigan_v1", "hifigan_v2", "hifigan_v3"]

#: Slope of the leaky ReLU before ``conv_post``: the official code calls ``F.leaky_relu(x)``.
_POST_SLOPE = 0.01


class HiFiGANGenerator(nn.Module):
    """HiFi-GAN generator: ``(B, in_channels, N) -> (B, 1, N * upsample_factor)`` in [-1, 1].

    Each upsampling layer halves the channels, starting from ``upsample_initial_channel``.
    ``init_std`` draws the weights of the upsampling, residual and output convolutions from
    ``N(0, init_std^2)``, as the official ``init_weights`` means to (there it has no effect,
    see :func:`~speechgan.nn.init_conv_normal`); ``None`` keeps PyTorch's default
    initialisation, which is what the official code ends up training with.
    """

    def __init__(
        self,
        *,
        in_channels: int = 80,
        upsample_initial_channel: int = 512,
        upsample_rates: tuple[int, ...] = (8, 8, 2, 2),
        upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4),
        resblock: Literal[1, 2] = 1,
        resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11),
        resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5)),
        negative_slope: float = 0.1,
        init_std: float | None = 0.01,
    ) -> None:
        super().__init__()
        if not upsample_rates or len(upsample_rates) != len(upsample_kernel_sizes):
            raise ConfigError(
                f"hifigan: {len(upsample_rates)} upsample_rates but {len(upsample_kernel_sizes)} "
                "upsample_kernel_sizes; give one kernel size per rate (HiFi-GAN uses 2 x rate)"
            )
        halvings = 2 ** len(upsample_rates)
        if upsample_initial_channel % halvings:
            raise ConfigError(
                f"hifigan: upsample_initial_channel {upsample_initial_channel} is not divisible by {halvings}: each "
                f"of the {len(upsample_rates)} upsampling layers halves the channels; use a multiple of {halvings}"
            )
        self.upsample_factor = math.prod(upsample_rates)  # samples per input frame: the front-end's hop
        self.negative_slope = negative_slope
        self.post_slope = _POST_SLOPE  # an attribute, not a global: TorchScript reads it
        self.conv_pre = conv1d(in_channels=in_channels, out_channels=upsample_initial_channel, kernel_size=7,
                               norm="weight")
        channels = [upsample_initial_channel // 2**i for i in range(len(upsample_rates) + 1)]
        self.ups = nn.ModuleList(
            conv_transpose1d(in_channels=c_in, out_channels=c_out, kernel_size=k, stride=u, norm="weight")
            for c_in, c_out, u, k in zip(channels, channels[1:], upsample_rates, upsample_kernel_sizes)
        )
        self.mrfs = nn.ModuleList(
            MultiReceptiveFieldFusion(channels=c, kernel_sizes=resblock_kernel_sizes,
                                      dilations=resblock_dilation_sizes, block=resblock, negative_slope=negative_slope)
            for c in channels[1:]
        )
        self.conv_post = conv1d(in_channels=channels[-1], out_channels=1, kernel_size=7, norm="weight")
        if init_std is not None:  # the official code initialises all but conv_pre
            for part in (self.ups, self.mrfs, self.conv_post):
                init_conv_normal(part, std=init_std)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:  # (B, n_mels, N) -> (B, 1, N * upsample_factor)
        x = self.conv_pre(mel)  # (B, C, N)
        for up, mrf in zip(self.ups, self.mrfs):
            x = mrf(up(F.leaky_relu(x, self.negative_slope)))  # (B, C / 2, N * u)
        return torch.tanh(self.conv_post(F.leaky_relu(x, self.post_slope)))  # (B, 1, T)

    def context_frames(self) -> int:
        """Input frames on each side that an output frame depends on: the context streaming needs.

        The MRF's blocks read the same input in parallel, so a stage reaches as far as its
        widest block (see :mod:`.streaming`).
        """
        return receptive_field_frames(
            conv_pre=self.conv_pre, ups=self.ups, conv_post=self.conv_post,
            stage_reach=[max(conv_reach(block) for block in mrf.resblocks) for mrf in self.mrfs],
        )

    def remove_weight_norm(self) -> HiFiGANGenerator:
        """Fold weight norm into plain weights for inference and export (outputs unchanged); returns ``self``."""
        return remove_parametrizations(self)


def hifigan_v1(*, in_channels: int = 80) -> HiFiGANGenerator:
    """HiFi-GAN V1: the highest quality, 13.92M parameters (Kong et al. 2020)."""
    return HiFiGANGenerator(in_channels=in_channels, upsample_initial_channel=512)


def hifigan_v2(*, in_channels: int = 80) -> HiFiGANGenerator:
    """HiFi-GAN V2: V1's layout with 128 initial channels, 0.92M parameters (Kong et al. 2020)."""
    return HiFiGANGenerator(in_channels=in_channels, upsample_initial_channel=128)


def hifigan_v3(*, in_channels: int = 80) -> HiFiGANGenerator:
    """HiFi-GAN V3: three upsamplings and ResBlock2, 1.46M parameters, the fastest (Kong et al. 2020)."""
    return HiFiGANGenerator(
        in_channels=in_channels,
        upsample_initial_channel=256,
        upsample_rates=(8, 8, 4),
        upsample_kernel_sizes=(16, 16, 8),
        resblock=2,
        resblock_kernel_sizes=(3, 5, 7),
        resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)),
    )
