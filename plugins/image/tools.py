"""Figures of a trained image GAN: sample grids, latent interpolations, latent arithmetic.

* :func:`save_image_grid`: images in a grid, one row per class for a conditional
  objective (``cgan``, ``acgan``), as PNG.
* :func:`interpolate_latents`: the path between two latent vectors, linear as in
  Goodfellow et al. 2014 (Figure 3: "digits obtained by linearly interpolating between
  coordinates in z space") or spherical (slerp, White 2016, "Sampling generative
  networks", which keeps the path where a Gaussian's mass is).
* :func:`latent_arithmetic`: ``mean(a) - mean(b) + mean(c)`` of groups of latent vectors,
  DCGAN's vector arithmetic (Radford et al. 2016, Figure 7, averaging three exemplars each).
* ``speechgan image grid`` / ``speechgan image interpolate``: the same for a run directory,
  loaded by :func:`speechgan.inference.load_run` (EMA generator weights where the run keeps them).

Generators follow the DCGAN generator's convention: a ``latent_dim`` attribute, z drawn
from N(0, I), called as ``G(z)``, or ``G(z, labels)`` when ``num_classes`` > 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
from torch import nn

from speechgan.errors import SpeechganError
from speechgan.inference import load_run
from speechgan.registry import Registry

__all__ = [
    "image_grid",
    "save_image_grid",
    "interpolate_latents",
    "latent_arithmetic",
    "decode",
    "class_rows",
    "interpolation_rows",
    "image",
]


# -- grids -----------------------------------------------------------------------------------


def image_grid(
    images: torch.Tensor, per_row: int = 8, *, padding: int = 1, scale: int = 1, pad_value: float = 0.5
) -> np.ndarray:
    """Images (N, C, H, W) in [-1, 1], C = 1 or 3, as one RGB uint8 array.

    ``per_row`` images per row (the rest of the last row is ``pad_value`` grey), each
    enlarged ``scale`` times by pixel repetition, ``padding`` pixels between and around:
    (rows * (H*scale + padding) + padding, cols * (W*scale + padding) + padding, 3).
    """
    if images.dim() != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"expected images (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) / 2).expand(-1, 3, -1, -1)  # (N, 3, H, W) in [0, 1]
    x = x.repeat_interleave(scale, dim=2).repeat_interleave(scale, dim=3)
    n, _, h, w = x.shape
    cols = min(per_row, n)
    rows = -(-n // cols)
    grid = torch.full((3, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for i in range(n):
        top, left = padding + (i // cols) * (h + padding), padding + (i % cols) * (w + padding)
        grid[:, top : top + h, left : left + w] = x[i]
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def save_image_grid(
    images: torch.Tensor, path: str | Path, per_row: int = 8, *, padding: int = 1, scale: int = 4
) -> Path:
    """:func:`image_grid` written to ``path`` as PNG (pixel for pixel); returns the path."""
    import matplotlib.image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    matplotlib.image.imsave(path, image_grid(images, per_row, padding=padding, scale=scale), format="png")
    return path


# -- latent space ----------------------------------------------------------------------------


def interpolate_latents(z0: torch.Tensor, z1: torch.Tensor, steps: int, *, spherical: bool = False) -> torch.Tensor:
    """``steps`` points (steps, D) from ``z0`` to ``z1`` (both (D,)), ends included.

    Linear: ``(1 - t) z0 + t z1``. Spherical: ``sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1``
    with ``W`` the angle between them (linear where they are parallel).
    """
    if steps < 2:
        raise ValueError(f"an interpolation needs at least 2 steps, got {steps}")
    t = torch.linspace(0, 1, steps, dtype=z0.dtype, device=z0.device)[:, None]  # (steps, 1)
    if spherical:
        cos = torch.dot(z0, z1) / (z0.norm() * z1.norm()).clamp_min(1e-12)
        omega = torch.arccos(cos.clamp(-1.0, 1.0))
        if omega.abs() > 1e-6:
            return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)
    return (1 - t) * z0 + t * z1


def latent_arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``mean(a) - mean(b) + mean(c)`` of groups of latent vectors (n_i, D) -> (D,).

    DCGAN's "smiling woman - neutral woman + neutral man": averaging a few exemplars per
    concept makes the result stable where single vectors are not (Radford et al. 2016).
    """
    return a.mean(0) - b.mean(0) + c.mean(0)


