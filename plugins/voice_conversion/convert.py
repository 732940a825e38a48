"""``speechgan convert RUN_DIR INPUT... --out DIR``: voice conversion with a trained run.

Inputs are audio files or folders of them (searched recursively), of any length: the
generators are fully convolutional, and the objective pads the frames to the generator's
multiple and trims them back (:meth:`speechgan.objective.Objective.convert`). Each becomes
a WAV file at the run's front-end rate (the corpus rate).

Who is converted into whom: ``--direction a2b`` (or ``b2a``) converts the speaker of side A
into the speaker of side B; a side with several speakers needs ``--source`` / ``--target``
to name one. ``--target SPEAKER`` alone picks the direction from the speaker's side.

Synthesis: a WORLD run synthesises with WORLD (converted mel-cepstrum, converted F0, the
source's aperiodicity). A mel-spectrogram run (MaskCycleGAN-VC) needs ``--vocoder
VOCODER_RUN``, a speechgan vocoder run whose front-end fingerprint equals the conversion
run's: a mismatch is refused before any work, naming both settings.

Every input is checked, and the speakers and the vocoder resolved, before the first file is
written, so a bad one leaves ``--out`` untouched.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np
import torch
from tqdm.auto import tqdm

from speechgan import hookimpl
from speechgan.data.audio_io import AudioLoader, write_audio
from speechgan.cli_options import run_and_inputs
from speechgan.data.inputs import AUDIO_FILES, checked_inputs, input_files, is_audio_file
from speechgan.errors import DataError
from speechgan.inference import LoadedRun, load_run

from .synthesis import peak_limited, synthesiser

__all__ = ["ConvertReport", "convert_files", "find_audio", "resolve_speakers", "speechgan_register_commands"]


@dataclass(frozen=True)
class ConvertReport:
    outputs: tuple[Path, ...]
    source: str
    target: str
    audio_seconds: float
    wall_seconds: float


def find_audio(inputs: Sequence[str | Path]) -> list[tuple[Path, Path]]:
    """``(input file, output path relative to --out)``: ``x.flac`` -> ``x.wav``; a folder ``a`` ->
    ``a/<path inside a>.wav`` for each audio file in it (:func:`speechgan.data.inputs.input_files`)."""
    return input_files(inputs, accept=is_audio_file, kinds=AUDIO_FILES)


def _only(side: str, speakers: list[str], option: str) -> str:
    if len(speakers) == 1:
        return speakers[0]
    raise DataError(f"side {side.upper()} of this run has speakers {', '.join(speakers) or '(none)'}; "
                    f"name one with {option}")


def resolve_speakers(run: LoadedRun, *, direction: str | None, source: str | None, target: str | None) -> tuple[str, str]:
    """``(source, target)`` speaker names from the options; :class:`DataError` says what is missing."""
    try:
        sides = run.objective.conversion_speakers()
    except NotImplementedError:
        raise DataError(f"{run.run_dir}: objective {run.config.objective.name!r} does not convert between "
                        "speakers; is this a voice-conversion run?") from None
    if direction is not None:
        src_side, tgt_side = ("a", "b") if direction == "a2b" else ("b", "a")
        source = source or _only(src_side, sides[src_side], "--source")
        target = target or _only(tgt_side, sides[tgt_side], "--target")
    elif target is not None:
        tgt_side = "a" if target in sides["a"] else "b" if target in sides["b"] else None
        if tgt_side is None:
            known = ", ".join(sides["a"] + sides["b"])
            raise DataError(f"unknown speaker {target!r} for --target; this run converts between {known}")
        src_side = "b" if tgt_side == "a" else "a"
        source = source or _only(src_side, sides[src_side], "--source")
    else:
        raise DataError("say whom to convert into: --direction a2b|b2a, or --target SPEAKER")
    run.objective.direction(source, target)  # type: ignore[attr-defined]  # unknown or same-side speakers
    return source, target


def convert_files(
    run: LoadedRun,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    direction: str | None = None,
    source: str | None = None,
    target: str | None = None,
    vocoder: str | Path | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> ConvertReport:
    """Convert every input (see :func:`find_audio`) into ``out_dir``; everything is checked first."""
    start = time.perf_counter()
    if run.features is None:
        raise DataError(f"{run.run_dir}: the run has no front-end (features:), so nothing to convert")
    src, tgt = resolve_speakers(run, direction=direction, source=source, target=target)
    synthesise = synthesiser(run.features, run_dir=run.run_dir, registry=run.registry, device=device,
                             features_name=run.config.features.name if run.config.features else None,
                             vocoder=None if vocoder is None else Path(vocoder))
    rate = run.features.sample_rate
    loader = AudioLoader(sample_rate=rate)
    out_dir = Path(out_dir)
    pairs = checked_inputs(inputs, out_dir, check=loader.probe)  # as find_audio lists them, each one probed
    outputs, seconds = [], 0.0
    with torch.inference_mode():
        for path, output in tqdm(pairs, disable=not progress, file=sys.stderr, unit="file", dynamic_ncols=True):
            wave = loader.load(path)  # (T,)
            features = run.features(torch.from_numpy(wave).to(run.device, torch.float32))  # (C, N)
            converted = run.objective.convert(features, g=run.generators, source=src, target=tgt)  # (C, N)
            audio = peak_limited(synthesise(converted, len(wave)).numpy())  # (T,)
            destination = out_dir / output
            destination.parent.mkdir(parents=True, exist_ok=True)
            write_audio(destination, audio.astype(np.float32), rate)
            outputs.append(destination)
            seconds += len(wave) / rate
    return ConvertReport(tuple(outputs), src, tgt, seconds, time.perf_counter() - start)


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    @cli.command()
    @run_and_inputs
    @click.option("--direction", type=click.Choice(["a2b", "b2a"]), help="Convert side A's speaker into B's, or back.")
    @click.option("--source", help="The source speaker, when its side has several.")
    @click.option("--target", help="The target speaker (picks the direction, or names one of several).")
    @click.option("--vocoder", type=click.Path(path_type=Path), help="A vocoder run, for runs on mel-spectrograms.")
    @click.pass_context
    def convert(ctx: click.Context, run_dir: Path, inputs: tuple[Path, ...], out: Path, direction: str | None,
                source: str | None, target: str | None, vocoder: Path | None, checkpoint: Path | None,
                no_ema: bool, device: str) -> None:
        """Convert the speech in INPUTS (audio files or folders) into another speaker's voice with RUN_DIR."""
        run = load_run(run_dir, registry=ctx.find_root().obj.registry, checkpoint=checkpoint, ema=not no_ema,
                       device=device)
        report = convert_files(run, inputs, out, direction=direction, source=source, target=target,
                               vocoder=vocoder, device=device, progress=sys.stderr.isatty())
        click.echo(f"{len(report.outputs)} files converted from {report.source} to {report.target}, written to {out}: "
                   f"{report.audio_seconds:.2f} s of audio in {report.wall_seconds:.2f} s with {run.weights}")
