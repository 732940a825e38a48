"""MelGAN's generator and multi-scale window-based discriminator.

Kumar et al. 2019, "MelGAN: Generative Adversarial Networks for Conditional Waveform
Synthesis" (Sec. 2, Fig. 1, Appendix A), with the official code's defaults
(``descriptinc/melgan-neurips``):

* Generator: a reflection-padded kernel-7 convolution to ``ngf * 2^len(rates)`` channels
  (512), then per upsampling rate ``r`` (8, 8, 2, 2) leaky ReLU 0.2 -> transposed
  convolution (kernel ``2 r``, half the channels) -> residual stack with dilations 1, 3, 9
  (:class:`~speechgan.nn.MelGANResidualStack`), and leaky ReLU 0.2 -> reflection-padded
  kernel-7 convolution to one channel -> tanh. Weight norm everywhere; 4.26M parameters
  once it is removed.
* Discriminator: three identical sub-discriminators on the waveform and its 2x and 4x
  average-pooled versions (``AvgPool1d(4, 2, padding=1, count_include_pad=False)``). Each is
  a reflection-padded kernel-15 convolution to ``ndf`` (16) channels, ``num_layers`` (4)
  grouped convolutions of kernel ``10 s + 1`` (41) and stride ``s`` (4) with 4 input channels
  per group and 4x the channels (at most 1024), a kernel-5 convolution to twice the channels
  (at most 1024) and a kernel-3 output convolution; weight norm, leaky ReLU 0.2. Every layer
  but the output is a feature map (the official ``D_fake[i][:-1]``). 16.91M parameters
  (5,637,953 per scale), weight norm's ``g`` aside.

The input channels of the kernel-5 layer follow the layer before it; the official code
reads ``nf_prev`` there, which agrees only because the channels are capped at 1024 in
every published config.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan.nn import (
    AvgPoolPyramid,
    ConvStack,
    MelGANResidualStack,
    conv1d,
    conv_transpose1d,
    init_conv_normal,
    remove_parametrizations,
)

from .discriminators import MultiScaleDiscriminator
from .streaming import conv_reach, receptive_field_frames

__all__ = ["MelGANGenerator", "melgan_window_discriminator", "melgan_msd"]

#: MelGAN caps every discriminator layer at this many channels.
_MAX_CHANNELS = 1024


class MelGANGenerator(nn.Module):
    """MelGAN generator: ``(B, in_channels, N) -> (B, 1, N * upsample_factor)`` in [-1, 1].

    ``init_std`` draws every convolution's weight from ``N(0, init_std^2)``, as the official
    ``weights_init`` means to (there it has no effect after weight norm, see
    :func:`~speechgan.nn.init_conv_normal`); ``None`` keeps PyTorch's default initialisation,
    which is what the official code ends up training with.
    """

    def __init__(
        self,
        *,
        in_channels: int = 80,
        ngf: int = 32,
        upsample_rates: tuple[int, ...] = (8, 8, 2, 2),
        num_residual_layers: int = 3,
        negative_slope: float = 0.2,
        init_std: float | None = 0.02,
    ) -> None:
        super().__init__()
        if not upsample_rates:
            raise ConfigError("melgan: upsample_rates must not be empty; the paper uses [8, 8, 2, 2]")
        self.upsample_factor = math.prod(upsample_rates)  # samples per input frame: the front-end's hop
        self.negative_slope = negative_slope
        channels = [ngf * 2 ** (len(upsample_rates) - i) for i in range(len(upsample_rates) + 1)]  # 512 ... 32
        self.conv_pre = conv1d(in_channels=in_channels, out_channels=channels[0], kernel_size=7,
                               padding_mode="reflect", norm="weight")
        self.ups = nn.ModuleList(
            conv_transpose1d(in_channels=c_in, out_channels=c_out, kernel_size=2 * r, stride=r, norm="weight")
            for c_in, c_out, r in zip(channels, channels[1:], upsample_rates)
        )
        self.stacks = nn.ModuleList(
            MelGANResidualStack(channels=c, num_layers=num_residual_layers, negative_slope=negative_slope)
            for c in channels[1:]
        )
        self.conv_post = conv1d(in_channels=ngf, out_channels=1, kernel_size=7, padding_mode="reflect", norm="weight")
        if init_std is not None:
            init_conv_normal(self, std=init_std)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:  # (B, n_mels, N) -> (B, 1, N * upsample_factor)
        x = self.conv_pre(mel)  # (B, 16 ngf, N)
        for up, stack in zip(self.ups, self.stacks):
            x = stack(up(F.leaky_relu(x, self.negative_slope)))  # (B, C / 2, N * r)
        return torch.tanh(self.conv_post(F.leaky_relu(x, self.negative_slope)))  # (B, 1, T)

    def context_frames(self) -> int:
        """Input frames on each side that an output frame depends on: the context streaming needs."""
        return receptive_field_frames(conv_pre=self.conv_pre, ups=self.ups, conv_post=self.conv_post,
                                      stage_reach=[conv_reach(stack) for stack in self.stacks])

    def remove_weight_norm(self) -> MelGANGenerator:
        """Fold weight norm into plain weights for inference and export (outputs unchanged); returns ``self``."""
        return remove_parametrizations(self)


def melgan_window_discriminator(
    *, ndf: int = 16, num_layers: int = 4, downsampling_factor: int = 4, negative_slope: float = 0.2
) -> ConvStack:
    """One scale of MelGAN's discriminator (the official ``NLayerDiscriminator``).

    ``(B, 1, T)`` -> logits ``(B, T / s^n)`` with ``s = downsampling_factor``, ``n = num_layers``.
    """
    layers = [conv1d(in_channels=1, out_channels=ndf, kernel_size=15, padding_mode="reflect", norm="weight")]
    channels = ndf
    for _ in range(num_layers):
        out = min(channels * downsampling_factor, _MAX_CHANNELS)
        if channels < 4 or channels % 4 or out % (channels // 4):
            raise ConfigError(
                f"melgan_msd: a grouped layer from {channels} to {out} channels needs groups of 4 input channels "
                "that divide both; use an ndf that is a multiple of 4"
            )
        layers.append(conv1d(in_channels=channels, out_channels=out, kernel_size=10 * downsampling_factor + 1,
                             stride=downsampling_factor, groups=channels // 4, norm="weight"))
        channels = out
    layers.append(conv1d(in_channels=channels, out_channels=min(2 * channels, _MAX_CHANNELS), kernel_size=5,
                         norm="weight"))
    return ConvStack(
        layers=layers,
        post=conv1d(in_channels=min(2 * channels, _MAX_CHANNELS), out_channels=1, kernel_size=3, norm="weight"),
        negative_slope=negative_slope,
        post_is_feature_map=False,
    )


def melgan_msd(
    *,
    num_scales: int = 3,
    ndf: int = 16,
    num_layers: int = 4,
    downsampling_factor: int = 4,
    negative_slope: float = 0.2,
    init_std: float | None = 0.02,
) -> MultiScaleDiscriminator:
    """MelGAN's multi-scale window-based discriminator (Kumar et al. 2019); ``init_std`` as for the generator."""
    if num_scales < 1:
        raise ConfigError(f"melgan_msd: num_scales must be at least 1, got {num_scales}")
    msd = MultiScaleDiscriminator(
        discriminators=[melgan_window_discriminator(ndf=ndf, num_layers=num_layers,
                                                    downsampling_factor=downsampling_factor,
                                                    negative_slope=negative_slope)
                        for _ in range(num_scales)],
        pyramid=AvgPoolPyramid(num_scales=num_scales, kernel_size=4, stride=2, padding=1, count_include_pad=False),
    )
    if init_std is not None:
        init_conv_normal(msd, std=init_std)
    return msd
