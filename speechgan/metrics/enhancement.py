"""Speech-enhancement quality measures: segmental SNR, LLR, WSS and the composite CSIG/CBAK/COVL.

The definitions are those of the evaluation code of Loizou, "Speech Enhancement: Theory
and Practice" (CRC Press, 2007/2013): ``comp_snr.m``, ``comp_llr.m``, ``comp_wss.m`` and
``composite.m`` (Pellom & Hansen's LLR, WSS and SNRseg, 1998), which the enhancement
literature reports (SEGAN, Pascual et al. 2017; MetricGAN; DEMUCS):

* frames of ``round(30 ms * fs)`` samples, hop ``floor(frame / 4)`` (75 % overlap), a Hann
  window ``0.5 (1 - cos(2 pi n / (L + 1)))``, ``n = 1..L``; ``floor((T - L) / hop)`` frames
  (the MATLAB loop leaves out the last complete frame);
* both signals get float64 ``eps`` added first, as ``composite.m`` does;
* :func:`segmental_snr`: ``10 log10(E_s / (E_e + eps) + eps)`` per frame, clipped to
  [-10, 35] dB, mean over all frames (Quackenbush et al. 1988, eq. 2.12);
* :func:`llr`: log-likelihood ratio of LPC models (order 10 below 10 kHz, 16 above),
  ``log(a_e' R_c a_e / a_c' R_c a_c)`` per frame, mean of the lowest 95 %; clipped to
  2 per frame like ``comp_llr.m`` (``composite.m`` uses it unclipped);
* :func:`wss`: Klatt's (ICASSP 1982) weighted spectral slope over 25 Gaussian critical
  bands up to 4 kHz (``Kmax = 20``, ``Klocmax = 1``), mean of the lowest 95 % of frames;
* :func:`composite`: Hu & Loizou's regressions (IEEE TASLP 16(1), 229-238, 2008)::

      CSIG = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS
      CBAK = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 segSNR
      COVL = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS

  each clipped to [1, 5], with wideband PESQ (:func:`~speechgan.metrics.pesq_wb`, at 16 kHz)
  as the Python ports (DEMUCS' ``matlab_eval.py``, pysepm) and the papers since SEGAN use.

Signals of different length are cut to the shorter. SSNR, LLR and WSS are computed at
the signals' own sample rate (WSS always looks at 0-4 kHz).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import DataError
from ._signal import Waveform, as_numpy_waveform, check_sample_rate, trim_to_shorter
from .waveform import pesq_wb

__all__ = [
    "FRAME_SECONDS",
    "LLR_CLIP",
    "SSNR_RANGE_DB",
    "TRIM_FRACTION",
    "composite",
    "composite_scores",
    "llr",
    "lpc_order",
    "segmental_snr",
    "wss",
]

#: Analysis frame of every measure (30 ms); the hop is a quarter of it.
FRAME_SECONDS = 0.030
#: Per-frame SNR limits of the segmental SNR, in dB.
SSNR_RANGE_DB = (-10.0, 35.0)
#: LLR and WSS average the lowest 95 % of their per-frame values (outlier frames dropped).
TRIM_FRACTION = 0.95
#: ``comp_llr.m`` limits each frame's LLR to at most 2.
LLR_CLIP = 2.0
_EPS = float(np.finfo(np.float64).eps)  # MATLAB's eps

#: (centre frequency, bandwidth) in Hz of WSS's 25 critical-band filters (Pellom & Hansen).
_CRITICAL_BANDS_HZ = (
    (50.0, 70.0), (120.0, 70.0), (190.0, 70.0), (260.0, 70.0), (330.0, 70.0),
    (400.0, 70.0), (470.0, 70.0), (540.0, 77.3724), (617.372, 86.0056), (703.378, 95.3398),
    (798.717, 105.411), (904.128, 116.256), (1020.38, 127.914), (1148.30, 140.423),
    (1288.72, 153.823), (1442.54, 168.154), (1610.70, 183.457), (1794.16, 199.776),
    (1993.93, 217.153), (2211.08, 235.631), (2446.71, 255.255), (2701.97, 276.072),
    (2978.04, 298.126), (3276.17, 321.465), (3597.63, 346.136),
)  # fmt: skip
_WSS_KMAX = 20.0  # Klatt 1982, p. 1280: weight of the distance from the global peak
_WSS_KLOCMAX = 1.0  # ... and from the nearest local peak
_WSS_FLOOR_DB = -100.0  # band energies floored at 1e-10


# -- framing -------------------------------------------------------------------------------


def _frame_length(sample_rate: int) -> int:
    return int(math.floor(FRAME_SECONDS * sample_rate + 0.5))  # MATLAB round(), half away from 0


def _hann(length: int) -> np.ndarray:
    """Loizou's Hann window ``0.5 (1 - cos(2 pi n / (L + 1)))``, ``n = 1..L`` (no zero ends)."""
    n = np.arange(1, length + 1)
    return 0.5 * (1.0 - np.cos(2.0 * np.pi * n / (length + 1)))


