"""SpecGAN (Donahue, McAuley & Puckette, ICLR 2019, "Adversarial Audio Synthesis", section 3.3):
a DCGAN-like pair on 128 x 128 normalised log-magnitude spectrograms, inverted by Griffin-Lim.

The spectrogram (:class:`SpecGANSpectrogram`), as in the paper and its reference code
(chrisdonahue/wavegan, ``train_specgan.py``): a clip of 16,384 samples at 16 kHz, STFT with
256-sample (16 ms) periodic Hann windows every 128 samples (8 ms) -> 128 frames of 129 bins;
``log(|X| + 1e-6)``; each bin normalised to zero mean and unit variance with training-set
statistics (over every frame of every clip, the population std), divided by 3 and clipped to
[-1, 1] ("clip to 3 standard deviations and rescale to [-1, 1]"); the Nyquist bin is dropped,
leaving 128 bins from 0 to 8 kHz (minus one bin). The
inverse puts a normalised 0 in the Nyquist bin (its training mean), undoes the scaling, takes
``exp`` and runs 16 Griffin-Lim iterations (Griffin & Lim 1984). Tensors are (B, 1, F, N):
frequency along the height, time along the width.

The models (:class:`SpecGANGenerator`, :class:`SpecGANDiscriminator`; paper appendix, the
reference ``specgan.py``), with d = 64 and 5 x 5 kernels, stride 2, "same" padding:

* G: z (100, uniform in [-1, 1]) -> dense -> (16d, 4, 4) -> ReLU -> four transposed convs
  halving the channels (8d, 4d, 2d, d), each ReLU -> transposed conv to (1, 128, 128) -> tanh;
* D: (1, 128, 128) -> five convs (d, 2d, 4d, 8d, 16d), each LeakyReLU 0.2 -> (16d, 4, 4) ->
  flatten -> dense -> one logit.

No batch norm by default (the reference's ``use_batchnorm=False``: WGAN-GP's critic must treat
samples independently). Weights are Glorot-uniform with zero biases, TensorFlow's ``tf.layers``
defaults that the reference trains with. Paper-size parameter counts (:func:`specgan_generator`,
:func:`specgan_discriminator`): G 19,065,345 (dense 1,654,784 + transposed convs 17,410,561),
D 17,427,969 (convs 17,411,584 + dense 16,385), the same as WaveGAN's. Training
(:class:`~.spec_objective.SpecGAN`): WGAN-GP, lambda 10, 5 critic steps per G step, Adam lr
1e-4, betas (0.5, 0.9), batch 64.

Conditioning (not in the paper; the ``specgan`` objective with ``num_classes``): G concatenates
a label embedding with z (Mirza & Osindero 2014); D takes it as extra input channels
(``concat``) or adds the projection ``<V y, phi(x)>`` to its logit (``projection``, Miyato &
Koyama 2018), as WaveGAN's models do (:mod:`._conditioning`).

Deviations from the reference code:

* framing: the clip is reflect-padded by 64 samples on each side (frame k centred on sample
  128 k + 64) where TensorFlow's ``pad_end`` starts frame k at 128 k and zero-pads 128 samples
  at the end. The same 128 frames, shifted by half a hop, so that every sample of the clip lies
  under two windows (or one at half its peak): the least-squares inverse divides by the summed
  squared windows, and a sample under a single window near its zero would blow up;
* Griffin-Lim is the core's (:meth:`speechgan.features.stft.SpectralFrontEnd.griffin_lim`):
  random initial phase from a fixed seed where the reference starts from zero phase, and a
  least-squares inverse STFT where ``tf.contrib.signal.inverse_stft`` (no window normalisation)
  returns the signal times the summed squared windows (0.5 to 1 at 50 % overlap);
  ``griffin_lim_momentum`` (0: plain Griffin-Lim, as the paper) makes it fast Griffin-Lim
  (Perraudin et al. 2013);
* PyTorch's "same" padding of a 5 x 5 stride-2 conv is 2 on both sides, TensorFlow's 1 before
  and 2 after: a one-pixel shift that only matters when porting weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.features.stft import SpectralFrontEnd, magnitude
from speechgan.features.speaker_stats import ChannelStats, accumulate_channel_stats
from speechgan.nn import check_labels, init_glorot_uniform

from ._conditioning import Conditioning, ConditionalCritic, generator_label, with_label

__all__ = [
    "SPEC_SIZE",
    "SpecGANSpectrogram",
    "SpecGANGenerator",
    "SpecGANDiscriminator",
    "specgan_generator",
    "specgan_discriminator",
]

#: side of SpecGAN's square spectrograms: 128 frequency bins x 128 frames
SPEC_SIZE = 128
_START = 4  # side of G's first and D's last feature map: 128 / 2**5


def _check_size(d: int, kernel_size: int, who: str) -> None:
    if d < 1:
        raise ConfigError(f"{who}: d (the model size) must be at least 1, got {d}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ConfigError(f"{who}: kernel_size must be odd and positive (the paper's is 5), got {kernel_size}")


def _widths(d: int) -> list[int]:
    """Channels of G's feature maps from the first to the last (D runs them backwards): 16d ... d."""
    return [16 * d, 8 * d, 4 * d, 2 * d, d]


