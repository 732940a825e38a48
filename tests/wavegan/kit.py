"""Helpers of the WaveGAN tests: a tiny spoken-digits corpus and a digit classifier that trains in a second.

Used by test_generate, test_digit_metrics and test_recipes; they live here, not in a test file, so
that no test module imports another.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from speechgan.data.audio_io import write_audio
from speechgan_plugins.audio.digits import DIGITS

__all__ = ["RATE", "TINY", "write_digits"]

RATE = 16000
#: a digit classifier that trains in about a second on a tiny corpus
TINY = {"n_mels": 32, "hop_length": 512, "channels": [4, 8], "feature_dim": 16, "epochs": 8, "batch_size": 16,
        "lr": 1e-2, "max_shift": 800}


def write_digits(root: Path) -> Path:
    """Ten word folders x speakers s0..s3 of one-second tones in a little noise (word k at 300 (k + 1) Hz);
    s2 is listed for validation, s3 for test."""
    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    for k, word in enumerate(DIGITS):
        (root / word).mkdir(parents=True)
        for s in range(4):
            wave = 0.5 * np.sin(2 * np.pi * (300.0 * (k + 1) + 20.0 * s) * t) + 0.01 * rng.standard_normal(RATE)
            write_audio(root / word / f"s{s}_nohash_0.wav", wave.astype(np.float32), RATE)
    (root / "validation_list.txt").write_text("".join(f"{w}/s2_nohash_0.wav\n" for w in DIGITS))
    (root / "testing_list.txt").write_text("".join(f"{w}/s3_nohash_0.wav\n" for w in DIGITS))
    return root
