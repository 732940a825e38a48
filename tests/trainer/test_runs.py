"""Runs through the library API: evaluation of a run directory and its safety checks."""

import pytest

from speechgan.errors import TrainingError
from speechgan.evaluate import evaluate_run
from speechgan.run import train

from ..conftest import write_yaml
from .conftest import BASE, merge

VOCODER = merge(BASE, {
    "objective": {"name": "vocoder"},
    "features": {"name": "frames", "args": {"hop": 8}},
    "generators": {"generator": {"name": "upsampler", "args": {"hop": 8}}},
    "discriminators": {"d": {"name": "wave_disc"}},
    "data": {"train": {"name": "waves"}, "batch_size": 4},
    "evaluation": {"metrics": [{"name": "pair_count"}]},
    "trainer": {"max_steps": 2},
})


def test_evaluate_run_writes_metrics(kit_registry, tmp_path):
    run = tmp_path / "run"
    assert train(write_yaml(tmp_path / "v.yaml", VOCODER), run, kit_registry) == {"pairs": 3.0}
    assert evaluate_run(run, registry=kit_registry) == {"pairs": 3.0}
    assert (run / "metrics.json").read_text().startswith('{\n  "step": 2,\n  "pairs": 3.0')


def test_checkpoint_with_another_front_end_is_refused(kit_registry, tmp_path):
    run = tmp_path / "run"
    train(write_yaml(tmp_path / "v.yaml", VOCODER), run, kit_registry)
    with pytest.raises(TrainingError, match=r"last.pt was trained with the front-end `features: frames` \(fingerprint "
                                            r"[0-9a-f]{16}\), but .*config.yaml with overrides features.args.hop=4 "
                                            r"generators.generator.args.hop=4 builds `features: frames` \(fingerprint "
                                            r"[0-9a-f]{16}\) \(features.args: hop 8 -> 4\): its generators would read"):
        evaluate_run(run, registry=kit_registry, overrides=["features.args.hop=4", "generators.generator.args.hop=4"])
