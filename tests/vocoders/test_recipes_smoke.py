"""Smoke test of every CPU-scale vocoder recipe: two CPU steps of the real recipe through the
command line, on a tiny eSpeak corpus in ``tmp_path``, then the held-out-voice evaluation that
``recipes/vocoder/README.md`` gives.

Shrunk by overrides, and only these: the corpus (3 prompts per voice instead of 200, one held out
per split), the batch (2 instead of 8) and the crop (2048 samples instead of 8192), and the run
(2 steps, no periodic checkpoint or sample), and a generator warm-up (``cpu/hifigan_v3.yaml``
starts its adversarial terms at step 6,000) moved to step 1, so that step 2 trains every term.
The models, discriminators, losses, optimizers, front-ends and metrics are the recipes' own, so
V1 runs its 13.92M-parameter generator.
"""

import json
from pathlib import Path

import pytest

from speechgan.cli import main
from speechgan.config import load_config
from speechgan_plugins.audio.corpus_synth import DEFAULT_SPEAKERS, synthesize_corpus

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "vocoder"
TRAIN_VOICES = ["alicia", "f3", "m1"]
HELD_OUT_VOICE = "m3"

# recipe -> (generator, discriminator roles, logged loss terms): a term of weight 0 is not computed
EXPECTED = {
    "hifigan_v1.yaml": ("hifigan_v1", {"mpd", "msd"}, {"d/adv", "g/adv", "g/fm", "g/mel"}),
    "hifigan_v2.yaml": ("hifigan_v2", {"mpd", "msd"}, {"d/adv", "g/adv", "g/fm", "g/mel"}),
    "hifigan_v3.yaml": ("hifigan_v3", {"mpd", "msd"}, {"d/adv", "g/adv", "g/fm", "g/mel"}),
    "melgan.yaml": ("melgan", {"msd"}, {"d/adv", "g/adv", "g/fm"}),
}
METRICS = {"log_mel_l1", "mr_stft", "pesq_wb"}


@pytest.fixture(scope="module")
def demo_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus's four default voices reading 3 prompts each (about 0.1 s to write)."""
    root = tmp_path_factory.mktemp("demo")
    synthesize_corpus(root, DEFAULT_SPEAKERS, sentences=3, progress=False, overwrite=True)
    return root



def warm_up(recipe: str) -> dict[str, int]:
    """``{term: first step}`` of the terms a CPU recipe switches on after a warm-up."""
    weights = load_config(RECIPES / "cpu" / recipe).loss_weights
    return {t: w.start for t, w in weights.items() if not isinstance(w, (int, float)) and w.start}


def shrunk(corpus: Path, recipe: str) -> list[str]:
    """The overrides named in the module docstring."""
    return [*(f"loss_weights.{t}.start=1" for t in warm_up(recipe)),
        f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}",
        "data.train.args.valid_size=1", "data.valid.args.valid_size=1",
        "data.train.args.segment_length=2048", "data.batch_size=2",
        "trainer.max_steps=2", "trainer.log_every=1", "trainer.checkpoint_every=null", "trainer.sample_every=null",
    ]


def test_every_cpu_recipe_has_a_smoke_test():
    assert sorted(p.name for p in (RECIPES / "cpu").glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("recipe", sorted(EXPECTED))
def test_cpu_recipe_keeps_the_paper_recipe_and_holds_out_a_voice(recipe):
    """The CPU variant changes the data, batch and run length, never the model or the losses."""
    paper, cpu = load_config(RECIPES / recipe), load_config(RECIPES / "cpu" / recipe)
    for section in ("objective", "generators", "discriminators", "features", "optim"):
        assert getattr(cpu, section) == getattr(paper, section), section
    # the paper's weights; a warm-up may delay the adversarial terms, never all of the run
    value = lambda w: w if isinstance(w, (int, float)) else w.value  # noqa: E731
    assert {t: value(w) for t, w in cpu.loss_weights.items()} == {t: value(w) for t, w in paper.loss_weights.items()}
    delayed = warm_up(recipe)
    assert set(delayed) <= {"d/adv", "g/adv", "g/fm"} and all(s < cpu.trainer.max_steps for s in delayed.values())
    generator, roles, _ = EXPECTED[recipe]
    assert cpu.generators["generator"].name == generator and set(cpu.discriminators) == roles
    train, valid = cpu.data.train.args, cpu.data.valid.args
    assert (cpu.data.train.name, cpu.data.valid.name) == ("cmu_arctic", "cmu_arctic")
    assert train["speakers"] == valid["speakers"] == TRAIN_VOICES
    assert (train["split"], valid["split"]) == ("train", "valid")
    assert train["valid_size"] == valid["valid_size"] and train["test_size"] == valid["test_size"]
    assert {m.name for m in cpu.evaluation.metrics} == {"log_mel_l1", "mr_stft", "pesq"}


@pytest.mark.parametrize("recipe", sorted(EXPECTED))
def test_cpu_recipe_trains_two_steps_and_evaluates_on_held_out_utterances(recipe, demo_corpus, tmp_path, one_thread):
    run = tmp_path / "run"
    assert main(["train", str(RECIPES / "cpu" / recipe), "--out", str(run), *shrunk(demo_corpus, recipe)]) == 0
    rows = [json.loads(line) for line in (run / "scalars.jsonl").read_text().splitlines()]
    losses = [r for r in rows if "g/total" in r]  # the end-of-run evaluation adds a row of metrics
    assert [r["step"] for r in losses] == [1, 2]
    logged = [{k for k in r if k.startswith(("d/", "g/")) and not k.endswith("/total")} for r in losses]
    assert logged[-1] == EXPECTED[recipe][2]
    if warm_up(recipe):  # step 1 trained G alone on the mel loss: D did not run
        assert logged[0] == {"g/mel"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["step"] == 2 and METRICS <= metrics.keys()
    assert metrics["log_mel_l1"] > 0 and metrics["mr_stft"] > 0


def test_held_out_voice_evaluation_command_of_the_readme(demo_corpus, tmp_path, one_thread):
    """``speechgan evaluate RUN data.valid.args.speakers=[m3]`` scores the voice never trained on."""
    run = tmp_path / "run"
    assert main(["train", str(RECIPES / "cpu" / "hifigan_v3.yaml"), "--out", str(run),
                 *shrunk(demo_corpus, "hifigan_v3.yaml")]) == 0
    seen = json.loads((run / "metrics.json").read_text())
    assert main(["evaluate", str(run), f"data.valid.args.speakers=[{HELD_OUT_VOICE}]"]) == 0
    unseen = json.loads((run / "metrics.json").read_text())
    assert METRICS <= unseen.keys() and unseen["log_mel_l1"] != seen["log_mel_l1"]
