"""The ``speech_enhancement`` metric and its table script, on a tiny paired corpus built here.

Three 1.5 s utterances of harmonic "speech" with pauses, mixed with white (two) or low-pass
(one) noise at 5 dB, with a ``noise.csv``; an evaluation context whose objective enhances by
returning the clean twin (an oracle) or its input. Checked: the oracle beats the noisy input
on every measure; the ``noisy`` and ``wiener`` rows are exactly the metric functions' scores of
the noisy input and of :func:`wiener_filter`'s output; means, standard deviations and per-noise
means against the CSV; one CSV row per utterance and system; a real SEGAN objective's scores
do not depend on the global RNG; the registration; the Markdown table; the pause script's frame
classes and its error re the noisy input (a known gain on the noise); and the errors.
"""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from scipy.signal import lfilter
from torch import nn

from speechgan.build import build_component
from speechgan.config import load_config
from speechgan.errors import ConfigError, DataError
from speechgan.evaluate import EvaluationContext
from speechgan.losses import LeastSquares
from speechgan.metrics import composite, pesq_wb, segmental_snr, stoi
from speechgan.plugins import get_plugin_manager
from speechgan_plugins.audio.paired import PairedSpeech
from speechgan_plugins.enhancement.evaluation import MEASURES, SYSTEMS, speech_enhancement_metric
from speechgan_plugins.enhancement.objective import SEGAN
from speechgan_plugins.enhancement.segan import SEGANGenerator
from speechgan_plugins.enhancement.wiener import wiener_filter

pytestmark = pytest.mark.usefixtures("one_thread")

SR = 16000
CONDITIONS = {"arctic_a0001": "white", "arctic_a0002": "lowpass", "arctic_a0003": "white"}
IDS = ["f3_arctic_a0001", "f3_arctic_a0002", "f3_arctic_a0003"]
COLUMNS = ["id", "system", "noise", "snr_db", *MEASURES]
ROOT = Path(__file__).resolve().parents[2]
TABLE_SCRIPT = ROOT / "benchmarks" / "enhancement_table.py"
PAUSE_SCRIPT = ROOT / "benchmarks" / "enhancement_pauses.py"
RECIPE = ROOT / "recipes" / "enhancement" / "segan.yaml"


def speech_like(seconds: float, f0: float, seed: int) -> np.ndarray:
    """Harmonics of a gliding F0 under formants at 600, 1200 and 2500 Hz, in 0.25 s syllables with
    0.1 s pauses after a 0.25 s lead, over a -74 dB floor (LPC needs no digital silence): (T,)."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(2 * np.pi * 1.3 * t))) / SR
    x = np.zeros_like(t)
    for k in range(1, int(4000 / f0)):
        x += sum(1 / (1 + ((k * f0 - f) / (0.1 * f + 50)) ** 2) for f in (600.0, 1200.0, 2500.0)) * np.sin(k * phase)
    position = (t - 0.25) % 0.35
    x *= (t >= 0.25) * (position < 0.25) * np.sin(np.pi * np.minimum(position, 0.25) / 0.25)
    return 0.5 * x / np.abs(x).max() + 1e-4 * np.random.default_rng(seed).standard_normal(len(t))


def noise_at(clean: np.ndarray, kind: str, snr_db: float, seed: int) -> np.ndarray:
    white = np.random.default_rng(seed).standard_normal(len(clean))
    noise = white if kind == "white" else lfilter([1.0], [1.0, -0.9], white)
    return noise * np.sqrt(np.sum(clean**2) / np.sum(noise**2) / 10 ** (snr_db / 10))


def make_corpus(root: Path) -> Path:
    """The demo corpus's layout: ``cmu_us_f3_arctic/{wav,wav_noisy_mix}/`` and ``noise.csv``."""
    folder = root / "cmu_us_f3_arctic"
    rows = ["id,noise,snr_db"]
    for k, (uid, kind) in enumerate(CONDITIONS.items()):
        clean = speech_like(1.5, 110.0 + 40 * k, seed=k)
        for sub, wave in (("wav", clean), ("wav_noisy_mix", clean + noise_at(clean, kind, 5.0, seed=10 + k))):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            sf.write(folder / sub / f"{uid}.wav", wave, SR, subtype="FLOAT")
        rows.append(f"{uid},{kind},5.0")
    (folder / "wav_noisy_mix" / "noise.csv").write_text("\n".join(rows) + "\n")
    return root


