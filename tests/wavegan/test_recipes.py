"""The WaveGAN and SpecGAN recipes hold the paper's settings, the CPU variants change only what they say, and train.

Donahue, McAuley & Puckette, ICLR 2019 ("Adversarial Audio Synthesis", section 5 and the appendix's
hyper-parameter table): WGAN-GP (Gulrajani et al. 2017) with lambda 10 and 5 critic steps per
generator step, Adam lr 1e-4 and betas (0.5, 0.9), batch 64, z of 100 ~ U(-1, 1), model size d = 64,
WaveGAN's phase shuffle 2, 16,384-sample clips at 16 kHz; SpecGAN's 128 x 128 spectrograms inverted by
16 Griffin-Lim iterations. Both pairs have G 19,065,345 and D 17,427,969 parameters (SpecGAN's 5 x 5
kernels hold as many weights as WaveGAN's length-25 ones). The conditional recipe (not in the paper)
adds the digit through ``cgan`` (Mirza & Osindero 2014) and a projection D (Miyato & Koyama 2018).

The CPU variants (d = 8, batch 32, the offline eSpeak digits) train two steps through the command on
their first line, on ten tone "digits" in the Speech Commands layout in tmp_path, shrunk by overrides
of the data roots, the batch (the tiny corpus has 20 training clips), the run length and the metrics
only; the run then writes clips with ``speechgan generate``, and ``speechgan evaluate`` scores one
with ``digits_inception_score`` and a tiny classifier trained into tmp_path.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from scipy.special import rel_entr

from speechgan.cli import main
from speechgan.config import load_config
from speechgan.objective import draw_latent
from speechgan.plugins import get_plugin_manager
from speechgan_plugins.wavegan.classifier import load_digit_classifier, sc09_clips

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
from .kit import TINY, write_digits

pytestmark = pytest.mark.usefixtures("one_thread")

RECIPES = ROOT / "recipes" / "wavegan"
PAPER_G, PAPER_D = 19_065_345, 17_427_969  # Donahue et al. 2019 at d = 64, WaveGAN and SpecGAN alike
SLICE = 16384  # samples per clip at 16 kHz, about 1 s
WASSERSTEIN = {"name": "wasserstein", "args": {}}  # the criterion as a validated config spells it

# every recipe -> the paper recipe it varies (itself for the paper's)
BASES = {
    "wavegan.yaml": "wavegan.yaml",
    "specgan.yaml": "specgan.yaml",
    "wavegan_conditional.yaml": "wavegan.yaml",
    "cpu/wavegan.yaml": "wavegan.yaml",
    "cpu/specgan.yaml": "specgan.yaml",
    "cpu/specgan_conditional.yaml": "specgan.yaml",
}
# what a CPU variant may change: model width (checked by building it at the paper's width below), data,
# batch size, run length, logging and checkpoint cadence, the evaluation's cadence and sample counts
CPU_MAY_CHANGE = {
    "description", "generators.generator.name", "generators.generator.args.*",
    "discriminators.discriminator.name", "discriminators.discriminator.args.*",
    "data.train.args.root", "data.valid.args.root", "data.batch_size", "data.num_workers",
    "trainer.max_steps", "trainer.log_every", "trainer.checkpoint_every", "trainer.keep_checkpoints",
    "trainer.sample_every", "evaluation.every", "evaluation.metrics.*.args.n",
}


# -- every recipe -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry():
    return get_plugin_manager(strict=True).registry


def test_every_recipe_is_covered():
    assert sorted(str(p.relative_to(RECIPES)) for p in RECIPES.rglob("*.yaml")) == sorted(BASES)


@pytest.mark.parametrize("recipe", sorted(BASES))
def test_recipe_validates_and_starts_with_its_exact_train_command(recipe, registry):
    check_header(RECIPES / recipe, registry)


# -- the paper's settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(("recipe", "objective"), [("wavegan.yaml", "gan"), ("specgan.yaml", "specgan")])
def test_paper_recipes_keep_the_published_settings(recipe, objective, registry):
    config = load_config(RECIPES / recipe, registry=registry)
    # Donahue et al. 2019, appendix table: WGAN-GP, lambda 10, 5 D updates per G update, Adam 1e-4 (0.5, 0.9), batch 64
    assert config.objective.name == objective and config.objective.args["criterion"] == WASSERSTEIN
    assert weights_at(config, 0) == {"d/adv": 1.0, "d/gp": 10.0, "g/adv": 1.0}
    assert config.trainer.d_steps_per_g == 5
    for group in ("generator", "discriminator"):
        spec = config.optim[group]
        assert (spec.name, spec.lr, spec.args, spec.scheduler) == ("adam", 1e-4, {"betas": [0.5, 0.9]}, None)
    assert config.data.batch_size == 64
    assert (config.data.train.name, config.data.train.args) == ("speech_commands", {"root": "data/sc09",
                                                                                   "split": "train"})
    clips = inspect.signature(registry.get("dataset", "speech_commands").factory).parameters
    assert (clips["length"].default, clips["sample_rate"].default) == (SLICE, 16000)  # padded or cut to 16,384
    g = build(registry, "generator", config.generators["generator"])
    d = build(registry, "discriminator", config.discriminators["discriminator"]).eval()
    assert (count(g), count(d)) == (PAPER_G, PAPER_D)  # d = 64
    assert (g.latent_dim, g.latent_distribution) == (100, "uniform")  # z of 100 ~ U(-1, 1)
    z = draw_latent(g, 4096, torch.device("cpu"))
    assert z.shape == (4096, 100) and -1 <= z.min() < -0.99 and 0.99 < z.max() <= 1
    fake = g(torch.zeros(2, 100, device="meta"))
    assert d(fake).shape == (2, 1)
    if objective == "gan":  # WaveGAN: 16,384 samples at 16 kHz, phase shuffle of radius 2 in D
        assert fake.shape == (2, 1, SLICE) and g.sample_rate == 16000
        assert d.shuffle.radius == 2
    else:  # SpecGAN: 128 x 128 spectrograms of 16,384-sample clips, 16 Griffin-Lim iterations
        assert fake.shape == (2, 1, 128, 128)
        assert config.objective.args["griffin_lim_iters"] == 16


def test_conditional_recipe_is_wavegan_with_ten_digit_classes_and_a_projection_discriminator(registry):
    config = load_config(RECIPES / "wavegan_conditional.yaml", registry=registry)
    paper = load_config(RECIPES / "wavegan.yaml", registry=registry)
    assert config.objective.name == "cgan" and config.objective.args == {"num_classes": 10, "criterion": WASSERSTEIN}
    assert outside(differing_keys(paper, config), {
        "description", "objective.name", "objective.args.num_classes", "generators.generator.args.num_classes",
        "discriminators.discriminator.args.num_classes", "discriminators.discriminator.args.conditioning",
        "evaluation.metrics.2.*"}) == set()
    assert [(m.name, m.args) for m in config.evaluation.metrics][2] == ("digits_label_accuracy", {"n": 1000})
    g = build(registry, "generator", config.generators["generator"])
    d = build(registry, "discriminator", config.discriminators["discriminator"])
    assert (g.num_classes, d.num_classes, d.conditioning) == (10, 10, "projection")
    # the paper's pair plus the label codes: G's embedding (10 x 10) and the dense layer's 10 more inputs
    # (10 x 16d x 16), D's projection V (10 x 16d x 16)
    assert count(g) == PAPER_G + 10 * 10 + 10 * 1024 * 16
    assert count(d) == PAPER_D + 10 * 1024 * 16


# -- the CPU variants ---------------------------------------------------------------------------------


@pytest.mark.parametrize("recipe", ["cpu/wavegan.yaml", "cpu/specgan.yaml"])
def test_cpu_variant_differs_from_the_paper_only_in_width_data_batch_run_length_and_sample_counts(recipe, registry):
    paper = load_config(RECIPES / BASES[recipe], registry=registry)
    cpu = load_config(RECIPES / recipe, registry=registry)
    assert outside(differing_keys(paper, cpu), CPU_MAY_CHANGE) == set()
    assert cpu.data.train.args["root"] == cpu.data.valid.args["root"] == "data/digits"
    assert cpu.data.batch_size == 32
    assert [m.name for m in cpu.evaluation.metrics] == [m.name for m in paper.evaluation.metrics]
    for kind, section in (("generator", "generators"), ("discriminator", "discriminators")):
        spec, paper_spec = getattr(cpu, section)[kind], getattr(paper, section)[kind]
        assert spec.args["d"] == 8 and f"{spec.name}_paper" == paper_spec.name
        # at the paper's width d = 64 the CPU model is the paper's model, layer for layer
        wide = build(registry, kind, spec.model_copy(update={"args": {**spec.args, "d": 64}}))
        assert architecture(wide) == architecture(build(registry, kind, paper_spec))


def test_cpu_conditional_specgan_is_cpu_specgan_with_ten_digit_classes_and_a_projection_discriminator(registry):
    config = load_config(RECIPES / "cpu/specgan_conditional.yaml", registry=registry)
    base = load_config(RECIPES / "cpu/specgan.yaml", registry=registry)
    assert config.objective.name == "specgan" and config.objective.args["num_classes"] == 10
    assert outside(differing_keys(base, config), {
        "description", "objective.args.num_classes", "generators.generator.args.num_classes",
        "discriminators.discriminator.args.num_classes", "discriminators.discriminator.args.conditioning",
        "trainer.max_steps", "evaluation.metrics.*"}) == set()
    assert config.trainer.max_steps == 2000
    assert [(m.name, m.args) for m in config.evaluation.metrics] == [
        ("digits_inception_score", {"n": 1000}), ("digits_label_accuracy", {"n": 1000})]
    g = build(registry, "generator", config.generators["generator"])
    d = build(registry, "discriminator", config.discriminators["discriminator"])
    assert (g.num_classes, d.num_classes, d.conditioning) == (10, 10, "projection")
    # cpu/specgan.yaml's pair (479,169 and 274,497 at d = 8) plus G's label embedding (10 x 10) and the
    # dense layer's 10 more inputs (10 x 16d x 16), and D's projection V (10 x 16d x 16)
    assert (count(g), count(d)) == (479_169 + 10 * 10 + 10 * 128 * 16, 274_497 + 10 * 128 * 16) == (499_749, 294_977)


# -- smoke: two steps of each CPU recipe, then generate and evaluate ---------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Ten tone "digits" x speakers s0, s1 (train), s2 (valid), s3 (test), one second each."""
    return write_digits(tmp_path_factory.mktemp("sc09") / "digits")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, corpus):
    """``trained(recipe)``: the run directory of the recipe's train command, two steps (trained once)."""
    runs: dict[str, Path] = {}

    def train(recipe: str) -> Path:
        if recipe not in runs:
            config, _ = train_command(RECIPES / recipe)
            out = tmp_path_factory.mktemp("run") / "run"
            shrunk = [f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}", "data.batch_size=4",
                      "trainer.max_steps=2", "trainer.log_every=1", "trainer.checkpoint_every=null",
                      "trainer.sample_every=null", "evaluation.metrics=[]"]
            assert main(["train", str(config), "--out", str(out), *shrunk]) == 0
            runs[recipe] = out
        return runs[recipe]

    return train


