"""Evaluation: what a metric sees of a run, ``metrics.json``, and evaluating a run directory.

A metric (a registered component) is called with an :class:`EvaluationContext` and
returns ``{name: number}``. Evaluation runs on rank 0 under ``torch.no_grad`` with the
EMA generators where the run keeps them, with its own seeded RNG, and leaves the
training RNG exactly as it found it (so evaluating never changes later training).

:func:`evaluate_run` evaluates a trained run directory: its models come from
:func:`speechgan.inference.load_run`, and only the metrics and the data splits they read
are built (no optimizer, data loader, discriminator or callback).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .build import build_dataset, build_metrics, data_splits
from .checkpoint import rng_state, set_rng_state
from .errors import SpeechganError, TrainingError
from .inference import load_run
from .objective import Objective, Pair
from .registry import Registry
from .schema import Config
from .tracking import json_numbers

__all__ = ["EvaluationContext", "RunDatasets", "run_metrics", "write_metrics", "evaluate_run"]


@dataclass
class EvaluationContext:
    """A trained run as metrics see it."""

    config: Config
    run_dir: Path
    objective: Objective
    generators: nn.ModuleDict
    datasets: Mapping[str, Any]  # split -> dataset
    features: nn.Module | None
    device: torch.device
    seed: int = 0
    step: int = 0
    # what one evaluation has already drawn, shared by its metrics: (n, batch_size) -> samples
    drawn: dict[tuple[int, int], torch.Tensor] = field(default_factory=dict, repr=False)

    def sample(self, n: int) -> torch.Tensor:
        """``n`` unconditional samples from the generators (on ``device``)."""
        return self.objective.sample(g=self.generators, n=n, device=self.device)

    def samples_once(self, n: int, batch_size: int) -> torch.Tensor:
        """``n`` samples drawn ``batch_size`` at a time and kept on the CPU, drawn once per evaluation.

        :func:`run_metrics` seeds every metric alike, so two metrics that ask for the same
        ``n`` and ``batch_size`` would draw the same clips: the second gets the first's
        (the same numbers, without generating them twice, which for SpecGAN is Griffin-Lim).
        """
        key = (n, batch_size)
        if key not in self.drawn:
            parts = [self.sample(min(batch_size, n - start)).float().cpu() for start in range(0, n, batch_size)]
            self.drawn[key] = torch.cat(parts)
        return self.drawn[key]

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
    was_training = ctx.generators.training
    ctx.drawn.clear()
    ctx.generators.eval()
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
        ctx.drawn.clear()
        ctx.generators.train(was_training)
        set_rng_state(saved)
    return results


def write_metrics(run_dir: Path, results: dict[str, float], step: int) -> Path:
    """``RUN_DIR/metrics.json``: the latest evaluation, a flat object of name -> number."""
    path = Path(run_dir) / "metrics.json"
    clean = json_numbers(results)
    fd, tmp = tempfile.mkstemp(prefix=".metrics.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        json.dump({"step": step, **clean}, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


class RunDatasets(Mapping[str, Any]):
    """The data splits a config sets, each built the first time a metric reads it.

    Evaluation builds only the splits its metrics use; ``split in datasets`` builds nothing.
    """

    def __init__(self, config: Config, registry: Registry, *, features: nn.Module | None) -> None:
        self.config, self.registry, self.features = config, registry, features
        self.splits = data_splits(config)
        self.built: dict[str, Any] = {}

    def __getitem__(self, split: str) -> Any:
        if split not in self.splits:
            raise KeyError(split)
        if split not in self.built:
            self.built[split] = build_dataset(self.config, self.registry, split, features=self.features)
        return self.built[split]

    def __contains__(self, split: object) -> bool:
        return split in self.splits

    def __iter__(self) -> Iterator[str]:
        return iter(self.splits)

    def __len__(self) -> int:
        return len(self.splits)


def evaluate_run(
    run_dir: str | Path, *, registry: Registry | None = None, checkpoint: str | Path | None = None,
    overrides: Sequence[str] = (), device: str | torch.device | None = None,
) -> dict[str, float]:
    """Evaluate a trained run with the metrics of its config; writes ``RUN_DIR/metrics.json``.

    The generators hold their EMA weights where the run kept them, as in the evaluations
    during training; ``device`` defaults to the run's ``trainer.device``.
    """
    run = load_run(run_dir, registry=registry, checkpoint=checkpoint, overrides=overrides, device=device)
    if not run.config.evaluation.metrics:
        raise TrainingError(f"{run.run_dir / 'config.yaml'}: evaluation.metrics is empty; nothing to evaluate")
    ctx = EvaluationContext(
        config=run.config, run_dir=run.run_dir, objective=run.objective, generators=run.generators,
        datasets=RunDatasets(run.config, run.registry, features=run.features), features=run.features,
        device=run.device, seed=run.config.seed, step=run.step,
    )
    results = run_metrics(ctx, build_metrics(run.config, run.registry, features=run.features))
    write_metrics(run.run_dir, results, run.step)
    return results
