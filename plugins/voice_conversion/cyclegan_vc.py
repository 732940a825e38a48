"""CycleGAN-VC's 1-D gated CNN generator and 2-D gated CNN discriminator.

Kaneko & Kameoka 2018, "Parallel-Data-Free Voice Conversion Using Cycle-Consistent
Adversarial Networks" (EUSIPCO; arXiv:1711.11293), with the layer sizes of Lei
Mao's widely used TensorFlow implementation (``leimao/Voice-Converter-CycleGAN``,
``module.py``). Features are 24 mel-cepstral coefficients per frame, ``(B, 24, N)``.

Generator (``N`` a multiple of 4; ``c`` counts the channels after the gate):

* gated conv k15 c128 (no norm) -> ``(B, 128, N)``
* 2 downsampling blocks, conv k5 s2 -> instance norm -> GLU: c256 ``(B, 256, N/2)``, c512 ``(B, 512, N/4)``
* 6 residual blocks: gated conv k3 c1024 -> conv k3 c512 -> instance norm, plus the input
* 2 upsampling blocks, conv k5 -> pixel shuffler x2 -> instance norm -> GLU: c512 ``(B, 512, N/2)``,
  c256 ``(B, 256, N)``
* conv k15 c24 -> ``(B, 24, N)``

Discriminator (the mel-cepstra as an image ``(B, 1, 24, N)``, ``N`` a multiple of 16):

* gated conv 3x3 stride (1, 2) c128 (no norm) -> ``(B, 128, 24, N/2)``
* 3 gated blocks, conv -> instance norm -> GLU: 3x3 s(2, 2) c256 ``(12, N/4)``, 3x3 s(2, 2) c512
  ``(6, N/8)``, 6x3 s(1, 2) c1024 ``(6, N/16)``
* one output unit per position -> logits ``(B, 6 N / 16)``, one per patch

Deviation from the paper: its discriminator ends in a fully connected layer over the whole
``(1024, 6, 8)`` map of a 128-frame segment (49,153 weights, fixed length; CycleGAN-VC2's
paper calls this a FullGAN and replaces it by a PatchGAN). Lei Mao's code
applies that dense unit to each position instead (a 1x1 convolution, 1,025 weights), which
keeps the discriminator fully convolutional; that is what is done here. Both the paper and
the reference end in a sigmoid; here the discriminator returns logits and the objective's
criterion decides (LSGAN reads them as they are). The reference pads "same" (TensorFlow):
the 6-tall kernel pads the frequency axis by 2 above and 3 below, as here.
"""

from __future__ import annotations

import torch
from torch import nn

from speechgan.nn import GLUConv1d, GLUConv2d, GLUResidualBlock1d, conv1d, conv2d

from .common import check_features

__all__ = ["CycleGANVCGenerator", "CycleGANVCDiscriminator"]


class CycleGANVCGenerator(nn.Module):
    """CycleGAN-VC's 1-D gated CNN: ``(B, n_features, N) -> (B, n_features, N)``, ``N`` a multiple of 4.

    ``channels`` is the width after the first layer (128); the downsampling blocks double
    it twice (256, 512), the residual blocks widen to twice that (1024) inside, and the
    upsampling blocks halve it back (512, 256). 38,055,704 parameters at the defaults.
    """

    frame_multiple = 4  # two stride-2 downsamplings

    def __init__(
        self,
        *,
        n_features: int = 24,
        channels: int = 128,
        n_residual_blocks: int = 6,
    ) -> None:
        super().__init__()
        self.n_features = n_features
        c1, c2, c4 = channels, 2 * channels, 4 * channels
        self.conv_in = GLUConv1d(in_channels=n_features, out_channels=c1, kernel_size=15, norm="none")
        self.down = nn.Sequential(
            GLUConv1d(in_channels=c1, out_channels=c2, kernel_size=5, stride=2, padding=2),
            GLUConv1d(in_channels=c2, out_channels=c4, kernel_size=5, stride=2, padding=2),
        )
        self.residual = nn.Sequential(*(
            GLUResidualBlock1d(channels=c4, hidden_channels=2 * c4, kernel_size=3) for _ in range(n_residual_blocks)
        ))
        self.up = nn.Sequential(
            GLUConv1d(in_channels=c4, out_channels=c4, kernel_size=5, upscale=2),
            GLUConv1d(in_channels=c4, out_channels=c2, kernel_size=5, upscale=2),
        )
        self.conv_out = conv1d(in_channels=c2, out_channels=n_features, kernel_size=15)

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (B, F, N) -> (B, F, N)
        check_features(features, n_features=self.n_features, frame_multiple=self.frame_multiple,
                       where=type(self).__name__)
        x = self.down(self.conv_in(features))  # (B, 4 C, N / 4)
        x = self.up(self.residual(x))  # (B, 2 C, N)
        return self.conv_out(x)


class CycleGANVCDiscriminator(nn.Module):
    """CycleGAN-VC's 2-D gated CNN: ``(B, n_features, N) -> (B, P)`` patch logits.

    ``P = ceil(n_features / 4) * ceil(N / 16)``; 24 features give 6 rows of ``N / 16``
    patches. 21,837,825 parameters at the defaults.
    """

    def __init__(self, *, n_features: int = 24, channels: int = 128) -> None:
        super().__init__()
        self.n_features = n_features
        c1, c2, c4, c8 = channels, 2 * channels, 4 * channels, 8 * channels
        self.layers = nn.Sequential(
            GLUConv2d(in_channels=1, out_channels=c1, kernel_size=3, stride=(1, 2), padding=1, norm="none"),
            GLUConv2d(in_channels=c1, out_channels=c2, kernel_size=3, stride=2, padding=1),
            GLUConv2d(in_channels=c2, out_channels=c4, kernel_size=3, stride=2, padding=1),
            nn.ZeroPad2d((0, 0, 2, 3)),  # TensorFlow's "same" for a 6-tall kernel: 2 rows above, 3 below
            GLUConv2d(in_channels=c4, out_channels=c8, kernel_size=(6, 3), stride=(1, 2), padding=(0, 1)),
        )
        self.head = conv2d(in_channels=c8, out_channels=1, kernel_size=1)  # the reference's per-position dense unit

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (B, F, N) -> (B, P)
        check_features(features, n_features=self.n_features, frame_multiple=1, where=type(self).__name__)
        x = self.layers(features.unsqueeze(1))  # (B, 8 C, ceil(F / 4), ceil(N / 16))
        return self.head(x).flatten(1)
