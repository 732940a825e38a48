"""Front-ends against independent references: librosa and numpy in float64."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.fft
import torch
import torchaudio.functional as AF

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
    [(22050, 1024, 80, 0.0, 8000.0), (22050, 1024, 80, 0.0, 11025.0), (16000, 512, 40, 55.0, 7600.0),
     (24000, 2048, 128, 20.0, 12000.0), (11025, 512, 80, 0.0, 5512.5)],
)
def test_slaney_filterbank_matches_librosa(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> None:
    ours = slaney_mel_filterbank(sr, n_fft, n_mels, fmin, fmax).numpy()
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney", dtype=np.float64)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("sr", "n_fft", "n_mels", "fmax"), [(22050, 1024, 80, 8000.0), (16000, 512, 40, 7600.0), (44100, 2048, 128, 22050.0)])
def test_slaney_filterbank_agrees_with_torchaudio_at_even_rates(sr: int, n_fft: int, n_mels: int, fmax: float) -> None:
    """torchaudio's Slaney filterbank is the same one, computed in float32 (measured: 3e-6 of
    the largest weight off librosa's); at odd rates it is not (see the mel module)."""
    ours = slaney_mel_filterbank(sr, n_fft, n_mels, 0.0, fmax)
    theirs = AF.melscale_fbanks(n_fft // 2 + 1, 0.0, fmax, n_mels, sr, norm="slaney", mel_scale="slaney").T
    torch.testing.assert_close(theirs.double(), ours, rtol=0, atol=1e-5 * ours.max().item())


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
    assert ours.shape == ref.shape
    # A float32 STFT is exact to a fraction of its peak (42.2 here; measured 2.3e-7 of it), not
    # of each bin: in the quietest bins (1.6e-4) the log turns that into 1.3e-3 on an AVX-512
    # CPU. So compare magnitudes to 1e-6 of the peak, after the clamp, in both logs.
    peak = np.exp(ref).max()
    np.testing.assert_allclose(np.exp(ours), np.exp(ref), rtol=0, atol=1e-6 * peak)
    np.testing.assert_allclose(ours[np.exp(ref) > 1e-2 * peak], ref[np.exp(ref) > 1e-2 * peak], rtol=0, atol=1e-4)


@pytest.mark.parametrize(("n_mfcc", "n_mels"), [(13, 80), (80, 80), (20, 128)])
def test_mfcc_dct_is_the_orthonormal_dct_ii(n_mfcc: int, n_mels: int) -> None:
    fe = MFCC(n_mfcc=n_mfcc, n_mels=n_mels)
    closed_form = scipy.fft.dct(np.eye(n_mels), type=2, norm="ortho", axis=0)[:n_mfcc]  # (n_mfcc, n_mels)
    assert fe.dct.shape == (n_mfcc, n_mels) and fe.dct.dtype == torch.float32
    # torchaudio builds it in float32: measured 2.9e-6 off at 80 x 80 (cosines of large phases)
    np.testing.assert_allclose(fe.dct.numpy(), closed_form, rtol=0, atol=5e-6)


@pytest.mark.parametrize("n_mfcc", [13, 20])
def test_mfcc_matches_librosa_on_the_same_log_mel(tone_22k: torch.Tensor, n_mfcc: int) -> None:
    fe = MFCC(n_mfcc=n_mfcc)
    log_mel = fe.log_mel(tone_22k)
    ref = librosa.feature.mfcc(S=log_mel.double().numpy(), n_mfcc=n_mfcc, dct_type=2, norm="ortho")
    np.testing.assert_allclose(fe(tone_22k).numpy(), ref, rtol=0, atol=1e-4)
