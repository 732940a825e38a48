"""Spectral distances between a reference and a generated waveform.

* :func:`log_mel_l1`: HiFi-GAN's (Kong et al., NeurIPS 2020) validation "mel-spectrogram
  error": the mean absolute difference of log-mel spectrograms computed as its
  ``meldataset.mel_spectrogram`` does.
* :func:`multi_resolution_stft_distance`: the multi-resolution STFT loss of Parallel WaveGAN
  (Yamamoto et al., ICASSP 2020) used as a distance: the training loss
  :class:`speechgan.losses.MultiResolutionSTFTLoss` itself, so the two never drift apart.

Signals of different length are cut to the shorter one first (these compare frame t with
frame t).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError
from ..features.mel import LogMelSpectrogram
from ..losses.stft import PWG_RESOLUTIONS, MultiResolutionSTFTLoss
from ._signal import Waveform, as_numpy_waveform, as_tensor_waveform, check_sample_rate, trim_to_shorter

__all__ = ["log_mel_spectrogram", "log_mel_l1", "multi_resolution_stft_distance", "PWG_RESOLUTIONS"]


def log_mel_spectrogram(
    wave: Waveform,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    hop_length: int = 256,
    win_length: int = 1024,
    n_mels: int = 80,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> np.ndarray:
    """HiFi-GAN's log-mel spectrogram ``(n_mels, frames)`` of one waveform, in float64.

    The ``log_mel`` front-end (:class:`speechgan.features.mel.LogMelSpectrogram`, one
    definition for training and evaluation): reflect-pad ``(n_fft - hop_length) // 2``
    samples on both sides, STFT without centring (periodic Hann window of ``win_length``),
    magnitude ``sqrt(|X|^2 + 1e-9)``, Slaney mel filterbank (``fmax=None``: Nyquist), then
    ``ln(max(mel, 1e-5))``.
    """
    x = as_numpy_waveform(wave, "wave")
    sr = check_sample_rate(sample_rate)
    pad = (n_fft - hop_length) // 2
    shortest = max(pad + 1, n_fft - 2 * pad)  # reflect padding, then one full frame
    if len(x) < shortest:
        raise DataError(f"log-mel spectrogram: needs at least {shortest} samples, got {len(x)}")
    front_end = LogMelSpectrogram(
        sample_rate=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_mels=n_mels, fmin=fmin, fmax=fmax
    ).double()
    with torch.no_grad():
        return front_end(torch.from_numpy(np.asarray(x, dtype=np.float64))).numpy()


def log_mel_l1(
    ref: Waveform,
    gen: Waveform,
    sample_rate: int,
    *,
    n_fft: int = 1024,
    hop_length: int = 256,
    win_length: int = 1024,
    n_mels: int = 80,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> float:
    """``mean |log_mel(ref) - log_mel(gen)|`` over all mel bins and frames (natural-log units).

    Defaults are HiFi-GAN V1's (22.05 kHz recipe): n_fft 1024, hop 256, window 1024, 80 mels,
    fmin 0 and ``fmax=None`` (Nyquist), because its validation error uses ``fmax_for_loss``,
    which is ``null`` in ``config_v1.json``; the mel fed to the generator uses
    ``fmax=8000``, so pass that to match it instead. See :func:`log_mel_spectrogram`.
    """
    r, g = trim_to_shorter(as_numpy_waveform(ref, "ref"), as_numpy_waveform(gen, "gen"))
    kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return float(np.mean(np.abs(log_mel_spectrogram(r, sample_rate, **kw) - log_mel_spectrogram(g, sample_rate, **kw))))


def multi_resolution_stft_distance(
    ref: Waveform,
    gen: Waveform,
    resolutions: tuple[tuple[int, int, int], ...] = PWG_RESOLUTIONS,
) -> float:
    """Parallel WaveGAN's multi-resolution STFT loss between two waveforms, as a distance.

    Mean spectral convergence + mean log-magnitude distance over ``resolutions`` (default
    (1024, 120, 600), (2048, 240, 1200), (512, 50, 240)), computed by the training loss
    itself, :class:`speechgan.losses.MultiResolutionSTFTLoss` (see there for the definition):
    0 for identical signals. NumPy arrays or tensors on any device (the device and dtype of
    ``ref`` when it is a tensor, float64 for arrays); signals are cut to the shorter.
    """
    r = as_tensor_waveform(ref, "ref")
    g = as_tensor_waveform(gen, "gen").to(r.device, r.dtype)
    r, g = trim_to_shorter(r, g)
    loss = MultiResolutionSTFTLoss(resolutions=resolutions).to(r.device)
    with torch.no_grad():
        convergence, log_magnitude = loss(g[None], r[None])  # (1, T) each: a batch of one
    return float(convergence + log_magnitude)
