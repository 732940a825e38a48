"""The ``speech_enhancement`` metric: an enhancement run against the noisy input and a Wiener filter.

The evaluation table of SEGAN (Pascual, Bonafonte & Serra, Interspeech 2017, Table 1: the
noisy input, the Wiener filter and SEGAN, scored with PESQ, CSIG, CBAK, COVL and SSNR on
the VoiceBank-DEMAND test set), plus STOI (Taal et al., IEEE TASLP 2011). On the whole
utterances of a split (``paired_speech`` with ``segment_length: null``), each noisy
utterance is processed by up to three systems:

* ``enhanced``: the run's objective, ``ctx.objective.enhance(noisy, g=ctx.generators)``
  (:meth:`.objective.SEGAN.enhance`: one seeded latent for every window, so the same run
  always gives the same numbers);
* ``noisy``: the noisy input itself;
* ``wiener``: the classical decision-directed Wiener filter (:func:`.wiener.wiener_filter`,
  noise estimated from the non-speech frames), with its default settings.

The processed outputs (``enhanced``, ``wiener``) are limited to [-1, 1], as the WAV files
``speechgan enhance`` writes are. Each output is scored against the clean twin with

* ``pesq``: wideband PESQ (ITU-T P.862.2, :func:`speechgan.metrics.pesq_wb`);
* ``stoi``: STOI (:func:`speechgan.metrics.stoi`);
* ``ssnr_db``: segmental SNR in dB (Loizou's ``comp_snr.m``, :func:`speechgan.metrics.segmental_snr`);
* ``csig``, ``cbak``, ``covl`` (``composite: true``): Hu & Loizou's (IEEE TASLP 2008)
  composite ratings (:func:`speechgan.metrics.composite`, whose PESQ and SSNR are those above).

Results are ``{system}/{measure}`` means over the utterances (NaN scores, such as PESQ
finding no speech, left out) with their ``_std``, and, where the dataset knows each
utterance's noise (``conditions``, from the corpus's ``noise.csv``), the means per noise
type as ``{system}/{noise}/{measure}``. The per-utterance numbers (``id, system, noise,
snr_db`` and the measures) go to ``RUN_DIR/eval/speech_enhancement.csv``
(:meth:`~speechgan.evaluate.EvaluationContext.output_path`), which
``benchmarks/enhancement_table.py`` turns into the table.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from speechgan.errors import ConfigError, DataError
from speechgan.metrics import composite as composite_measures
from speechgan.metrics import pesq_wb, segmental_snr, stoi

from .wiener import wiener_filter

__all__ = ["SpeechEnhancementMetric", "speech_enhancement_metric", "score_utterance", "system_output", "SYSTEMS",
           "MEASURES", "CSV_NAME"]

System = Literal["enhanced", "noisy", "wiener"]
SYSTEMS: tuple[System, ...] = ("enhanced", "noisy", "wiener")
#: Every measure, in the order of the CSV's columns; the last three only with ``composite``.
MEASURES = ("pesq", "stoi", "ssnr_db", "csig", "cbak", "covl")
COMPOSITE_MEASURES = ("csig", "cbak", "covl")
CSV_NAME = "speech_enhancement.csv"
NAME = "speech_enhancement"


def score_utterance(clean: np.ndarray, output: np.ndarray, sample_rate: int, *, composite: bool = True
                    ) -> dict[str, float]:
    """The measures of one output ``(T,)`` against its clean reference ``(T,)``, in :data:`MEASURES` order."""
    if not composite:
        return {"pesq": pesq_wb(clean, output, sample_rate), "stoi": stoi(clean, output, sample_rate),
                "ssnr_db": segmental_snr(clean, output, sample_rate)}
    parts = composite_measures(clean, output, sample_rate)  # computes PESQ and SSNR once for both uses
    return {"pesq": parts["pesq"], "stoi": stoi(clean, output, sample_rate), "ssnr_db": parts["ssnr"],
            **{key: parts[key] for key in COMPOSITE_MEASURES}}


def _finite_mean_std(values: list[float]) -> tuple[float, float]:
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    return (float(finite.mean()), float(finite.std())) if finite.size else (math.nan, math.nan)


class SpeechEnhancementMetric:
    """``__call__(ctx) -> {name: number}``; see the module docstring."""

    def __init__(self, *, split: str = "valid", limit: int | None = None, systems: tuple[System, ...] = SYSTEMS,
                 composite: bool = True, csv: str = CSV_NAME) -> None:
        if limit is not None and limit < 1:
            raise ConfigError(f"metric {NAME!r}: limit must be a positive number of utterances or null, got {limit}")
        systems = tuple(systems)
        if not systems or any(s not in SYSTEMS for s in systems) or len(set(systems)) != len(systems):
            raise ConfigError(f"metric {NAME!r}: systems must name each of {', '.join(SYSTEMS)} at most once "
                              f"(and at least one), got {list(systems)}")
        if not csv or Path(csv).name != csv or not csv.endswith(".csv"):
            raise ConfigError(f"metric {NAME!r}: csv must be a plain file name ending in .csv (it is written "
                              f"under RUN_DIR/eval/), got {csv!r}")
        self.split, self.limit, self.systems, self.composite, self.csv = split, limit, systems, composite, csv
        self.measures = MEASURES if composite else tuple(m for m in MEASURES if m not in COMPOSITE_MEASURES)

    def __repr__(self) -> str:
        return f"SpeechEnhancementMetric(split={self.split!r}, limit={self.limit}, systems={list(self.systems)})"

    def _dataset(self, ctx: Any) -> Any:
        """The split's dataset of whole utterances; errors name the config key to change."""
        if self.split not in ctx.datasets:
            raise DataError(f"metric {NAME!r} reads the {self.split!r} split; the config has no data.{self.split} "
                            "section")
        dataset = ctx.datasets[self.split]
        segment = getattr(dataset, "segment_length", None)
        if segment is not None:
            raise ConfigError(f"metric {NAME!r} scores whole utterances, but data.{self.split}.args.segment_length "
                              f"is {segment}; set it to null for the {self.split!r} split")
        return dataset

    def _sample_rate(self, ctx: Any, dataset: Any) -> int:
        data_rate = getattr(dataset, "sample_rate", None)
        model_rate = getattr(ctx.objective, "sample_rate", None)
        if data_rate is not None and model_rate is not None and int(data_rate) != int(model_rate):
            raise ConfigError(f"metric {NAME!r}: data.{self.split}.args.sample_rate is {data_rate} Hz but "
                              f"objective.args.sample_rate is {model_rate} Hz; the model enhances at its own rate")
        rate = data_rate if data_rate is not None else model_rate
        if rate is None:
            raise ConfigError(f"metric {NAME!r}: neither data.{self.split} nor the objective says its sample rate")
        return int(rate)

    def _check_enhancer(self, ctx: Any) -> None:
        if "enhanced" in self.systems and not callable(getattr(ctx.objective, "enhance", None)):
            raise ConfigError(f"metric {NAME!r}: objective {type(ctx.objective).__name__} has no enhance(noisy, *, g) "
                              "method, so there is no 'enhanced' system; use an enhancement objective (segan) or "
                              "leave 'enhanced' out of the metric's args.systems")

    def _output(self, ctx: Any, system: str, noisy: torch.Tensor, sample_rate: int) -> np.ndarray:
        """One system's output ``(T,)`` (float64) for the noisy utterance ``(T,)``."""
        return system_output(system, noisy, sample_rate, objective=ctx.objective, generators=ctx.generators,
                             device=ctx.device)

    def __call__(self, ctx: Any) -> dict[str, float]:
        dataset = self._dataset(ctx)
        self._check_enhancer(ctx)
        sample_rate = self._sample_rate(ctx, dataset)
        conditions: dict[str, tuple[str, float]] = getattr(dataset, "conditions", None) or {}
        count = len(dataset) if self.limit is None else min(self.limit, len(dataset))
        if count == 0:
            raise DataError(f"metric {NAME!r}: the {self.split!r} split has no utterance")
        rows: list[dict[str, Any]] = []
        for index in range(count):
            item = dataset[index]
            uid = str(item.get("id", index))
            clean, noisy = item["clean"].reshape(-1).cpu(), item["noisy"].reshape(-1).cpu()  # (T,) each
            noise, snr_db = conditions.get(uid, ("", ""))
            for system in self.systems:
                try:
                    output = self._output(ctx, system, noisy, sample_rate)
                    scores = score_utterance(clean.double().numpy(), output, sample_rate, composite=self.composite)
                except DataError as error:
                    raise DataError(f"metric {NAME!r}, {self.split} utterance {uid!r}, system {system!r}: "
                                    f"{error}") from None
                rows.append({"id": uid, "system": system, "noise": noise, "snr_db": snr_db, **scores})
        write_csv(ctx.output_path(self.csv), rows)
        return self._summary(rows)

    def _summary(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        out: dict[str, float] = {}
        for system in self.systems:
            chosen = [r for r in rows if r["system"] == system]
            for measure in self.measures:
                mean, std = _finite_mean_std([r[measure] for r in chosen])
                out[f"{system}/{measure}"], out[f"{system}/{measure}_std"] = mean, std
            for noise in sorted({r["noise"] for r in chosen if r["noise"]}):
                same = [r for r in chosen if r["noise"] == noise]
                for measure in self.measures:
                    out[f"{system}/{noise}/{measure}"] = _finite_mean_std([r[measure] for r in same])[0]
        return out


def system_output(system: str, noisy: torch.Tensor, sample_rate: int, *, objective: Any = None,
                  generators: Any = None, device: torch.device | str = "cpu") -> np.ndarray:
    """One system's output ``(T,)`` (float64) for the noisy utterance ``(T,)`` (CPU): the input
    itself, the Wiener filter's, or ``objective.enhance(noisy, g=generators)`` on ``device``; the
    processed ones limited to [-1, 1]."""
    if system == "noisy":
        return noisy.double().numpy()
    if system == "wiener":
        return np.clip(wiener_filter(noisy, sample_rate), -1.0, 1.0)
    enhanced = objective.enhance(noisy.to(device, torch.float32), g=generators)  # (T,)
    return enhanced.reshape(-1).double().clamp(-1.0, 1.0).cpu().numpy()


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """The rows (one dict each, all with the same keys) as CSV, written to a temporary file and moved into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


def speech_enhancement_metric(
    split: str = "valid",
    limit: int | None = None,
    systems: tuple[System, ...] = SYSTEMS,
    composite: bool = True,
    csv: str = CSV_NAME,
) -> SpeechEnhancementMetric:
    """Speech enhancement on whole held-out utterances against the noisy input and a Wiener filter: PESQ, STOI,
    SSNR and (``composite``) CSIG/CBAK/COVL, per system and noise type; per-utterance CSV in RUN_DIR/eval/."""
    return SpeechEnhancementMetric(split=split, limit=limit, systems=systems, composite=composite, csv=csv)
