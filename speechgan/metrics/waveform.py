"""Waveform-level quality and intelligibility metrics: SI-SDR, wideband PESQ and (E)STOI.

* :func:`si_sdr`: scale-invariant signal-to-distortion ratio (Le Roux et al., "SDR -
  half-baked or well done?", ICASSP 2019), in dB.
* :func:`pesq_wb`: ITU-T P.862.2 wideband PESQ (MOS-LQO, about 1.04 .. 4.64) with the
  ``pesq`` package (ludlows/python-pesq, the ITU reference C code), at 16 kHz.
* :func:`stoi`: STOI (Taal et al., IEEE TASLP 2011) or extended STOI (Jensen & Taal,
  IEEE TASLP 2016) with ``pystoi``.

All three compare sample by sample: signals of different length are cut to the shorter.
A score that is undefined for the input (a silent reference, no speech activity found)
is NaN rather than a sentinel number.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pesq as _pesq
import soxr

from ..errors import DataError
from ._signal import Waveform, as_numpy_waveform, check_sample_rate, trim_to_shorter

__all__ = ["si_sdr", "pesq_wb", "stoi", "PESQ_SAMPLE_RATE"]

#: Wideband PESQ is defined at 16 kHz; other rates are resampled to it.
PESQ_SAMPLE_RATE = 16000
_EPS = float(np.finfo(np.float64).eps)
#: STOI needs 30 frames of 256 samples, hop 128, at 10 kHz (pystoi's N, N_FRAME and FS).
_STOI_MIN_SECONDS = (256 + 29 * 128) / 10000


def si_sdr(ref: Waveform, est: Waveform, *, zero_mean: bool = True) -> float:
    """Scale-invariant SDR of ``est`` against ``ref`` in dB (Le Roux et al. 2019).

    After removing the means (``zero_mean``): ``alpha = <est, ref> / ||ref||^2``,
    ``target = alpha * ref``, ``noise = est - target`` and
    ``SI-SDR = 10 log10(||target||^2 / ||noise||^2)``. Both energies get ``eps`` (float64
    machine epsilon) added, so an exact (scaled) copy scores a large finite value
    (150 dB and up) instead of infinity. Independent of the scale of ``est``; equals the SNR
    when the noise is orthogonal to ``ref``. NaN for a silent (constant) reference.
    """
    s, e = trim_to_shorter(as_numpy_waveform(ref, "ref"), as_numpy_waveform(est, "est"))
    if zero_mean:
        s, e = s - s.mean(), e - e.mean()
    ref_energy = float(np.dot(s, s))
    if ref_energy == 0.0:
        return math.nan
    target = (np.dot(e, s) / ref_energy) * s
    noise = e - target
    return float(10.0 * np.log10((np.dot(target, target) + _EPS) / (np.dot(noise, noise) + _EPS)))


def _resample(x: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    return x if sample_rate == target_rate else soxr.resample(x, sample_rate, target_rate)


def pesq_wb(ref: Waveform, gen: Waveform, sample_rate: int) -> float:
    """Wideband PESQ (P.862.2) of ``gen`` against ``ref``: ``pesq.pesq(16000, ref, gen, "wb")``.

    Signals at another ``sample_rate`` are resampled to 16 kHz with soxr (its default "HQ"
    quality) and cut to the shorter. NaN when PESQ finds no utterance (a silent reference
    or generated signal). Needs speech-like input; raises ``DataError`` for signals too
    short for PESQ (about a quarter of a second).
    """
    sr = check_sample_rate(sample_rate)
    r = _resample(as_numpy_waveform(ref, "ref"), sr, PESQ_SAMPLE_RATE)
    g = _resample(as_numpy_waveform(gen, "gen"), sr, PESQ_SAMPLE_RATE)
    r, g = trim_to_shorter(r, g)
    if not (np.any(r) and np.any(g)):
        return math.nan  # the package divides by the peak: silence has no score
    try:
        return float(_pesq.pesq(PESQ_SAMPLE_RATE, r, g, "wb"))
    except _pesq.NoUtterancesError:
        return math.nan
    except _pesq.BufferTooShortError:
        raise DataError(
            f"PESQ: the signals are too short ({len(r) / PESQ_SAMPLE_RATE:.3f} s); give it at least a second of speech"
        ) from None


def stoi(ref: Waveform, gen: Waveform, sample_rate: int, *, extended: bool = False) -> float:
    """STOI (or extended STOI with ``extended=True``) of ``gen`` against ``ref``, about 0 .. 1.

    ``pystoi.stoi`` (resamples to 10 kHz, drops frames 40 dB below the loudest reference
    frame, 384 ms segments). Signals are cut to the shorter. NaN when fewer than 30 frames
    are left (``pystoi`` would warn and return 1e-5, or fail on a signal under 0.4 s).
    """
    # Imported on first use: pystoi pulls in scipy.signal, about a second at CLI start-up.
    import pystoi

    sr = check_sample_rate(sample_rate)
    r, g = trim_to_shorter(as_numpy_waveform(ref, "ref"), as_numpy_waveform(gen, "gen"))
    if len(r) < _STOI_MIN_SECONDS * sr:
        return math.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        score = float(pystoi.stoi(r, g, sr, extended=extended))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return math.nan
    return score
