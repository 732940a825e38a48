"""Smoke test of every image recipe: a few CPU steps of the real recipe through the CLI."""

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from speechgan.cli import main

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "image"

# every recipe, shrunk: 3 steps, small batches and channels, no metrics, samples logged once
SMALL = [
    "trainer.max_steps=3", "trainer.log_every=1", "trainer.sample_every=2", "trainer.checkpoint_every=null",
    "evaluation.metrics=[]", "data.batch_size=16",
    "generators.generator.args.base_channels=8", "discriminators.discriminator.args.base_channels=8",
]
TERMS = {
    "dcgan_digits.yaml": {"d/adv", "g/adv"},
    "cgan_digits.yaml": {"d/adv", "g/adv"},
    "acgan_digits.yaml": {"d/adv", "d/cls", "g/adv", "g/cls"},
    "image_to_label_digits.yaml": {"d/adv", "g/adv", "g/sup"},
    "image_to_label_digits_supervised.yaml": {"d/adv", "g/sup"},
}


def test_every_image_recipe_has_a_smoke_test():
    assert sorted(p.name for p in RECIPES.glob("*.yaml")) == sorted(TERMS)



@pytest.mark.parametrize("recipe", sorted(TERMS))
def test_recipe_trains_a_few_steps(recipe, tmp_path, one_thread):
    out = tmp_path / "r"
    extra = ["data.train.args.num_samples=64"] if recipe.startswith("image_to_label") else []
    assert main(["train", str(RECIPES / recipe), "--out", str(out), *SMALL, *extra]) == 0
    assert (out / "checkpoints" / "last.pt").is_file()
    rows = [json.loads(line) for line in (out / "scalars.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    logged = {k for k in rows[-1] if k.startswith(("d/", "g/")) and not k.endswith("/total")}
    assert logged == TERMS[recipe]


def test_dcgan_recipe_on_mnist_style_idx_files_at_28_pixels(tmp_path, one_thread):
    """The README's MNIST command, on tiny IDX files: 28x28 DCGAN through the real trainer."""
    pixels = np.random.default_rng(0).integers(0, 256, size=(32, 28, 28), dtype=np.uint8)
    labels = np.arange(32, dtype=np.uint8) % 10
    for name, array, dims in (("images", pixels, 3), ("labels", labels, 1)):
        head = bytes([0, 0, 0x08, dims]) + struct.pack(f">{dims}I", *array.shape)
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(head + array.tobytes()))
    data = (f"data.train={{name: idx_images, args: {{images: {tmp_path / 'images.gz'}, "
            f"labels: {tmp_path / 'labels.gz'}}}}}")
    out = tmp_path / "r"
    args = ["train", str(RECIPES / "dcgan_digits.yaml"), "--out", str(out), *SMALL, data, "~data.valid",
            "generators.generator.args.image_size=28", "discriminators.discriminator.args.image_size=28"]
    assert main(args) == 0
    config = (out / "config.yaml").read_text()
    assert "idx_images" in config and "image_size: 28" in config
    assert (out / "checkpoints" / "last.pt").is_file()