def paired(root: Path, **args) -> PairedSpeech:
    return PairedSpeech(**({"layout": "cmu_arctic_noisy", "root": str(root), "noisy_dir": "wav_noisy_mix",
                            "split": "all", "segment_length": None} | args))


class Oracle:
    """Enhances each noisy utterance of ``dataset`` into its clean twin."""

    sample_rate = SR

    def __init__(self, dataset: PairedSpeech) -> None:
        self.clean = {dataset[i]["noisy"].numpy().tobytes(): dataset[i]["clean"] for i in range(len(dataset))}

    def enhance(self, noisy: torch.Tensor, *, g: nn.ModuleDict) -> torch.Tensor:
        return self.clean[noisy.cpu().numpy().tobytes()].to(noisy.device)


class Passthrough:
    """"Enhances" by returning the noisy input."""

    sample_rate = SR

    def enhance(self, noisy: torch.Tensor, *, g: nn.ModuleDict) -> torch.Tensor:
        return noisy.clone()


def context(out: Path, dataset, objective, split: str = "valid") -> EvaluationContext:
    """What the metric reads of a run: no config, no generators, the dataset as ``split``; files under ``out``."""
    return EvaluationContext(config=None, run_dir=out, objective=objective,  # type: ignore[arg-type]
                             generators=nn.ModuleDict(), datasets={split: dataset}, features=None,
                             device=torch.device("cpu"))


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> PairedSpeech:
    return paired(make_corpus(tmp_path_factory.mktemp("corpus")))


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory, dataset) -> tuple[dict[str, float], Path]:
    """The full metric (three systems, composite) with the oracle: (results, run directory)."""
    run = tmp_path_factory.mktemp("run")
    return speech_enhancement_metric()(context(run, dataset, Oracle(dataset))), run


# -- the systems' scores -----------------------------------------------------------------------


def test_the_oracle_beats_the_noisy_input_on_every_measure(oracle_run) -> None:
    results, _ = oracle_run
    for measure in MEASURES:
        assert results[f"enhanced/{measure}"] > results[f"noisy/{measure}"], measure
    # an exact copy: the PESQ ceiling, STOI 1, every frame at the 35 dB clip, the composite ratings' maximum
    assert results["enhanced/pesq"] > 4.5 and results["enhanced/stoi"] == pytest.approx(1.0)
    assert results["enhanced/ssnr_db"] == pytest.approx(35.0)
    assert results["enhanced/csig"] == results["enhanced/cbak"] == results["enhanced/covl"] == 5.0
    # the Wiener filter helps with stationary noise, but is no oracle
    assert results["noisy/ssnr_db"] < results["wiener/ssnr_db"] < results["enhanced/ssnr_db"]


def test_the_noisy_and_wiener_rows_are_the_metric_functions_scores(oracle_run, dataset) -> None:
    _, rows = read_csv(oracle_run[1] / "eval" / "speech_enhancement.csv")
    for index, uid in enumerate(IDS):
        item = dataset[index]
        clean, noisy = item["clean"], item["noisy"]
        wiener = np.clip(wiener_filter(noisy, SR), -1.0, 1.0)
        for system, output in (("noisy", noisy), ("wiener", wiener)):
            (row,) = [r for r in rows if r["id"] == uid and r["system"] == system]
            parts = composite(clean, output, SR)
            expected = {"pesq": pesq_wb(clean, output, SR), "stoi": stoi(clean, output, SR),
                        "ssnr_db": segmental_snr(clean, output, SR), "csig": parts["csig"],
                        "cbak": parts["cbak"], "covl": parts["covl"]}
            assert {m: float(row[m]) for m in MEASURES} == expected, (uid, system)  # repr round-trips exactly


