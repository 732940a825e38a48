"""StarGAN-VC: one generator for every speaker pair, a conditional discriminator and a domain classifier.

Kameoka et al. 2018, "StarGAN-VC: Non-parallel Many-to-many Voice Conversion with Star
Generative Adversarial Networks" (SLT; arXiv:1806.02169), the 2018 StarGAN-VC (not
StarGAN-VC2, whose modulation-based conditioning and source-and-target adversarial loss
are a larger change), with the layer sizes of ``hujinsen/pytorch-StarGAN-VC``
(``model.py``). Features are 36 mel-cepstral coefficients ``(B, 36, N)``, seen as an image
``(B, 1, 36, N)``; every block is a gated convolution (conv -> instance norm -> GLU), and
``c`` counts the channels after the gate. ``speaker`` is the one-hot speaker code
``(B, n_speakers)`` or the speaker indices ``(B,)``.

Generator ``G(x, c_target)``, ``N`` a multiple of 4 (``F = n_features``):

* encoder, not conditioned: 3x9 c32 ``(F, N)``; 4x8 s2 c64 ``(F/2, N/2)``; 4x8 s2 c128
  ``(F/4, N/4)``; 3x5 c64; (F/4)x5 s(F/4, 1) c5 ``(1, N/4)``: a 5-channel code per 4 frames
* decoder, the target's code appended to every layer's input as constant channels:
  transposed (F/4)x5 s(F/4, 1) c64 ``(F/4, N/4)``; 3x5 c128; 4x8 s2 c64 ``(F/2, N/2)``;
  4x8 s2 c32 ``(F, N)``; a plain transposed 3x9 c1 -> ``(B, F, N)``

Discriminator ``D(x, c)``: the code appended to every layer's input; 3x9 c32; 3x8 s(1, 2)
c32 twice; 3x6 s(1, 2) c32 ``(F, N/8)``; a plain Fx5 s(F, 1) conv c1 -> logits ``(B, N/8)``,
one per segment. The reference averages them over a 512-frame segment and squashes the mean
with tanh; here the logits go to the criterion, which averages its loss over the segments
(with a cross-entropy criterion, the log of the product of per-segment probabilities).

Domain classifier ``C(x)``: reads the lowest 8 coefficients ``(B, 1, 8, N)``; 4x4 s2 c8;
4x4 s2 c16; 4x4 s2 c32 ``(1, N/8)``; 3x4 s(1, 2) c16; a plain 1x4 s(1, 2) conv to
``n_speakers`` channels ``(1, N/32)``; the mean over time gives speaker logits
``(B, n_speakers)`` (the reference averages over a fixed 16 positions and applies a log
softmax; cross-entropy on logits is the same loss).

Deviation: the reference's instance norms have no learned scale and shift
(``nn.InstanceNorm2d``'s default); these, like the other gated blocks of speechgan, learn
one (``2 x 2 c`` parameters per gated block).
"""

from __future__ import annotations

import torch
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.nn import GLUConv2d, GLUConvTranspose2d, conv2d

from .common import broadcast_code, check_features, speaker_code

__all__ = ["StarGANVCGenerator", "StarGANVCDiscriminator", "StarGANVCClassifier"]


