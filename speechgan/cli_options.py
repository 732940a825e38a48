"""Click options that the commands using a trained run share (``vocode``, ``convert``, ...).

``@run_and_inputs`` adds ``RUN_DIR INPUTS... --out DIR --checkpoint PATH --no-ema --device``
to a command, with the same help everywhere; the command receives them as ``run_dir``,
``inputs``, ``out``, ``checkpoint``, ``no_ema`` and ``device``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["run_and_inputs"]

F = TypeVar("F", bound=Callable[..., Any])


def run_and_inputs(command: F) -> F:
    """Add a run directory, input files or folders, ``--out`` and the load_run options to ``command``."""
    options = [
        click.argument("run_dir", type=click.Path(path_type=Path)),
        click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path)),
        click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Folder for the WAV files."),
        click.option("--checkpoint", type=click.Path(path_type=Path), help="Default: RUN_DIR/checkpoints/last.pt."),
        click.option("--no-ema", is_flag=True, help="Use the live generator weights, not their moving average."),
        click.option("--device", default="cpu", show_default=True, help="cpu, cuda[:N] or auto."),
    ]
    for option in reversed(options):  # decorators apply bottom-up: keep the listed order in --help
        command = option(command)
    return command
