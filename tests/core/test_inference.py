"""speechgan.inference.load_run: a run directory -> its trained models; evaluate_run built on it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from speechgan import hookimpl
from speechgan.checkpoint import save_checkpoint
from speechgan.cli import main
from speechgan.config import validate_config
from speechgan.errors import DataError, TrainingError
from speechgan.evaluate import RunDatasets, evaluate_run
from speechgan.inference import INFERENCE_FIELDS, load_run
from speechgan.plugins import get_plugin_manager
from speechgan.run import train

from ..conftest import write_yaml
from ..trainer.conftest import BASE, merge
from ..trainer.kit import Kit

RING8 = Path(__file__).resolve().parents[2] / "recipes" / "toy" / "ring8.yaml"
SMALL = [
    "trainer.max_steps=4", "trainer.ema.start_step=0", "trainer.log_every=2", "trainer.device=cpu",
    "data.train.args.num_samples=1024", "data.batch_size=64",
    "generators.generator.args.hidden_dim=16", "discriminators.discriminator.args.hidden_dim=16",
    "evaluation.metrics=[{name: mode_coverage, args: {num_samples: 400, threshold: 40.0, plot: false}}]",
]


@pytest.fixture(scope="module")
def registry():
    pm = get_plugin_manager(strict=True, plugins=[("kit", Kit())])
    return pm.registry


@pytest.fixture(scope="module")
def toy(registry, tmp_path_factory):
    """The ring8 recipe trained 4 steps with an EMA from step 0: (run directory, final metrics)."""
    run = tmp_path_factory.mktemp("toy") / "run"
    return run, train(RING8, run, registry, overrides=SMALL)


def sine(freq: float, n: int) -> np.ndarray:
    """``0.5 sin(2 pi freq t)`` at 16 kHz, float32."""
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / 16000)).astype(np.float32)


def last(run: Path) -> Path:
    return run / "checkpoints" / "last.pt"


def checkpoint_state(path: Path) -> dict:
    return torch.load(path, weights_only=True)


def assert_weights(module: torch.nn.Module, state: dict, prefix: str) -> None:
    weights = module.state_dict()
    assert weights.keys() == {k.removeprefix(prefix) for k in state if k.startswith(prefix)}
    for name, value in weights.items():
        torch.testing.assert_close(value, state[prefix + name], rtol=0, atol=0)


# -- the models --------------------------------------------------------------------------------


def test_load_run_gives_the_ema_weights_and_with_ema_false_the_live_ones(toy, registry):
    run_dir, _ = toy
    state = checkpoint_state(last(run_dir))
    rng = torch.get_rng_state()
    run = load_run(run_dir, registry=registry)
    assert torch.equal(torch.get_rng_state(), rng)  # building the modules drew from a forked RNG
    assert (run.step, run.ema_roles, run.checkpoint) == (4, ("generator",), last(run_dir))
    assert run.device == torch.device("cpu")
    assert run.features is None and not run.generators.training and list(run.generators) == ["generator"]
    assert run.weights == f"{last(run_dir)} (EMA: generator)"
    assert int(state["ema"]["generator"]["n_averaged"]) == 4
    assert_weights(run.generators["generator"], state["ema"]["generator"], "module.")

    live = load_run(run_dir, registry=registry, ema=False)
    assert live.ema_roles == () and live.weights == str(last(run_dir))
    assert_weights(live.generators["generator"], state["generators"], "generator.")
    ema_w, live_w = run.generators["generator"].net[0].weight, live.generators["generator"].net[0].weight
    assert not torch.equal(ema_w, live_w)  # 4 updates at decay 0.999 stay far from the live weights


def test_an_ema_that_never_averaged_is_not_used(toy, registry, tmp_path):
    """Before its first update an AveragedModel holds the initial weights (ema.start_step not reached)."""
    run_dir, _ = toy
    state = checkpoint_state(last(run_dir))
    state["ema"]["generator"]["n_averaged"] = torch.tensor(0)
    fresh = save_checkpoint(state, tmp_path / "fresh.pt")
    run = load_run(run_dir, registry=registry, checkpoint=fresh)
    assert run.ema_roles == () and run.checkpoint == fresh
    assert_weights(run.generators["generator"], state["generators"], "generator.")


class Tripwire:
    """A discriminator, a metric and a callback whose factories fail: load_run must build none of them."""

    @staticmethod
    def refuse() -> None:
        raise AssertionError("load_run built a component inference does not need")

    @hookimpl
    def speechgan_register_discriminators(self, register):
        register("tripwire", self.refuse)

    @hookimpl
    def speechgan_register_metrics(self, register):
        register("tripwire", self.refuse)

    @hookimpl
    def speechgan_register_callbacks(self, register):
        register("tripwire", self.refuse)


def test_load_run_builds_no_discriminator_metric_or_callback(toy, tmp_path):
    run_dir, _ = toy
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["discriminators"]["discriminator"] = {"name": "tripwire", "args": {}}
    config["evaluation"]["metrics"] = [{"name": "tripwire", "args": {}}]
    config["trainer"]["callbacks"] = [{"name": "tripwire", "args": {}}]
    write_yaml(tmp_path / "run" / "config.yaml", config)
    shutil.copytree(run_dir / "checkpoints", tmp_path / "run" / "checkpoints")
    pm = get_plugin_manager(strict=True, plugins=[("tripwire", Tripwire())])
    run = load_run(tmp_path / "run", registry=pm.registry)
    assert run.ema_roles == ("generator",)


# -- refusals ----------------------------------------------------------------------------------


def test_load_run_needs_a_run_directory(tmp_path, registry):
    message = f"{tmp_path} is not a run directory: it has no config.yaml"
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        load_run(tmp_path, registry=registry)


@pytest.mark.parametrize("field", INFERENCE_FIELDS)
def test_a_checkpoint_without_a_field_does_not_fit(toy, registry, tmp_path, field):
    run_dir, _ = toy
    state = checkpoint_state(last(run_dir))
    del state[field]
    bad = save_checkpoint(state, tmp_path / "bad.pt")
    message = f"{bad}: does not fit this run: the checkpoint has no '{field}' field; use a checkpoint that"
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}"):
        load_run(run_dir, registry=registry, checkpoint=bad)


def test_an_ema_state_without_its_count_does_not_fit(toy, registry, tmp_path):
    run_dir, _ = toy
    state = checkpoint_state(last(run_dir))
    del state["ema"]["generator"]["n_averaged"]
    bad = save_checkpoint(state, tmp_path / "bad.pt")
    message = (
        f"{bad}: does not fit this run: its 'ema.generator' state has no 'n_averaged' field; "
        "use a checkpoint that `speechgan train` wrote for this run"
    )
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        load_run(run_dir, registry=registry, checkpoint=bad)
    assert load_run(run_dir, registry=registry, checkpoint=bad, ema=False).ema_roles == ()


def test_evaluate_refuses_a_checkpoint_without_a_field_with_a_message(toy, tmp_path, capsys):
    """The defect: a missing field (``step``, ``rng``...) was a KeyError traceback in `speechgan evaluate`."""
    run_dir, _ = toy
    state = checkpoint_state(last(run_dir))
    del state["step"], state["rng"]
    bad = save_checkpoint(state, tmp_path / "bad.pt")
    assert main(["evaluate", str(run_dir), "--checkpoint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"speechgan: error: {bad}: does not fit this run: the checkpoint has no 'step' field; ")
    assert err.endswith("\n(run with --debug for the traceback)\n") and "Traceback" not in err


def test_generators_of_another_shape_do_not_fit(toy, registry):
    run_dir, _ = toy
    message = (
        f"{last(run_dir)}: does not fit this run: its generator weights differ from the configured generators: "
        "generator.net.0.weight has shape (16, 2), configured (32, 2); generator.net.0.bias has shape (16,), "
        "configured (32,); generator.net.2.weight has shape (16, 16), configured (32, 32) (and 4 more); "
        "use a checkpoint that `speechgan train` wrote for this run"
    )
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        load_run(run_dir, registry=registry, overrides=["generators.generator.args.hidden_dim=32"])


# -- evaluation --------------------------------------------------------------------------------


def test_evaluate_run_reproduces_the_evaluation_at_the_end_of_training(toy, registry):
    run_dir, trained = toy
    (run_dir / "metrics.json").unlink()
    assert set(trained) == {"modes_captured", "high_quality_fraction", "far_fraction", "num_modes"}
    assert 0 < trained["far_fraction"] < 1  # depends on every one of the 400 samples
    assert evaluate_run(run_dir, registry=registry) == trained
    assert (run_dir / "metrics.json").read_text().startswith('{\n  "step": 4,\n')


def test_evaluate_run_needs_metrics(toy, registry):
    run_dir, _ = toy
    message = f"{run_dir / 'config.yaml'}: evaluation.metrics is empty; nothing to evaluate"
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        evaluate_run(run_dir, registry=registry, overrides=["evaluation.metrics=[]"])


def test_run_datasets_builds_a_split_only_when_a_metric_reads_it(registry):
    config = validate_config(merge(BASE, {"data": {"valid": {"name": "points", "args": {"n": 8}}}}), registry)
    datasets = RunDatasets(config, registry, features=None)
    assert list(datasets) == ["train", "valid"] and "valid" in datasets and "test" not in datasets
    assert datasets.built == {}
    assert len(datasets["valid"]) == 8 and list(datasets.built) == ["valid"]
    assert datasets["valid"] is datasets["valid"]
    with pytest.raises(KeyError):
        datasets["test"]


# -- an audio run copied without its corpus ----------------------------------------------------

MEL = {"sample_rate": 16000, "n_fft": 64, "hop_length": 16, "win_length": 64, "n_mels": 8, "fmax": None}


def vocoder_config(corpus: Path) -> dict:
    return merge(BASE, {
        "objective": {"name": "vocoder"},
        "features": {"name": "log_mel", "args": MEL},
        "generators": {"generator": {"name": "upsampler", "args": {"channels": 8, "hop": 16}}},
        "discriminators": {"d": {"name": "wave_disc"}},
        "data": {"train": {"name": "audio_folder", "args": {"root": str(corpus), "sample_rate": 16000,
                                                             "segment_length": 1024}},
                 "batch_size": 2},
        "trainer": {"max_steps": 2, "ema": {"decay": 0.9}, "device": "cpu"},
        "evaluation": {"metrics": [{"name": "log_mel_l1", "args": {"split": "train", "limit": 2, **{
            k: MEL[k] for k in ("n_fft", "hop_length", "win_length", "n_mels")}}}]},
    })


@pytest.fixture(scope="module")
def moved_vocoder(registry, tmp_path_factory):
    """A vocoder run trained on a generated corpus, copied elsewhere; the corpus and the original are deleted."""
    root = tmp_path_factory.mktemp("vocoder")
    corpus = root / "corpus"
    for i, freq in enumerate([220.0, 330.0, 440.0, 550.0]):
        (corpus / "spk").mkdir(parents=True, exist_ok=True)
        sf.write(corpus / "spk" / f"utt{i}.wav", sine(freq, 4000), 16000)
    trained = train(write_yaml(root / "vocoder.yaml", vocoder_config(corpus)), root / "run", registry)
    assert set(trained) == {"log_mel_l1", "log_mel_l1_std", "log_mel_l1_count"}
    shutil.copytree(root / "run", root / "elsewhere")
    shutil.rmtree(root / "run")
    shutil.rmtree(corpus)
    return root / "elsewhere", corpus


def test_a_run_copied_without_its_corpus_loads_and_vocodes(moved_vocoder, registry):
    run_dir, _ = moved_vocoder
    run = load_run(run_dir, registry=registry)
    state = checkpoint_state(last(run_dir))
    assert run.features.fingerprint == state["features"]["fingerprint"]
    assert (run.features.hop_length, run.ema_roles, run.step) == (16, ("generator",), 2)
    assert_weights(run.generators["generator"], state["ema"]["generator"], "module.")
    wave = torch.from_numpy(sine(300.0, 1600))[None]  # (1, T)
    with torch.no_grad():
        mel = run.features(wave)  # (1, 8, 100)
        audio = run.generators["generator"](mel)  # (1, 1, 1600)
    assert mel.shape == (1, 8, 100) and audio.shape == (1, 1, 1600)
    assert run.objective.features is run.features


def test_evaluating_a_run_needs_its_data_though(moved_vocoder, registry):
    run_dir, corpus = moved_vocoder
    with pytest.raises(DataError, match=f"^{re.escape(str(corpus))}: audio folder not found$"):
        evaluate_run(run_dir, registry=registry)


def test_a_front_end_other_than_the_trained_one_is_refused(moved_vocoder, registry, tmp_path):
    run_dir, _ = moved_vocoder
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited)
    config = yaml.safe_load((edited / "config.yaml").read_text())
    config["features"]["args"]["fmax"] = 4000.0
    write_yaml(edited / "config.yaml", config)
    trained = checkpoint_state(last(edited))["features"]["fingerprint"]
    message = (
        f"{last(edited)} was trained with the front-end `features: log_mel` (fingerprint {trained}), but "
        f"{edited / 'config.yaml'} builds `features: log_mel` (fingerprint NEW) (features.args: fmax None -> 4000.0): "
        "its generators would read features they were not trained on. Use the `features:` settings it was trained "
        "with (they are in the checkpoint's config), or train a model for the new ones"
    )
    pattern = re.escape(message).replace("NEW", "(?!" + trained + ")[0-9a-f]{16}")
    with pytest.raises(TrainingError, match=f"^{pattern}$"):
        load_run(edited, registry=registry)
