"""CycleGAN-VC2's 2-1-2D generator and 2-D PatchGAN, and MaskCycleGAN-VC's masked variant.

* CycleGAN-VC2: Kaneko et al. 2019, "CycleGAN-VC2: Improved CycleGAN-based Non-parallel
  Voice Conversion" (ICASSP; arXiv:1904.04631): mel-cepstra ``(B, F, N)`` seen as an
  image ``(B, 1, F, N)``.
* MaskCycleGAN-VC: Kaneko et al. 2021, "MaskCycleGAN-VC: Learning Non-parallel Voice
  Conversion with Filling in Frames" (ICASSP; arXiv:2102.12841): the same networks on
  80-bin log-mel spectrograms, the generator reading two channels, the temporally masked
  mel ``x * m`` and the mask ``m`` (filling in frames); at conversion ``m`` is all ones.

Generator (``N`` a multiple of 4; ``c`` counts the channels after the gate):

* gated conv 5x15 c128 (no norm) -> ``(B, 128, F, N)``
* 2 downsampling blocks, conv 5x5 s2 -> instance norm -> GLU, c256 -> ``(B, 256, F/4, N/4)``
* 2D -> 1D: reshape to ``(B, 256 F/4, N/4)`` -> 1x1 conv c256 -> instance norm
* 6 residual blocks (1-D, as in CycleGAN-VC and both ports below): gated conv k3 c512 -> conv k3 c256
  -> instance norm, plus the input
* 1D -> 2D: 1x1 conv c(256 F/4) -> instance norm -> reshape to ``(B, 256, F/4, N/4)``
* 2 upsampling blocks, conv 5x5 -> pixel shuffler x2 -> instance norm -> GLU: c256 ``(F/2, N/2)``,
  c128 ``(F, N)``
* conv 5x15 c1 -> ``(B, F, N)``

``F`` that is not a multiple of 4 (35 mel-cepstral coefficients, say) is zero-padded after the
highest bin of the frequency axis to the next multiple inside the generator and cropped back, so
the output always has the input's shape; 35 and 36 features give the same network.

PatchGAN discriminator (``(B, 1, F, N)``):

* gated conv 3x3 c128 (no norm)
* 3 downsampling blocks, conv 3x3 s2 -> instance norm -> GLU: c256, c512, c1024 -> ``(F/8, N/8)``
* gated block 1x5 c1024 -> instance norm -> GLU
* conv 1x3 c1 -> logits ``(B, ceil(F/8) * ceil(N/8))``, one per patch

Reference implementations: ``jackaduma/CycleGAN-VC2`` (``model_tf.py``, 36 mel-cepstral
coefficients) and ``GANtastic3/MaskCycleGAN-VC`` (``mask_cyclegan_vc/model.py``, 80 mels,
64 frames); the authors' own code is not public. Where the ports differ from the papers'
figures, or from their own declared layers, this module follows the papers:

* Their upsampling blocks and the whole discriminator compute ``x * sigmoid(x)`` (a SiLU)
  and call it a GLU, so those convolutions have no gate half; here every GLU has its own
  gate channels (as the papers draw it and as their own down-sampling and residual blocks
  do), which adds the gate halves of those convolutions and their norms.
* Both build the discriminator's 1x5 block (GANtastic3's as 1x10) but skip it in
  ``forward``; here it runs, as the layer list they declare (and CycleGAN-VC2's figure) has it.
* Both end the discriminator with a sigmoid; here it returns logits for the objective's
  criterion. GANtastic3 also builds TFAN modules (CycleGAN-VC3) that ``forward`` never uses;
  they have no counterpart here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import DataError
from speechgan.nn import GLUConv2d, GLUResidualBlock1d, conv1d, conv2d, feature_norm

from .common import check_features

__all__ = [
    "Generator212",
    "PatchGAN2d",
    "cyclegan_vc2_generator",
    "maskcyclegan_vc_generator",
    "cyclegan_vc2_discriminator",
    "maskcyclegan_vc_discriminator",
]


class Generator212(nn.Module):
    """The 2-1-2D CNN generator: ``(B, n_features, N) -> (B, n_features, N)``, ``N`` a multiple of 4.

    ``masked=True`` is MaskCycleGAN-VC's: ``forward(mel, mask)`` reads ``[mel * mask, mask]``
    as two input channels (``mask`` ``(B, F, N)`` or ``(B, 1, N)``, ones when omitted).
    ``channels`` is the width of the 2-D down/up-sampling path's first layer, halved from
    the 1-D core's ``2 channels`` (128 and 256 in both ports). 32,900,993 parameters for
    36 (or 35) mel-cepstra, 34,370,433 for MaskCycleGAN-VC's 80 mels and mask.
    """

    frame_multiple = 4  # two stride-2 downsamplings

    def __init__(
        self,
        *,
        n_features: int = 36,
        masked: bool = False,
        channels: int = 128,
        n_residual_blocks: int = 6,
    ) -> None:
        super().__init__()
        self.n_features, self.masked = n_features, masked
        self.padded_features = -(-n_features // 4) * 4  # the two 2-D downsamplings halve F twice
        c1, c2 = channels, 2 * channels
        flat = c2 * self.padded_features // 4  # channels of the 2-D map flattened along frequency
        self.conv_in = GLUConv2d(in_channels=2 if masked else 1, out_channels=c1, kernel_size=(5, 15), norm="none")
        self.down = nn.Sequential(
            GLUConv2d(in_channels=c1, out_channels=c2, kernel_size=5, stride=2, padding=2),
            GLUConv2d(in_channels=c2, out_channels=c2, kernel_size=5, stride=2, padding=2),
        )
        self.to_1d = nn.Sequential(conv1d(in_channels=flat, out_channels=c2, kernel_size=1),
                                   feature_norm("instance", channels=c2, dims=1))
        self.residual = nn.Sequential(*(
            GLUResidualBlock1d(channels=c2, hidden_channels=2 * c2, kernel_size=3) for _ in range(n_residual_blocks)
        ))
        self.to_2d = nn.Sequential(conv1d(in_channels=c2, out_channels=flat, kernel_size=1),
                                   feature_norm("instance", channels=flat, dims=1))
        self.up = nn.Sequential(
            GLUConv2d(in_channels=c2, out_channels=c2, kernel_size=5, upscale=2),
            GLUConv2d(in_channels=c2, out_channels=c1, kernel_size=5, upscale=2),
        )
        self.conv_out = conv2d(in_channels=c1, out_channels=1, kernel_size=(5, 15))

    def _inputs(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """The 2-D input ``(B, 1 or 2, F, N)``: the features, or MaskCycleGAN-VC's ``[x * m, m]``."""
        if not self.masked:
            if mask is not None:
                raise DataError(f"{type(self).__name__}: got a mask but the generator was built with masked=False; "
                                "use masked=True (MaskCycleGAN-VC) to feed one")
            return features.unsqueeze(1)
        mask = torch.ones_like(features) if mask is None else mask.expand_as(features).to(features.dtype)
        return torch.stack((features * mask, mask), dim=1)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        check_features(features, n_features=self.n_features, frame_multiple=self.frame_multiple,
                       where=type(self).__name__)
        x = self._inputs(features, mask)  # (B, 1 or 2, F, N)
        x = F.pad(x, (0, 0, 0, self.padded_features - self.n_features))  # (B, 1 or 2, F', N), F' = 4 ceil(F / 4)
        x = self.down(self.conv_in(x))  # (B, 2 C, F' / 4, N / 4)
        b, c, h, w = x.shape
        x = self.residual(self.to_1d(x.reshape(b, c * h, w)))  # (B, 2 C, N / 4)
        x = self.to_2d(x).reshape(b, c, h, w)  # (B, 2 C, F' / 4, N / 4)
        x = self.conv_out(self.up(x))  # (B, 1, F', N)
        return x[:, 0, : self.n_features]  # (B, F, N)


