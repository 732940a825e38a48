"""WORLD-based speech metrics: mel-cepstral distortion (MCD), log-F0 RMSE and V/UV error.

Analysis (as WORLD-based voice-conversion evaluations such as CycleGAN-VC's do it):
WORLD (Morise et al., IEICE 2016) with F0 from Harvest (Morise, Interspeech 2017) or DIO +
StoneMask, the spectral envelope from CheapTrick (FFT size ``pyworld.get_cheaptrick_fft_size``:
1024 at 16-22.05 kHz), a 5 ms frame period, and the envelope coded to an order-24 mel-cepstrum
``c_0 .. c_24`` with SPTK's ``sp2mc`` (pysptk) and the all-pass constant
``alpha = pysptk.util.mcepalpha(sample_rate)`` (0.41 at 16 kHz, 0.455 at 22.05 kHz).

MCD (Kubichek, 1993; the sqrt(2) form of Toda et al., 2007, as in ESPnet and pymcd):
for aligned frame pairs ``(i_l, j_l)``, l = 1..L,

    MCD = 1/L * sum_l (10 / ln 10) * sqrt(2 * sum_{d=1}^{24} (c_d[i_l] - c'_d[j_l])^2)   [dB]

c_0 (frame energy) is excluded. The pairs come from DTW on ``c_1..c_24`` (Euclidean) and the
mean runs over the DTW path, so L >= max(N, M); without DTW, frame t is paired with frame t
and the longer sequence is cut. Optionally pairs where *both* frames are unvoiced (silence
and unvoiced consonants) are dropped. See ``MCD.md`` beside this file for how this compares
to other tools.

F0 metrics use the same alignment: log-F0 RMSE over pairs voiced in both, in natural-log
units (nepers; x 1200/ln 2 for cents), and the V/UV error, the fraction of pairs whose
voiced/unvoiced decisions differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pysptk
import pyworld

from ..errors import DataError
from ._signal import Waveform, as_numpy_waveform, check_sample_rate
from .dtw import dtw_path

__all__ = [
    "CENTS_PER_NEPER",
    "MCEP_ORDER",
    "WorldAnalysis",
    "world_features",
    "align_frames",
    "mcd_from_mcep",
    "mel_cepstral_distortion",
    "aligned_f0",
    "log_f0_rmse_from_f0",
    "log_f0_rmse",
    "voicing_error",
]

#: dB per neper of a log-amplitude difference, the constant in front of the MCD sum.
_DB_PER_NEPER = 10.0 / math.log(10.0)
#: A difference of natural-log F0 times this is the same difference in cents.
CENTS_PER_NEPER = 1200.0 / math.log(2.0)
#: Default mel-cepstral order (c_0 .. c_24: 25 coefficients).
MCEP_ORDER = 24

F0Method = Literal["harvest", "dio"]


@dataclass(frozen=True)
class WorldAnalysis:
    """Frame-level WORLD analysis of one waveform."""

    f0: np.ndarray  # (N,) Hz, 0 where unvoiced
    mcep: np.ndarray  # (N, order + 1): c_0 .. c_order

    @property
    def voiced(self) -> np.ndarray:  # (N,) bool
        return self.f0 > 0


def world_features(
    wave: Waveform,
    sample_rate: int,
    *,
    f0_method: F0Method = "harvest",
    frame_period: float = 5.0,
    order: int = MCEP_ORDER,
    alpha: float | None = None,
    f0_floor: float = 71.0,
    f0_ceil: float = 800.0,
) -> WorldAnalysis:
    """F0 and mel-cepstrum of ``wave`` by WORLD + ``pysptk.sp2mc``, one frame per ``frame_period`` ms.

    ``alpha`` defaults to ``pysptk.util.mcepalpha(sample_rate)``. DIO's F0 is refined with
    StoneMask (Harvest's needs no refinement).
    """
    x = as_numpy_waveform(wave, "wave")
    sr = check_sample_rate(sample_rate)
    if f0_method == "harvest":
        f0, times = pyworld.harvest(x, sr, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period)
    elif f0_method == "dio":
        f0, times = pyworld.dio(x, sr, f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=frame_period)
        f0 = pyworld.stonemask(x, f0, times, sr)
    else:
        raise ValueError(f"f0_method must be 'harvest' or 'dio', got {f0_method!r}")
    envelope = pyworld.cheaptrick(x, f0, times, sr, f0_floor=f0_floor)  # (N, fft_size // 2 + 1), power
    if alpha is None:
        alpha = pysptk.util.mcepalpha(sr)
    mcep = pysptk.sp2mc(envelope, order, alpha)  # (N, order + 1)
    return WorldAnalysis(f0=np.asarray(f0), mcep=np.asarray(mcep))


def _check_mcep(mcep: np.ndarray, name: str) -> np.ndarray:
    mcep = np.asarray(mcep, dtype=np.float64)
    if mcep.ndim != 2 or mcep.shape[0] == 0 or mcep.shape[1] < 2:
        raise DataError(f"{name}: expected a (frames, order + 1) mel-cepstrum with order >= 1, got shape {mcep.shape}")
    return mcep


def align_frames(ref_mcep: np.ndarray, gen_mcep: np.ndarray, *, dtw: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(ix, jx)`` matching reference to generated frames.

    With ``dtw`` the path of :func:`~speechgan.metrics.dtw.dtw_path` on ``c_1 ..`` (c_0,
    the energy, does not steer the alignment); otherwise frame t with frame t, up to the
    shorter length.
    """
    ref_mcep = _check_mcep(ref_mcep, "ref_mcep")
    gen_mcep = _check_mcep(gen_mcep, "gen_mcep")
    if ref_mcep.shape[1] != gen_mcep.shape[1]:
        raise DataError(
            f"ref_mcep has {ref_mcep.shape[1]} coefficients per frame and gen_mcep {gen_mcep.shape[1]}; "
            "extract both with the same order"
        )
    if dtw:
        ix, jx, _ = dtw_path(ref_mcep[:, 1:], gen_mcep[:, 1:])
        return ix, jx
    n = min(len(ref_mcep), len(gen_mcep))
    return np.arange(n), np.arange(n)


def mcd_from_mcep(
    ref_mcep: np.ndarray,
    gen_mcep: np.ndarray,
    *,
    dtw: bool = True,
    ref_voiced: np.ndarray | None = None,
    gen_voiced: np.ndarray | None = None,
) -> float:
    """Mel-cepstral distortion in dB between two mel-cepstrum sequences ``(frames, order + 1)``.

    ``MCD = mean over aligned pairs of (10 / ln 10) * sqrt(2 * sum_{d>=1} (c_d - c'_d)^2)``:
    column 0 (c_0) is ignored; pairs come from :func:`align_frames` (DTW path, or frame t
    with frame t up to the shorter length when ``dtw=False``). With per-frame voicing masks
    ``ref_voiced`` (N,) and ``gen_voiced`` (M,), pairs where both frames are unvoiced are
    dropped. NaN when no pair is left.
    """
    if (ref_voiced is None) != (gen_voiced is None):
        raise ValueError("mcd_from_mcep: give both ref_voiced and gen_voiced, or neither")
    ix, jx = align_frames(ref_mcep, gen_mcep, dtw=dtw)
    ref_c = np.asarray(ref_mcep, dtype=np.float64)[ix, 1:]  # (L, order)
    gen_c = np.asarray(gen_mcep, dtype=np.float64)[jx, 1:]
    if ref_voiced is not None:
        keep = np.asarray(ref_voiced, dtype=bool)[ix] | np.asarray(gen_voiced, dtype=bool)[jx]
        ref_c, gen_c = ref_c[keep], gen_c[keep]
    if len(ref_c) == 0:
        return math.nan
    per_frame = _DB_PER_NEPER * np.sqrt(2.0 * np.sum((ref_c - gen_c) ** 2, axis=1))  # (L,)
    return float(per_frame.mean())


def mel_cepstral_distortion(
    ref: Waveform,
    gen: Waveform,
    sample_rate: int,
    *,
    dtw: bool = True,
    drop_unvoiced: bool = False,
    order: int = MCEP_ORDER,
    alpha: float | None = None,
    f0_method: F0Method = "harvest",
    frame_period: float = 5.0,
) -> float:
    """MCD in dB between two waveforms at ``sample_rate``, the variant of the module docstring.

    Mel-cepstra by :func:`world_features` (order 24, ``alpha = mcepalpha(sample_rate)``,
    5 ms frames), then :func:`mcd_from_mcep`: c_0 excluded, DTW on, mean over the DTW
    path. ``drop_unvoiced`` drops aligned pairs where both frames are unvoiced by WORLD's F0
    (NaN if that leaves none).
    """
    kw = dict(f0_method=f0_method, frame_period=frame_period, order=order, alpha=alpha)
    r = world_features(as_numpy_waveform(ref, "ref"), sample_rate, **kw)
    g = world_features(as_numpy_waveform(gen, "gen"), sample_rate, **kw)
    if drop_unvoiced:
        return mcd_from_mcep(r.mcep, g.mcep, dtw=dtw, ref_voiced=r.voiced, gen_voiced=g.voiced)
    return mcd_from_mcep(r.mcep, g.mcep, dtw=dtw)


def aligned_f0(
    ref: Waveform,
    gen: Waveform,
    sample_rate: int,
    *,
    dtw: bool = True,
    f0_method: F0Method = "harvest",
    frame_period: float = 5.0,
) -> tuple[np.ndarray, np.ndarray]:
    """WORLD F0 contours of ``ref`` and ``gen`` paired frame by frame: two (L,) arrays, 0 = unvoiced.

    Paired by DTW on the order-24 mel-cepstra (the MCD alignment) or, with ``dtw=False``,
    frame t with frame t up to the shorter length.
    """
    kw = dict(f0_method=f0_method, frame_period=frame_period)
    r = world_features(as_numpy_waveform(ref, "ref"), sample_rate, **kw)
    g = world_features(as_numpy_waveform(gen, "gen"), sample_rate, **kw)
    ix, jx = align_frames(r.mcep, g.mcep, dtw=dtw)
    return r.f0[ix], g.f0[jx]


def _check_contours(ref_f0: np.ndarray, gen_f0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref_f0 = np.asarray(ref_f0, dtype=np.float64)
    gen_f0 = np.asarray(gen_f0, dtype=np.float64)
    if ref_f0.ndim != 1 or ref_f0.shape != gen_f0.shape or ref_f0.size == 0:
        raise DataError(
            f"expected two aligned, non-empty F0 contours of equal length, got shapes {ref_f0.shape} "
            f"and {gen_f0.shape}; align them first (aligned_f0)"
        )
    return ref_f0, gen_f0


def log_f0_rmse_from_f0(ref_f0: np.ndarray, gen_f0: np.ndarray) -> float:
    """``sqrt(mean((ln f0 - ln f0')^2))`` over aligned frames voiced (F0 > 0) in both, in nepers.

    Multiply by :data:`CENTS_PER_NEPER` for cents. NaN when no frame is voiced in both.
    """
    ref_f0, gen_f0 = _check_contours(ref_f0, gen_f0)
    both = (ref_f0 > 0) & (gen_f0 > 0)
    if not both.any():
        return math.nan
    diff = np.log(ref_f0[both]) - np.log(gen_f0[both])
    return float(np.sqrt(np.mean(diff**2)))


def voicing_error(ref_f0: np.ndarray, gen_f0: np.ndarray) -> float:
    """V/UV error: the fraction of aligned frames whose voicing (F0 > 0) differs, in [0, 1]."""
    ref_f0, gen_f0 = _check_contours(ref_f0, gen_f0)
    return float(np.mean((ref_f0 > 0) != (gen_f0 > 0)))


def log_f0_rmse(
    ref: Waveform,
    gen: Waveform,
    sample_rate: int,
    *,
    dtw: bool = True,
    f0_method: F0Method = "harvest",
    frame_period: float = 5.0,
) -> float:
    """Log-F0 RMSE in nepers (natural log) between two waveforms.

    :func:`aligned_f0` (WORLD F0, DTW on mel-cepstra unless ``dtw=False``) then
    :func:`log_f0_rmse_from_f0` over pairs voiced in both. A pitch shift by a factor k gives
    ``|ln k|``; ``x CENTS_PER_NEPER`` gives cents. NaN when no pair is voiced in both.
    """
    ref_f0, gen_f0 = aligned_f0(ref, gen, sample_rate, dtw=dtw, f0_method=f0_method, frame_period=frame_period)
    return log_f0_rmse_from_f0(ref_f0, gen_f0)
