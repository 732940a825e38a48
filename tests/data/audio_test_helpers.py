"""Helpers of the data tests: a sine generator and a tiny front-end (frame-wise RMS).

They live in their own module, not in a test file or conftest.py, so that tests import
them by one unambiguous name and spawned cache workers can unpickle the front-end.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from speechgan.features.base import FrontEnd


def sine(freq: float, n: int, rate: int, amplitude: float = 0.5) -> np.ndarray:
    """``amplitude * sin(2 pi freq t)`` for ``n`` samples at ``rate``, float32."""
    return (amplitude * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)


class RmsFrontEnd(FrontEnd):
    """``(T,) -> (1, ceil(T / hop))``: the RMS of each hop-long frame (the last one zero-padded)."""

    def __init__(self, sample_rate: int = 16000, hop_length: int = 160) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.hop_length = hop_length

    @property
    def params(self) -> dict[str, Any]:
        return {"sample_rate": self.sample_rate, "hop_length": self.hop_length}

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        frames = -(-wave.shape[-1] // self.hop_length)
        padded = F.pad(wave, (0, frames * self.hop_length - wave.shape[-1]))
        return padded.reshape(frames, self.hop_length).pow(2).mean(-1).sqrt().unsqueeze(0)  # (1, N)