class PatchGAN2d(nn.Module):
    """CycleGAN-VC2's 2-D PatchGAN: ``(B, n_features, N) -> (B, P)`` patch logits.

    ``P = ceil(F / 8) * ceil(N / 8)``. The network is fully convolutional, so
    ``n_features`` only checks the input; it sets no weight. 22,894,593 parameters.
    """

    def __init__(self, *, n_features: int = 36, channels: int = 128) -> None:
        super().__init__()
        self.n_features = n_features
        c1, c2, c4, c8 = channels, 2 * channels, 4 * channels, 8 * channels
        self.layers = nn.Sequential(
            GLUConv2d(in_channels=1, out_channels=c1, kernel_size=3, norm="none"),
            GLUConv2d(in_channels=c1, out_channels=c2, kernel_size=3, stride=2, padding=1),
            GLUConv2d(in_channels=c2, out_channels=c4, kernel_size=3, stride=2, padding=1),
            GLUConv2d(in_channels=c4, out_channels=c8, kernel_size=3, stride=2, padding=1),
            GLUConv2d(in_channels=c8, out_channels=c8, kernel_size=(1, 5)),
        )
        self.head = conv2d(in_channels=c8, out_channels=1, kernel_size=(1, 3))

    def forward(self, features: torch.Tensor) -> torch.Tensor:  # (B, F, N) -> (B, P)
        check_features(features, n_features=self.n_features, frame_multiple=1, where=type(self).__name__)
        x = self.layers(features.unsqueeze(1))  # (B, 8 C, ceil(F / 8), ceil(N / 8))
        return self.head(x).flatten(1)


def cyclegan_vc2_generator(*, n_features: int = 36, channels: int = 128, n_residual_blocks: int = 6) -> Generator212:
    """CycleGAN-VC2's 2-1-2D generator on mel-cepstra (Kaneko et al. 2019); ``channels`` and
    ``n_residual_blocks`` narrow it for CPU-scale recipes (the paper's are the defaults)."""
    return Generator212(n_features=n_features, channels=channels, n_residual_blocks=n_residual_blocks)


def maskcyclegan_vc_generator(*, n_features: int = 80, channels: int = 128, n_residual_blocks: int = 6) -> Generator212:
    """MaskCycleGAN-VC's generator: 2-1-2D on 80-bin mels with the mask as a second channel (Kaneko et al. 2021);
    ``channels`` and ``n_residual_blocks`` narrow it for CPU-scale recipes (the paper's are the defaults)."""
    return Generator212(n_features=n_features, masked=True, channels=channels, n_residual_blocks=n_residual_blocks)


def cyclegan_vc2_discriminator(*, n_features: int = 36, channels: int = 128) -> PatchGAN2d:
    """CycleGAN-VC2's 2-D PatchGAN on mel-cepstra (Kaneko et al. 2019); ``channels`` narrows it
    for CPU-scale recipes (the paper's 128 is the default)."""
    return PatchGAN2d(n_features=n_features, channels=channels)


def maskcyclegan_vc_discriminator(*, n_features: int = 80, channels: int = 128) -> PatchGAN2d:
    """MaskCycleGAN-VC's discriminator: CycleGAN-VC2's PatchGAN on 80-bin mels (Kaneko et al. 2021);
    ``channels`` narrows it for CPU-scale recipes."""
    return PatchGAN2d(n_features=n_features, channels=channels)