def _paired_frames(clean: Waveform, enhanced: Waveform, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Both signals (cut to the shorter, plus eps) as windowed frames ``(F, L)``."""
    sr = check_sample_rate(sample_rate)
    c, e = trim_to_shorter(as_numpy_waveform(clean, "clean"), as_numpy_waveform(enhanced, "enhanced"))
    length = _frame_length(sr)
    hop = length // 4
    count = (len(c) - length) // hop
    if count < 1:
        raise DataError(
            f"enhancement metrics: the signals are too short ({len(c)} samples at {sr} Hz); "
            f"they need at least {length + hop} samples (30 ms frames, 7.5 ms hop)"
        )
    window = _hann(length)

    def frames(x: np.ndarray) -> np.ndarray:
        view = np.lib.stride_tricks.sliding_window_view(x + _EPS, length)[::hop][:count]  # (F, L)
        return view * window

    return frames(c), frames(e)


def _trimmed_mean(values: np.ndarray) -> float:
    """Mean of the lowest ``round(0.95 F)`` of ``F`` per-frame values (MATLAB round)."""
    keep = max(1, int(math.floor(len(values) * TRIM_FRACTION + 0.5)))
    return float(np.mean(np.sort(values)[:keep]))


# -- segmental SNR -------------------------------------------------------------------------


def segmental_snr(clean: Waveform, enhanced: Waveform, sample_rate: int) -> float:
    """Segmental SNR of ``enhanced`` against ``clean`` in dB (``comp_snr.m``).

    Per 30 ms Hann-windowed frame (75 % overlap): ``10 log10(E_s / (E_e + eps) + eps)`` with
    ``E_s`` the clean frame's energy and ``E_e`` that of the difference, clipped to
    [-10, 35] dB; the mean over all frames. A frame that is silent in ``clean`` scores
    -10 dB whatever ``enhanced`` holds; an exact copy scores 35 dB.
    """
    c, e = _paired_frames(clean, enhanced, sample_rate)  # (F, L) each
    signal = np.sum(c**2, axis=1)
    error = np.sum((c - e) ** 2, axis=1)
    per_frame = 10.0 * np.log10(signal / (error + _EPS) + _EPS)  # (F,)
    return float(np.mean(np.clip(per_frame, *SSNR_RANGE_DB)))


# -- log-likelihood ratio --------------------------------------------------------------------


def lpc_order(sample_rate: int) -> int:
    """LPC order of the LLR: 10 below 10 kHz, 16 from 10 kHz on (``comp_llr.m``)."""
    return 10 if check_sample_rate(sample_rate) < 10000 else 16


def _autocorrelation(frames: np.ndarray, order: int) -> np.ndarray:
    """Lags 0..order of each frame: ``(F, L) -> (F, order + 1)``."""
    length = frames.shape[1]
    return np.stack([np.sum(frames[:, : length - k] * frames[:, k:], axis=1) for k in range(order + 1)], axis=1)


def _levinson_durbin(r: np.ndarray) -> np.ndarray:
    """Inverse filters ``A = [1, -a_1, ..., -a_P]`` from autocorrelations ``r`` ``(F, P + 1)``.

    The Levinson-Durbin recursion for all frames at once; ``a`` minimises the prediction
    error ``A' toeplitz(r) A`` over monic filters.
    """
    frames, order = r.shape[0], r.shape[1] - 1
    a = np.zeros((frames, order))  # predictor coefficients, x[n] ~ sum_k a_k x[n - k]
    error = r[:, 0].copy()  # (F,)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(order):
            reflection = (r[:, i + 1] - np.sum(a[:, :i] * r[:, i:0:-1], axis=1)) / error  # (F,)
            if i:
                a[:, :i] = a[:, :i] - reflection[:, None] * a[:, i - 1 :: -1]
            a[:, i] = reflection
            error = (1.0 - reflection**2) * error
    return np.concatenate([np.ones((frames, 1)), -a], axis=1)  # (F, P + 1)


def _llr_frames(clean: Waveform, enhanced: Waveform, sample_rate: int, order: int | None) -> np.ndarray:
    p = lpc_order(sample_rate) if order is None else order
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise DataError(f"llr: order must be a positive integer, got {order!r}")
    c, e = _paired_frames(clean, enhanced, sample_rate)
    r_clean = _autocorrelation(c, int(p))  # (F, P + 1)
    a_clean = _levinson_durbin(r_clean)
    a_enhanced = _levinson_durbin(_autocorrelation(e, int(p)))
    lags = np.abs(np.subtract.outer(np.arange(p + 1), np.arange(p + 1)))  # (P + 1, P + 1)
    toeplitz = r_clean[:, lags]  # (F, P + 1, P + 1)
    numerator = np.einsum("fi,fij,fj->f", a_enhanced, toeplitz, a_enhanced)
    denominator = np.einsum("fi,fij,fj->f", a_clean, toeplitz, a_clean)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = numerator / denominator
    # A frame whose LPC fit broke down numerically (digital silence) is the worst frame.
    ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, np.inf)
    return np.log(ratio)  # (F,)


def llr(
    clean: Waveform, enhanced: Waveform, sample_rate: int, *, order: int | None = None, clip: float | None = LLR_CLIP
) -> float:
    """Log-likelihood ratio of ``enhanced``'s LPC model against ``clean``'s (``comp_llr.m``).

    Per 30 ms frame: ``log(a_e' R_c a_e / a_c' R_c a_c)``, with ``R_c`` the clean frame's
    autocorrelation matrix and ``a`` the LPC inverse filters of ``order`` (default
    :func:`lpc_order`: 10 below 10 kHz, 16 above; Quackenbush et al. 1988, eq. 2.18).
    Each frame is limited to ``clip`` (2, as ``comp_llr.m``; ``None``: unlimited, as
    ``composite.m``); the mean of the lowest 95 % of frames. 0 for identical signals.

    Digital silence in ``clean`` has no LPC model (its frames are ``eps`` times the
    window): such frames score huge values, or +inf where the ratio is not a positive
    number, so a reference with more than 5 % of them gives a meaningless unlimited LLR
    (Loizou's code shares the defect; pysepm maps those frames to log 1000 instead).
    """
    per_frame = _llr_frames(clean, enhanced, sample_rate, order)
    if clip is not None:
        per_frame = np.minimum(per_frame, clip)
    return _trimmed_mean(per_frame)


# -- weighted spectral slope ------------------------------------------------------------------


def _critical_band_filters(sample_rate: int, n_fft: int) -> np.ndarray:
    """WSS's 25 Gaussian critical-band filters over the first ``n_fft / 2`` bins: ``(25, n_fft / 2)``.

    Each is ``exp(-11 ((j - floor(f0)) / bw)^2)`` in bins, scaled by ``bw_min / bw`` (equal
    areas) and set to zero below its -30 dB point.
    """
    half = n_fft // 2
    bins = np.arange(half)
    centre, width = (np.asarray(v) for v in zip(*_CRITICAL_BANDS_HZ))
    f0 = np.floor(centre / (sample_rate / 2) * half)[:, None]  # (25, 1) in bins
    bw = (width / (sample_rate / 2) * half)[:, None]
    norm = np.log(width.min()) - np.log(width)[:, None]
    filters = np.exp(-11.0 * ((bins - f0) / bw) ** 2 + norm)  # (25, n_fft / 2)
    return filters * (filters > math.exp(-30.0 / (2.0 * 2.303)))


def _nearest_peaks(energy: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """The band energy at the "nearest peak" of each of the first 24 bands: ``(F, 24)``.

    As Pellom & Hansen's code: with a rising slope it walks right to the first band ``n``
    whose slope is not rising and takes band ``n - 1``; otherwise it walks left to the
    first rising slope ``n`` and takes band ``n + 1``.
    """
    frames, bands = slope.shape
    right = np.empty((frames, bands), dtype=np.int64)  # first n >= i with slope <= 0, else `bands`
    left = np.empty((frames, bands), dtype=np.int64)  # last n <= i with slope > 0, else -1
    nxt, prv = np.full(frames, bands), np.full(frames, -1)
    for i in range(bands - 1, -1, -1):
        nxt = np.where(slope[:, i] <= 0, i, nxt)
        right[:, i] = nxt
    for i in range(bands):
        prv = np.where(slope[:, i] > 0, i, prv)
        left[:, i] = prv
    index = np.where(slope > 0, right - 1, left + 1)
    return np.take_along_axis(energy, index, axis=1)


def _wss_weights(energy: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Klatt's weights: near the global peak and near a local peak count more: ``(F, 24)``."""
    level = energy[:, :-1]
    global_weight = _WSS_KMAX / (_WSS_KMAX + energy.max(axis=1, keepdims=True) - level)
    local_weight = _WSS_KLOCMAX / (_WSS_KLOCMAX + _nearest_peaks(energy, slope) - level)
    return global_weight * local_weight


def _wss_frames(clean: Waveform, enhanced: Waveform, sample_rate: int) -> np.ndarray:
    c, e = _paired_frames(clean, enhanced, sample_rate)
    n_fft = 1 << int(math.ceil(math.log2(2 * c.shape[1])))  # 2^nextpow2(2 L)
    filters = _critical_band_filters(int(sample_rate), n_fft)  # (25, n_fft / 2)

    def band_db(frames: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(frames, n_fft, axis=1)[:, : n_fft // 2]) ** 2  # (F, n_fft / 2)
        return 10.0 * np.log10(np.maximum(power @ filters.T, 10 ** (_WSS_FLOOR_DB / 10)))  # (F, 25)

    clean_db, enhanced_db = band_db(c), band_db(e)
    clean_slope, enhanced_slope = np.diff(clean_db, axis=1), np.diff(enhanced_db, axis=1)  # (F, 24)
    weights = 0.5 * (_wss_weights(clean_db, clean_slope) + _wss_weights(enhanced_db, enhanced_slope))
    return np.sum(weights * (clean_slope - enhanced_slope) ** 2, axis=1) / np.sum(weights, axis=1)  # (F,)


def wss(clean: Waveform, enhanced: Waveform, sample_rate: int) -> float:
    """Weighted spectral slope distance of ``enhanced`` from ``clean`` (Klatt 1982; ``comp_wss.m``).

    Per 30 ms frame: band energies in dB of 25 critical bands (0-4 kHz), their slopes
    (differences of neighbouring bands), and the weighted squared difference of the slopes
    normalised by the sum of the weights; the mean of the lowest 95 % of frames. 0 for
    identical signals; unchanged by a gain on ``enhanced``.
    """
    return _trimmed_mean(_wss_frames(clean, enhanced, sample_rate))


# -- composite measures -----------------------------------------------------------------------


def composite_scores(*, pesq: float, llr: float, wss: float, ssnr: float) -> dict[str, float]:
    """Hu & Loizou's (2008) composite ratings from their components, each clipped to [1, 5].

    ``llr`` is the unclipped LLR of ``composite.m``. NaN in a component used by a rating
    (PESQ finding no speech) gives a NaN rating.
    """
    raw = {
        "csig": 3.093 - 1.029 * llr + 0.603 * pesq - 0.009 * wss,
        "cbak": 1.634 + 0.478 * pesq - 0.007 * wss + 0.063 * ssnr,
        "covl": 1.594 + 0.805 * pesq - 0.512 * llr - 0.007 * wss,
    }
    return {key: value if math.isnan(value) else min(5.0, max(1.0, value)) for key, value in raw.items()}


def composite(clean: Waveform, enhanced: Waveform, sample_rate: int) -> dict[str, float]:
    """CSIG, CBAK, COVL and their components: ``{csig, cbak, covl, pesq, ssnr, llr, wss}``.

    ``pesq`` is wideband PESQ (:func:`~speechgan.metrics.pesq_wb`), ``ssnr`` the segmental
    SNR in dB, ``llr`` the LLR without the per-frame limit (as ``composite.m``), ``wss``
    the weighted spectral slope; the ratings as :func:`composite_scores`.
    """
    parts = {
        "pesq": pesq_wb(clean, enhanced, sample_rate),
        "ssnr": segmental_snr(clean, enhanced, sample_rate),
        "llr": llr(clean, enhanced, sample_rate, clip=None),
        "wss": wss(clean, enhanced, sample_rate),
    }
    return {**composite_scores(**parts), **parts}
