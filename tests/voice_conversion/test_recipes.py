"""The voice-conversion recipes hold the papers' settings, and the CPU variants change only what they say.

CycleGAN-VC (Kaneko & Kameoka 2018) and CycleGAN-VC2 (Kaneko et al. 2019): least-squares GAN,
cycle 10, identity 5 for the first 10^4 iterations then 0; Adam 2e-4 (G), 1e-4 (D), betas
(0.5, 0.999); batch 1 of 128-frame segments; WORLD with 5 ms frames (24 mel-cepstra at 16 kHz
for CycleGAN-VC, 36 at 22.05 kHz for VC2); VC2 adds the second-step discriminators. The CPU
variants (recipes/vc/README.md) narrow the networks and change the data and the run length
only; the training run itself is smoke-tested in test_speaker_norm.py.
"""

from pathlib import Path

import pytest
import torch

from speechgan.config import load_config

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "vc"


def weights_at(config, step: int) -> dict[str, float]:
    return {term: config.weight(term, step, float("nan")) for term in config.loss_weights}


@pytest.mark.parametrize(("recipe", "coefficients", "rate", "two_step"), [
    ("cyclegan_vc.yaml", 24, 16000, False),
    ("cyclegan_vc2.yaml", 36, 22050, True),
    ("cpu/cyclegan_vc2.yaml", 36, 22050, True),
    ("cpu/cyclegan_vc2_same_gender.yaml", 36, 22050, True),
    ("demo.yaml", 36, 22050, True),
])
def test_recipes_keep_the_papers_losses_optimisers_and_features(recipe, coefficients, rate, two_step):
    config = load_config(RECIPES / recipe)
    assert config.objective.name == "cyclegan"
    assert config.objective.args == {"criterion": "least_squares", "speaker_norm": True}
    adv2 = {"d/adv2": 1.0, "g/adv2": 1.0} if two_step else {}
    assert weights_at(config, 0) == {"d/adv": 1.0, "g/adv": 1.0, "g/cycle": 10.0, "g/identity": 5.0, **adv2}
    assert weights_at(config, 9999)["g/identity"] == 5.0
    assert weights_at(config, 10000) == {"d/adv": 1.0, "g/adv": 1.0, "g/cycle": 10.0, "g/identity": 0.0, **adv2}
    roles = {"a", "b", "a2", "b2"} if two_step else {"a", "b"}
    assert set(config.discriminators) == roles
    optim = config.optim
    assert (optim["generator"].name, optim["generator"].lr, optim["generator"].args) == (
        "adam", 2e-4, {"betas": [0.5, 0.999]})
    assert (optim["discriminator"].name, optim["discriminator"].lr, optim["discriminator"].args) == (
        "adam", 1e-4, {"betas": [0.5, 0.999]})
    assert optim["generator"].scheduler is None and optim["discriminator"].scheduler is None
    features = config.features.args
    assert config.features.name == "world" and features["sample_rate"] == rate
    assert features["order"] + 1 == coefficients
    hop = features["hop_length"]
    assert abs(1000 * hop / rate - 5.0) < 0.02  # 5 ms frames (110 samples at 22.05 kHz: 4.99 ms)
    assert config.data.batch_size == 1
    train = config.data.train.args
    assert train["segment_length"] == 128 * hop  # 128-frame segments
    assert train.get("sample_rate", 22050) == config.data.valid.args.get("sample_rate", 22050) == rate
    assert train["prompts"] == "disjoint" and config.data.valid.args["prompts"] == "disjoint"
    assert train["parallel_size"] == config.data.valid.args["parallel_size"] == 20
    for spec in (*config.generators.values(), *config.discriminators.values()):
        assert spec.args["n_features"] == coefficients


def test_cpu_variants_differ_from_the_paper_recipe_only_in_width_data_and_run_length():
    paper = load_config(RECIPES / "cyclegan_vc2.yaml").model_dump(mode="json")
    allowed = {"description", "generators", "discriminators", "data", "trainer", "evaluation"}
    for recipe in ("cpu/cyclegan_vc2.yaml", "cpu/cyclegan_vc2_same_gender.yaml", "demo.yaml"):
        cpu = load_config(RECIPES / recipe).model_dump(mode="json")
        assert {k for k in paper if paper[k] != cpu[k]} <= allowed, recipe
        for section in ("generators", "discriminators"):
            for role, spec in cpu[section].items():
                assert spec["name"] == paper[section][role]["name"]
                assert {k: v for k, v in spec["args"].items() if k != "channels"} == paper[section][role]["args"]
                assert spec["args"]["channels"] == 32
        assert cpu["data"]["batch_size"] == 1
        assert cpu["data"]["train"]["args"]["segment_length"] == paper["data"]["train"]["args"]["segment_length"]


def test_the_pairs_are_cross_gender_and_same_gender_demo_voices():
    sides = {}
    for recipe in ("cpu/cyclegan_vc2.yaml", "cpu/cyclegan_vc2_same_gender.yaml"):
        args = load_config(RECIPES / recipe).data.train.args
        sides[recipe] = (args["speakers_a"], args["speakers_b"], args["root"], args["layout"])
    assert sides["cpu/cyclegan_vc2.yaml"] == (["f3"], ["m1"], "data/demo", "cmu_arctic")  # female -> male
    assert sides["cpu/cyclegan_vc2_same_gender.yaml"] == (["m1"], ["m3"], "data/demo", "cmu_arctic")  # male -> male


