"""Front-ends against independent references: librosa and numpy in float64."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from speechgan.features import MFCC, LogMelSpectrogram, LogSTFTMagnitude, STFTMagnitude
from speechgan.features.mel import slaney_mel_filterbank


def reference_log_mel(
    x: np.ndarray, *, sr: int = 22050, n_fft: int = 1024, hop: int = 256, win: int = 1024, n_mels: int = 80,
    fmin: float = 0.0, fmax: float | None = 8000.0, eps: float = 1e-9, log: object = np.log,
) -> np.ndarray:
    """HiFi-GAN's mel_spectrogram written with librosa in float64."""
    pad = (n_fft - hop) // 2
    padded = np.pad(x.astype(np.float64), (pad, pad), mode="reflect")
    spec = librosa.stft(padded, n_fft=n_fft, hop_length=hop, win_length=win, window="hann", center=False)
    mag = np.sqrt(spec.real**2 + spec.imag**2 + eps)
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney")
    return log(np.maximum(basis @ mag, 1e-5))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("sr", "n_fft", "n_mels", "fmin", "fmax"),
    [(22050, 1024, 80, 0.0, 8000.0), (22050, 1024, 80, 0.0, 11025.0), (16000, 512, 40, 55.0, 7600.0), (24000, 2048, 128, 20.0, 12000.0)],
)
def test_slaney_filterbank_matches_librosa(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> None:
    ours = slaney_mel_filterbank(sr, n_fft, n_mels, fmin, fmax).numpy()
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney", dtype=np.float64)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_log_mel_matches_hifigan_definition(tone_22k: torch.Tensor) -> None:
    ours = LogMelSpectrogram()(tone_22k).numpy()
    ref = reference_log_mel(tone_22k.numpy())
    assert ours.shape == ref.shape == (80, 43)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)


def test_log_mel_melgan_settings(tone_22k: torch.Tensor) -> None:
    ours = LogMelSpectrogram(fmax=None, magnitude_eps=0.0, log_base="10")(tone_22k).numpy()
    ref = reference_log_mel(tone_22k.numpy(), fmax=None, eps=0.0, log=np.log10)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)


def test_log_mel_other_rate_and_short_window(tone_16k: torch.Tensor) -> None:
    kwargs = dict(sample_rate=16000, n_fft=512, hop_length=128, win_length=400, n_mels=40, fmin=55.0, fmax=7600.0)
    ours = LogMelSpectrogram(**kwargs)(tone_16k).numpy()  # type: ignore[arg-type]
    ref = reference_log_mel(tone_16k.numpy(), sr=16000, n_fft=512, hop=128, win=400, n_mels=40, fmin=55.0, fmax=7600.0)
    assert ours.shape == (40, 16000 // 128)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-4)


@pytest.mark.parametrize(("center", "power"), [(True, 1.0), (False, 1.0), (True, 2.0)])
def test_stft_magnitude_matches_librosa(tone_22k: torch.Tensor, center: bool, power: float) -> None:
    ours = STFTMagnitude(center=center, power=power, eps=0.0)(tone_22k).numpy()
    spec = librosa.stft(tone_22k.numpy().astype(np.float64), n_fft=1024, hop_length=256, window="hann", center=center, pad_mode="reflect")
    ref = np.abs(spec) ** power
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * ref.max())


def test_log_stft_matches_librosa(tone_22k: torch.Tensor) -> None:
    ours = LogSTFTMagnitude()(tone_22k).numpy()
    spec = librosa.stft(tone_22k.numpy().astype(np.float64), n_fft=1024, hop_length=256, center=True, pad_mode="reflect")
    ref = np.log(np.maximum(np.sqrt(np.abs(spec) ** 2 + 1e-9), 1e-5))
    # float32 rounding of the STFT (~1e-6 of the 42.0 peak) is a relative error of up to
    # ~6e-4 in the quietest bins, where the log magnifies it (the log-mel averages it away)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-3)


@pytest.mark.parametrize("n_mfcc", [13, 20])
def test_mfcc_matches_librosa_on_the_same_log_mel(tone_22k: torch.Tensor, n_mfcc: int) -> None:
    fe = MFCC(n_mfcc=n_mfcc)
    log_mel = fe.log_mel(tone_22k)
    ref = librosa.feature.mfcc(S=log_mel.double().numpy(), n_mfcc=n_mfcc, dct_type=2, norm="ortho")
    np.testing.assert_allclose(fe(tone_22k).numpy(), ref, rtol=0, atol=1e-4)
