"""The Wiener-filter baseline: it enhances noisy synthetic speech, keeps the length, attenuates noise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from speechgan.errors import ConfigError, DataError
from speechgan.metrics import segmental_snr, si_sdr
from speechgan_plugins.enhancement.wiener import noise_power, wiener_filter

SR = 16000


def _speech(seconds: float = 1.5, lead: float = 0.3, f0: float = 130.0) -> np.ndarray:
    """Harmonic "speech": a gliding F0 under formants at 600, 1200 and 2500 Hz, syllabic
    modulation (never silent once it starts), after ``lead`` seconds of digital silence."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 1.1 * t))) / SR  # (T,)
    x = np.zeros_like(t)
    for k in range(1, int(4000 / f0)):
        x += sum(1 / (1 + ((k * f0 - f) / (0.1 * f + 50)) ** 2) for f in (600.0, 1200.0, 2500.0)) * np.sin(k * phase)
    x *= (0.25 + 0.75 * np.abs(np.sin(np.pi * 3 * (t - lead)))) * (t >= lead)
    return 0.5 * x / np.abs(x).max()


def _white_noise_at(clean: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    n = np.random.default_rng(seed).standard_normal(len(clean))
    return n * np.sqrt(np.sum(clean**2) / np.sum(n**2) / 10 ** (snr_db / 10))


def _attenuation_db(before: np.ndarray, after: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(before**2) / np.sum(after**2)))


@pytest.fixture(scope="module")
def clean_and_noisy() -> tuple[np.ndarray, np.ndarray]:
    clean = _speech()
    return clean, clean + _white_noise_at(clean, 5.0, seed=0)


def test_wiener_filter_improves_ssnr_and_si_sdr_of_speech_in_white_noise(clean_and_noisy) -> None:  # type: ignore[no-untyped-def]
    clean, noisy = clean_and_noisy
    enhanced = wiener_filter(noisy, SR)
    # measured: SSNR 2.06 -> 5.40 dB, SI-SDR 5.03 -> 9.80 dB
    assert segmental_snr(clean, enhanced, SR) - segmental_snr(clean, noisy, SR) > 2.5
    assert si_sdr(clean, enhanced) - si_sdr(clean, noisy) > 3.5


@pytest.mark.parametrize("n", [16000, 16001, 12345])
def test_output_has_the_input_length_and_tensors_give_the_same_result(n: int) -> None:
    noisy = _white_noise_at(np.ones(n), 0.0, seed=n) + _speech(n / SR, lead=0.2)
    enhanced = wiener_filter(noisy, SR)
    assert enhanced.shape == (n,) and enhanced.dtype == np.float64
    assert wiener_filter(torch.from_numpy(noisy)[None], SR) == pytest.approx(enhanced, abs=1e-12)


@pytest.mark.parametrize(("floor_db", "low", "high"), [(-20.0, 18.0, 20.5), (-10.0, 9.0, 10.5)])
def test_pure_noise_is_attenuated_down_to_the_gain_floor(floor_db: float, low: float, high: float) -> None:
    noise = 0.1 * np.random.default_rng(1).standard_normal(SR)
    out = wiener_filter(noise, SR, gain_floor_db=floor_db)
    assert low < _attenuation_db(noise, out) < high


def test_noise_free_input_passes_unchanged() -> None:
    clean = _speech(1.0, lead=0.2)  # digital silence, then speech: the noise estimate is ~0
    assert np.max(np.abs(wiener_filter(clean, SR) - clean)) < 1e-6


def test_noise_power_averages_initial_and_quiet_frames() -> None:
    """Frames 0-1 initial (power 1), frame 2 at 1.5 (1.8 dB: noise), frame 3 at 10 (speech),
    frame 4 quiet but not wholly inside the signal, frame 5 at 0.8 (noise)."""
    power = np.array([1.0, 1.0, 1.5, 10.0, 1.2, 0.8])[None, :].repeat(4, axis=0)  # (K=4, F=6)
    initial = np.array([True, True, False, False, False, False])
    inside = np.array([True, True, True, True, False, True])
    noise, mask = noise_power(power, initial=initial, inside=inside, vad_threshold_db=3.0)
    assert mask.tolist() == [True, True, True, False, False, True]
    assert noise == pytest.approx(np.full(4, (1.0 + 1.0 + 1.5 + 0.8) / 4))


def test_bad_arguments_are_config_errors_and_bad_audio_data_errors(clean_and_noisy) -> None:  # type: ignore[no-untyped-def]
    _, noisy = clean_and_noisy
    with pytest.raises(ConfigError, match=r"wiener_filter: overlap must be a number in \[0.0, 1.0\), got 1.0"):
        wiener_filter(noisy, SR, overlap=1.0)
    with pytest.raises(ConfigError, match="alpha must be a number"):
        wiener_filter(noisy, SR, alpha="0.98")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"the first noise_seconds=0.01 s .* at least one whole 512-sample frame"):
        wiener_filter(noisy, SR, noise_seconds=0.01)
    with pytest.raises(DataError, match="noisy: expected one mono waveform"):
        wiener_filter(np.stack([noisy, noisy]), SR)
