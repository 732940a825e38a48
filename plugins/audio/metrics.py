"""Speech metrics as evaluation components (the ``speech_metrics`` plugin).

Each component averages one function of :mod:`speechgan.metrics` over the (reference,
generated) waveform pairs an evaluation context yields for a split
(``ctx.pairs(split=..., limit=...)``, see :mod:`speechgan.evaluate`). For every number
``key`` a metric computes it reports ``key`` (the mean over pairs), ``key_std`` (population
standard deviation) and ``key_count`` (how many pairs gave a finite value: a score can be
undefined for a pair, such as log-F0 RMSE when no frame is voiced in both, and such pairs
are left out of the mean). Pairs of different length (non-parallel generation) are cut to
the shorter by the metrics that compare sample by sample; MCD and the F0 metrics align by
DTW instead. ``dnsmos`` is no-reference: it scores the generated waveform alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np
import torch

from speechgan import hookimpl
from speechgan.errors import ConfigError, DataError
from speechgan.hookspecs import Register
from speechgan.metrics import (
    CENTS_PER_NEPER,
    MCEP_ORDER,
    PWG_RESOLUTIONS,
    aligned_f0,
    composite,
    dnsmos,
    log_f0_rmse_from_f0,
    log_mel_l1,
    mel_cepstral_distortion,
    multi_resolution_stft_distance,
    pesq_wb,
    segmental_snr,
    si_sdr,
    stoi,
    voicing_error,
)

__all__ = [
    "PairwiseMetric",
    "summarize",
    "mcd_metric",
    "log_f0_rmse_metric",
    "log_mel_l1_metric",
    "mr_stft_metric",
    "pesq_metric",
    "stoi_metric",
    "si_sdr_metric",
    "dnsmos_metric",
    "ssnr_metric",
    "composite_metric",
]

#: ``score(reference, generated, sample_rate) -> {key: value}`` for one pair.
PairScore = Callable[[torch.Tensor, torch.Tensor, int], dict[str, float]]


def summarize(values: dict[str, list[float]]) -> dict[str, float]:
    """Per key: mean, ``_std`` and ``_count`` over the finite values (NaN mean when none)."""
    out: dict[str, float] = {}
    for key, scores in values.items():
        finite = np.asarray([v for v in scores if math.isfinite(v)], dtype=np.float64)
        out[key] = float(finite.mean()) if finite.size else math.nan
        out[f"{key}_std"] = float(finite.std()) if finite.size else math.nan
        out[f"{key}_count"] = float(finite.size)
    return out


class PairwiseMetric:
    """A metric over the (reference, generated) pairs of one split: ``__call__(ctx) -> {key: float}``."""

    def __init__(self, name: str, score: PairScore, *, split: str = "valid", limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ConfigError(f"metric {name!r}: limit must be a positive number of pairs or null, got {limit}")
        self.name = name
        self.score = score
        self.split = split
        self.limit = limit

    def __call__(self, ctx: Any) -> dict[str, float]:
        values: dict[str, list[float]] = {}
        pairs: Iterable[Any] = ctx.pairs(split=self.split, limit=self.limit)
        for pair in pairs:
            try:
                scores = self.score(pair.reference, pair.generated, pair.sample_rate)
            except DataError as exc:
                raise DataError(f"metric {self.name!r}, {self.split} pair {pair.id!r}: {exc}") from None
            for key, value in scores.items():
                values.setdefault(key, []).append(float(value))
        if not values:
            raise DataError(
                f"metric {self.name!r}: the {self.split!r} split gave no (reference, generated) pairs; "
                f"check that data.{self.split} has items"
            )
        return summarize(values)

    def __repr__(self) -> str:
        return f"PairwiseMetric({self.name!r}, split={self.split!r}, limit={self.limit})"


# -- the components: factories whose signatures are their config schemas ----------------------


def mcd_metric(
    split: str = "valid",
    limit: int | None = None,
    dtw: bool = True,
    drop_unvoiced: bool = False,
    order: int = MCEP_ORDER,
    alpha: float | None = None,
    f0_method: Literal["harvest", "dio"] = "harvest",
) -> PairwiseMetric:
    """Mel-cepstral distortion in dB (WORLD + sp2mc order 24, DTW, c0 excluded): mcd_db."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        value = mel_cepstral_distortion(
            ref, gen, sr, dtw=dtw, drop_unvoiced=drop_unvoiced, order=order, alpha=alpha, f0_method=f0_method
        )
        return {"mcd_db": value}

    return PairwiseMetric("mcd", score, split=split, limit=limit)


