"""Mel-frequency cepstral coefficients: the orthonormal DCT-II of the HiFi-GAN log-mel
spectrogram (Davis & Mermelstein 1980, "Comparison of parametric representations for
monosyllabic word recognition in continuously spoken sentences").

``c[k] = s_k * sum_m log_mel[m] * cos(pi * k * (2 m + 1) / (2 M))`` with ``s_0 = sqrt(1 / M)``
and ``s_k = sqrt(2 / M)`` otherwise (``scipy.fft.dct(type=2, norm="ortho")``, what
``librosa.feature.mfcc`` applies to the log-mel it is given), as
``torchaudio.functional.create_dct(norm="ortho")`` builds it. The log-mel is the
:class:`~speechgan.features.mel.LogMelSpectrogram` module itself, not a copy.

``n_mfcc`` defaults to 13 (c0..c12), the usual speech setting (HTK's 12 cepstra plus c0,
Kaldi's ``--num-ceps=13``): enough for the spectral envelope, and the higher coefficients
mostly carry pitch harmonics.
"""

from __future__ import annotations

from typing import Any

import torch

from .._torchaudio import functional as AF
from ..errors import ConfigError
from .base import FrontEnd, passes_args_to
from .mel import LogMelSpectrogram
from .waveform import as_batch, restore_batch

__all__ = ["MFCC"]


class MFCC(FrontEnd):
    """MFCCs: orthonormal DCT-II of the HiFi-GAN log-mel.

    Takes ``n_mfcc`` and every argument of :class:`~speechgan.features.mel.LogMelSpectrogram`.
    ``forward``: (T,) -> (n_mfcc, N) or (B, T) -> (B, n_mfcc, N), N as the log-mel's.
    ``inverse(features, length=None)`` is approximate: the transposed DCT gives the log-mel
    smoothed to ``n_mfcc`` cepstra (exact when ``n_mfcc == n_mels``), then the log-mel inverse.
    """

    @passes_args_to(LogMelSpectrogram)
    def __init__(self, *, n_mfcc: int = 13, **log_mel_args: Any) -> None:
        super().__init__()
        self.log_mel = LogMelSpectrogram(**log_mel_args)
        n_mels = self.log_mel.n_mels
        if not 0 < n_mfcc <= n_mels:
            raise ConfigError(f"MFCC: need 0 < n_mfcc <= n_mels ({n_mels}), got n_mfcc={n_mfcc}")
        self.n_mfcc = n_mfcc
        self.sample_rate = self.log_mel.sample_rate
        self.hop_length = self.log_mel.hop_length
        # torchaudio's orthonormal DCT-II is (n_mels, n_mfcc), for row-wise data: transposed here
        dct = AF.create_dct(n_mfcc, n_mels, norm="ortho").T  # (n_mfcc, n_mels)
        self.register_buffer("dct", dct.float(), persistent=False)

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
