"""Synthetic speech-like signals for the metric tests: generated in memory, deterministic."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

SR = 16000


def _speech_like(
    seconds: float = 1.0,
    *,
    sample_rate: int = SR,
    f0: float = 140.0,
    formants: tuple[float, ...] = (700.0, 1200.0, 2600.0),
    syllable_rate: float = 3.0,
    am_floor: float = 0.3,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """A vowel-like float64 signal: harmonics of a gliding F0 (+-5 % at 1.3 Hz) up to Nyquist,
    shaped by resonances at ``formants``, amplitude-modulated at ``syllable_rate`` "syllables"
    per second (the envelope dips to ``am_floor``; 0 gives silent gaps), peak 0.5, plus white
    noise of std ``noise``."""
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    f0_t = f0 * (1 + 0.05 * np.sin(2 * np.pi * 1.3 * t))  # (T,)
    phase = 2 * np.pi * np.cumsum(f0_t) / sample_rate
    k = np.arange(1, int(sample_rate / 2 // (f0 * 1.05)) + 1)[:, None]  # (K, 1) harmonic numbers
    freqs = k * f0_t  # (K, T)
    envelope = sum(1.0 / (1.0 + ((freqs - f) / (0.1 * f + 50.0)) ** 2) for f in formants) + 0.01
    x = (envelope * np.sin(k * phase)).sum(axis=0)
    x *= am_floor + (1 - am_floor) * np.clip(np.sin(np.pi * syllable_rate * t), 0, None) ** 0.7
    x = 0.5 * x / np.abs(x).max()
    return x + noise * np.random.default_rng(seed).standard_normal(n)


@pytest.fixture(scope="session")
def speech_like() -> Callable[..., np.ndarray]:
    """The generator itself, so each test picks duration, pitch and formants."""
    return _speech_like