class SpecGANSpectrogram(nn.Module):
    """Clips (B, 1, T) <-> normalised log-magnitude spectrograms (B, 1, n_fft // 2, T // hop) in [-1, 1].

    ``mean`` and ``std`` (n_fft // 2 + 1,) are per-bin statistics of ``log(|X| + log_eps)`` over
    the training frames, set by :meth:`fit`; they and ``frames`` (how many frames they came
    from, 0 until fitted) are persistent buffers, so a checkpoint carries them.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        clip_length: int = 16384,
        n_fft: int = 256,
        hop_length: int = 128,
        log_eps: float = 1e-6,
        clip_std: float = 3.0,
        griffin_lim_iters: int = 16,
        griffin_lim_momentum: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0 < hop_length <= n_fft or clip_length <= 0 or clip_length % hop_length:
            raise ConfigError(f"SpecGANSpectrogram: need 0 < hop_length <= n_fft and clip_length a positive multiple "
                              f"of hop_length, got {hop_length}, {n_fft} and {clip_length}")
        if log_eps <= 0 or clip_std <= 0:
            raise ConfigError(f"SpecGANSpectrogram: log_eps and clip_std must be positive, "
                              f"got {log_eps} and {clip_std}")
        # T / hop frames over the clip reflect-padded by (n_fft - hop) / 2 on each side (HiFi-GAN's
        # framing): no sample sits under a single window near its zero, where the least-squares
        # inverse divides by the tiny squared window and an edge sample blows up
        pad = (n_fft - hop_length) // 2
        self.stft = SpectralFrontEnd(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, win_length=None, window="hann",
            padding=(pad, pad), n_iter=griffin_lim_iters, momentum=griffin_lim_momentum,
        )
        self.clip_length, self.log_eps, self.clip_std = clip_length, log_eps, clip_std
        self.n_bins, self.n_frames = n_fft // 2, clip_length // hop_length
        self.register_buffer("mean", torch.zeros(self.n_bins + 1))
        self.register_buffer("std", torch.ones(self.n_bins + 1))
        self.register_buffer("frames", torch.zeros((), dtype=torch.long))

    @property
    def fitted(self) -> bool:
        return int(self.frames) > 0

    def _clips(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, 1, T) or (B, T) clips of ``clip_length`` samples -> (B, T) float."""
        shape = tuple(wave.shape)
        if wave.dim() == 3 and wave.shape[1] == 1:
            wave = wave[:, 0]
        if wave.dim() != 2 or wave.shape[-1] != self.clip_length:
            raise DataError(
                f"SpecGAN reads clips (B, 1, {self.clip_length}) as `x`, got {shape}: give the "
                f"dataset a clip length of {self.clip_length} samples "
                f"({self.n_frames} frames of {self.stft.hop_length})"
            )
        return wave.float()

    def log_magnitude(self, wave: torch.Tensor) -> torch.Tensor:
        """``log(|STFT| + log_eps)`` of clips (B, 1, T) or (B, T): (B, n_fft // 2 + 1, N), Nyquist bin included."""
        spectrum = self.stft.spectrum(self._clips(wave))  # (B, F + 1, N) complex
        return torch.log(magnitude(spectrum, 0.0) + self.log_eps)

    def normalise(self, log_mag: torch.Tensor) -> torch.Tensor:
        """(B, F + 1, N) log magnitudes -> (B, 1, F, N) in [-1, 1]: per-bin z-score / clip_std, clipped."""
        self._require_fitted()
        z = (log_mag - self.mean[:, None]) / self.std[:, None]  # (B, F + 1, N)
        return (z[:, : self.n_bins] / self.clip_std).clamp(-1.0, 1.0).unsqueeze(1)

    def denormalise(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, 1, F, N) normalised spectrograms -> (B, F + 1, N) log magnitudes; the Nyquist bin at its mean."""
        self._require_fitted()
        z = F.pad(spec[:, 0].float() * self.clip_std, (0, 0, 0, 1))  # (B, F + 1, N), z = 0 in the Nyquist bin
        return z * self.std[:, None] + self.mean[:, None]

    @torch.no_grad()
    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Clips (B, 1, T) -> normalised spectrograms (B, 1, F, N) in [-1, 1] (constants: no gradient)."""
        return self.normalise(self.log_magnitude(wave))

    @torch.no_grad()
    def inverse(self, spec: torch.Tensor) -> torch.Tensor:
        """Normalised spectrograms (B, 1, F, N) -> clips (B, 1, T) by Griffin-Lim, clamped to [-1, 1]."""
        if spec.dim() != 4 or tuple(spec.shape[1:]) != (1, self.n_bins, self.n_frames):
            raise DataError(f"SpecGANSpectrogram.inverse: expected (B, 1, {self.n_bins}, {self.n_frames}), "
                            f"got {tuple(spec.shape)}")
        mag = self.denormalise(spec).exp()  # (B, F + 1, N)
        wave = self.stft.griffin_lim(mag, self.clip_length)  # (B, T)
        return wave.clamp(-1.0, 1.0).unsqueeze(1)

    # -- statistics ------------------------------------------------------------------------

    def fit(self, batches: Iterable[torch.Tensor]) -> ChannelStats:
        """Per-bin mean and population std of the log magnitudes of every frame of ``batches``
        (clip batches (B, 1, T)); stored in the buffers and returned."""

        def chunks() -> Iterator[torch.Tensor]:  # one (F + 1, B * N) chunk of frames per batch
            with torch.no_grad():
                for batch in batches:
                    log_mag = self.log_magnitude(batch.to(self.mean.device))  # (B, F + 1, N)
                    yield log_mag.transpose(0, 1).reshape(log_mag.shape[1], -1)

        stats = accumulate_channel_stats(chunks(), speaker="SpecGAN training clips")
        self.set_stats(stats)
        return stats

    def set_stats(self, stats: ChannelStats) -> None:
        """Use ``stats`` (one mean and std per bin, Nyquist included)."""
        if stats.mean.size != self.n_bins + 1:
            raise DataError(f"SpecGAN statistics have {stats.mean.size} frequency bins; the STFT makes "
                            f"{self.n_bins + 1} (n_fft {self.stft.n_fft})")
        self.mean.copy_(torch.from_numpy(stats.mean.copy()))
        self.std.copy_(torch.from_numpy(stats.std.copy()))
        self.frames.fill_(stats.frames)

    def _require_fitted(self) -> None:
        if not self.fitted:
            raise DataError(
                "SpecGAN's per-frequency statistics were never computed: training computes them once on a fresh "
                "run (objective.prepare) and checkpoints carry them; load the run's checkpoint, or call prepare first"
            )


