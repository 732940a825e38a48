"""``speechgan enhance RUN_DIR INPUT... --out DIR``: speech enhancement with a trained run.

Inputs are audio files or folders of them (searched recursively), of any length and rate:
each is read at the run's rate (resampled if needed), enhanced by the run's objective
(SEGAN: pre-emphasis, windows of the training length with overlap-add, de-emphasis;
:meth:`speechgan_plugins.enhancement.objective.SEGAN.enhance`) and written as a WAV file of
the same length at that rate. Every input is probed before the first file is written, so a
bad one leaves ``--out`` untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
from tqdm.auto import tqdm

from speechgan import hookimpl
from speechgan.cli_options import run_and_inputs
from speechgan.data.audio_io import AudioLoader, write_audio
from speechgan.data.inputs import checked_inputs
from speechgan.errors import DataError
from speechgan.inference import LoadedRun, load_run

__all__ = ["EnhanceReport", "enhance_files", "enhancing_objective", "speechgan_register_commands"]


@dataclass(frozen=True)
class EnhanceReport:
    outputs: tuple[Path, ...]
    sample_rate: int
    audio_seconds: float
    wall_seconds: float


def enhancing_objective(run: LoadedRun) -> Any:
    """The run's objective; a :class:`DataError` naming the run when it does not enhance speech."""
    if not callable(getattr(run.objective, "enhance", None)):
        raise DataError(f"{run.run_dir}: objective {run.config.objective.name!r} does not enhance speech; "
                        "is this a speech-enhancement run (SEGAN)?")
    return run.objective


def enhance_files(run: LoadedRun, inputs: Sequence[str | Path], out_dir: str | Path, *,
                  progress: bool = False) -> EnhanceReport:
    """Enhance every audio file of ``inputs`` into ``out_dir`` (``x.flac`` -> ``x.wav``; folders keep their tree)."""
    start = time.perf_counter()
    objective = enhancing_objective(run)
    rate = int(objective.sample_rate)
    loader = AudioLoader(sample_rate=rate)
    out_dir = Path(out_dir)
    pairs = checked_inputs(inputs, out_dir, check=loader.probe)  # every input probed before anything is written
    outputs, seconds = [], 0.0
    with torch.inference_mode():
        for path, output in tqdm(pairs, disable=not progress, file=sys.stderr, unit="file", dynamic_ncols=True):
            wave = loader.load(path)  # (T,) float in [-1, 1]
            enhanced = objective.enhance(torch.from_numpy(wave).to(run.device, torch.float32), g=run.generators)
            audio = enhanced.reshape(-1).float().clamp(-1.0, 1.0).cpu().numpy()  # (T,)
            destination = out_dir / output
            destination.parent.mkdir(parents=True, exist_ok=True)
            write_audio(destination, audio.astype(np.float32), rate)
            outputs.append(destination)
            seconds += len(wave) / rate
    return EnhanceReport(tuple(outputs), rate, seconds, time.perf_counter() - start)


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    @cli.command()
    @run_and_inputs
    @click.pass_context
    def enhance(ctx: click.Context, run_dir: Path, inputs: tuple[Path, ...], out: Path, checkpoint: Path | None,
                no_ema: bool, device: str) -> None:
        """Enhance the noisy speech in INPUTS (audio files or folders) with RUN_DIR (SEGAN)."""
        run = load_run(run_dir, registry=ctx.find_root().obj.registry, checkpoint=checkpoint, ema=not no_ema,
                       device=device)
        report = enhance_files(run, inputs, out, progress=sys.stderr.isatty())
        click.echo(f"{len(report.outputs)} files enhanced, written to {out}: {report.audio_seconds:.2f} s of audio "
                   f"in {report.wall_seconds:.2f} s with {run.weights}")
