"""Log-mel L1 (against HiFi-GAN's torch recipe) and the multi-resolution STFT distance."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from speechgan.errors import DataError
from speechgan.losses import MultiResolutionSTFTLoss
from speechgan.metrics import log_mel_l1, log_mel_spectrogram, multi_resolution_stft_distance

SR = 22050


def _hifigan_log_mel(wave: np.ndarray, sample_rate: int, fmax: float | None) -> torch.Tensor:
    """HiFi-GAN ``meldataset.mel_spectrogram`` (n_fft 1024, hop 256, win 1024, 80 mels), in torch."""
    y = torch.from_numpy(wave).float()[None, None]  # (1, 1, T)
    y = F.pad(y, (384, 384), mode="reflect")[:, 0]  # (n_fft - hop) / 2 each side
    spec = torch.stft(y, 1024, 256, 1024, torch.hann_window(1024), center=False, return_complex=True)
    magnitude = torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9)
    basis = torch.from_numpy(librosa.filters.mel(sr=sample_rate, n_fft=1024, n_mels=80, fmin=0, fmax=fmax)).float()
    return torch.log(torch.clamp(basis @ magnitude, min=1e-5))[0]  # (80, frames)


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    return 0.1 * np.random.default_rng(0).standard_normal(SR // 2)


@pytest.mark.parametrize("fmax", [None, 8000.0])
def test_log_mel_matches_hifigans_recipe(speech_like, fmax: float | None) -> None:
    x = speech_like(0.5, sample_rate=SR)
    ours = log_mel_spectrogram(x, SR, fmax=fmax)
    theirs = _hifigan_log_mel(x, SR, fmax).double().numpy()
    assert ours.shape == theirs.shape == (80, len(x) // 256)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)  # float32 vs float64 STFT
    y = speech_like(0.5, sample_rate=SR, f0=180.0)
    expected = float(np.mean(np.abs(theirs - _hifigan_log_mel(y, SR, fmax).double().numpy())))
    assert log_mel_l1(x, y, SR, fmax=fmax) == pytest.approx(expected, abs=1e-3)


def test_log_mel_l1_closed_forms(noise: np.ndarray) -> None:
    assert log_mel_l1(noise, noise, SR) == 0.0
    # a gain of 2 shifts every (loud) log-mel bin by ln 2
    assert log_mel_l1(noise, 2 * noise, SR) == pytest.approx(math.log(2.0), abs=1e-4)


def test_log_mel_l1_cuts_to_the_shorter(noise: np.ndarray) -> None:
    other = 0.1 * np.random.default_rng(1).standard_normal(len(noise) + 3000)
    assert log_mel_l1(noise, other, SR) == log_mel_l1(noise, other[: len(noise)], SR)


def test_log_mel_rejects_signals_too_short_for_one_frame() -> None:
    with pytest.raises(DataError, match="log-mel spectrogram: needs at least 385 samples, got 300"):
        log_mel_l1(np.ones(300), np.ones(400), SR)


def test_mr_stft_zero_for_identical_and_closed_form_for_a_gain(noise: np.ndarray) -> None:
    assert multi_resolution_stft_distance(noise, noise) == 0.0
    # gen = c * ref: spectral convergence |1 - c|, log-magnitude distance |ln c|
    for c in (0.5, 3.0):
        expected = abs(1 - c) + abs(math.log(c))
        assert multi_resolution_stft_distance(noise, c * noise) == pytest.approx(expected, rel=1e-4)  # power floor 1e-7


def test_mr_stft_positive_for_a_different_signal_and_works_on_tensors(speech_like) -> None:
    x = speech_like(0.5)
    y = x + 0.01 * np.random.default_rng(2).standard_normal(len(x))
    d = multi_resolution_stft_distance(x, y)
    assert d > 0.1
    # torch tensors (float32, batch-shaped (1, T)): same value, device and dtype of ref kept
    tx, ty = torch.from_numpy(x).float()[None], torch.from_numpy(y).float()[None]
    assert multi_resolution_stft_distance(tx, ty) == pytest.approx(d, rel=1e-4)
    assert multi_resolution_stft_distance(tx, y) == pytest.approx(d, rel=1e-4)
    assert multi_resolution_stft_distance(x, y) < multi_resolution_stft_distance(x, speech_like(0.5, f0=200.0))


def test_mr_stft_rejects_signals_shorter_than_half_the_largest_fft() -> None:
    with pytest.raises(DataError, match=r"needs more than 1024 samples \(half the largest FFT size\), got 1000"):
        multi_resolution_stft_distance(np.ones(1000), np.ones(1000))


def test_mr_stft_metric_is_the_training_loss(speech_like) -> None:
    x = speech_like(0.5)
    y = speech_like(0.5, f0=180.0) + 0.01 * np.random.default_rng(3).standard_normal(len(x))
    convergence, log_magnitude = MultiResolutionSTFTLoss()(torch.from_numpy(y)[None], torch.from_numpy(x)[None])
    assert multi_resolution_stft_distance(x, y) == (convergence + log_magnitude).item()
    resolutions = ((256, 64, 256), (128, 32, 100))
    convergence, log_magnitude = MultiResolutionSTFTLoss(resolutions=resolutions)(
        torch.from_numpy(y)[None], torch.from_numpy(x)[None]
    )
    assert multi_resolution_stft_distance(x, y, resolutions) == (convergence + log_magnitude).item()
