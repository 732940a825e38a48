"""Each toy recipe trains for a few CPU steps through the command line and reports its metrics."""

import json
from pathlib import Path

import pytest

from speechgan.cli import main

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "toy"


@pytest.mark.parametrize("recipe", ["ring8.yaml", "grid25.yaml"])
def test_recipe_trains_30_steps_and_writes_mode_coverage(recipe, tmp_path):
    run = tmp_path / "r"
    argv = ["train", str(RECIPES / recipe), "--out", str(run), "trainer.max_steps=30", "data.train.args.num_samples=4096"]
    assert main(argv) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["step"] == 30
    assert {"modes_captured", "high_quality_fraction"} <= metrics.keys()
    assert 0 <= metrics["modes_captured"] <= metrics["num_modes"]
    assert (run / "eval" / "scatter_step00000030.png").exists()
