"""WaveGAN's generator and discriminator, and a class-conditional variant.

Donahue, McAuley & Puckette, ICLR 2019, "Adversarial Audio Synthesis" (the WaveGAN section
and the appendix's architecture and hyper-parameter tables).

DCGAN flattened to one dimension: 5 x 5 kernels become length-25 kernels and stride 2
becomes stride 4, so five layers span 4^5 = 1024 x; no batch norm (the critic of WGAN-GP
must treat samples independently). With model size ``d`` (64 in the paper), a slice of
16,384 samples (about 1 s at 16 kHz) and ``start = slice_len / 1024`` (16):

* G: z (100, uniform in [-1, 1]) -> dense -> reshape (16d, start) -> ReLU -> transposed
  convs (kernel 25, stride 4) 16d -> 8d -> 4d -> 2d -> d, each followed by ReLU, -> a last
  transposed conv to 1 channel -> tanh: ``(B, 1, slice_len)``.
* D: ``(B, 1, slice_len)`` -> convs (kernel 25, stride 4) 1 -> d -> 2d -> 4d -> 8d -> 16d,
  each followed by LeakyReLU 0.2; phase shuffle (radius 2,
  :class:`~speechgan.nn.PhaseShuffle`) after each of the first four -> flatten
  ``16d * start`` -> dense -> one logit ``(B, 1)``.

Training as in the paper: WGAN-GP (Gulrajani et al. 2017), lambda 10, 5 critic steps per G
step, Adam lr 1e-4, betas (0.5, 0.9), batch 64: the ``gan`` objective with the
``wasserstein`` criterion and ``d/gp: 10``. Paper-size parameter counts (with the
presets :func:`wavegan_generator` and :func:`wavegan_discriminator`): G 19,065,345 (dense
1,654,784 + transposed convs 17,410,561), D 17,427,969 (convs 17,411,584 + dense 16,385).

Conditioning (for ``cgan``, the digit as label): G concatenates a label embedding with z
(Mirza & Osindero 2014); D takes it as extra input channels (``concat``) or adds the
projection ``<V y, phi(x)>`` to its logit (``projection``, Miyato & Koyama 2018), as the
DCGAN models of the image plugin do (:mod:`._conditioning`).

Choices the paper leaves open follow the reference code (chrisdonahue/wavegan,
``wavegan.py``, ``train_wavegan.py`` defaults): ReLU right after the dense projection;
zero-stuffing transposed convolutions (``upsample='zeros'``, not nearest-neighbour
upsampling + conv); "same" padding; one phase-shuffle offset per batch with reflection;
Glorot-uniform weights and zero biases (TensorFlow's ``tf.layers`` defaults); no
post-processing filter (``wavegan_genr_pp=False``). Deviations, which matter only when
porting weights: "same" padding splits the 21 samples (kernel 25 - stride 4) the other
way round from TensorFlow (a transposed conv's output is cropped by 11 at the start and 10
at the end, TensorFlow's by 10 and 11; D's convs pad 11 on both sides, TensorFlow's 10
before and 11 after), a one-sample shift per layer; the dense output is reshaped
channels-first ``(16d, start)``, a fixed permutation of the reference's ``(start, 16d)``.
The label codes (not in the paper) are drawn with U(-1, 1)'s standard deviation for
``concat`` and with that of the Glorot-uniform head for ``projection``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.nn import PhaseShuffle, check_labels, conv_transpose1d, init_glorot_uniform, transposed_padding

from ._conditioning import Conditioning, ConditionalCritic, generator_label, with_label

__all__ = [
    "WaveGANGenerator",
    "WaveGANDiscriminator",
    "wavegan_generator",
    "wavegan_discriminator",
]

#: number of strided layers in G and in D
NUM_LAYERS = 5
#: channel multipliers of d from G's first feature map down to its last (D runs them backwards)
_WIDTHS = (16, 8, 4, 2, 1)


def _start(slice_len: int, stride: int, d: int, who: str) -> int:
    """Length of G's first (D's last) feature map: ``slice_len / stride^5``."""
    if d < 1:
        raise ConfigError(f"{who}: d (the model size) must be at least 1, got {d}")
    if stride < 2:
        raise ConfigError(f"{who}: stride must be at least 2 (the paper's is 4), got {stride}")
    start, rest = divmod(slice_len, stride**NUM_LAYERS)
    if rest or start < 1:
        raise ConfigError(
            f"{who}: slice_len must be a positive multiple of stride ** {NUM_LAYERS} = {stride**NUM_LAYERS} "
            f"(the paper's is 16384 at stride 4), got {slice_len}"
        )
    return start


class WaveGANGenerator(nn.Module):
    """WaveGAN generator: z (B, latent_dim) [+ labels (B,)] -> waveforms (B, channels, slice_len) in [-1, 1]."""

    latent_distribution = "uniform"  # the paper's z ~ U(-1, 1), drawn by speechgan.objective.draw_latent

    def __init__(
        self,
        *,
        latent_dim: int = 100,
        d: int = 64,
        channels: int = 1,
        num_classes: int = 0,
        embed_dim: int = 10,
        kernel_size: int = 25,
        stride: int = 4,
        slice_len: int = 16384,
        sample_rate: int = 16000,
    ) -> None:
        super().__init__()
        self.start = _start(slice_len, stride, d, "WaveGANGenerator")
        if latent_dim < 1:
            raise ConfigError(f"WaveGANGenerator: latent_dim must be at least 1, got {latent_dim}")
        self.latent_dim, self.num_classes = latent_dim, num_classes
        self.slice_len, self.sample_rate = slice_len, sample_rate
        widths = [m * d for m in _WIDTHS] + [channels]  # 16d, 8d, 4d, 2d, d, channels
        in_dim = latent_dim + (embed_dim if num_classes else 0)
        self.project = nn.Linear(in_dim, widths[0] * self.start)
        self.upsample = nn.ModuleList(
            conv_transpose1d(in_channels=a, out_channels=b, kernel_size=kernel_size, stride=stride)
            for a, b in zip(widths[:-1], widths[1:])
        )
        init_glorot_uniform(self)  # the reference code's tf.layers defaults
        self.label = generator_label(num_classes, embed_dim)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(self, labels, conditional=self.label is not None,
                     use="train it with objective cgan, or set num_classes: 0")
        z = with_label(z, self.label, labels)  # (B, latent_dim [+ embed_dim])
        x = F.relu(self.project(z).view(z.shape[0], -1, self.start))  # (B, 16d, start)
        for conv in self.upsample[:-1]:
            x = F.relu(conv(x))  # (B, C / 2, 4 T)
        return torch.tanh(self.upsample[-1](x))  # (B, channels, slice_len)


class WaveGANDiscriminator(ConditionalCritic):
    """WaveGAN discriminator (critic): waveforms (B, channels, slice_len) [+ labels (B,)] -> logits (B, 1).

    ``conditioning``: ``none``; ``concat`` (a label embedding of ``embed_dim`` as extra input
    channels, constant over time); ``projection`` (Miyato & Koyama 2018, on the flattened
    features). ``phase_shuffle`` is the radius (0 turns it off); it acts in training mode only.
    """

    def __init__(
        self,
        *,
        d: int = 64,
        channels: int = 1,
        phase_shuffle: int = 2,
        num_classes: int = 0,
        conditioning: Conditioning = "none",
        embed_dim: int = 10,
        kernel_size: int = 25,
        stride: int = 4,
        slice_len: int = 16384,
        negative_slope: float = 0.2,
    ) -> None:
        start = _start(slice_len, stride, d, "WaveGANDiscriminator")
        super().__init__(conditioning=conditioning, num_classes=num_classes, embed_dim=embed_dim)
        self.slice_len, self.negative_slope = slice_len, negative_slope
        widths = [channels + self.label_channels] + [m * d for m in reversed(_WIDTHS)]  # channels (+E), d, ..., 16d
        padding = transposed_padding(kernel_size, stride)[0]  # ceil((k - s) / 2): T -> T / s ("same")
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, kernel_size, stride=stride, padding=padding) for a, b in zip(widths[:-1], widths[1:])
        )
        self.shuffle = PhaseShuffle(radius=phase_shuffle)
        features = widths[-1] * start
        self.head = nn.Linear(features, 1)  # psi
        init_glorot_uniform(self)  # the reference code's tf.layers defaults
        self.embed_labels(features)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.check_labels(labels)
        if x.dim() != 3 or x.shape[-1] != self.slice_len:
            raise DataError(
                f"WaveGANDiscriminator expects waveforms (B, C, {self.slice_len}) (slice_len), got {tuple(x.shape)}; "
                "cut the training clips to slice_len samples"
            )
        return self.conditioned_logit(x, labels, self._features)

    def _features(self, h: torch.Tensor) -> torch.Tensor:
        """phi: (B, C (+E), slice_len) -> (B, 16d * start)."""
        for i, conv in enumerate(self.convs):
            h = F.leaky_relu(conv(h), self.negative_slope)  # (B, C', T / 4)
            if i < NUM_LAYERS - 1:  # not after the last layer, as in the paper
                h = self.shuffle(h)
        return h.flatten(1)


def wavegan_generator(*, num_classes: int = 0, embed_dim: int = 10, sample_rate: int = 16000) -> WaveGANGenerator:
    """The paper's generator: d = 64, z of 100, kernel 25, stride 4, 16,384 samples (19.07M parameters)."""
    return WaveGANGenerator(latent_dim=100, d=64, num_classes=num_classes, embed_dim=embed_dim,
                            kernel_size=25, stride=4, slice_len=16384, sample_rate=sample_rate)


def wavegan_discriminator(
    *, num_classes: int = 0, conditioning: Conditioning = "none", embed_dim: int = 10, phase_shuffle: int = 2
) -> WaveGANDiscriminator:
    """The paper's discriminator: d = 64, kernel 25, stride 4, phase shuffle 2 (17.43M parameters).

    ``phase_shuffle: 0`` is the paper's ablation without it (its SC09 table: 4.12 against 4.67)."""
    return WaveGANDiscriminator(d=64, phase_shuffle=phase_shuffle, num_classes=num_classes, conditioning=conditioning,
                                embed_dim=embed_dim, kernel_size=25, stride=4, slice_len=16384)
