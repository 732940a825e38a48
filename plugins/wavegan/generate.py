"""``speechgan generate RUN_DIR -n N --out DIR [--label L] [--seed S]``: audio from a trained generator.

For the unconditional waveform families (WaveGAN, SpecGAN; Donahue et al., ICLR 2019) and
their conditional variants. The run's objective draws the latents and returns waveforms
``(n, 1, T)`` in [-1, 1] (``sample``, or ``sample_conditional`` with labels): a WaveGAN
generator writes them directly, a SpecGAN objective inverts its spectrograms with
Griffin-Lim first, so this command treats both alike. It writes ``DIR/<name>_<k>.wav`` at
the generator's ``sample_rate`` and ``DIR/spectrograms.png``, a grid of their log-magnitude
spectrograms.

``--label`` takes a class index or, when the run's training dataset names its classes (a
``words`` argument or default, as the ``speech_commands`` dataset has), a class name. The
same ``--seed`` gives the same audio on the same device.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from speechgan import hookimpl
from speechgan.data.audio_io import write_audio
from speechgan.errors import DataError, UnknownComponentError
from speechgan.inference import LoadedRun, load_run
from speechgan.objective import spectrogram_figure

__all__ = ["GenerateReport", "class_names", "generate_audio", "spectrogram_grid", "speechgan_register_commands"]


@dataclass(frozen=True)
class GenerateReport:
    outputs: tuple[Path, ...]
    figure: Path
    sample_rate: int
    label: int | None


def class_names(run: LoadedRun) -> list[str] | None:
    """The class names of the run's training data: its ``words`` argument, else the factory's default."""
    spec = run.config.data.train
    if "words" in spec.args:
        return list(spec.args["words"])
    try:
        factory = run.registry.get("dataset", spec.name).factory
        default = inspect.signature(factory).parameters["words"].default
    except (UnknownComponentError, KeyError, ValueError, TypeError):  # no such dataset, or no words parameter
        return None
    return list(default) if isinstance(default, (list, tuple)) else None


def _label_index(label: str, num_classes: int, names: list[str]) -> int:
    if label.lstrip("-").isdigit():
        index = int(label)
        if not 0 <= index < num_classes:
            raise DataError(f"--label {label}: this run's generator has classes 0 to {num_classes - 1}")
        return index
    if label not in names:
        known = f"its classes are {', '.join(names)}" if names else "give a class index"
        raise DataError(f"--label {label!r}: not a class of this run; {known}")
    return names.index(label)


def _sample_rate(run: LoadedRun) -> int:
    for owner in (run.objective, *run.generators.values()):
        rate = getattr(owner, "sample_rate", None)
        if isinstance(rate, int) and rate > 0:
            return rate
    raise DataError(f"{run.run_dir}: neither objective {run.config.objective.name!r} nor its generator says its "
                    "sample_rate; `generate` writes audio from waveform generators (WaveGAN, SpecGAN)")


def spectrogram_grid(waves: np.ndarray, sample_rate: int, titles: list[str], path: Path) -> None:
    """Save a grid of the log-magnitude spectrograms of the first (at most 16) ``waves`` (n, T) to ``path``."""
    import matplotlib.pyplot as plt

    n = min(len(waves), 16)
    fig = spectrogram_figure(torch.from_numpy(waves[:n]), sample_rate=sample_rate, titles=titles[:n])
    fig.savefig(path, dpi=100)
    plt.close(fig)


def generate_audio(run: LoadedRun, n: int, out_dir: str | Path, *, label: str | None = None,
                   seed: int | None = None, batch_size: int = 64) -> GenerateReport:
    """Draw ``n`` clips from ``run`` (of class ``label`` if given) and write them with their figure.

    With ``seed`` the latents are drawn from that seed and the caller's RNG is left as it was;
    without, from the global RNG.
    """
    if n < 1:
        raise DataError(f"-n must be at least 1, got {n}")
    objective: Any = run.objective
    if not callable(getattr(objective, "sample", None)):
        raise DataError(f"{run.run_dir}: objective {run.config.objective.name!r} cannot sample")
    rate = _sample_rate(run)
    num_classes = int(getattr(objective, "num_classes", 0) or 0)
    index, names = None, None
    if label is not None:
        if num_classes < 1 or not callable(getattr(objective, "sample_conditional", None)):
            raise DataError(f"--label {label}: {run.run_dir} is an unconditional run "
                            f"(objective {run.config.objective.name!r}); leave --label out")
        names = class_names(run) or []
        index = _label_index(label, num_classes, names)
    chunks = []
    # a seed draws the same latents every time and leaves the caller's RNG as it was
    devices = [run.device] if run.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, enabled=seed is not None), torch.inference_mode():
        if seed is not None:
            torch.manual_seed(seed)
        for start in range(0, n, batch_size):
            k = min(batch_size, n - start)
            if index is not None:
                labels = torch.full((k,), index, dtype=torch.long, device=run.device)
                out = objective.sample_conditional(g=run.generators, labels=labels, device=run.device)
            else:
                out = objective.sample(g=run.generators, n=k, device=run.device)
            if out.dim() == 3 and out.shape[1] == 1:
                out = out[:, 0]
            if out.dim() != 2:
                raise DataError(f"{run.run_dir}: the generator makes {tuple(out.shape[1:])}-shaped samples, not "
                                "waveforms; `generate` writes audio")
            chunks.append(out.float().clamp(-1.0, 1.0).cpu().numpy())
    waves = np.concatenate(chunks)  # (n, T)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = (names[index] if names and index < len(names) else f"class{index}") if index is not None else "sample"
    digits = max(3, len(str(n - 1)))
    outputs = []
    for k, wave in enumerate(waves):
        path = out_dir / f"{stem}_{k:0{digits}d}.wav"
        write_audio(path, wave, rate, subtype="PCM_16")
        outputs.append(path)
    figure = out_dir / "spectrograms.png"
    spectrogram_grid(waves, rate, [p.stem for p in outputs], figure)
    return GenerateReport(tuple(outputs), figure, rate, index)


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    @cli.command()
    @click.argument("run_dir", type=click.Path(path_type=Path))
    @click.option("-n", "n", default=16, show_default=True, type=int, help="How many clips.")
    @click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the WAV files.")
    @click.option("--label", help="Class index or name, for conditional runs.")
    @click.option("--seed", type=click.IntRange(0), help="Seed of the latents (same seed, same audio).")
    @click.option("--checkpoint", type=click.Path(path_type=Path), help="Default: RUN_DIR/checkpoints/last.pt.")
    @click.option("--no-ema", is_flag=True, help="Use the live generator weights, not their moving average.")
    @click.option("--device", default="cpu", show_default=True, help="cpu, cuda[:N] or auto.")
    @click.pass_context
    def generate(ctx: click.Context, run_dir: Path, n: int, out: Path, label: str | None, seed: int | None,
                 checkpoint: Path | None, no_ema: bool, device: str) -> None:
        """Write N clips drawn from the generator of RUN_DIR (WaveGAN, SpecGAN) as WAV files and a figure."""
        run = load_run(run_dir, registry=ctx.find_root().obj.registry, checkpoint=checkpoint, ema=not no_ema,
                       device=device)
        report = generate_audio(run, n, out, label=label, seed=seed)
        what = f" of class {label}" if label is not None else ""
        click.echo(f"{len(report.outputs)} clips{what} at {report.sample_rate} Hz written to {out} "
                   f"(spectrograms: {report.figure}) with {run.weights}")
