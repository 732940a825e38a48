"""SI-SDR against its closed form, PESQ and STOI on a synthetic speech-like signal."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from speechgan.errors import DataError
from speechgan.metrics import pesq_wb, si_sdr, stoi

SR = 16000


def _orthogonal_noise(s: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    """Zero-mean white noise orthogonal to ``s`` (projection removed), scaled to ``snr_db``."""
    n = np.random.default_rng(seed).standard_normal(len(s))
    n -= n.mean()
    n -= (n @ s) / (s @ s) * s
    return n * math.sqrt((s @ s) / (n @ n) / 10 ** (snr_db / 10))


@pytest.fixture(scope="module")
def clean(speech_like) -> np.ndarray:
    x = speech_like(1.0, am_floor=0.0)  # syllables with silent gaps between them
    return x - x.mean()


# -- SI-SDR -------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 0.5, -3.0, 1000.0])
def test_si_sdr_of_a_scaled_copy_is_huge_and_finite(clean: np.ndarray, scale: float) -> None:
    value = si_sdr(clean, scale * clean)
    assert math.isfinite(value) and value > 100.0


@pytest.mark.parametrize("snr_db", [20.0, 10.0, 0.0, -5.0])
def test_si_sdr_equals_the_snr_of_orthogonal_noise(clean: np.ndarray, snr_db: float) -> None:
    noisy = clean + _orthogonal_noise(clean, snr_db, seed=int(snr_db) + 10)
    assert si_sdr(clean, noisy) == pytest.approx(snr_db, abs=0.1)
    # invariant to the scale of the estimate, and to a DC offset (zero-mean)
    assert si_sdr(clean, 0.01 * noisy + 0.3) == pytest.approx(si_sdr(clean, noisy), abs=1e-9)


def test_si_sdr_takes_tensors_cuts_to_the_shorter_and_is_nan_for_silence(clean: np.ndarray) -> None:
    noisy = clean + _orthogonal_noise(clean, 10.0, seed=1)
    tail = np.concatenate([noisy, np.ones(500)])
    assert si_sdr(torch.from_numpy(clean), torch.from_numpy(tail)) == pytest.approx(si_sdr(clean, noisy), abs=1e-9)
    assert math.isnan(si_sdr(np.zeros(100), np.ones(100)))


# -- PESQ and STOI ------------------------------------------------------------------------


def test_pesq_of_identical_speech_is_the_maximum_and_noise_lowers_it(clean: np.ndarray) -> None:
    assert pesq_wb(clean, clean, SR) == pytest.approx(4.644, abs=0.01)  # P.862.2's ceiling
    noisy = clean + _orthogonal_noise(clean, 10.0, seed=2)
    assert pesq_wb(clean, noisy, SR) < 3.0  # measured 1.69


def test_pesq_resamples_other_rates(speech_like) -> None:
    x = speech_like(1.0, sample_rate=22050, am_floor=0.0)
    assert pesq_wb(x, x, 22050) == pytest.approx(4.644, abs=0.01)


def test_pesq_is_nan_for_silence_and_refuses_too_short_signals(clean: np.ndarray) -> None:
    assert math.isnan(pesq_wb(clean, np.zeros_like(clean), SR))
    with pytest.raises(DataError, match=r"PESQ: the signals are too short \(0\.125 s\)"):
        pesq_wb(clean[:2000], clean[:2000], SR)


def test_stoi_of_identical_speech_is_one_and_noise_lowers_it(clean: np.ndarray) -> None:
    assert stoi(clean, clean, SR) == pytest.approx(1.0, abs=1e-6)
    assert stoi(clean, clean, SR, extended=True) == pytest.approx(1.0, abs=1e-6)
    noisy = clean + _orthogonal_noise(clean, 0.0, seed=3)
    assert stoi(clean, noisy, SR) < 0.8  # measured 0.61 (ESTOI 0.16)
    assert stoi(clean, noisy, SR, extended=True) < stoi(clean, noisy, SR)


def test_stoi_is_nan_when_too_few_frames_are_left(clean: np.ndarray) -> None:
    assert math.isnan(stoi(clean[:3000], clean[:3000], SR))  # < 30 frames of 25.6 ms
    assert math.isnan(stoi(clean[:100], clean[:100], SR))  # pystoi itself would fail
    silent_gaps = np.concatenate([clean[:4000], np.zeros(8000)])  # long enough, but mostly silent
    assert math.isnan(stoi(silent_gaps, silent_gaps, SR))
