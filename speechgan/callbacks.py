"""Trainer callbacks: objects that plugins register and configs enable.

A callback implements any of the methods below; the trainer calls the ones it has, on
rank 0 and every other rank alike (check ``trainer.dist.is_main`` to act once).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .trainer import Trainer

__all__ = ["Callback", "EVENTS"]

EVENTS = ("on_train_start", "on_step_end", "on_evaluate", "on_checkpoint", "on_train_end")


class Callback:
    """Base class (optional: any object with some of these methods will do)."""

    def on_train_start(self, trainer: "Trainer") -> None: ...

    def on_step_end(self, trainer: "Trainer", step: int, logs: dict[str, Any]) -> None:
        """After every step; ``logs`` holds this step's detached loss terms."""

    def on_evaluate(self, trainer: "Trainer", step: int, metrics: dict[str, float]) -> None: ...

    def on_checkpoint(self, trainer: "Trainer", step: int, path: Path) -> None: ...

    def on_train_end(self, trainer: "Trainer") -> None: ...
