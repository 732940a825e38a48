"""The ``voice_conversion`` metric: a CycleGAN-VC run against two baselines on held-out parallel pairs.

On a tiny run of the CPU CycleGAN-VC2 recipe (f3 -> m1, 2 held-out parallel prompts): the
keys of ``speechgan evaluate`` and the per-utterance CSV; identity generators, which must
convert exactly like the statistics baseline; the scores of a recording against itself
and of an embedding against fabricated centroids (closed forms); the means and standard
deviations of the summary; and the errors for a split without pairs, a run without
speaker statistics and a bad ``limit``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from speechgan.cli import main
from speechgan.errors import ConfigError, DataError
from speechgan.evaluate import EvaluationContext, RunDatasets
from speechgan.features import LogMelSpectrogram
from speechgan.inference import load_run
from speechgan.losses import LeastSquares
from speechgan.metrics import speaker_embedding, world_features
from speechgan_plugins.objectives.cyclegan import CycleGAN
from speechgan_plugins.voice_conversion.evaluation import MEASURES, SYSTEMS, voice_conversion_metric

from .test_convert import synthesize, train_cpu_recipe

pytestmark = pytest.mark.usefixtures("one_thread")

RATE = 22050
QUALITY = ("mcd_db", "log_f0_rmse", "vuv_error")  # the measures left without speaker_similarity and naturalness
IDS = ["direction", "system", "source", "target", "source_id", "target_id"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vc_metric")
    return train_cpu_recipe(synthesize(root / "corpus"), root / "run", root / "cache")


def keys(measures=MEASURES) -> set[str]:
    """``{direction}/{system}/{measure}`` and its ``_std``, for both directions and the three systems."""
    names = {f"{d}/{s}/{m}" for d in ("a2b", "b2a") for s in SYSTEMS for m in measures}
    return names | {f"{name}_std" for name in names}


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def context(run_dir: Path, out: Path, generators: nn.ModuleDict | None = None) -> EvaluationContext:
    """The run as a metric sees it, its CSV written to ``out``; ``generators`` replace the trained ones."""
    run = load_run(run_dir)
    return EvaluationContext(config=run.config, run_dir=out, objective=run.objective,
                             generators=run.generators if generators is None else generators,
                             datasets=RunDatasets(run.config, run.registry, features=run.features),
                             features=run.features, device=run.device, seed=run.config.seed, step=run.step)


class Identity(nn.Module):
    """A generator that returns its input: (1, D, N) -> (1, D, N), N a multiple of 4 as the 2-1-2D's."""

    frame_multiple = 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[-1] % self.frame_multiple == 0
        return x


# -- through speechgan evaluate ------------------------------------------------------------------------


def test_evaluate_scores_three_systems_in_both_directions_and_writes_the_csv(run_dir):
    assert main(["evaluate", str(run_dir), "evaluation.metrics=[{name: voice_conversion, args: {limit: 1}}]"]) == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics.pop("step") == 2
    assert set(metrics) == keys()  # 2 directions x 3 systems x 7 measures, each with its _std: 84
    assert all(math.isfinite(v) for v in metrics.values())

    columns, rows = read_csv(run_dir / "eval" / "voice_conversion.csv")
    assert columns == IDS + list(MEASURES)
    # one pair (limit 1) x 2 directions x 3 systems, the directions swapping the two readings of one prompt
    assert [(r["direction"], r["system"]) for r in rows] == [(d, s) for d in ("a2b", "b2a") for s in SYSTEMS]
    a2b, b2a = rows[0], rows[3]
    assert (a2b["source"], a2b["target"], b2a["source"], b2a["target"]) == ("f3", "m1", "m1", "f3")
    assert a2b["source_id"].startswith("f3_arctic_a") and a2b["target_id"].startswith("m1_arctic_a")
    assert a2b["source_id"].removeprefix("f3_") == a2b["target_id"].removeprefix("m1_")  # the same prompt
    assert (b2a["source_id"], b2a["target_id"]) == (a2b["target_id"], a2b["source_id"])
    for row in rows:
        values = {m: float(row[m]) for m in MEASURES}
        key = f"{row['direction']}/{row['system']}"
        for measure, value in values.items():  # a mean over one pair is that pair's number, its std 0
            assert metrics[f"{key}/{measure}"] == pytest.approx(value, rel=1e-12)
            assert metrics[f"{key}/{measure}_std"] == 0.0
        assert values["closer_to_target"] == float(values["sim_target"] > values["sim_source"])
        assert -1 <= values["sim_target"] <= 1 and -1 <= values["sim_source"] <= 1
        assert 0 <= values["vuv_error"] <= 1 and 1 <= values["dnsmos_ovrl"] <= 5 and values["mcd_db"] > 0

    # the statistics baseline moves log F0 onto the target's: f3 (~210 Hz) and m1 (~95 Hz) are ~0.8 nepers apart
    for direction in ("a2b", "b2a"):
        unconverted = metrics[f"{direction}/unconverted/log_f0_rmse"]
        assert unconverted > 0.5 and metrics[f"{direction}/statistics/log_f0_rmse"] < unconverted / 1.5


