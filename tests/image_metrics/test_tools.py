"""Sample grids, latent interpolation and arithmetic, and the ``speechgan image`` commands."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.image
import torch
from click.testing import CliRunner
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

import speechgan_plugins.image as image_plugin
import speechgan_plugins.image.metrics as image_metrics
import speechgan_plugins.losses as losses_plugin
import speechgan_plugins.objectives as objectives_plugin
from speechgan import hookimpl
from speechgan.build import build_models
from speechgan.checkpoint import save_checkpoint
from speechgan.cli import build_cli
from speechgan.config import load_config
from speechgan.plugins import SpeechganPluginManager, get_plugin_manager
from speechgan_plugins.image.tools import (
    image_grid,
    interpolate_latents,
    interpolation_rows,
    latent_arithmetic,
    save_image_grid,
)

from ..conftest import write_yaml


class TinyGenerator(nn.Module):
    """z (B, latent_dim) -> (B, 1, 8, 8) through one linear layer and tanh."""

    def __init__(self, latent_dim: int = 3) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Linear(latent_dim, 64)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(z)).view(-1, 1, 8, 8)


class Recorder(nn.Module):
    """A conditional "generator" whose image shows its input: z in the first pixels, the label in the last."""

    latent_dim, num_classes = 2, 3

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(len(z), 1, 8, 8)
        out.view(len(z), -1)[:, :2] = z
        out.view(len(z), -1)[:, -1] = labels.float()
        return out


class TinyPlugin:
    @hookimpl
    def speechgan_register_generators(self, register):  # type: ignore[no-untyped-def]
        register("tiny_image", TinyGenerator)


def _plugins() -> SpeechganPluginManager:
    plugins = [
        ("losses", losses_plugin), ("objectives", objectives_plugin), ("image", image_plugin),
        ("image_metrics", image_metrics), ("tiny", TinyPlugin()),
    ]
    return get_plugin_manager(entry_points=False, strict=True, plugins=plugins)


def _config(objective: dict, generator: dict, discriminator: dict) -> dict:
    adam = {"name": "adam", "lr": 1e-3}
    return {
        "objective": objective,
        "generators": {"generator": generator},
        "discriminators": {"discriminator": discriminator},
        "data": {"train": {"name": "digits", "args": {"split": "train"}}},
        "optim": {"generator": adam, "discriminator": adam},
        "trainer": {"max_steps": 1},
    }


UNCONDITIONAL = _config(
    {"name": "gan"},
    {"name": "tiny_image", "args": {"latent_dim": 3}},
    {"name": "dcgan", "args": {"image_size": 8, "base_channels": 4}},
)
CONDITIONAL = _config(
    {"name": "cgan", "args": {"num_classes": 10}},
    {"name": "dcgan", "args": {"image_size": 8, "latent_dim": 4, "base_channels": 4, "num_classes": 10}},
    {"name": "dcgan", "args": {"image_size": 8, "base_channels": 4, "conditioning": "projection", "num_classes": 10}},
)


def make_run(run_dir: Path, pm: SpeechganPluginManager, config: dict, *, ema: bool = False) -> None:
    """A run directory with config.yaml and checkpoints/last.pt (with an updated EMA if ``ema``)."""
    write_yaml(run_dir / "config.yaml", config)
    models = build_models(load_config(run_dir / "config.yaml", registry=pm.registry), pm.registry, discriminators=False)
    state: dict = {"step": 1, "generators": models.generators.state_dict(), "ema": {}, "features": None}
    if ema:
        averaged = AveragedModel(models.generators["generator"], multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)
        averaged.update_parameters(models.generators["generator"])
        state["ema"] = {"generator": averaged.state_dict()}
    save_checkpoint(state, run_dir / "checkpoints" / "last.pt")


def png_shape(path: Path) -> tuple[int, ...]:
    return matplotlib.image.imread(path).shape


# -- grids -----------------------------------------------------------------------------------


def test_image_grid_places_images_with_padding_and_scale(tmp_path: Path) -> None:
    images = torch.linspace(-1, 1, 10)[:, None, None, None].expand(10, 1, 8, 8)  # constant images
    grid = image_grid(images, per_row=4, padding=1, scale=3)
    assert grid.shape == (3 * 25 + 1, 4 * 25 + 1, 3) and grid.dtype.name == "uint8"
    assert grid[1, 1].tolist() == [0, 0, 0]  # image 0 is -1: black
    assert grid[2 * 25 + 1, 25 + 1].tolist() == [255, 255, 255]  # image 9 (row 2, column 1) is +1: white
    assert grid[0, 0].tolist() == [128, 128, 128]  # padding
    assert grid[-2, -2].tolist() == [128, 128, 128]  # the empty places of the last row
    path = save_image_grid(images, tmp_path / "grid.png", per_row=4, padding=1, scale=3)
    assert png_shape(path)[:2] == (76, 101)


def test_image_grid_keeps_colour_channels() -> None:
    red = torch.tensor([1.0, -1.0, -1.0])[None, :, None, None].expand(1, 3, 2, 2)
    assert image_grid(red, padding=0)[0, 0].tolist() == [255, 0, 0]


# -- latent space ----------------------------------------------------------------------------


def test_linear_interpolation_runs_from_one_end_to_the_other() -> None:
    z0, z1 = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    path = interpolate_latents(z0, z1, 5)
    assert path.shape == (5, 2)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)
    torch.testing.assert_close(path[2], torch.tensor([2.0, 0.0]))


def test_spherical_interpolation_keeps_the_norm_and_turns_evenly() -> None:
    z0, z1 = torch.tensor([3.0, 0.0, 0.0]), torch.tensor([0.0, 3.0, 0.0])  # a right angle
    path = interpolate_latents(z0, z1, 7, spherical=True)
    torch.testing.assert_close(path.norm(dim=1), torch.full((7,), 3.0))
    angles = torch.atan2(path[:, 1], path[:, 0])
    torch.testing.assert_close(angles, torch.linspace(0, math.pi / 2, 7))
    parallel = interpolate_latents(z0, 2 * z0, 3, spherical=True)  # no angle: linear
    torch.testing.assert_close(parallel[1], 1.5 * z0)


def test_latent_arithmetic_is_mean_a_minus_mean_b_plus_mean_c() -> None:
    a = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    b = torch.tensor([[0.0, 1.0]])
    c = torch.tensor([[0.0, 0.0], [0.0, 4.0], [3.0, 2.0]])
    torch.testing.assert_close(latent_arithmetic(a, b, c), torch.tensor([3.0, 1.0]))


def test_interpolation_rows_hold_each_rows_class_and_end_points() -> None:
    images = interpolation_rows(Recorder(), rows=4, steps=3, seed=0)  # (12, 1, 8, 8)
    flat = images.view(12, -1)
    assert flat[:, -1].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 0, 0]  # row r shows class r % 3
    ends = torch.randn(4, 2, 2, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(flat[0::3, :2], ends[:, 0])
    torch.testing.assert_close(flat[2::3, :2], ends[:, 1])
    torch.testing.assert_close(flat[1::3, :2], ends.mean(1))


# -- runs and the command line ---------------------------------------------------------------


def test_grid_and_interpolate_commands_write_pngs_of_the_right_size(tmp_path: Path) -> None:
    pm = _plugins()
    make_run(tmp_path / "run", pm, UNCONDITIONAL, ema=True)
    cli, runner = build_cli(pm), CliRunner()
    result = runner.invoke(cli, ["image", "grid", str(tmp_path / "run"), "--out", str(tmp_path / "g.png"),
                                 "--num", "10", "--per-row", "4", "--scale", "2"])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote 10 samples of {tmp_path / 'run/checkpoints/last.pt'} (EMA: generator) to {tmp_path / 'g.png'}\n"
    assert png_shape(tmp_path / "g.png")[:2] == (3 * 17 + 1, 4 * 17 + 1)
    result = runner.invoke(cli, ["image", "interpolate", str(tmp_path / "run"), "--out", str(tmp_path / "i.png"),
                                 "--steps", "5", "--rows", "2", "--scale", "1", "--spherical"])
    assert result.exit_code == 0, result.output
    assert png_shape(tmp_path / "i.png")[:2] == (2 * 9 + 1, 5 * 9 + 1)


def test_grid_of_a_conditional_run_has_one_row_per_class(tmp_path: Path) -> None:
    pm = _plugins()
    make_run(tmp_path / "run", pm, CONDITIONAL)
    cli, runner = build_cli(pm), CliRunner()
    result = runner.invoke(cli, ["image", "grid", str(tmp_path / "run"), "--out", str(tmp_path / "g.png"),
                                 "--per-row", "3", "--scale", "1"])
    assert result.exit_code == 0, result.output
    assert png_shape(tmp_path / "g.png")[:2] == (10 * 9 + 1, 3 * 9 + 1)
    result = runner.invoke(cli, ["image", "interpolate", str(tmp_path / "run"), "--out", str(tmp_path / "i.png"),
                                 "--steps", "4", "--rows", "3", "--scale", "2"])
    assert result.exit_code == 0, result.output
    assert png_shape(tmp_path / "i.png")[:2] == (3 * 17 + 1, 4 * 17 + 1)
