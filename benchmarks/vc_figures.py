"""Spectrogram and F0-contour figure of a voice-conversion run on one held-out parallel pair.

Usage::

    python benchmarks/vc_figures.py runs/vc2_f3_m1 --pair 0 --out recipes/vc/figures/vc2_f3_m1.png \\
        --audio recipes/vc/samples/vc2_f3_m1

The run comes through :func:`speechgan.inference.load_run`; the pair is item ``--pair`` of
its ``data.valid`` split (the same prompt read by the A and the B speaker, held out of
training). For each direction the figure has one row per signal: the source recording, the
statistics baseline, the run's conversion and the target recording, each as a log-mel
spectrogram (80 bins, 0 Hz to Nyquist) with its WORLD F0 contour (Harvest, 5 ms) on a
second axis. With ``--audio`` the four waveforms of each direction are also written as WAV
files, to listen to.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from speechgan.build import build_dataset
from speechgan.data.audio_io import write_audio
from speechgan.features import LogMelSpectrogram
from speechgan.inference import load_run
from speechgan.metrics import world_features


def signals(run, pair: int) -> dict[str, dict[str, np.ndarray]]:
    """``{direction: {label: wave (T,)}}`` for item ``pair`` of the run's valid split."""
    dataset = build_dataset(run.config, run.registry, "valid", features=run.features)
    names = {i: s for s, i in dataset.a.speaker_to_index.items()}
    item = dataset[pair]
    fe, stats = run.features, run.objective.normalizer
    out: dict[str, dict[str, np.ndarray]] = {}
    for direction, (src, tgt) in (("a2b", (item["a"], item["b"])), ("b2a", (item["b"], item["a"]))):
        source, target = names[int(src["speaker"])], names[int(tgt["speaker"])]
        feats, length = src["features"].float(), src["wave"].shape[-1]
        with torch.no_grad():
            converted = run.objective.convert(feats, g=run.generators, source=source, target=target)
        baseline = stats.statistics_baseline(feats.double()[None], source=source, target=target)[0]
        out[direction] = {
            f"source ({source}, {src['id']})": src["wave"].numpy(),
            "statistics baseline": fe.inverse(baseline, length).numpy(),
            f"converted ({run.run_dir.name}, step {run.step})": fe.inverse(converted.double(), length).numpy(),
            f"target ({target}, {tgt['id']})": tgt["wave"].numpy(),
        }
    return out


def plot(waves: dict[str, dict[str, np.ndarray]], sr: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mel = LogMelSpectrogram(sample_rate=sr, fmax=None)
    rows = sum(len(v) for v in waves.values())
    fig, axes = plt.subplots(rows, 1, figsize=(8, 1.7 * rows), constrained_layout=True)
    axes = iter(axes)
    for direction, signals_ in waves.items():
        for label, wave in signals_.items():
            ax = next(axes)
            spec = mel(torch.from_numpy(np.clip(wave, -1, 1)).float()).numpy()  # (80, N)
            seconds = len(wave) / sr
            ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=-11.5, vmax=2.0,
                      extent=(0, seconds, 0, spec.shape[0]))
            f0 = world_features(wave, sr).f0  # (N,) Hz, 0 unvoiced; 5 ms frames
            t = np.arange(len(f0)) * 0.005
            twin = ax.twinx()
            twin.plot(t, np.where(f0 > 0, f0, np.nan), color="cyan", lw=1.0)
            twin.set_ylim(50, 400)
            twin.set_ylabel("F0 (Hz)", fontsize=7)
            ax.set_xlim(0, seconds)
            ax.set_title(f"{direction}: {label}", fontsize=9)
            ax.set_ylabel("mel bin", fontsize=7)
    fig.supxlabel("time (s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run")
    parser.add_argument("--pair", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="PNG file")
    parser.add_argument("--audio", type=Path, help="Folder for the WAV files of the figure's signals.")
    args = parser.parse_args()
    run = load_run(args.run)
    sr = run.features.sample_rate
    waves = signals(run, args.pair)
    plot(waves, sr, args.out)
    if args.audio is not None:
        args.audio.mkdir(parents=True, exist_ok=True)
        for direction, signals_ in waves.items():
            for k, wave in enumerate(signals_.values()):
                name = ("source", "statistics", "converted", "target")[k]
                write_audio(args.audio / f"{direction}_{name}.wav", np.clip(wave, -1, 1).astype(np.float32), sr)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