def log_f0_rmse_metric(
    split: str = "valid",
    limit: int | None = None,
    dtw: bool = True,
    f0_method: Literal["harvest", "dio"] = "harvest",
) -> PairwiseMetric:
    """Log-F0 RMSE over frames voiced in both, and V/UV error: log_f0_rmse, f0_rmse_cents, vuv_error.

    ``log_f0_rmse`` is in nepers (natural log), ``f0_rmse_cents`` the same in cents.
    """

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        ref_f0, gen_f0 = aligned_f0(ref, gen, sr, dtw=dtw, f0_method=f0_method)
        rmse = log_f0_rmse_from_f0(ref_f0, gen_f0)
        return {
            "log_f0_rmse": rmse,
            "f0_rmse_cents": rmse * CENTS_PER_NEPER,
            "vuv_error": voicing_error(ref_f0, gen_f0),
        }

    return PairwiseMetric("log_f0_rmse", score, split=split, limit=limit)


def log_mel_l1_metric(
    split: str = "valid",
    limit: int | None = None,
    n_fft: int = 1024,
    hop_length: int = 256,
    win_length: int = 1024,
    n_mels: int = 80,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> PairwiseMetric:
    """HiFi-GAN's validation mel error, mean |log-mel difference|: log_mel_l1."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, n_mels=n_mels, fmin=fmin, fmax=fmax)
        return {"log_mel_l1": log_mel_l1(ref, gen, sr, **kw)}

    return PairwiseMetric("log_mel_l1", score, split=split, limit=limit)


def mr_stft_metric(
    split: str = "valid",
    limit: int | None = None,
    resolutions: tuple[tuple[int, int, int], ...] = PWG_RESOLUTIONS,
) -> PairwiseMetric:
    """Parallel WaveGAN's multi-resolution STFT distance (spectral convergence + log magnitude): mr_stft."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        return {"mr_stft": multi_resolution_stft_distance(ref, gen, resolutions)}

    return PairwiseMetric("mr_stft", score, split=split, limit=limit)


def pesq_metric(split: str = "valid", limit: int | None = None) -> PairwiseMetric:
    """Wideband PESQ (P.862.2, MOS-LQO) at 16 kHz: pesq_wb."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        return {"pesq_wb": pesq_wb(ref, gen, sr)}

    return PairwiseMetric("pesq", score, split=split, limit=limit)


def stoi_metric(split: str = "valid", limit: int | None = None, extended: bool = False) -> PairwiseMetric:
    """Short-time objective intelligibility with pystoi: stoi (estoi with extended=true)."""
    key = "estoi" if extended else "stoi"

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        return {key: stoi(ref, gen, sr, extended=extended)}

    return PairwiseMetric("stoi", score, split=split, limit=limit)


def si_sdr_metric(split: str = "valid", limit: int | None = None, zero_mean: bool = True) -> PairwiseMetric:
    """Scale-invariant SDR in dB (Le Roux et al. 2019): si_sdr_db."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        return {"si_sdr_db": si_sdr(ref, gen, zero_mean=zero_mean)}

    return PairwiseMetric("si_sdr", score, split=split, limit=limit)


def dnsmos_metric(split: str = "valid", limit: int | None = None) -> PairwiseMetric:
    """No-reference DNSMOS of the generated audio: dnsmos_sig, dnsmos_bak, dnsmos_ovrl, dnsmos_p808.

    Microsoft's DNSMOS P.835 (Reddy, Gopal & Cutler, ICASSP 2022: signal, background and
    overall quality) and P.808 MOS models, through ``speechmos`` at 16 kHz (see
    :func:`speechgan.metrics.dnsmos`). The reference of each pair is ignored; each generated
    clip must be at least a second long.
    """

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        return dnsmos(gen, sr)

    return PairwiseMetric("dnsmos", score, split=split, limit=limit)


def ssnr_metric(split: str = "valid", limit: int | None = None) -> PairwiseMetric:
    """Segmental SNR in dB (30 ms frames, each clipped to [-10, 35] dB; Loizou's comp_snr.m): ssnr_db."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        return {"ssnr_db": segmental_snr(ref, gen, sr)}

    return PairwiseMetric("ssnr", score, split=split, limit=limit)


def composite_metric(split: str = "valid", limit: int | None = None) -> PairwiseMetric:
    """Hu & Loizou's (2008) composite ratings from PESQ, LLR, WSS and SSNR, 1 .. 5: csig, cbak, covl."""

    def score(ref: torch.Tensor, gen: torch.Tensor, sr: int) -> dict[str, float]:
        scores = composite(ref, gen, sr)
        return {key: scores[key] for key in ("csig", "cbak", "covl")}

    return PairwiseMetric("composite", score, split=split, limit=limit)


@hookimpl
def speechgan_register_metrics(register: Register) -> None:
    register("mcd", mcd_metric)
    register("log_f0_rmse", log_f0_rmse_metric)
    register("log_mel_l1", log_mel_l1_metric)
    register("mr_stft", mr_stft_metric)
    register("pesq", pesq_metric)
    register("stoi", stoi_metric)
    register("si_sdr", si_sdr_metric)
    register("dnsmos", dnsmos_metric)
    register("ssnr", ssnr_metric)
    register("composite", composite_metric)