def test_the_summary_is_the_csv_means_and_stds_and_per_noise_type_means(oracle_run) -> None:
    results, run = oracle_run
    _, rows = read_csv(run / "eval" / "speech_enhancement.csv")
    noises = ("lowpass", "white")
    expected_keys = {f"{s}/{m}{suffix}" for s in SYSTEMS for m in MEASURES for suffix in ("", "_std")}
    expected_keys |= {f"{s}/{n}/{m}" for s in SYSTEMS for n in noises for m in MEASURES}
    assert set(results) == expected_keys  # 3 systems x 6 measures x (mean, std, 2 noise types): 72
    for system in SYSTEMS:
        for measure in MEASURES:
            values = np.array([float(r[measure]) for r in rows if r["system"] == system])
            assert results[f"{system}/{measure}"] == pytest.approx(values.mean(), rel=1e-12, abs=1e-12)
            assert results[f"{system}/{measure}_std"] == pytest.approx(values.std(), rel=1e-12, abs=1e-12)
            for noise in noises:
                same = [float(r[measure]) for r in rows if r["system"] == system and r["noise"] == noise]
                assert len(same) == (2 if noise == "white" else 1)
                assert results[f"{system}/{noise}/{measure}"] == pytest.approx(np.mean(same), rel=1e-12, abs=1e-12)


def test_the_csv_has_one_row_per_utterance_and_system(oracle_run) -> None:
    columns, rows = read_csv(oracle_run[1] / "eval" / "speech_enhancement.csv")
    assert columns == COLUMNS
    assert [(r["id"], r["system"]) for r in rows] == [(uid, s) for uid in IDS for s in SYSTEMS]
    assert all(r["noise"] == CONDITIONS[r["id"].removeprefix("f3_")] and float(r["snr_db"]) == 5.0 for r in rows)


def test_an_enhancer_returning_its_input_scores_as_the_noisy_input(tmp_path, dataset) -> None:
    metric = speech_enhancement_metric(limit=1, systems=("enhanced", "noisy"), composite=False, csv="small.csv")
    results = metric(context(tmp_path, dataset, Passthrough()))
    columns, rows = read_csv(tmp_path / "eval" / "small.csv")
    assert columns == ["id", "system", "noise", "snr_db", "pesq", "stoi", "ssnr_db"]  # no composite ratings
    assert [r["system"] for r in rows] == ["enhanced", "noisy"]
    for measure in ("pesq", "stoi", "ssnr_db"):
        assert results[f"enhanced/{measure}"] == results[f"noisy/{measure}"]
        assert results[f"enhanced/{measure}_std"] == 0.0
    assert not any("csig" in key or "wiener" in key for key in results)


def test_a_segan_run_scores_the_same_whatever_the_global_rng(tmp_path, dataset) -> None:
    objective = SEGAN(criterion=LeastSquares(), window_length=256)
    torch.manual_seed(0)
    generators = nn.ModuleDict({"generator": SEGANGenerator(channels=(4, 8, 8, 16), latent_channels=16,
                                                            segment_length=256)}).eval()
    ctx = context(tmp_path, dataset, objective)
    ctx.generators = generators
    metric = speech_enhancement_metric(limit=1, systems=("enhanced",), composite=False)
    torch.manual_seed(1)
    first = metric(ctx)
    torch.manual_seed(2)
    assert metric(ctx) == first  # one seeded latent for every window: no draw from the global RNG
    item = dataset[0]
    enhanced = objective.enhance(item["noisy"], g=generators).clamp(-1.0, 1.0)
    assert first["enhanced/ssnr_db"] == segmental_snr(item["clean"], enhanced, SR)
    assert first["enhanced/pesq"] == pesq_wb(item["clean"], enhanced, SR)


# -- registration and the table ----------------------------------------------------------------


