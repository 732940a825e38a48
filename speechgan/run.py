"""Runs: train a recipe into a run directory, resume it.

A run directory holds ``config.yaml`` (the fully resolved config), ``checkpoints/``
(``last.pt`` and periodic ``step_N.pt``), ``tensorboard/``, ``scalars.jsonl`` and
``metrics.json``. Nothing already saved there is ever overwritten by a new run: training
into a directory that holds a run needs ``resume``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from .build import build_components
from .checkpoint import remove_partial_writes
from .config import config_to_yaml, load_config
from .distributed import init_distributed, shutdown_distributed
from .errors import TrainingError
from .registry import Registry
from .signals import TrainingInterrupted
from .trainer import Trainer

__all__ = ["seed_everything", "train"]


def seed_everything(seed: int, *, deterministic: bool = False) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def train(
    config_path: str | Path, out: str | Path, registry: Registry, *,
    overrides: Sequence[str] = (), resume: bool = False,
    on_interrupted: Callable[[TrainingInterrupted], None] | None = None,
) -> dict[str, float]:
    """Train ``config_path`` into ``out``; returns the final metrics.

    A resumed run follows ``config_path`` (with ``overrides``) from the checkpoint's step
    on, its learning-rate schedules included. Raises
    :class:`~speechgan.signals.TrainingInterrupted` after saving when SIGINT or SIGTERM
    stopped the run; ``on_interrupted`` (the CLI's report) is called first on the rank that
    wrote the checkpoint, and under ``torchrun`` every rank then leaves the process group
    together: ``torchrun`` stops the others as soon as one exits, and a rank that exits with
    the group alive can abort ("terminate called without an active exception") before rank 0
    has reported.
    """
    config = load_config(config_path, overrides, registry)
    run_dir = Path(out)
    last = run_dir / "checkpoints" / "last.pt"
    if last.exists() and not resume:
        raise TrainingError(
            f"{run_dir} already holds a run ({last}). Pass --resume to continue it, or choose another --out."
        )
    if resume and not last.exists():
        raise TrainingError(f"nothing to resume: {last} does not exist")
    dist, device = init_distributed(config.trainer.device)
    seed_everything(config.seed, deterministic=config.trainer.deterministic)
    components = build_components(config, registry)
    # noise differs across ranks; the weights do not (they are broadcast from rank 0)
    torch.manual_seed(config.seed + 1_000_003 * dist.rank)
    trainer = Trainer(components, run_dir, device=device, dist=dist)
    if resume:
        trainer.resume(last)
        if trainer.step >= config.trainer.max_steps:
            raise TrainingError(
                f"{last} is at step {trainer.step}, already trainer.max_steps={config.trainer.max_steps}; "
                "raise it to train further (e.g. trainer.max_steps=...)"
            )
    if dist.is_main:  # only once the checkpoint fits: config.yaml describes what trains
        run_dir.mkdir(parents=True, exist_ok=True)
        _write_atomic(run_dir / "config.yaml", config_to_yaml(config))
        remove_partial_writes(run_dir / "checkpoints")
    if not resume:  # every rank: the result is part of the objective's state, the same on each
        components.objective.prepare(dataset=components.datasets["train"], run_dir=run_dir)
    try:
        metrics = trainer.fit()
    except TrainingInterrupted as stop:
        if on_interrupted is not None and stop.checkpoint is not None:
            on_interrupted(stop)
        shutdown_distributed(dist)
        raise
    shutdown_distributed(dist)
    return metrics