def decode(generator: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Images of latent vectors z (N, latent_dim) [and class labels (N,) for a conditional G]."""
    if getattr(generator, "num_classes", 0):
        if labels is None:
            raise SpeechganError(f"{type(generator).__name__} is class-conditional: give labels to decode z")
        return generator(z, labels.to(z.device))
    return generator(z)


def _latent_dim(generator: nn.Module) -> int:
    dim = getattr(generator, "latent_dim", None)
    if not isinstance(dim, int):
        raise SpeechganError(
            f"latent interpolation needs a generator with a latent_dim attribute (such as dcgan); "
            f"{type(generator).__name__} has none"
        )
    return dim


@torch.no_grad()
def class_rows(objective: Any, g: nn.ModuleDict, per_class: int, device: torch.device) -> torch.Tensor:
    """``per_class`` samples of each class, class by class: (num_classes * per_class, C, H, W)."""
    labels = torch.arange(objective.num_classes, device=device).repeat_interleave(per_class)
    return objective.sample_conditional(g=g, labels=labels, device=device)


@torch.no_grad()
def interpolation_rows(
    generator: nn.Module, rows: int, steps: int, *, spherical: bool = False,
    device: torch.device = torch.device("cpu"), seed: int = 0,
) -> torch.Tensor:
    """``rows`` interpolations of ``steps`` images each between random z ~ N(0, I): (rows*steps, C, H, W).

    For a conditional generator, row ``r`` shows class ``r % num_classes`` throughout.
    """
    dim = _latent_dim(generator)
    ends = torch.randn(rows, 2, dim, generator=torch.Generator().manual_seed(seed)).to(device)  # (rows, 2, D)
    z = torch.cat([interpolate_latents(a, b, steps, spherical=spherical) for a, b in ends])  # (rows*steps, D)
    classes = getattr(generator, "num_classes", 0)
    labels = (torch.arange(rows, device=device) % classes).repeat_interleave(steps) if classes else None
    return decode(generator, z, labels)


# -- command line ----------------------------------------------------------------------------


def _registry() -> Registry:
    return click.get_current_context().find_root().obj.registry


_run_dir = click.argument("run_dir", type=click.Path(path_type=Path))
_out = click.option("--out", required=True, type=click.Path(path_type=Path), help="PNG file to write.")
_checkpoint = click.option(
    "--checkpoint", type=click.Path(path_type=Path), help="Default: RUN_DIR/checkpoints/last.pt."
)
_seed = click.option("--seed", default=0, show_default=True, type=int, help="Seed of the latent vectors.")
_scale = click.option("--scale", default=4, show_default=True, type=click.IntRange(1), help="Pixels per image pixel.")
_device = click.option("--device", default="cpu", show_default=True, help="Where the generator runs.")


@click.group()
def image() -> None:
    """Figures of a trained image GAN: sample grids and latent interpolations."""


@image.command()
@_run_dir
@_out
@click.option("--per-row", default=8, show_default=True, type=click.IntRange(1),
              help="Images per row (per class for a conditional objective).")
@click.option("--num", default=64, show_default=True, type=click.IntRange(1),
              help="Samples of an unconditional objective.")
@_checkpoint
@_seed
@_scale
@_device
def grid(
    run_dir: Path, out: Path, per_row: int, num: int, checkpoint: Path | None, seed: int, scale: int, device: str
) -> None:
    """Save a grid of samples of RUN_DIR to --out: one row per class for cgan/acgan."""
    run = load_run(run_dir, registry=_registry(), checkpoint=checkpoint, device=device)
    dev = run.device
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []), torch.no_grad():
        torch.manual_seed(seed)
        if hasattr(run.objective, "sample_conditional") and hasattr(run.objective, "num_classes"):
            images = class_rows(run.objective, run.generators, per_row, dev)
        else:
            images = run.objective.sample(g=run.generators, n=num, device=dev)
    save_image_grid(images, out, per_row, scale=scale)
    click.echo(f"wrote {len(images)} samples of {run.weights} to {out}")


@image.command()
@_run_dir
@_out
@click.option("--steps", default=10, show_default=True, type=click.IntRange(2), help="Images per interpolation.")
@click.option("--rows", default=8, show_default=True, type=click.IntRange(1), help="Interpolations (one per row).")
@click.option("--spherical", is_flag=True, help="Spherical instead of linear interpolation.")
@_checkpoint
@_seed
@_scale
@_device
def interpolate(
    run_dir: Path, out: Path, steps: int, rows: int, spherical: bool, checkpoint: Path | None, seed: int,
    scale: int, device: str,
) -> None:
    """Save latent interpolations of RUN_DIR's generator to --out, one per row."""
    run = load_run(run_dir, registry=_registry(), checkpoint=checkpoint, device=device)
    if len(run.generators) != 1:
        raise SpeechganError(
            f"{run_dir}: interpolation needs a run with one generator; it has {', '.join(run.generators)}"
        )
    (generator,) = run.generators.values()
    images = interpolation_rows(generator, rows, steps, spherical=spherical, device=run.device, seed=seed)
    save_image_grid(images, out, steps, scale=scale)
    click.echo(f"wrote {rows} interpolations of {steps} steps of {run.weights} to {out}")