def test_a_split_without_parallel_pairs_is_refused_naming_it(run_dir, capsys):
    # prompts: all splits utterances at random (2 held out, one a speaker): no prompt is read by both sides
    split = ["data.valid.args.prompts=all", "data.valid.args.parallel_size=null", "data.valid.args.valid_size=2",
             "data.valid.args.stratify=true"]
    assert main(["evaluate", str(run_dir), "evaluation.metrics=[{name: voice_conversion}]", *split]) == 2
    # the feature cache's progress bar (tqdm, \r-separated) comes first
    errors = [line for line in capsys.readouterr().err.split("\n") if line.startswith("speechgan: error: ")]
    assert errors == [
        "speechgan: error: metric 'voice_conversion': data.valid holds no parallel pairs; use unpaired_speakers "
        "with prompts: disjoint, parallel_size > 0 and split: valid or test"]


# -- known answers ---------------------------------------------------------------------------------


def test_identity_generators_convert_like_the_statistics_baseline(run_dir, tmp_path):
    """Identity in per-speaker normalised mel-cepstra is mean/variance matching: the statistics baseline."""
    generators = nn.ModuleDict({"a2b": Identity(), "b2a": Identity()})
    metric = voice_conversion_metric(limit=1, speaker_similarity=False, naturalness=False)
    results = metric(context(run_dir, tmp_path, generators))
    assert set(results) == keys(QUALITY)  # 2 x 3 x 3 measures, with their _std: 36
    for direction in ("a2b", "b2a"):
        for measure in QUALITY:
            converted = results[f"{direction}/converted/{measure}"]
            statistics = results[f"{direction}/statistics/{measure}"]
            # the same waveform up to rounding: the objective converts float32 features, the baseline float64
            # ones (a difference of ~1e-5 relative, while unconverted speech is >1 % away)
            assert converted == pytest.approx(statistics, rel=1e-4, abs=1e-6)
            assert results[f"{direction}/unconverted/{measure}"] != pytest.approx(statistics, rel=1e-2)
    columns, rows = read_csv(tmp_path / "eval" / "voice_conversion.csv")
    assert columns == IDS + list(QUALITY) and len(rows) == 6


def test_a_recording_scored_against_itself_has_zero_distortion(run_dir, tmp_path):
    """The unconverted system when the target's recording is the source's: MCD, F0 RMSE and V/UV error 0."""
    item = context(run_dir, tmp_path).datasets["valid"][0]
    wave = item["a"]["wave"].numpy().astype(np.float64)  # (T,) f3's reading of a held-out prompt
    metric = voice_conversion_metric(speaker_similarity=False, naturalness=False)
    scores = metric._score(wave, world_features(wave, RATE), RATE, {}, source="f3", target="m1")
    assert scores == {"mcd_db": 0.0, "log_f0_rmse": 0.0, "vuv_error": 0.0}


