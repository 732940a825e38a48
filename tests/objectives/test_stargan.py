"""The stargan objective (StarGAN-VC, Kameoka et al. 2018): targets, terms, conversion, and its CPU recipe.

Every real segment gets a target speaker drawn among the others; D judges (features, speaker)
pairs, the classifier learns the real speakers in the D round and scores the conversions in the
G round; cycle and identity are L1. The CPU recipe trains two steps on four eSpeak voices and
converts between voices on the same side and across sides.
"""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from speechgan.errors import DataError
from speechgan_plugins.losses import NonSaturating
from speechgan_plugins.objectives.stargan import StarGAN, other_speakers
from speechgan_plugins.voice_conversion import StarGANVCClassifier, StarGANVCDiscriminator, StarGANVCGenerator

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "vc" / "cpu" / "stargan_vc.yaml"


def test_targets_are_uniform_over_the_other_speakers():
    torch.manual_seed(0)
    source = torch.arange(4).repeat(2500)  # (10000,)
    target = other_speakers(source, 4)
    assert not (target == source).any()
    for s in range(4):  # each of the 3 others about a third of the time
        counts = torch.bincount(target[source == s], minlength=4).float() / 2500
        assert counts[s] == 0 and torch.allclose(counts[torch.arange(4) != s], torch.full((3,), 1 / 3), atol=0.04)
    with pytest.raises(DataError) as error:
        other_speakers(source, 1)
    assert str(error.value) == "StarGAN-VC converts between speakers: the generator knows 1, needs at least 2"


def modules(n_speakers: int = 4) -> tuple[nn.ModuleDict, nn.ModuleDict]:
    g = nn.ModuleDict({"generator": StarGANVCGenerator(n_speakers=n_speakers, n_features=36)})
    d = nn.ModuleDict({"discriminator": StarGANVCDiscriminator(n_speakers=n_speakers, n_features=36),
                       "classifier": StarGANVCClassifier(n_speakers=n_speakers)})
    return g, d


def batch() -> dict:
    return {"a": {"features": torch.randn(2, 36, 64), "speaker": torch.tensor([0, 1])},
            "b": {"features": torch.randn(2, 36, 64), "speaker": torch.tensor([2, 3])}}


def test_terms_pool_both_sides_and_match_their_closed_forms():
    torch.manual_seed(1)
    g, d = modules()
    objective = StarGAN(criterion=NonSaturating())
    data = batch()
    state = objective.generate(data, g=g, step=0)
    x, source, target = state["x"], state["source"], state["target"]
    assert x.shape == state["fake"].shape == (4, 36, 64) and source.tolist() == [0, 1, 2, 3]
    assert not (target == source).any()
    weights = dict(objective.terms)
    d_terms = objective.discriminator_terms(data, state, g=g, d=d, step=0, weights=weights)
    assert torch.allclose(d_terms["d/cls"], nn.functional.cross_entropy(d["classifier"](x), source))
    g_terms = objective.generator_terms(data, state, g=g, d=d, step=0, weights=weights)
    assert set(g_terms) == {"g/adv", "g/cls", "g/cycle", "g/identity"}
    assert torch.allclose(g_terms["g/cls"], nn.functional.cross_entropy(d["classifier"](state["fake"]), target))
    back = g["generator"](state["fake"], source)
    assert torch.allclose(g_terms["g/cycle"], (back - x).abs().mean())
    assert torch.allclose(g_terms["g/identity"], (g["generator"](x, source) - x).abs().mean())
    off = objective.generator_terms(data, state, g=g, d=d, step=0, weights={**weights, "g/identity": 0.0})
    assert "g/identity" not in off  # skipped, not only weighted 0


def test_a_label_the_generator_does_not_know_is_refused():
    g, _ = modules(n_speakers=3)
    with pytest.raises(DataError) as error:
        StarGAN(criterion=NonSaturating()).generate(batch(), g=g, step=0)
    assert str(error.value) == ("StarGAN-VC: speaker label 3 in the batch, but the generator knows 3 speakers; "
                                "set generators.generator.args.n_speakers to the data's count")


def test_cpu_recipe_trains_and_converts_between_any_two_voices(tmp_path, one_thread):
    from speechgan.cli import main
    from speechgan.inference import load_run
    from speechgan_plugins.audio.corpus_synth import synthesize_corpus

    corpus = tmp_path / "corpus"
    synthesize_corpus(corpus, ["en-us+Alicia", "en-us+f3", "en-us+m1", "en-us+m3"], sentences=6, progress=False,
                      overwrite=True)
    run = tmp_path / "run"
    overrides = [f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}",
                 "data.train.args.parallel_size=2", "data.valid.args.parallel_size=2",
                 f"data.train.args.cache_dir={tmp_path / 'cache'}", f"data.valid.args.cache_dir={tmp_path / 'cache'}",
                 "evaluation.metrics=[]", "trainer.log_every=1", "trainer.checkpoint_every=null", "trainer.max_steps=2"]
    assert main(["train", str(RECIPE), "--out", str(run), *overrides]) == 0
    logged = json.loads((run / "scalars.jsonl").read_text().splitlines()[-1])
    assert {"d/adv", "d/cls", "g/adv", "g/cls", "g/cycle", "g/identity"} <= set(logged)
    loaded = load_run(run)
    assert loaded.objective.conversion_speakers() == {"a": ["alicia", "f3"], "b": ["m1", "m3"]}
    features = loaded.features(torch.zeros(22050) + 0.01 * torch.randn(22050))  # (C, N), any N
    for source, target in (("f3", "alicia"), ("f3", "m3"), ("m1", "alicia")):  # same side and across
        assert loaded.objective.convert(features, g=loaded.generators, source=source, target=target).shape == \
            features.shape
    with pytest.raises(DataError) as error:
        loaded.objective.convert(features, g=loaded.generators, source="f3", target="f3")
    assert str(error.value) == "source and target are both 'f3'; name another target"
    out = tmp_path / "converted"
    wav = next((corpus / "cmu_us_f3_arctic" / "wav").glob("*.wav"))
    assert main(["convert", str(run), str(wav), "--out", str(out), "--source", "f3", "--target", "m3"]) == 0
    assert (out / wav.name).is_file()