@pytest.mark.parametrize("recipe", ["cpu/wavegan.yaml", "cpu/specgan.yaml"])
def test_cpu_recipe_trains_two_steps_and_its_run_generates_clips(recipe, trained, tmp_path):
    run = trained(recipe)
    assert (run / "checkpoints" / "last.pt").is_file()
    rows = [json.loads(line) for line in (run / "scalars.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    assert {k for k in rows[-1] if k.startswith(("d/", "g/")) and not k.endswith("/total")} == {"d/adv", "d/gp",
                                                                                              "g/adv"}
    saved = load_config(run / "config.yaml")
    assert saved.generators["generator"].args["d"] == saved.discriminators["discriminator"].args["d"] == 8
    if "specgan" in recipe:  # per-bin statistics over every frame of the 20 training clips, kept in the run
        stats = json.loads((run / "specgan_stats.json").read_text())
        assert stats["frames"] == 20 * 128 and len(stats["mean"]) == len(stats["std"]) == 256 // 2 + 1
    out = tmp_path / "clips"
    assert main(["generate", str(run), "-n", "2", "--out", str(out), "--seed", "0"]) == 0
    for k in range(2):
        wave, rate = sf.read(out / f"sample_{k:03d}.wav")
        assert (rate, wave.shape) == (16000, (SLICE,)) and np.abs(wave).max() > 1e-3


def test_cpu_conditional_recipe_trains_two_steps_and_generates_the_digit_asked_for(trained, tmp_path):
    run = trained("cpu/specgan_conditional.yaml")
    saved = load_config(run / "config.yaml")
    assert saved.discriminators["discriminator"].args["conditioning"] == "projection"
    out = tmp_path / "seven"
    assert main(["generate", str(run), "-n", "2", "--label", "seven", "--out", str(out), "--seed", "0"]) == 0
    for k in range(2):
        wave, rate = sf.read(out / f"seven_{k:03d}.wav")  # named by the class asked for
        assert (rate, wave.shape) == (16000, (SLICE,)) and np.abs(wave).max() > 1e-3
    assert main(["generate", str(run), "-n", "1", "--label", "eleven", "--out", str(tmp_path / "x")]) != 0


def test_evaluate_scores_a_cpu_run_with_a_tiny_digit_classifier(trained, corpus, tmp_path, monkeypatch):
    """Inception scores of 4 generated clips in 2 splits lie in [1, 2]; the real one is the classifier's own."""
    monkeypatch.setenv("SPEECHGAN_CACHE", str(tmp_path / "cache"))
    run = trained("cpu/wavegan.yaml")
    metric = {"name": "digits_inception_score", "args": {"n": 4, "splits": 2, "batch_size": 4, "classifier": TINY}}
    assert main(["evaluate", str(run), f"evaluation.metrics=[{json.dumps(metric)}]"]) == 0
    scores = json.loads((run / "metrics.json").read_text())
    assert scores["step"] == 2
    assert 1.0 <= scores["inception_score"] <= 2.0  # exp(I(x; y)) <= 2 clips per split
    assert len(list((tmp_path / "cache").glob("sc09_classifier-*.pt"))) == 1
    # the real score by hand: the cached classifier's predictions on the 10 test clips, shuffled with seed 0
    _, probs = load_digit_classifier(corpus, TINY).embed(sc09_clips(corpus, "test")[0])
    probs = probs[torch.randperm(10, generator=torch.Generator().manual_seed(0))].double().numpy()
    by_hand = np.mean([np.exp(rel_entr(p, p.mean(0)).sum(1).mean()) for p in (probs[:5], probs[5:])])
    assert scores["inception_score_real"] == pytest.approx(by_hand, rel=1e-5)