def test_speaker_similarity_is_the_cosine_to_each_centroid(run_dir, tmp_path):
    item = context(run_dir, tmp_path).datasets["valid"][0]
    wave = item["b"]["wave"].numpy().astype(np.float64)  # (T,) m1's reading
    own = speaker_embedding(wave, RATE)  # (256,) unit
    # a unit vector orthogonal to it (Gram-Schmidt on a basis vector): similarity 0 by construction
    other = np.eye(256)[int(np.argmin(np.abs(own)))] - own * own[int(np.argmin(np.abs(own)))]
    other /= np.linalg.norm(other)
    metric = voice_conversion_metric(naturalness=False)
    scores = metric._score(wave, world_features(wave, RATE), RATE, {"m1": own, "f3": other}, source="f3",
                           target="m1")
    assert scores["sim_target"] == pytest.approx(1.0, abs=1e-6)
    assert scores["sim_source"] == pytest.approx(0.0, abs=1e-6)
    assert scores["closer_to_target"] == 1.0
    swapped = metric._score(wave, world_features(wave, RATE), RATE, {"m1": own, "f3": other}, source="m1",
                            target="f3")
    assert (swapped["sim_target"], swapped["sim_source"], swapped["closer_to_target"]) == pytest.approx((0, 1, 0),
                                                                                                        abs=1e-6)


def test_the_summary_is_the_mean_and_population_std_of_the_finite_rows():
    def row(direction: str, system: str, mcd: float) -> dict:
        return {"direction": direction, "system": system, "mcd_db": mcd, "log_f0_rmse": 0.5, "vuv_error": 0.0}

    # MCDs per (direction, system); every other pair of them gets 4 and 8; b2a/converted has nothing finite
    mcds = {("a2b", "converted"): [4.0, math.nan, 8.0, 9.0], ("b2a", "converted"): [math.nan, math.nan]}
    rows = [row(d, s, mcd) for d in ("a2b", "b2a") for s in SYSTEMS for mcd in mcds.get((d, s), [4.0, 8.0])]
    summary = voice_conversion_metric()._summary(rows)
    assert set(summary) == keys(QUALITY)  # no sim_* or dnsmos_* key: no row has them
    assert summary["a2b/converted/mcd_db"] == pytest.approx(7.0)  # (4 + 8 + 9) / 3, the NaN left out
    assert summary["a2b/converted/mcd_db_std"] == pytest.approx(math.sqrt(14 / 3))  # ((-3)^2 + 1^2 + 2^2) / 3
    assert (summary["a2b/statistics/mcd_db"], summary["a2b/statistics/mcd_db_std"]) == (6.0, 2.0)
    assert math.isnan(summary["b2a/converted/mcd_db"]) and math.isnan(summary["b2a/converted/mcd_db_std"])  # no error
    assert (summary["b2a/unconverted/log_f0_rmse"], summary["b2a/unconverted/log_f0_rmse_std"]) == (0.5, 0.0)


# -- refusals --------------------------------------------------------------------------------------------


def test_a_split_the_config_lacks_is_named(run_dir, tmp_path):
    metric = voice_conversion_metric(split="test", speaker_similarity=False, naturalness=False)
    with pytest.raises(DataError) as error:
        metric(context(run_dir, tmp_path))
    assert str(error.value) == "metric 'voice_conversion' reads the 'test' split; the config has no data.test section"
    assert not (tmp_path / "eval" / "voice_conversion.csv").exists()


def test_a_run_without_speaker_statistics_or_a_mel_run_without_a_vocoder_is_refused(tmp_path):
    mel_run = SimpleNamespace(features=LogMelSpectrogram(), objective=CycleGAN(criterion=LeastSquares()))
    with pytest.raises(ConfigError) as error:
        voice_conversion_metric()(mel_run)
    assert str(error.value) == ("metric 'voice_conversion': needs a run with a front-end and speaker statistics "
                                "(objective.args.speaker_norm: true)")
    normalised = CycleGAN(criterion=LeastSquares(), speaker_norm=True, features=LogMelSpectrogram())
    config = SimpleNamespace(features=SimpleNamespace(name="log_mel"))
    mel_run = SimpleNamespace(features=LogMelSpectrogram(), objective=normalised, config=config, run_dir=tmp_path)
    with pytest.raises(DataError) as error:
        voice_conversion_metric()(mel_run)
    assert str(error.value) == (
        f"metric 'voice_conversion' (args.vocoder): {tmp_path} converts 'log_mel' features, which need a vocoder: "
        "give --vocoder VOCODER_RUN (a speechgan vocoder run trained on the same front-end)")


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused(limit):
    with pytest.raises(ConfigError) as error:
        voice_conversion_metric(limit=limit)
    assert str(error.value) == (
        f"metric 'voice_conversion': limit must be a positive number of pairs or null, got {limit}")
