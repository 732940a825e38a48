"""The ``voice_conversion`` metric: a conversion run against two baselines on held-out parallel pairs.

On the parallel items of a split (``unpaired_speakers`` with ``prompts: disjoint``: the same
held-out prompt read by an A and a B speaker, in neither training set), each utterance is
converted in both directions (``a2b``: the A reading towards the B speaker, ``b2a`` back) by
three systems:

* ``converted``: the run's objective (:meth:`~speechgan.objective.Objective.convert`) and
  synthesis: WORLD for WORLD features, the vocoder run ``vocoder`` for mel-spectrograms
  (its front-end must be the run's, :mod:`.synthesis`);
* ``statistics``: the statistics baseline, conversion with no learning: per-coefficient
  mean/variance matching from source to target with the run's statistics and, for WORLD,
  the log-Gaussian F0 transform (:meth:`speechgan.features.SpeakerNormalizer.statistics_baseline`);
* ``unconverted``: the source recording itself.

Each output is compared with the target speaker's recording of the same prompt:

* ``mcd_db``: the project's MCD (:mod:`speechgan.metrics.speech`: WORLD, order 24, c0
  excluded, DTW); ``log_f0_rmse`` (nepers, over DTW-aligned frames voiced in both) and
  ``vuv_error`` on the same alignment;
* ``sim_target`` / ``sim_source``: the cosine similarity of its GE2E speaker embedding
  (:mod:`speechgan.metrics.speaker`) to the target's and to the source's centroid (each
  over that speaker's recordings in the whole split, whatever ``limit``), and
  ``closer_to_target``, 1 when the first is larger (its mean is the share of utterances
  closer to the target; a silent output has no embedding: NaN similarities, not closer);
* ``dnsmos_ovrl``: DNSMOS overall quality (:func:`speechgan.metrics.dnsmos`).

Results are ``{direction}/{system}/{measure}`` means (and ``_std``); the per-utterance
numbers go to ``RUN_DIR/eval/voice_conversion.csv`` (where every metric writes its files).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from speechgan.errors import ConfigError, DataError
from speechgan.metrics import (
    align_frames,
    centroid,
    cosine_similarity,
    dnsmos,
    log_f0_rmse_from_f0,
    mcd_from_mcep,
    speaker_embedding,
    voicing_error,
    world_features,
)

from .synthesis import peak_limited, synthesiser

__all__ = ["VoiceConversionMetric", "voice_conversion_metric", "SYSTEMS", "MEASURES"]

SYSTEMS = ("converted", "statistics", "unconverted")
MEASURES = ("mcd_db", "log_f0_rmse", "vuv_error", "sim_target", "sim_source", "closer_to_target", "dnsmos_ovrl")
CSV_NAME = "voice_conversion.csv"


class VoiceConversionMetric:
    """``__call__(ctx) -> {name: number}``; see the module docstring."""

    def __init__(self, *, split: str = "valid", limit: int | None = None, speaker_similarity: bool = True,
                 naturalness: bool = True, vocoder: str | None = None) -> None:
        if limit is not None and limit < 1:
            raise ConfigError(f"metric 'voice_conversion': limit must be a positive number of pairs or null, got {limit}")
        self.split, self.limit, self.vocoder = split, limit, vocoder
        self.speaker_similarity, self.naturalness = speaker_similarity, naturalness

    def __repr__(self) -> str:
        return f"VoiceConversionMetric(split={self.split!r}, limit={self.limit})"

    def _parallel(self, ctx: Any) -> Any:
        """The split's parallel dataset; :class:`DataError` says what the config lacks."""
        if self.split not in ctx.datasets:
            raise DataError(f"metric 'voice_conversion' reads the {self.split!r} split; the config has no "
                            f"data.{self.split} section")
        dataset = ctx.datasets[self.split]
        if getattr(dataset, "pairs", None) is None:
            raise DataError(f"metric 'voice_conversion': data.{self.split} holds no parallel pairs; use "
                            "unpaired_speakers with prompts: disjoint, parallel_size > 0 and split: valid or test")
        return dataset

    def __call__(self, ctx: Any) -> dict[str, float]:
        front_end = ctx.features
        normalizer = getattr(ctx.objective, "normalizer", None)
        if front_end is None or normalizer is None:
            raise ConfigError("metric 'voice_conversion': needs a run with a front-end and speaker statistics "
                              "(objective.args.speaker_norm: true)")
        features_name = ctx.config.features.name if ctx.config.features is not None else None
        try:
            synthesise = synthesiser(front_end, run_dir=ctx.run_dir, features_name=features_name,
                                     vocoder=None if self.vocoder is None else Path(self.vocoder))
        except DataError as error:
            raise DataError(f"metric 'voice_conversion' (args.vocoder): {error}") from None
        dataset = self._parallel(ctx)
        names = {i: s for s, i in dataset.a.speaker_to_index.items()}
        sr = front_end.sample_rate
        every = [dataset[k] for k in range(len(dataset))]  # the centroids read them all; limit bounds the scored
        if not every:
            raise DataError(f"metric 'voice_conversion': the {self.split!r} split has no pair")
        references: dict[str, tuple[str, np.ndarray]] = {}  # utterance id -> (speaker, wave)
        for item in every:
            for side in ("a", "b"):
                references[item[side]["id"]] = (names[int(item[side]["speaker"])], item[side]["wave"].numpy())
        centroids = self._centroids(references, sr) if self.speaker_similarity else {}
        items = every if self.limit is None else every[: self.limit]
        analyses: dict[str, Any] = {}  # reference id -> WORLD analysis (each analysed once)
        rows: list[dict[str, Any]] = []
        for item in items:
            for direction, (src, tgt) in (("a2b", (item["a"], item["b"])), ("b2a", (item["b"], item["a"]))):
                source, target = names[int(src["speaker"])], names[int(tgt["speaker"])]
                outputs = self._systems(ctx, normalizer, synthesise, src, source=source, target=target)
                if tgt["id"] not in analyses:
                    analyses[tgt["id"]] = world_features(tgt["wave"].numpy(), sr)
                for system, wave in outputs.items():
                    row = {"direction": direction, "system": system, "source": source, "target": target,
                           "source_id": src["id"], "target_id": tgt["id"]}
                    row |= self._score(wave, analyses[tgt["id"]], sr, centroids, source=source, target=target)
                    rows.append(row)
        self._write_csv(ctx.output_path(CSV_NAME), rows)
        return self._summary(rows)

    @staticmethod
    def _systems(ctx: Any, normalizer: Any, synthesise: Any, src: dict[str, Any], *, source: str,
                 target: str) -> dict[str, np.ndarray]:
        """The three systems' waveforms (T,) for one source utterance."""
        features, length = src["features"].to(ctx.device, torch.float32), src["wave"].shape[-1]  # (C, N)
        converted = ctx.objective.convert(features, g=ctx.generators, source=source, target=target)
        baseline = normalizer.statistics_baseline(features.double().cpu()[None], source=source, target=target)[0]
        return {
            "converted": synthesise(converted, length).numpy(),
            "statistics": synthesise(baseline, length).numpy(),
            "unconverted": src["wave"].numpy().astype(np.float64),
        }

    def _centroids(self, references: dict[str, tuple[str, np.ndarray]], sr: int) -> dict[str, np.ndarray]:
        by_speaker: dict[str, list[np.ndarray]] = {}
        for speaker, wave in references.values():
            by_speaker.setdefault(speaker, []).append(speaker_embedding(wave, sr))
        return {speaker: centroid(embeddings) for speaker, embeddings in by_speaker.items()}

    def _score(self, wave: np.ndarray, reference: Any, sr: int, centroids: dict[str, np.ndarray], *, source: str,
               target: str) -> dict[str, float]:
        generated = world_features(wave, sr)
        ix, jx = align_frames(reference.mcep, generated.mcep, dtw=True)
        scores = {
            "mcd_db": mcd_from_mcep(reference.mcep, generated.mcep, dtw=True),
            "log_f0_rmse": log_f0_rmse_from_f0(reference.f0[ix], generated.f0[jx]),
            "vuv_error": voicing_error(reference.f0[ix], generated.f0[jx]),
        }
        limited = peak_limited(wave)
        if self.speaker_similarity:
            try:
                embedding = speaker_embedding(limited, sr)
            except DataError:  # (near) silence, e.g. from a collapsed generator: no speaker to compare
                scores |= {"sim_target": math.nan, "sim_source": math.nan, "closer_to_target": 0.0}
            else:
                scores["sim_target"] = cosine_similarity(embedding, centroids[target])
                scores["sim_source"] = cosine_similarity(embedding, centroids[source])
                scores["closer_to_target"] = float(scores["sim_target"] > scores["sim_source"])
        if self.naturalness:
            scores["dnsmos_ovrl"] = dnsmos(limited, sr)["dnsmos_ovrl"]
        return scores

    @staticmethod
    def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(path)

    @staticmethod
    def _summary(rows: list[dict[str, Any]]) -> dict[str, float]:
        out: dict[str, float] = {}
        for direction in ("a2b", "b2a"):
            for system in SYSTEMS:
                chosen = [r for r in rows if r["direction"] == direction and r["system"] == system]
                for measure in MEASURES:
                    if not chosen or measure not in chosen[0]:  # not measured (speaker_similarity, naturalness off)
                        continue
                    values = np.asarray([r[measure] for r in chosen if math.isfinite(r[measure])])
                    key = f"{direction}/{system}/{measure}"
                    out[key] = float(values.mean()) if values.size else math.nan
                    out[f"{key}_std"] = float(values.std()) if values.size else math.nan
        return out


def voice_conversion_metric(
    split: str = "valid",
    limit: int | None = None,
    speaker_similarity: bool = True,
    naturalness: bool = True,
    vocoder: str | None = None,
) -> VoiceConversionMetric:
    """Voice conversion on held-out parallel pairs, both directions, against the statistics and
    unconverted baselines: MCD, log-F0 RMSE, V/UV error, GE2E speaker similarity, DNSMOS; per-utterance CSV.
    ``vocoder``: the vocoder run that synthesises a mel-spectrogram run's output (WORLD runs need none)."""
    return VoiceConversionMetric(split=split, limit=limit, speaker_similarity=speaker_similarity,
                                 naturalness=naturalness, vocoder=vocoder)
