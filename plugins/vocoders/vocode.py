"""``speechgan vocode RUN_DIR INPUT... --out DIR``: waveforms from a trained vocoder run.

Inputs are audio files (analysis-synthesis: the run's front-end makes the mel-spectrogram,
the generator turns it back into a waveform), ``.npy`` mel-spectrograms ``(n_mels, N)`` or
``(1, n_mels, N)`` (from a TTS model, say), or folders of either, searched recursively.
Each becomes a WAV file of ``N * hop`` samples at the front-end's sample rate, with the
generator's weight norm folded away first (Kong et al. 2020, "HiFi-GAN"; Kumar et al. 2019,
"MelGAN": both remove it for inference).

The run comes through :func:`speechgan.inference.load_run`, which refuses a checkpoint whose
front-end fingerprint differs from the one its config builds; a ``.npy`` with another
number of mel bins, or a dtype or values a front-end never makes, is refused too. Every
input is checked before the first file is written, so a bad one leaves ``--out`` untouched.

With ``--chunk-frames N`` the generator runs on chunks of ``N`` frames with the context of
its receptive field on both sides (:mod:`.streaming`): the same samples as offline
synthesis, and the latency of each chunk is reported.

On the CPU, ``--backend auto`` (the default) exports the generator to ONNX in memory
(:func:`speechgan.export.onnx_runtime`, checked against eager PyTorch within 1e-4), times
it against eager PyTorch on two seconds of mel and runs the faster: ONNX Runtime for HiFi-GAN
V1 and V3 and MelGAN on the project's CPU (1.3x to 2.1x), eager PyTorch for V2
(benchmarks/README.md). ``--backend torch`` or ``onnxruntime`` chooses outright.
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
from torch import nn
from tqdm.auto import tqdm

from speechgan import hookimpl
from speechgan.data.audio_io import AUDIO_EXTENSIONS, AudioLoader, write_audio
from speechgan.cli_options import run_and_inputs
from speechgan.data.inputs import AUDIO_FILES, checked_inputs, input_files
from speechgan.errors import DataError, ExportError, TrainingError
from speechgan.export import onnx_runtime
from speechgan.inference import LoadedRun, load_run
from speechgan.nn import remove_parametrizations

from .streaming import vocode_streaming

__all__ = ["VocodeReport", "vocode_files", "find_inputs", "read_mel", "speechgan_register_commands"]

MEL_EXTENSION = ".npy"
_KINDS = f"{AUDIO_FILES} or {MEL_EXTENSION} mel-spectrogram"  # what vocode reads, as messages name it


@dataclass(frozen=True)
class VocodeReport:
    """What :func:`vocode_files` wrote and how fast: real time factor = audio seconds / synthesis seconds."""

    outputs: tuple[Path, ...]
    audio_seconds: float
    synthesis_seconds: float  # the generator's time alone (front-end and file I/O excluded)
    wall_seconds: float
    chunk_seconds: tuple[float, ...] = ()  # streaming: the generator's time for each chunk of every file
    backend: str = "torch"  # what ran the generator: torch or onnxruntime
    note: str = ""  # why auto fell back to torch, if it did

    @property
    def real_time_factor(self) -> float:
        """How many times faster than real time the generator ran (``x real time``)."""
        return self.audio_seconds / max(self.synthesis_seconds, 1e-9)


def _is_mel(path: Path) -> bool:
    return path.suffix.lower() == MEL_EXTENSION


def _is_input(path: Path) -> bool:
    return path.is_file() and (path.suffix.lower() in AUDIO_EXTENSIONS or _is_mel(path))


def find_inputs(inputs: Sequence[str | Path]) -> list[tuple[Path, Path]]:
    """``(input file, output path relative to --out)``: audio files and ``.npy`` mels, or folders of them
    (:func:`speechgan.data.inputs.input_files`: ``x.npy`` -> ``x.wav``, folders recursively)."""
    return input_files(inputs, accept=_is_input, kinds=_KINDS)


def read_mel(path: Path, *, n_mels: int, front_end: str) -> np.ndarray:
    """A ``.npy`` mel-spectrogram as float32 ``(n_mels, N)``; refuse other shapes, dtypes or bins."""
    try:
        mel = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc}); save it with numpy.save") from None
    if mel.ndim == 3 and mel.shape[0] == 1:
        mel = mel[0]  # (1, n_mels, N) -> (n_mels, N)
    if mel.ndim != 2 or mel.shape[1] == 0:
        raise DataError(f"{path}: a mel-spectrogram has shape (n_mels, frames) or (1, n_mels, frames) with at least "
                        f"one frame, this array has shape {mel.shape}")
    if not np.issubdtype(mel.dtype, np.floating):
        raise DataError(f"{path}: holds {mel.dtype} values, a mel-spectrogram holds floating-point log magnitudes; "
                        "save it as float32")
    if mel.shape[0] != n_mels:
        raise DataError(f"{path}: holds {mel.shape[0]} mel bins, the run's front-end `{front_end}` makes {n_mels}; "
                        "make the mel-spectrograms with the front-end the vocoder was trained with (its `features:` "
                        "in the run's config.yaml)")
    bad = ~np.isfinite(mel)
    if bad.any():
        raise DataError(f"{path}: {int(bad.sum())} non-finite value(s) (NaN or Inf), the first in frame "
                        f"{int(np.argwhere(bad)[0][1])}; fix the model or script that made it")
    return np.ascontiguousarray(mel, dtype=np.float32)


def _channels(features: nn.Module, device: torch.device) -> int:
    """The number of channels (mel bins) the front-end makes, from one second of silence."""
    return int(features(torch.zeros(1, features.sample_rate, device=device)).shape[1])  # (1, C, N)


def _vocoder(run: LoadedRun) -> tuple[nn.Module, nn.Module]:
    """The run's ``(front-end, generator)``, weight norm folded into the generator's weights."""
    if run.features is None or "generator" not in run.generators:
        raise TrainingError(
            f"{run.run_dir}: not a vocoder run: vocode needs a `features:` front-end and a `generator` role "
            f"(the `vocoder` objective), this run has {'no front-end' if run.features is None else 'a front-end'} "
            f"and generators {sorted(run.generators)}"
        )
    # the core's folding, as `speechgan export` does: any parametrization, whatever the generator's class
    return run.features, remove_parametrizations(run.generators["generator"])


def _context_frames(run: LoadedRun, generator: nn.Module) -> int:
    """The generator's one-sided receptive field in frames, from its ``context_frames()`` method."""
    if not callable(getattr(generator, "context_frames", None)):
        raise TrainingError(
            f"{run.run_dir}: the generator `{run.config.generators['generator'].name}` has no context_frames() "
            "method, so the context a chunk needs is unknown; vocode without --chunk-frames, or give the generator "
            "a context_frames() returning its one-sided receptive field in input frames"
        )
    return int(generator.context_frames())


