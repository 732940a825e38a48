"""Mel-frequency cepstral coefficients: the orthonormal DCT-II of the HiFi-GAN log-mel
spectrogram (Davis & Mermelstein 1980, "Comparison of parametric representations for
monosyllabic word recognition in continuously spoken sentences").

``c[k] = s_k * sum_m log_mel[m] * cos(pi * k * (2 m + 1) / (2 M))`` with ``s_0 = sqrt(1 / M)``
and ``s_k = sqrt(2 / M)`` otherwise (``scipy.fft.dct(type=2, norm="ortho")``, what
``librosa.feature.mfcc`` applies to the log-mel it is given). The log-mel is the
:class:`~speechgan.features.mel.LogMelSpectrogram` module itself, not a copy.

``n_mfcc`` defaults to 13 (c0..c12), the usual speech setting (HTK's 12 cepstra plus c0,
Kaldi's ``--num-ceps=13``): enough for the spectral envelope, and the higher coefficients
mostly carry pitch harmonics.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from ..errors import ConfigError
from .base import FrontEnd
from .mel import LogMelSpectrogram
from .stft import WindowName
from .waveform import as_batch, restore_batch

__all__ = ["MFCC", "dct_matrix"]


def dct_matrix(n_out: int, n_in: int) -> torch.Tensor:
    """The first ``n_out`` rows of the orthonormal DCT-II of size ``n_in``: (n_out, n_in) float64."""
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    m = torch.arange(n_in, dtype=torch.float64)[None, :]
    basis = torch.cos(math.pi * k * (2 * m + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)
    basis[0] /= math.sqrt(2.0)
    return basis


class MFCC(FrontEnd):
    """MFCCs: orthonormal DCT-II of the HiFi-GAN log-mel (other arguments as ``log_mel``).

    ``forward``: (T,) -> (n_mfcc, N) or (B, T) -> (B, n_mfcc, N), N as the log-mel's.
    ``inverse(features, length=None)`` is approximate: the transposed DCT gives the log-mel
    smoothed to ``n_mfcc`` cepstra (exact when ``n_mfcc == n_mels``), then the log-mel inverse.
    """

    def __init__(
        self,
        *,
        n_mfcc: int = 13,
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
        super().__init__()
        if not 0 < n_mfcc <= n_mels:
            raise ConfigError(f"MFCC: need 0 < n_mfcc <= n_mels ({n_mels}), got n_mfcc={n_mfcc}")
        self.log_mel = LogMelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            n_mels=n_mels, fmin=fmin, fmax=fmax, window=window, magnitude_eps=magnitude_eps,
            log_clamp=log_clamp, log_base=log_base, n_iter=n_iter, momentum=momentum,
        )
        self.n_mfcc = n_mfcc
        self.sample_rate = sample_rate
        self.hop_length = hop_length
        self.register_buffer("dct", dct_matrix(n_mfcc, n_mels).float(), persistent=False)  # (n_mfcc, n_mels)

    @property
    def params(self) -> dict[str, Any]:
        return {"n_mfcc": self.n_mfcc, **self.log_mel.params}

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        log_mel = self.log_mel(wave)  # (B, n_mels, N) or (n_mels, N)
        return torch.matmul(self.dct.to(log_mel.dtype), log_mel)

    def inverse(self, features: torch.Tensor, length: int | None = None) -> torch.Tensor:
        x, unbatched = as_batch(features, "MFCC", features=True)
        log_mel = torch.matmul(self.dct.to(x.dtype).T, x)  # (B, n_mels, N)
        return restore_batch(self.log_mel.inverse(log_mel, length), unbatched)
