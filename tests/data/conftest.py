"""Tiny audio fixtures written in tmp_path: sines at 16 and 22.05 kHz, stereo, FLAC, OGG."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile as sf
from audio_test_helpers import sine


@pytest.fixture
def write_sine(tmp_path: Path) -> Callable[..., Path]:
    """``write_sine(relative_path, n=1600, rate=16000, freq=440.0, amplitude=0.5, subtype=None)``."""

    def write(relative: str, n: int = 1600, rate: int = 16000, freq: float = 440.0,
              amplitude: float = 0.5, subtype: str | None = None) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, sine(freq, n, rate, amplitude), rate, subtype=subtype)
        return path

    return write