class SpecGANGenerator(nn.Module):
    """SpecGAN generator: z (B, latent_dim) ~ U(-1, 1) [+ labels (B,)] -> spectrograms (B, 1, 128, 128) in [-1, 1]."""

    latent_distribution = "uniform"  # the paper's z ~ U(-1, 1), drawn by speechgan.objective.draw_latent

    def __init__(
        self,
        *,
        latent_dim: int = 100,
        d: int = 64,
        kernel_size: int = 5,
        batch_norm: bool = False,
        num_classes: int = 0,
        embed_dim: int = 10,
    ) -> None:
        super().__init__()
        _check_size(d, kernel_size, "SpecGANGenerator")
        self.latent_dim, self.d, self.num_classes = latent_dim, d, num_classes
        in_dim = latent_dim + (embed_dim if num_classes else 0)
        self.project = nn.Linear(in_dim, _START * _START * 16 * d)
        layers: list[nn.Module] = [nn.BatchNorm2d(16 * d)] if batch_norm else []
        layers.append(nn.ReLU())
        pad = kernel_size // 2  # with output_padding 1, each layer doubles the side exactly
        for c_in, c_out in zip(_widths(d)[:-1], _widths(d)[1:]):  # 16d -> 8d -> 4d -> 2d -> d
            layers.append(nn.ConvTranspose2d(c_in, c_out, kernel_size, 2, pad, output_padding=1))
            layers += [nn.BatchNorm2d(c_out)] if batch_norm else []
            layers.append(nn.ReLU())
        layers += [nn.ConvTranspose2d(d, 1, kernel_size, 2, pad, output_padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        init_glorot_uniform(self)  # the reference code's tf.layers defaults
        self.label = generator_label(num_classes, embed_dim)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(self, labels, conditional=self.label is not None,
                     use="train it with objective specgan and num_classes, or set num_classes: 0")
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"SpecGANGenerator: expected z of shape (B, {self.latent_dim}), got {tuple(z.shape)}")
        z = with_label(z, self.label, labels)  # (B, latent_dim [+ embed_dim])
        h = self.project(z).view(z.shape[0], 16 * self.d, _START, _START)  # (B, 16d, 4, 4)
        return self.net(h)  # (B, 1, 128, 128)


class SpecGANDiscriminator(ConditionalCritic):
    """SpecGAN discriminator (critic): spectrograms (B, 1, 128, 128) [+ labels (B,)] -> logits (B, 1).

    ``conditioning``: ``none``; ``concat`` (a label embedding of ``embed_dim`` as extra input
    channels); ``projection`` (Miyato & Koyama 2018, on the flattened features), as
    :class:`~.wavegan.WaveGANDiscriminator` does.
    """

    labels_from = "objective specgan and num_classes"

    def __init__(
        self,
        *,
        d: int = 64,
        kernel_size: int = 5,
        batch_norm: bool = False,
        negative_slope: float = 0.2,
        num_classes: int = 0,
        conditioning: Conditioning = "none",
        embed_dim: int = 10,
    ) -> None:
        _check_size(d, kernel_size, "SpecGANDiscriminator")
        super().__init__(conditioning=conditioning, num_classes=num_classes, embed_dim=embed_dim)
        channels = [1 + self.label_channels] + _widths(d)[::-1]  # 1 (+E), d ... 16d
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(channels[:-1], channels[1:])):
            layers.append(nn.Conv2d(c_in, c_out, kernel_size, 2, kernel_size // 2))
            layers += [nn.BatchNorm2d(c_out)] if batch_norm and i > 0 else []  # none on the input layer
            layers.append(nn.LeakyReLU(negative_slope))
        self.net = nn.Sequential(*layers)
        features = 16 * d * _START * _START
        self.head = nn.Linear(features, 1)  # psi
        init_glorot_uniform(self)  # the reference code's tf.layers defaults
        self.embed_labels(features)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        self.check_labels(labels)
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, SPEC_SIZE, SPEC_SIZE):
            raise DataError(f"SpecGANDiscriminator: expected spectrograms (B, 1, {SPEC_SIZE}, {SPEC_SIZE}), "
                            f"got {tuple(x.shape)}")
        # phi: (B, 1 (+E), 128, 128) -> (B, 16d * 4 * 4)
        return self.conditioned_logit(x, labels, lambda h: self.net(h).flatten(1))


def specgan_generator(*, num_classes: int = 0, embed_dim: int = 10) -> SpecGANGenerator:
    """The paper's generator: z of 100, d = 64, 5 x 5 kernels, no batch norm (19.07M parameters)."""
    return SpecGANGenerator(latent_dim=100, d=64, kernel_size=5, batch_norm=False, num_classes=num_classes,
                            embed_dim=embed_dim)


def specgan_discriminator(
    *, num_classes: int = 0, conditioning: Conditioning = "none", embed_dim: int = 10
) -> SpecGANDiscriminator:
    """The paper's discriminator: d = 64, 5 x 5 kernels, LeakyReLU 0.2, no batch norm (17.43M parameters)."""
    return SpecGANDiscriminator(d=64, kernel_size=5, batch_norm=False, negative_slope=0.2, num_classes=num_classes,
                                conditioning=conditioning, embed_dim=embed_dim)