class StarGANVCGenerator(nn.Module):
    """StarGAN-VC's generator: ``(B, F, N), speaker -> (B, F, N)``, ``N`` a multiple of 4.

    1,929,003 parameters for 4 speakers and 36 mel-cepstra.
    """

    frame_multiple = 4  # two stride-2 downsamplings

    def __init__(self, *, n_speakers: int = 4, n_features: int = 36) -> None:
        super().__init__()
        if n_features % 4 or n_features < 12:
            raise ConfigError(
                f"stargan_vc: n_features {n_features} must be a multiple of 4 and at least 12: the encoder halves "
                "the frequency axis twice, then folds the remaining quarter into one row"
            )
        self.n_speakers, self.n_features = n_speakers, n_features
        q, s = n_features // 4, n_speakers
        self.encoder = nn.Sequential(
            GLUConv2d(in_channels=1, out_channels=32, kernel_size=(3, 9), padding=(1, 4)),
            GLUConv2d(in_channels=32, out_channels=64, kernel_size=(4, 8), stride=2, padding=(1, 3)),
            GLUConv2d(in_channels=64, out_channels=128, kernel_size=(4, 8), stride=2, padding=(1, 3)),
            GLUConv2d(in_channels=128, out_channels=64, kernel_size=(3, 5), padding=(1, 2)),
            GLUConv2d(in_channels=64, out_channels=5, kernel_size=(q, 5), stride=(q, 1), padding=(1, 2)),
        )
        self.decoder = nn.ModuleList([
            GLUConvTranspose2d(in_channels=5 + s, out_channels=64, kernel_size=(q, 5), stride=(q, 1), padding=(0, 2)),
            GLUConvTranspose2d(in_channels=64 + s, out_channels=128, kernel_size=(3, 5), padding=(1, 2)),
            GLUConvTranspose2d(in_channels=128 + s, out_channels=64, kernel_size=(4, 8), stride=2, padding=(1, 3)),
            GLUConvTranspose2d(in_channels=64 + s, out_channels=32, kernel_size=(4, 8), stride=2, padding=(1, 3)),
        ])
        self.conv_out = nn.ConvTranspose2d(32 + s, 1, (3, 9), padding=(1, 4))

    def forward(self, features: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:  # (B, F, N) -> (B, F, N)
        check_features(features, n_features=self.n_features, frame_multiple=self.frame_multiple,
                       where=type(self).__name__)
        code = speaker_code(speaker, n_speakers=self.n_speakers)  # (B, S)
        x = self.encoder(features.unsqueeze(1))  # (B, 5, 1, N / 4)
        for layer in self.decoder:
            x = layer(broadcast_code(x, code))  # ends at (B, 32, F, N)
        return self.conv_out(broadcast_code(x, code))[:, 0]  # (B, F, N)


class StarGANVCDiscriminator(nn.Module):
    """StarGAN-VC's conditional discriminator: ``(B, F, N), speaker -> (B, N / 8)`` logits, ``N`` a multiple of 8."""

    def __init__(self, *, n_speakers: int = 4, n_features: int = 36) -> None:
        super().__init__()
        self.n_speakers, self.n_features = n_speakers, n_features
        s = n_speakers
        self.layers = nn.ModuleList([
            GLUConv2d(in_channels=1 + s, out_channels=32, kernel_size=(3, 9), padding=(1, 4)),
            GLUConv2d(in_channels=32 + s, out_channels=32, kernel_size=(3, 8), stride=(1, 2), padding=(1, 3)),
            GLUConv2d(in_channels=32 + s, out_channels=32, kernel_size=(3, 8), stride=(1, 2), padding=(1, 3)),
            GLUConv2d(in_channels=32 + s, out_channels=32, kernel_size=(3, 6), stride=(1, 2), padding=(1, 2)),
        ])
        self.head = conv2d(in_channels=32 + s, out_channels=1, kernel_size=(n_features, 5), stride=(n_features, 1),
                           padding=(0, 2))

    def forward(self, features: torch.Tensor, speaker: torch.Tensor) -> torch.Tensor:  # (B, F, N) -> (B, N / 8)
        check_features(features, n_features=self.n_features, frame_multiple=1, where=type(self).__name__)
        code = speaker_code(speaker, n_speakers=self.n_speakers)  # (B, S)
        x = features.unsqueeze(1)  # (B, 1, F, N)
        for layer in self.layers:
            x = layer(broadcast_code(x, code))  # ends at (B, 32, F, N / 8)
        return self.head(broadcast_code(x, code)).flatten(1)  # (B, 1, 1, N / 8) -> (B, N / 8)


class StarGANVCClassifier(nn.Module):
    """StarGAN-VC's domain classifier: ``(B, F, N) -> (B, n_speakers)`` logits from the lowest 8 coefficients.

    ``N`` of at least 32 frames (the classifier downsamples time by 32).
    """

    #: How many of the lowest mel-cepstral coefficients the classifier reads (the reference's ``x[:, :, 0:8]``).
    n_read = 8

    def __init__(self, *, n_speakers: int = 4) -> None:
        super().__init__()
        self.n_speakers = n_speakers
        self.layers = nn.Sequential(
            GLUConv2d(in_channels=1, out_channels=8, kernel_size=4, stride=2, padding=(5, 1)),
            GLUConv2d(in_channels=8, out_channels=16, kernel_size=4, stride=2, padding=1),
            GLUConv2d(in_channels=16, out_channels=32, kernel_size=4, stride=2, padding=(0, 1)),
            GLUConv2d(in_channels=32, out_channels=16, kernel_size=(3, 4), stride=(1, 2), padding=1),
            conv2d(in_channels=16, out_channels=n_speakers, kernel_size=(1, 4), stride=(1, 2), padding=(0, 1)),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (B, F, N) -> (B, S)
        if features.dim() != 3 or features.shape[1] < self.n_read:
            raise DataError(f"{type(self).__name__}: expected features (B, F >= {self.n_read}, N), "
                            f"got a tensor of shape {tuple(features.shape)}")
        x = self.layers(features[:, None, : self.n_read])  # (B, S, 1, N / 32)
        return x.mean(dim=(2, 3))
