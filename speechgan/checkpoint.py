"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors and Python primitives (never pickled objects):
model, optimizer, scheduler, grad-scaler and EMA states, step counters, the RNG states
of every rank and the resolved config. It is written to a temporary file in the same
folder, flushed to disk and renamed over the target, so a crash mid-write never leaves a
torn checkpoint, and the previous one stays intact; the temporary files a killed process
leaves behind are removed when a run starts (:func:`remove_partial_writes`).

A resumed run follows the config it resumes with: optimizers and schedulers take their
moments and progress from the checkpoint and their hyper-parameters from the config
(:func:`load_optimizer_state`, :func:`load_scheduler_state`).
"""

from __future__ import annotations

import os
import random
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import TrainingError

__all__ = [
    "atomic_save", "save_checkpoint", "load_checkpoint", "remove_partial_writes", "rng_state", "set_rng_state",
    "load_optimizer_state", "load_scheduler_state", "assert_finite", "TRAINING_FIELDS",
]

FORMAT_VERSION = 1

#: what resuming training reads of a checkpoint (``rng``: one state per rank)
TRAINING_FIELDS = (
    "step", "epoch", "batch_in_epoch", "nonfinite_steps", "generators", "discriminators",
    "optimizers", "schedulers", "scalers", "ema", "rng", "config",
)
# what a scheduler's state holds of its progress; every other entry is a hyper-parameter
_SCHEDULE_PROGRESS = frozenset({"last_epoch", "_step_count", "_last_lr", "_is_initial", "_get_lr_called_within_step"})


def rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA) RNG states as tensors and primitives."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def load_optimizer_state(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Moments and step counts from ``saved``; hyper-parameters (lr, betas, ...) as the optimizer has them.

    ``optimizer`` is freshly built from the config (and its scheduler), so its
    hyper-parameters are the config's: ``config.yaml`` describes what trains.
    """
    configured = [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups]
    optimizer.load_state_dict(saved)
    for group, hyper in zip(optimizer.param_groups, configured):
        group.update(hyper)


def load_scheduler_state(scheduler: Any, saved: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``saved``'s progress through the schedule ``scheduler`` (freshly built) describes.

    With unchanged hyper-parameters the saved state is loaded as it is. Changed ones
    (``total_iters: ${trainer.max_steps}`` after raising ``trainer.max_steps``) replay the
    new schedule for as many updates as ``saved`` made, which sets exactly the learning
    rate a fresh run of the new config has after them. Returns what changed: name ->
    (saved value, configured value).
    """
    configured = {k: v for k, v in scheduler.state_dict().items() if k not in _SCHEDULE_PROGRESS}
    changed = {k: (saved.get(k), v) for k, v in configured.items() if saved.get(k) != v}
    if not changed:
        scheduler.load_state_dict(saved)
        for group, lr in zip(scheduler.optimizer.param_groups, saved["_last_lr"]):
            group["lr"] = lr
        return changed
    with warnings.catch_warnings():  # "lr_scheduler.step() before optimizer.step()": this is a replay
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(saved["last_epoch"]):
            scheduler.step()
    return changed


def assert_finite(modules: dict[str, torch.nn.Module]) -> None:
    """Refuse to save non-finite weights (the run stops instead)."""
    for name, module in modules.items():
        for pname, p in module.state_dict().items():
            if p.is_floating_point() and not torch.isfinite(p).all():
                raise TrainingError(
                    f"{name}.{pname} holds non-finite values; no checkpoint was written "
                    "(the last good one is kept)"
                )


def save_checkpoint(state: dict[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file, fsync, rename)."""
    return atomic_save({"format": FORMAT_VERSION, **state}, path)


def atomic_save(state: Any, path: str | Path) -> Path:
    """``torch.save(state)`` to ``path`` atomically: to a temporary file in the same folder (made if
    missing), flushed to disk and renamed over ``path``, so a reader sees the old file or the new one,
    never a torn one; the temporary file is removed if anything fails, and the error raised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_partial_writes(folder: str | Path) -> None:
    """Delete the temporary files of checkpoint writes that never finished (a killed process)."""
    for tmp in Path(folder).glob(".*.pt.*.tmp"):
        tmp.unlink(missing_ok=True)


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", *, require: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Read a checkpoint without unpickling arbitrary objects; refuse one that lacks a ``require`` field."""
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise TrainingError(f"{path}: not a readable speechgan checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise TrainingError(f"{path}: not a speechgan checkpoint of format {FORMAT_VERSION}")
    missing = [f for f in require if f not in state]
    if missing:
        raise TrainingError(
            f"{path}: does not fit this run: the checkpoint has no {', '.join(map(repr, missing))} "
            f"field{'s' if len(missing) > 1 else ''}; use a checkpoint that `speechgan train` wrote for "
            "this run (checkpoints/last.pt or step_N.pt)"
        )
    return state