BACKENDS = ("auto", "torch", "onnxruntime")


def _faster(generator: nn.Module, onnx: Any, mel: torch.Tensor, repeats: int = 2) -> str:
    """``torch`` or ``onnxruntime``: which runs ``mel`` faster here (best of ``repeats`` after a warm-up).

    Neither wins everywhere: on the project's 2-core CPU ONNX Runtime runs HiFi-GAN V1 and V3
    and MelGAN 1.3x to 2.1x faster than eager PyTorch, and V2 about 10 % slower
    (benchmarks/README.md), so ``auto`` measures instead of assuming.
    """
    best = {}
    with torch.inference_mode():
        for name, run in (("torch", generator), ("onnxruntime", onnx)):
            run(mel)  # warm-up: allocations, kernel choice
            times = []
            for _ in range(repeats):
                tick = time.perf_counter()
                run(mel)
                times.append(time.perf_counter() - tick)
            best[name] = min(times)
    return min(best, key=best.__getitem__)


def _backend(run: LoadedRun, generator: nn.Module, backend: str) -> tuple[Any, str, str]:
    """``(callable generator, backend used, note)`` for ``--backend``.

    ``auto`` on the CPU exports the generator to ONNX in memory (checked against eager
    PyTorch within 1e-4), times it and eager PyTorch on two seconds of mel, and keeps the
    faster; on a GPU it is torch. If the generator does not export, auto uses torch and
    says why.
    """
    if backend not in BACKENDS:
        raise DataError(f"--backend {backend}: choose one of {', '.join(BACKENDS)}")
    on_cpu = run.device.type == "cpu"
    if backend == "torch" or (backend == "auto" and not on_cpu):
        return generator, "torch", ""
    if not on_cpu:
        raise DataError(f"--backend onnxruntime runs on the CPU, not on {run.device}; use --backend torch there")
    try:
        sig = run.objective.export_signature("generator", features=run.features, device=run.device)
        onnx = onnx_runtime(generator, sig)
    except (ExportError, NotImplementedError) as exc:
        if backend == "onnxruntime":
            raise ExportError(f"{run.run_dir}: --backend onnxruntime: {exc}") from None
        return generator, "torch", f"ONNX Runtime not used ({exc})"
    if backend == "auto":
        frames = max(1, round(2 * run.features.sample_rate / run.features.hop_length))  # two seconds
        mel = sig.example[0][:1].repeat(1, 1, frames // sig.example[0].shape[-1] + 1)[..., :frames]
        if _faster(generator, onnx, mel) == "torch":
            return generator, "torch", ""
    return onnx, "onnxruntime", ""


def vocode_files(
    run: LoadedRun,
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    progress: bool = False,
    chunk_frames: int | None = None,
    backend: str = "auto",
) -> VocodeReport:
    """Vocode every input (see :func:`find_inputs`) into ``out_dir``; a tqdm bar on stderr with ``progress``.

    Every input is read and checked before anything is written; an output that would
    replace an input is refused. The run's generator has its weight norm folded in place.
    ``chunk_frames`` synthesises in chunks of that many frames (:func:`.streaming.vocode_streaming`).
    ``backend``: ``torch``, ``onnxruntime`` or ``auto`` (ONNX Runtime on the CPU; see :func:`_backend`).
    """
    if chunk_frames is not None and chunk_frames < 1:
        raise DataError(f"--chunk-frames {chunk_frames}: a chunk holds at least 1 frame; give a positive number")
    start = time.perf_counter()
    out_dir = Path(out_dir)
    features, generator = _vocoder(run)
    context = 0 if chunk_frames is None else _context_frames(run, generator)
    front_end = run.config.features.name
    loader = AudioLoader(sample_rate=features.sample_rate)
    with torch.inference_mode():
        n_mels = _channels(features, run.device)

    def check(source: Path) -> None:
        if _is_mel(source):
            read_mel(source, n_mels=n_mels, front_end=front_end)
        else:
            loader.probe(source)

    # as find_inputs lists them; a bad input fails here, before anything is written or exported
    pairs = checked_inputs(inputs, out_dir, check=check, accept=_is_input, kinds=_KINDS)
    synthesise, used, note = _backend(run, generator, backend)
    outputs, audio_seconds, synthesis_seconds, chunk_seconds = [], 0.0, 0.0, []
    with torch.inference_mode():
        for source, output in tqdm(pairs, disable=not progress, file=sys.stderr, unit="file", dynamic_ncols=True):
            if _is_mel(source):
                mel = torch.from_numpy(read_mel(source, n_mels=n_mels, front_end=front_end)).to(run.device)[None]
            else:
                mel = features(torch.from_numpy(loader.load(source)).to(run.device)[None])  # (1, T) -> (1, n_mels, N)
            tick = time.perf_counter()
            if chunk_frames is None:
                audio = synthesise(mel).reshape(-1).cpu()  # (N * hop,); .cpu() waits for the device
            else:
                wave, seconds = vocode_streaming(synthesise, mel, chunk_frames=chunk_frames, context_frames=context)
                audio = wave.reshape(-1).cpu()  # (N * hop,)
                chunk_seconds += seconds
            synthesis_seconds += time.perf_counter() - tick
            audio_seconds += audio.numel() / features.sample_rate
            target = out_dir / output
            target.parent.mkdir(parents=True, exist_ok=True)
            write_audio(target, audio.numpy(), features.sample_rate)
            outputs.append(target)
    return VocodeReport(tuple(outputs), audio_seconds, synthesis_seconds, time.perf_counter() - start,
                        tuple(chunk_seconds), backend=used, note=note)


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    @cli.command()
    @run_and_inputs
    @click.option("--chunk-frames", type=int, help="Stream: synthesise chunks of this many mel frames (same output).")
    @click.option("--backend", type=click.Choice(BACKENDS), default="auto", show_default=True,
                  help="What runs the generator; auto: the faster of the two on the CPU (measured), torch on a GPU.")
    @click.pass_context
    def vocode(ctx: click.Context, run_dir: Path, inputs: tuple[Path, ...], out: Path, checkpoint: Path | None,
               no_ema: bool, device: str, chunk_frames: int | None, backend: str) -> None:
        """Turn INPUTS (audio files, .npy mel-spectrograms, folders of them) into WAV files with RUN_DIR's vocoder."""
        run = load_run(run_dir, registry=ctx.find_root().obj.registry, checkpoint=checkpoint, ema=not no_ema,
                       device=device)
        report = vocode_files(run, inputs, out, progress=sys.stderr.isatty(), chunk_frames=chunk_frames,
                              backend=backend)
        if report.note:
            click.echo(f"note: {report.note}", err=True)
        click.echo(
            f"{len(report.outputs)} files written to {out}: {report.audio_seconds:.2f} s of audio in "
            f"{report.wall_seconds:.2f} s ({report.real_time_factor:.1f}x real time, synthesis "
            f"{report.synthesis_seconds:.2f} s, {report.backend}) with {run.weights}"
        )
        if report.chunk_seconds:
            chunk_ms = 1000 * chunk_frames * run.features.hop_length / run.features.sample_rate
            latencies = [1000 * s for s in report.chunk_seconds]
            click.echo(
                f"streaming: {len(latencies)} chunks of {chunk_frames} frames ({chunk_ms:.1f} ms of audio each), "
                f"latency per chunk mean {sum(latencies) / len(latencies):.1f} ms, max {max(latencies):.1f} ms"
            )