@pytest.mark.parametrize(("recipe", "vocoder"), [("maskcyclegan_vc.yaml", "hifigan_v1.yaml"),
                                                 ("cpu/maskcyclegan_vc.yaml", "cpu/hifigan_v3.yaml")])
def test_maskcyclegan_reads_its_vocoders_mel_and_fills_in_frames(recipe, vocoder):
    """MaskCycleGAN-VC: 80-bin log-mels that the named vocoder recipe was trained on (same fingerprint), FIF up
    to 25 frames, 64-frame segments, CycleGAN-VC2's losses and optimisers."""
    from speechgan.build import build_models
    from speechgan.inference import _registry

    registry = _registry()
    config = load_config(RECIPES / recipe)
    paired = load_config(RECIPES.parent / "vocoder" / vocoder)
    mine = build_models(config, registry, discriminators=False).features
    theirs = build_models(paired, registry, discriminators=False).features
    assert mine.fingerprint == theirs.fingerprint
    assert config.objective.args == {"criterion": "least_squares", "speaker_norm": True, "fif_max_frames": 25}
    assert weights_at(config, 0) == {"d/adv": 1.0, "d/adv2": 1.0, "g/adv": 1.0, "g/adv2": 1.0, "g/cycle": 10.0,
                                     "g/identity": 5.0}
    assert weights_at(config, 10000)["g/identity"] == 0.0
    assert config.data.train.args["segment_length"] == 64 * config.features.args["hop_length"]
    assert {spec.name for spec in config.generators.values()} == {"maskcyclegan_vc"}
    assert {spec.name for spec in config.discriminators.values()} == {"maskcyclegan_vc_d"}
    assert set(config.discriminators) == {"a", "b", "a2", "b2"}
    (metric,) = config.evaluation.metrics
    assert metric.name == "voice_conversion" and metric.args["vocoder"].startswith("runs/")


def test_cpu_maskcyclegan_recipe_trains_two_steps_with_per_bin_mel_statistics(tmp_path, one_thread):
    """The mel pipeline end to end: log-mel features, channel statistics per speaker, FIF, two-step loss."""
    import json

    from speechgan.cli import main
    from speechgan.inference import load_run
    from speechgan_plugins.audio.corpus_synth import synthesize_corpus

    corpus = tmp_path / "corpus"
    synthesize_corpus(corpus, ["en-us+f3", "en-us+m1"], sentences=6, progress=False, overwrite=True)
    run = tmp_path / "run"
    narrow = [f"{section}.{role}.args.channels=8" for section, roles in
              (("generators", ("a2b", "b2a")), ("discriminators", ("a", "b", "a2", "b2"))) for role in roles]
    overrides = [f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}",
                 "data.train.args.parallel_size=2", "data.valid.args.parallel_size=2",
                 f"data.train.args.cache_dir={tmp_path / 'cache'}", f"data.valid.args.cache_dir={tmp_path / 'cache'}",
                 "evaluation.metrics=[]", "trainer.log_every=1", "trainer.checkpoint_every=null",
                 "trainer.max_steps=2", *narrow]
    assert main(["train", str(RECIPES / "cpu" / "maskcyclegan_vc.yaml"), "--out", str(run), *overrides]) == 0
    stats = json.loads((run / "speaker_stats.json").read_text())["speakers"]
    assert set(stats) == {"f3", "m1"} and all(len(s["mean"]) == 80 and "log_f0_mean" not in s for s in stats.values())
    logged = json.loads((run / "scalars.jsonl").read_text().splitlines()[-1])
    assert {"g/adv", "g/adv2", "g/cycle", "g/identity", "d/adv", "d/adv2"} <= set(logged)
    loaded = load_run(run)
    mel = loaded.features(torch.zeros(22050))  # (80, N): one second of silence, any length
    converted = loaded.objective.convert(mel, g=loaded.generators, source="f3", target="m1")
    assert converted.shape == mel.shape


@pytest.mark.parametrize("recipe", ["stargan_vc.yaml", "cpu/stargan_vc.yaml"])
def test_stargan_recipes_have_four_speakers_unit_weights_and_disjoint_sides(recipe):
    config = load_config(RECIPES / recipe)
    assert config.objective.name == "stargan" and config.objective.args["speaker_norm"] is True
    assert weights_at(config, 0) == dict.fromkeys(["d/adv", "d/cls", "g/adv", "g/cls", "g/cycle", "g/identity"], 1.0)
    train = config.data.train.args
    speakers = [*train["speakers_a"], *train["speakers_b"]]
    assert len(set(speakers)) == 4 and train["prompts"] == "disjoint"
    for spec in (config.generators["generator"], *config.discriminators.values()):
        assert spec.args["n_speakers"] == 4
    for group in ("generator", "discriminator"):
        assert (config.optim[group].lr, config.optim[group].args) == (1e-4, {"betas": [0.5, 0.999]})