def test_the_metric_is_registered_and_built_from_config_args() -> None:
    registry = get_plugin_manager(strict=True).registry
    assert registry.get("metric", "speech_enhancement").plugin == "enhancement"
    spec = {"name": "speech_enhancement", "args": {"split": "test", "limit": 2, "systems": ["noisy", "wiener"]}}
    metric = build_component(registry, "metric", spec, path="evaluation.metrics[0]")
    assert (metric.split, metric.limit, metric.systems, metric.composite) == ("test", 2, ("noisy", "wiener"), True)
    bad = "evaluation.metrics=[{name: speech_enhancement, args: {systems: [noisy, segan]}}]"
    with pytest.raises(ConfigError, match=r"evaluation\.metrics\[0\]\.args\.systems\[1\]: Input should be 'enhanced'"):
        load_config(RECIPE, overrides=[bad], registry=registry)  # caught when the config loads


def test_the_table_script_prints_every_system_per_noise_type_and_the_bar(oracle_run, tmp_path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("enhancement_table", TABLE_SCRIPT)
    table = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(table)  # type: ignore[union-attr]
    results, run = oracle_run
    table.main([str(run), "--out", str(tmp_path / "table.md")])
    text = capsys.readouterr().out
    assert (tmp_path / "table.md").read_text() == text
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[0] == "| noise | system | PESQ | STOI | SSNR (dB) | CSIG | CBAK | COVL |"
    body = [[c.strip() for c in line.strip("|").split("|")] for line in lines[2:]]
    assert [(row[0], row[1]) for row in body] == [
        ("all (3, 5 dB)", "noisy"), ("", "Wiener"), ("", "SEGAN"), ("lowpass (1, 5 dB)", "noisy"), ("", "Wiener"),
        ("", "SEGAN"), ("white (2, 5 dB)", "noisy"), ("", "Wiener"), ("", "SEGAN")]
    assert body[0][2] == f"{results['noisy/pesq']:.2f} ({results['noisy/pesq_std']:.2f})"
    assert body[6][3].startswith(f"{results['noisy/white/stoi']:.3f} (")
    assert "improves PESQ, STOI and SSNR over the noisy input: met" in text
    assert "beats the Wiener filter on PESQ and SSNR: met" in text


def test_the_table_script_splits_by_input_snr_band(tmp_path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("enhancement_table", TABLE_SCRIPT)
    table = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(table)  # type: ignore[union-attr]
    lines = ["id,system,noise,snr_db,pesq,stoi,ssnr_db"]
    for k, snr in enumerate([2.0, 5.0, 15.0, 20.0]):  # bands [0, 5), [5, 15]; 20 dB lies in none
        lines += [f"u{k},noisy,pink,{snr},{1 + k},0.5,{snr}", f"u{k},enhanced,pink,{snr},{2 + k},0.6,{snr + 1}"]
    (tmp_path / "scores.csv").write_text("\n".join(lines) + "\n")
    table.main([str(tmp_path / "scores.csv"), "--snr-bands", "0,5,15"])
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in capsys.readouterr().out.splitlines()
            if line.startswith("| ")][2:]
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [
        ("all (4, 2 to 20 dB)", "noisy", "2.50 (1.12)", "10.50 (7.30)"), ("", "SEGAN", "3.50 (1.12)", "11.50 (7.30)"),
        ("pink (4, 2 to 20 dB)", "noisy", "2.50 (1.12)", "10.50 (7.30)"), ("", "SEGAN", "3.50 (1.12)", "11.50 (7.30)"),
        ("SNR 0-5 dB (1, 2 dB)", "noisy", "1.00 (0.00)", "2.00 (0.00)"), ("", "SEGAN", "2.00 (0.00)", "3.00 (0.00)"),
        ("SNR 5-15 dB (2, 5 to 15 dB)", "noisy", "2.50 (0.50)", "10.00 (5.00)"),
        ("", "SEGAN", "3.50 (0.50)", "11.00 (5.00)")]
    with pytest.raises(SystemExit):
        table.main([str(tmp_path / "scores.csv"), "--snr-bands", "5,1"])
    assert "give at least two increasing band edges, such as 0,5,10,15" in capsys.readouterr().err


def test_the_pause_script_splits_frames_by_clean_level_and_gives_the_error_re_the_noisy_input() -> None:
    spec = importlib.util.spec_from_file_location("enhancement_pauses", PAUSE_SCRIPT)
    pauses = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(pauses)  # type: ignore[union-attr]
    frame, hop = 512, 256  # 32 ms, 16 ms
    clean = speech_like(1.5, 120.0, seed=0)  # 0.25 s lead, then 0.25 s syllables and 0.1 s pauses (-74 dB floor)
    pause, speech = pauses.frame_classes(clean, frame, hop)
    assert len(pause) == 1 + (len(clean) - frame) // hop == 92
    starts = np.arange(len(pause)) * hop / SR
    assert pause[starts + frame / SR <= 0.25].all()  # every frame inside the lead is a pause
    assert not (pause & speech).any() and speech.sum() > pause.sum() > 15
    noise = noise_at(clean, "white", 5.0, seed=1)
    edge = int(np.argmax(speech)) * hop  # where the first speech frame starts (just before 0.25 s)
    lead = np.arange(len(pause)) * hop + frame <= edge  # the frames before it: all pauses
    assert pause[lead].all() and lead.sum() == 14
    # an output that keeps a tenth of the noise up to there and all of it after: -20 dB there, 0 dB under the speech
    output = clean + np.where(np.arange(len(clean)) < edge, 0.1, 1.0) * noise
    error, noise_energy = pauses.frame_energy(output - clean, frame, hop), pauses.frame_energy(noise, frame, hop)
    db, err, ref = pauses.error_db(error, noise_energy, lead)
    assert (db, err / ref) == (pytest.approx(-20.0), pytest.approx(0.01))
    assert pauses.error_db(error, noise_energy, speech)[0] == pytest.approx(0.0, abs=1e-9)
    assert -20.0 < pauses.error_db(error, noise_energy, pause)[0] < 0.0  # lead and later pauses


# -- errors ------------------------------------------------------------------------------------


def test_a_dataset_of_segments_is_refused_naming_the_key(tmp_path, dataset) -> None:
    segments = paired(Path(dataset.root), segment_length=4096)
    with pytest.raises(ConfigError, match=r"data\.valid\.args\.segment_length is 4096; set it to null"):
        speech_enhancement_metric()(context(tmp_path, segments, Passthrough()))


def test_an_objective_without_enhance_is_refused_naming_the_metric(tmp_path, dataset) -> None:
    class NoEnhance:
        sample_rate = SR

    with pytest.raises(ConfigError, match=r"metric 'speech_enhancement': objective NoEnhance has no enhance"):
        speech_enhancement_metric()(context(tmp_path, dataset, NoEnhance()))
    # the baselines alone need no enhancer
    results = speech_enhancement_metric(limit=1, systems=("noisy",), composite=False)(
        context(tmp_path, dataset, NoEnhance()))
    assert math.isfinite(results["noisy/pesq"])


def test_a_missing_split_and_a_rate_mismatch_are_refused(tmp_path, dataset) -> None:
    with pytest.raises(DataError, match=r"reads the 'valid' split; the config has no data\.valid section"):
        speech_enhancement_metric()(context(tmp_path, dataset, Passthrough(), split="test"))
    objective = Passthrough()
    objective.sample_rate = 8000
    with pytest.raises(ConfigError, match=r"data\.valid\.args\.sample_rate is 16000 Hz but objective\.args"):
        speech_enhancement_metric()(context(tmp_path, dataset, objective))


@pytest.mark.parametrize(("args", "message"), [
    ({"limit": 0}, "limit must be a positive number of utterances or null, got 0"),
    ({"systems": ("noisy", "noisy")}, r"systems must name each of enhanced, noisy, wiener at most once"),
    ({"systems": ("segan",)}, r"at least one\), got \['segan'\]"),
    ({"systems": ()}, "systems must name"),
    ({"csv": "../out.csv"}, "csv must be a plain file name ending in .csv"),
])
def test_bad_arguments_are_config_errors(args, message) -> None:
    with pytest.raises(ConfigError, match=message):
        speech_enhancement_metric(**args)
