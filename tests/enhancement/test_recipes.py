"""The SEGAN recipes hold the paper's settings, the CPU variant changes only what it says and holds voices out,
and it trains.

Pascual, Bonafonte & Serrà, "SEGAN: Speech Enhancement Generative Adversarial Network" (Interspeech 2017,
sections 3-4): least-squares GAN (Mao et al. 2017) plus L1 with weight 100, pre-emphasis 0.95, RMSprop
with learning rate 0.0002 for G and D, batch 400, windows of 16,384 samples (about 1 s) at 16 kHz, the
11 + 11-layer generator with z of 8 x 1024 at the bottleneck (73,096,048 parameters, ``segan_paper``) and
its discriminator (24,370,569). The CPU variant narrows every layer to a quarter, gives the generator a
residual output (its one change of form), warms the generator up on the L1 term alone for 5,000 steps and
trains on six voices of the noisy demo corpus, validating on two others. Its smoke test trains two steps
through the command on its first line, on a tiny noisy/clean corpus of the recipe's eight voices in
tmp_path, shrunk by overrides of the data roots, the validation count, the batch, the run length, the
warm-up and the metrics only; the run then enhances a held-out voice's file with ``speechgan enhance``.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from speechgan.build import build_dataset
from speechgan.cli import main
from speechgan.config import load_config
from speechgan.plugins import get_plugin_manager
from speechgan_plugins.enhancement.segan import PAPER_CHANNELS

from ..recipe_kit import (
    ROOT,
    architecture,
    build,
    check_header,
    count,
    differing_keys,
    outside,
    train_command,
    weights_at,
)

pytestmark = pytest.mark.usefixtures("one_thread")

RECIPES = ROOT / "recipes" / "enhancement"
RATE, WINDOW = 16000, 16384
UTTERANCE = 4000  # samples per tiny utterance: shorter than a window (the dataset pads, enhance overlap-adds)
LEAST_SQUARES = {"name": "least_squares", "args": {}}  # the criterion as a validated config spells it
# what the CPU variant may change: model width (checked by building it at the paper's width below), data,
# batch size, run length, logging and checkpoint cadence, the evaluation's cadence and sample counts
CPU_MAY_CHANGE = {
    "description", "generators.generator.name", "generators.generator.args.*",
    "discriminators.discriminator.name", "discriminators.discriminator.args.*",
    "data.batch_size", "data.num_workers", *(f"data.*.args.{key}" for key in (
        "layout", "root", "noisy_dir", "speakers", "split", "valid_speakers", "valid_size", "test_size", "stratify")),
    "loss_weights.d/adv*", "loss_weights.g/adv*",  # the warm-up, checked below
    "objective.args.highpass_hz",  # inference's DC blocker, checked below
    "trainer.max_steps", "trainer.log_every", "trainer.checkpoint_every", "trainer.keep_checkpoints",
    "trainer.sample_every", "evaluation.every", "evaluation.metrics.*.args.n",
}


@pytest.fixture(scope="module")
def registry():
    return get_plugin_manager(strict=True).registry


def dataset_default(registry, key: str) -> object:
    """The ``paired_speech`` default of an argument a recipe leaves out."""
    return inspect.signature(registry.get("dataset", "paired_speech").factory).parameters[key].default


def test_every_recipe_is_covered():
    assert sorted(str(p.relative_to(RECIPES)) for p in RECIPES.rglob("*.yaml")) == ["cpu/segan.yaml", "segan.yaml"]


@pytest.mark.parametrize("recipe", ["segan.yaml", "cpu/segan.yaml"])
def test_recipe_validates_and_starts_with_its_exact_train_command(recipe, registry):
    check_header(RECIPES / recipe, registry)


def test_paper_recipe_keeps_the_published_settings(registry):
    config = load_config(RECIPES / "segan.yaml", registry=registry)
    # Pascual et al. 2017, section 4: LSGAN + L1 x 100, pre-emphasis 0.95, 16,384-sample windows at 16 kHz
    assert config.objective.name == "segan"
    assert config.objective.args == {"criterion": LEAST_SQUARES, "preemphasis": 0.95, "sample_rate": RATE,
                                     "window_length": WINDOW}
    assert weights_at(config, 0) == {"d/adv": 1.0, "g/adv": 1.0, "g/l1": 100.0}
    # RMSprop, learning rate 0.0002 for both networks, batch 400
    for group in ("generator", "discriminator"):
        spec = config.optim[group]
        assert (spec.name, spec.lr, spec.args, spec.scheduler) == ("rmsprop", 2e-4, {}, None)
    assert config.data.batch_size == 400
    train = config.data.train.args
    assert (config.data.train.name, train["layout"], train["root"]) == ("paired_speech", "voicebank_demand",
                                                                        "data/voicebank")
    assert train.get("segment_length", dataset_default(registry, "segment_length")) == WINDOW
    assert train.get("sample_rate", dataset_default(registry, "sample_rate")) == RATE
    assert (config.data.valid.args["split"], config.data.valid.args["segment_length"]) == ("test", None)
    g = build(registry, "generator", config.generators["generator"])
    d = build(registry, "discriminator", config.discriminators["discriminator"])
    assert (count(g), count(d)) == (73_096_048, 24_370_569)
    assert g.latent_shape == (1024, 8) and d.segment_length == WINDOW  # z of 8 x 1024 under 11 halvings
    assert g(torch.zeros(2, 1, WINDOW, device="meta")).shape == (2, 1, WINDOW)


def test_cpu_variant_differs_from_the_paper_only_in_width_data_batch_run_length_warm_up_and_residual(registry):
    paper = load_config(RECIPES / "segan.yaml", registry=registry)
    cpu = load_config(RECIPES / "cpu" / "segan.yaml", registry=registry)
    assert outside(differing_keys(paper, cpu), CPU_MAY_CHANGE) == set()
    assert cpu.data.batch_size == 32
    quarter = [c // 4 for c in PAPER_CHANNELS]
    # the generator's warm-up on the L1 term alone: the adversarial terms at the paper's weight from step 5,000
    assert weights_at(cpu, 4999) == {"d/adv": 0.0, "g/adv": 0.0, "g/l1": 100.0}
    assert weights_at(cpu, 5000) == weights_at(paper, 0) == {"d/adv": 1.0, "g/adv": 1.0, "g/l1": 100.0}
    # inference only: a 20 Hz DC blocker after de-emphasis (the paper: none)
    assert (paper.objective.args.get("highpass_hz", 0.0), cpu.objective.args["highpass_hz"]) == (0.0, 20)
    # the one change of form, said in the recipe's header: the generator's residual output
    assert cpu.generators["generator"].args == {"channels": quarter, "latent_channels": 1024 // 4, "residual": True}
    assert cpu.discriminators["discriminator"].args == {"channels": quarter}
    paper_width = {"channels": list(PAPER_CHANNELS), "latent_channels": 1024, "residual": False}
    for kind, section in (("generator", "generators"), ("discriminator", "discriminators")):
        spec, paper_spec = getattr(cpu, section)[kind], getattr(paper, section)[kind]
        assert f"{spec.name}_paper" == paper_spec.name
        # at the paper's width and with the tanh output the CPU model is the paper's model, layer for layer
        wide = build(registry, kind, spec.model_copy(update={"args": {k: paper_width[k] for k in spec.args}}))
        assert architecture(wide) == architecture(build(registry, kind, paper_spec))


def test_cpu_recipe_trains_on_six_voices_and_validates_on_two_held_out_ones(registry):
    config = load_config(RECIPES / "cpu" / "segan.yaml", registry=registry)
    train, valid = config.data.train.args, config.data.valid.args
    assert (len(set(train["speakers"])), len(set(valid["speakers"]))) == (6, 2)
    assert set(train["speakers"]).isdisjoint(valid["speakers"])
    for key in ("layout", "noisy_dir"):  # the same kind of corpus; the held-out voices' copy is made apart,
        assert train[key] == valid[key]  # so that the training babble never holds them
    assert (train["root"], valid["root"]) == ("data/noisy", "data/noisy_eval")
    assert (train["split"], train["valid_size"], train["test_size"]) == ("train", 0, 0)  # every utterance
    assert (valid["split"], valid["segment_length"]) == ("valid", None)  # whole utterances
    # the evaluation command of the recipe's header reads the run its train command writes
    _, out = train_command(RECIPES / "cpu" / "segan.yaml")
    header = (RECIPES / "cpu" / "segan.yaml").read_text().splitlines()
    assert f"#   speechgan evaluate {out} data.valid.args.root=data/noisy_ssn \\" in header
    # ... into its own CSV, next to the one of the trained noise types
    assert "#     'evaluation.metrics=[{name: speech_enhancement, args: {csv: speech_enhancement_ssn.csv}}]'" in header
    # the corpora it reads: the training voices alone, then the held-out ones with the trained and held-out noise
    assert "#   $S --out data/noisy --speakers $T --noise white,pink,babble" in header
    assert "#   $S --out data/noisy_eval --speakers $T,en-us+f5,en-us+m7 --noise white,pink,babble" in header
    assert "#   $S --out data/noisy_ssn --speakers en-us+f5,en-us+m7 --noise speech_shaped" in header


# -- smoke: two steps of the CPU recipe, then enhance ------------------------------------------------


def write_noisy_corpus(root: Path, speakers: list[str]) -> Path:
    """The demo corpus's layout: ``cmu_us_<voice>_arctic/{wav,wav_noisy_mix}/`` with 2 utterances a voice,
    a tone (its own pitch per voice) and that tone in white noise, and ``noise.csv``."""
    rng = np.random.default_rng(0)
    t = np.arange(UTTERANCE) / RATE
    for s, speaker in enumerate(speakers):
        folder = root / f"cmu_us_{speaker}_arctic"
        rows = ["id,noise,snr_db"]
        for k in (1, 2):
            uid = f"arctic_a{k:04d}"
            clean = 0.3 * np.sin(2 * np.pi * (150.0 + 40 * s + 10 * k) * t)
            for sub, wave in (("wav", clean), ("wav_noisy_mix", clean + 0.05 * rng.standard_normal(UTTERANCE))):
                (folder / sub).mkdir(parents=True, exist_ok=True)
                sf.write(folder / sub / f"{uid}.wav", wave.astype(np.float32), RATE, subtype="FLOAT")
            rows.append(f"{uid},white,10.0")
        (folder / "wav_noisy_mix" / "noise.csv").write_text("\n".join(rows) + "\n")
    return root


def test_cpu_recipe_trains_two_steps_on_its_voices_and_enhances_a_held_out_one(registry, tmp_path):
    recipe, _ = train_command(RECIPES / "cpu" / "segan.yaml")
    config = load_config(recipe, registry=registry)
    train_voices, valid_voices = config.data.train.args["speakers"], config.data.valid.args["speakers"]
    corpus = write_noisy_corpus(tmp_path / "noisy", [*train_voices, *valid_voices])
    run = tmp_path / "run"
    shrunk = [f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}", "data.valid.args.valid_size=1",
              "data.batch_size=4", "trainer.max_steps=2", "trainer.log_every=1", "trainer.checkpoint_every=null",
              "trainer.sample_every=null", "evaluation.metrics=[]",
              *(f"loss_weights.{t}={{value: 1.0, start: 1}}" for t in ("d/adv", "g/adv"))]  # a warm-up of 1 step
    assert main(["train", str(recipe), "--out", str(run), *shrunk]) == 0
    assert (run / "checkpoints" / "last.pt").is_file()
    rows = [json.loads(line) for line in (run / "scalars.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    terms = [{k for k in row if k.startswith(("d/", "g/")) and not k.endswith("/total")} for row in rows]
    assert terms == [{"g/l1"}, {"d/adv", "g/adv", "g/l1"}]  # the warm-up step, then the adversarial one
    saved = load_config(run / "config.yaml", registry=registry)
    assert saved.generators["generator"].args["latent_channels"] == 256  # the recipe's quarter width
    # the run's own datasets: every utterance of the six training voices, one of each held-out voice
    pairs = {split: build_dataset(saved, registry, split, features=None).pairs for split in ("train", "valid")}
    assert sorted(p.speaker for p in pairs["train"]) == sorted(2 * train_voices)
    assert sorted(p.speaker for p in pairs["valid"]) == sorted(valid_voices)
    noisy = corpus / f"cmu_us_{valid_voices[0]}_arctic" / "wav_noisy_mix" / "arctic_a0002.wav"
    out = tmp_path / "enhanced"
    assert main(["enhance", str(run), str(noisy), "--out", str(out)]) == 0
    enhanced, rate = sf.read(out / "arctic_a0002.wav")
    assert (rate, enhanced.shape) == (RATE, (UTTERANCE,))
    assert np.isfinite(enhanced).all() and np.abs(enhanced).max() <= 1.0
    assert not np.allclose(enhanced, sf.read(noisy)[0], atol=1e-3)  # the generator's output, not the input
