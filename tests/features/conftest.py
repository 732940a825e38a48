"""Synthetic signals for the front-end tests: generated in memory, deterministic."""

from __future__ import annotations

import math

import pytest
import torch


def harmonic_tone(
    sample_rate: int, seconds: float, f0: float = 150.0, vibrato: float = 0.03, noise: float = 1e-3
) -> torch.Tensor:
    """A voiced-speech-like float32 tone: harmonics up to Nyquist with 1/k amplitudes,
    5 Hz vibrato of +-``vibrato`` (relative), peak 0.3, plus white noise of std ``noise``."""
    n = int(sample_rate * seconds)
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    freq = f0 * (1 + vibrato * torch.sin(2 * math.pi * 5 * t))  # (T,) instantaneous F0
    phase = 2 * math.pi * torch.cumsum(freq, 0) / sample_rate
    x = torch.zeros(n, dtype=torch.float64)
    for k in range(1, int(sample_rate / 2 / f0) + 1):
        x += torch.where(k * freq < sample_rate / 2 - 200, torch.sin(k * phase) / k, 0.0)
    x = 0.3 * x / x.abs().max()
    x += noise * torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return x.float()


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Run each test single-threaded: on a shared, busy machine torch's thread pool makes
    small LAPACK calls (the filterbank pseudo-inverse) hundreds of times slower."""


@pytest.fixture
def tone_22k() -> torch.Tensor:
    """0.5 s at 22.05 kHz (11025 samples)."""
    return harmonic_tone(22050, 0.5, f0=220.0)


@pytest.fixture
def tone_16k() -> torch.Tensor:
    """1 s at 16 kHz."""
    return harmonic_tone(16000, 1.0)
