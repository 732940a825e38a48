"""Evaluation: what a metric sees of a run, and ``metrics.json``.

A metric (a registered component) is called with an :class:`EvaluationContext` and
returns ``{name: number}``. Evaluation runs on rank 0 under ``torch.no_grad`` with the
EMA generators where the run keeps them, with its own seeded RNG, and leaves the
training RNG exactly as it found it (so evaluating never changes later training).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import rng_state, set_rng_state
from .errors import SpeechganError
from .objective import Objective, Pair
from .schema import Config

__all__ = ["EvaluationContext", "run_metrics", "write_metrics", "read_metrics"]


@dataclass
class EvaluationContext:
    """A trained run as metrics see it."""

    config: Config
    run_dir: Path
    objective: Objective
    generators: nn.ModuleDict
    discriminators: nn.ModuleDict
    datasets: dict[str, Any]
    features: nn.Module | None
    device: torch.device
    seed: int = 0
    step: int = 0

    def sample(self, n: int) -> torch.Tensor:
        """``n`` unconditional samples from the generators (on ``device``)."""
        return self.objective.sample(g=self.generators, n=n, device=self.device)

    def pairs(self, split: str = "valid", limit: int | None = None) -> Iterator[Pair]:
        """(reference, generated) waveform pairs over a dataset split."""
        if split not in self.datasets:
            raise SpeechganError(
                f"evaluation needs the {split!r} split, but the config has no data.{split} section"
            )
        return self.objective.evaluation_pairs(g=self.generators, dataset=self.datasets[split], device=self.device, limit=limit)

    def output_path(self, name: str) -> Path:
        """Where a metric may write a figure or file (``RUN_DIR/eval/NAME``)."""
        path = self.run_dir / "eval" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def run_metrics(ctx: EvaluationContext, metrics: list[tuple[str, Any]]) -> dict[str, float]:
    """Every metric, each from the same seed, without touching the training RNG."""
    saved = rng_state()
    modes = [(m, m.training) for m in (ctx.generators, ctx.discriminators)]
    for module, _ in modes:
        module.eval()
    results: dict[str, float] = {}
    try:
        for path, metric in metrics:
            torch.manual_seed(ctx.seed)
            with torch.no_grad():
                out = metric(ctx)
            if not isinstance(out, dict):
                raise SpeechganError(f"{path}: metric returned {type(out).__name__}, not a dict of numbers")
            for name, value in out.items():
                if name in results:
                    raise SpeechganError(f"{path}: metric name {name!r} is reported twice")
                results[name] = float(value)
    finally:
        for module, was_training in modes:
            module.train(was_training)
        set_rng_state(saved)
    return results


def write_metrics(run_dir: Path, results: dict[str, float], step: int) -> Path:
    """``RUN_DIR/metrics.json``: the latest evaluation, a flat object of name -> number."""
    path = Path(run_dir) / "metrics.json"
    clean = {k: (v if math.isfinite(v) else None) for k, v in results.items()}
    fd, tmp = tempfile.mkstemp(prefix=".metrics.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump({"step": step, **clean}, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


def read_metrics(run_dir: Path) -> dict[str, float]:
    return json.loads((Path(run_dir) / "metrics.json").read_text())
