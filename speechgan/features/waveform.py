"""The waveform itself as features, optionally mu-law companded; and the input checks every
front-end shares.

Mu-law companding (ITU-T G.711; as used for WaveNet's 8-bit output, van den Oord et al.
2016, "WaveNet: A Generative Model for Raw Audio", section 2.2) maps x in [-1, 1] to

    y = sign(x) * ln(1 + mu |x|) / ln(1 + mu),   mu = quantization_channels - 1,

and back by x = sign(y) * ((1 + mu)^|y| - 1) / mu. Quantized, x is encoded by
``torchaudio.functional.mu_law_encoding`` to one of ``quantization_channels`` levels, kept as a
float in [-1, 1] (level k is ``2 k / mu - 1``) so the output stays a waveform. The expansion is
written here rather than taken from ``mu_law_decoding``: that one reads levels k, and going
through ``(y + 1) mu / 2`` triples the float32 round-trip error (1.1e-6 against 3e-7).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .._torchaudio import functional as AF
from ..errors import ConfigError, DataError
from .base import FrontEnd

__all__ = ["Waveform", "as_batch", "restore_batch"]


def as_batch(x: torch.Tensor, who: str, *, features: bool = False) -> tuple[torch.Tensor, bool]:
    """Check a front-end input and add a batch dimension if it has none.

    Waveforms are (T,) or (B, T); with ``features`` the input of an ``inverse`` is (C, N) or
    (B, C, N). Returns the batched tensor and whether a dimension was added. ``who`` names
    the front-end in the error message.
    """
    what = "features of shape (C, N) or (B, C, N)" if features else "a waveform of shape (T,) or (B, T)"
    if not isinstance(x, torch.Tensor):
        raise DataError(f"front-end {who}: expected a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise DataError(
            f"front-end {who}: expected a float tensor, got dtype {x.dtype}; "
            "convert integer PCM to float in [-1, 1] first (divide int16 by 32768)"
        )
    rank = 2 if features else 1
    if x.dim() not in (rank, rank + 1):
        raise DataError(
            f"front-end {who}: expected {what}, got {tuple(x.shape)}"
            + ("" if features else "; mix down or squeeze the channel dimension first")
        )
    return (x.unsqueeze(0), True) if x.dim() == rank else (x, False)


def restore_batch(x: torch.Tensor, unbatched: bool) -> torch.Tensor:
    """Undo :func:`as_batch` on an output whose first dimension is the batch."""
    return x.squeeze(0) if unbatched else x


class Waveform(FrontEnd):
    """The waveform as a one-channel feature, optionally mu-law companded.

    ``forward``: (T,) -> (1, T) or (B, T) -> (B, 1, T); ``N = T`` (hop 1, no padding).
    With ``mu_law`` the input is clipped to [-1, 1] first; with ``quantize`` the levels are
    exactly ``torchaudio.functional.mu_law_encoding``'s. ``inverse`` expands mu-law (exact for
    the continuous law; for the quantized one it equals torchaudio's
    ``mu_law_decoding(mu_law_encoding(x))``) and returns (T,) or (B, T).
    """

    hop_length = 1

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        mu_law: bool = False,
        quantization_channels: int = 256,
        quantize: bool = False,
    ) -> None:
        super().__init__()
        if quantization_channels < 2:
            raise ConfigError(f"Waveform: quantization_channels must be at least 2, got {quantization_channels}")
        if quantize and not mu_law:
            raise ConfigError("Waveform: quantize=True needs mu_law=True (it quantizes the companded signal)")
        self.sample_rate = sample_rate
        self.mu_law = mu_law
        self.quantization_channels = quantization_channels
        self.quantize = quantize

    @property
    def params(self) -> dict[str, Any]:
        return {
            "sample_rate": self.sample_rate,
            "mu_law": self.mu_law,
            "quantization_channels": self.quantization_channels if self.mu_law else None,
            "quantize": self.quantize,
        }

    @property
    def _mu(self) -> float:
        return float(self.quantization_channels - 1)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x, unbatched = as_batch(wave, "Waveform")  # (B, T)
        if self.mu_law:
            mu = self._mu
            x = x.clamp(-1.0, 1.0)
            if self.quantize:
                levels = AF.mu_law_encoding(x, self.quantization_channels)  # (B, T) int64 in [0, mu]
                x = levels.to(x.dtype) * (2 / mu) - 1
            else:
                x = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
        return restore_batch(x.unsqueeze(1), unbatched)  # (B, 1, T)

    def inverse(self, features: torch.Tensor, length: int | None = None) -> torch.Tensor:
        y, unbatched = as_batch(features, "Waveform", features=True)
        if y.shape[1] != 1:
            raise DataError(f"front-end Waveform: expected one channel, got {y.shape[1]}")
        y = y[:, 0]  # (B, T)
        if self.mu_law:
            mu = self._mu
            y = torch.sign(y) * torch.expm1(y.abs() * math.log1p(mu)) / mu
        if length is not None:
            y = torch.nn.functional.pad(y[:, :length], (0, max(0, length - y.shape[-1])))
        return restore_batch(y, unbatched)
