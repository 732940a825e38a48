"""Log-mel spectrogram exactly as HiFi-GAN computes it (Kong, Kim & Bae 2020, "HiFi-GAN:
Generative Adversarial Networks for Efficient and High Fidelity Speech Synthesis";
``mel_spectrogram`` in the reference ``meldataset.py``), with a filterbank buffer instead of
its global cache.

Definition: reflect-pad the signal by ``(n_fft - hop_length) // 2`` on both sides; STFT with
``center=False`` and a periodic Hann window; magnitude ``sqrt(re^2 + im^2 + 1e-9)``; project
on the Slaney mel filterbank with Slaney area normalisation (librosa's default,
``htk=False, norm='slaney'``; Slaney 1998, "Auditory Toolbox", Tech. Rep. 1998-010);
``log(clamp(mel, min=1e-5))``.

The filterbank is built here, in float64, rather than by ``torchaudio.functional.melscale_fbanks``
(``norm="slaney", mel_scale="slaney"``): that one places the FFT bins on
``linspace(0, sample_rate // 2)``, which is wrong at odd rates (at 11025 Hz, 0.27 % of the
largest weight off librosa's and the log-mel 0.05 off), and computes in float32 (3e-6 of the
largest weight off at even rates, against 2e-16 here).

MelGAN (Kumar et al. 2019, ``Audio2Mel`` in melgan-neurips) differs only by arguments:
``fmax=None`` (sample_rate / 2), ``magnitude_eps=0.0`` and ``log_base="10"``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from ..errors import ConfigError
from .stft import SpectralFrontEnd, WindowName, magnitude
from .waveform import as_batch, restore_batch

__all__ = ["LogMelSpectrogram", "slaney_mel_filterbank"]

# Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = math.log(6.4) / 27.0


def _hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    log_part = _MIN_LOG_MEL + torch.log(hz.clamp(min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return torch.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP)


def _mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    log_part = _MIN_LOG_HZ * torch.exp(_LOG_STEP * (mel - _MIN_LOG_MEL))
    return torch.where(mel >= _MIN_LOG_MEL, log_part, mel * _F_SP)


def slaney_mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> torch.Tensor:
    """Triangular filters equally spaced on the Slaney mel scale, each of unit area in Hz
    (height ``2 / bandwidth``): a (n_mels, n_fft // 2 + 1) float64 matrix."""
    bins = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)  # (F,)
    edges = _mel_to_hz(torch.linspace(
        _hz_to_mel(torch.tensor(fmin, dtype=torch.float64)).item(),
        _hz_to_mel(torch.tensor(fmax, dtype=torch.float64)).item(),
        n_mels + 2, dtype=torch.float64,
    ))  # (n_mels + 2,) lower edge, centre and upper edge of every filter
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins - lower) / (centre - lower)
    falling = (upper - bins) / (upper - centre)
    triangles = torch.minimum(rising, falling).clamp(min=0)  # (n_mels, F)
    return triangles * (2.0 / (upper - lower))


class LogMelSpectrogram(SpectralFrontEnd):
    """Log-mel spectrogram as HiFi-GAN computes it (defaults: HiFi-GAN V1 at 22.05 kHz).

    ``forward``: (T,) -> (n_mels, N) or (B, T) -> (B, n_mels, N), with
    ``N = 1 + (T + 2 * ((n_fft - hop_length) // 2) - n_fft) // hop_length``, which is
    ``T // hop_length`` when ``n_fft - hop_length`` is even (the defaults).

    ``inverse(features, length=None)``: undo the log, map mel back to linear frequency with
    the filterbank's pseudo-inverse (minimum-norm least squares, negatives clipped to zero),
    then ``n_iter`` Griffin-Lim iterations; bins above ``fmax`` stay empty. ``n_iter`` and
    ``momentum`` only shape the inverse and are not part of :attr:`params`.

    MelGAN's ``Audio2Mel``: ``fmax=None, magnitude_eps=0.0, log_base="10"``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 1024,
        hop_length: int = 256,
        win_length: int = 1024,
        n_mels: int = 80,
        fmin: float = 0.0,
        fmax: float | None = 8000.0,
        window: WindowName = "hann",
        magnitude_eps: float = 1e-9,
        log_clamp: float = 1e-5,
        log_base: Literal["e", "10"] = "e",
        n_iter: int = 32,
        momentum: float = 0.99,
    ) -> None:
        pad = (n_fft - hop_length) // 2
        super().__init__(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, padding=(pad, pad), n_iter=n_iter, momentum=momentum,
        )
        fmax = sample_rate / 2 if fmax is None else fmax
        if not 0 <= fmin < fmax <= sample_rate / 2:
            raise ConfigError(
                f"LogMelSpectrogram: need 0 <= fmin < fmax <= sample_rate / 2 = {sample_rate / 2}, "
                f"got fmin={fmin}, fmax={fmax}"
            )
        if n_mels <= 0 or log_clamp <= 0:
            raise ConfigError(f"LogMelSpectrogram: n_mels and log_clamp must be positive, got {n_mels} and {log_clamp}")
        self.n_mels = n_mels
        self.fmin = float(fmin)
        self.fmax = float(fmax)
        self.magnitude_eps = magnitude_eps
        self.log_clamp = log_clamp
        self.log_base = log_base
        basis = slaney_mel_filterbank(sample_rate, n_fft, n_mels, self.fmin, self.fmax)  # (n_mels, F)
        self.register_buffer("mel_basis", basis.float(), persistent=False)
        self.register_buffer("mel_pinv", torch.linalg.pinv(basis).float(), persistent=False)  # (F, n_mels)

    @property
    def params(self) -> dict[str, Any]:
        return {
            **self.frame_params,
            "n_mels": self.n_mels,
            "fmin": self.fmin,
            "fmax": self.fmax,
            "magnitude_eps": self.magnitude_eps,
            "log_clamp": self.log_clamp,
            "log_base": self.log_base,
        }

    @property
    def _log_scale(self) -> float:
        return 1.0 if self.log_base == "e" else 1.0 / math.log(10.0)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x, unbatched = as_batch(wave, "LogMelSpectrogram")
        mag = magnitude(self.spectrum(x), self.magnitude_eps)  # (B, F, N)
        mel = torch.matmul(self.mel_basis.to(mag.dtype), mag)  # (B, n_mels, N)
        return restore_batch(mel.clamp(min=self.log_clamp).log() * self._log_scale, unbatched)

    def inverse(self, features: torch.Tensor, length: int | None = None) -> torch.Tensor:
        x, unbatched = as_batch(features, "LogMelSpectrogram", features=True)
        mel = (x / self._log_scale).exp()  # (B, n_mels, N)
        linear = torch.matmul(self.mel_pinv.to(mel.dtype), mel).clamp(min=0)  # (B, F, N)
        return restore_batch(self.griffin_lim(linear, length), unbatched)
