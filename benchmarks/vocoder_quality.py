"""Vocoder quality on held-out utterances and a held-out voice, next to Griffin-Lim and WORLD.

Usage::

    python benchmarks/vocoder_quality.py RUN_DIR[:CHECKPOINT] ... --held-out-voice m3 \\
        --out recipes/vocoder/results/quality.json --figure recipes/vocoder/spectrograms.png

For every trained vocoder run (through :func:`speechgan.inference.load_run`, weight norm
folded; its last checkpoint, or ``RUN_DIR:CHECKPOINT`` with a path inside the run) and two
evaluation sets, the run's ``data.valid`` split (utterances of the training voices held out
of training) and the same split of ``--held-out-voice`` (a voice never
trained on: ``data.valid.args.speakers=[VOICE]``), each system resynthesises every whole
utterance and is scored against the recording with the project's metrics:

* ``log_mel_l1``: full-band log-mel L1 (HiFi-GAN's validation error; 1024/256/1024, 80 mels, 0 Hz to Nyquist);
* ``mr_stft``: Parallel WaveGAN's multi-resolution STFT distance;
* ``pesq_wb``: wideband PESQ at 16 kHz;
* ``dnsmos_*``: DNSMOS P.835 (SIG, BAK, OVRL) and P.808, no-reference (the ``speechmos`` wheel's ONNX
  models); utterances under its 1 s minimum get none (the JSON's ``_count`` says how many were scored).

Systems:

* each run's generator on the mel its front-end makes of the recording;
* **Griffin-Lim** from the same log-mel: undo the log, the mel filter bank's pseudo-inverse
  (negatives clipped), then ``--gl-iters`` fast Griffin-Lim iterations (Perraudin et al.
  2013, momentum 0.99): :meth:`LogMelSpectrogram.inverse`. One row per distinct front-end
  among the runs (HiFi-GAN's mel stops at 8 kHz, MelGAN's is full band);
* **WORLD** analysis-synthesis of the recording (Morise et al. 2016: Harvest F0, CheapTrick
  envelope, D4C aperiodicity, 5 ms frames), the classical vocoder's ceiling;
* the **recording** itself (DNSMOS only: the other metrics compare with it).

Every output is clipped to [-1, 1], as the WAV file a user gets would hold it.

The figure shows the first held-out-voice utterance: the recording, each run and Griffin-Lim.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyworld
import torch

from speechgan.build import build_dataset
from speechgan.errors import DataError
from speechgan.inference import LoadedRun, load_run
from speechgan.metrics import PWG_RESOLUTIONS, dnsmos, log_mel_l1, multi_resolution_stft_distance, pesq_wb
from speechgan.nn import remove_parametrizations
from speechgan_plugins.audio.metrics import summarize

FULL_BAND = dict(n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0.0, fmax=None)
KEYS = ("log_mel_l1", "mr_stft", "pesq_wb", "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808")


def scores(ref: np.ndarray, gen: np.ndarray, sr: int) -> dict[str, float]:
    n = min(len(ref), len(gen))
    ref, gen = ref[:n], np.clip(gen[:n], -1.0, 1.0)  # as a WAV file holds it (Griffin-Lim can overshoot)
    out = {
        "log_mel_l1": log_mel_l1(torch.from_numpy(ref), torch.from_numpy(gen), sr, **FULL_BAND),
        "mr_stft": multi_resolution_stft_distance(torch.from_numpy(ref), torch.from_numpy(gen), PWG_RESOLUTIONS),
        "pesq_wb": pesq_wb(ref, gen, sr),
    }
    return {**out, **naturalness(gen, sr)}


def naturalness(wave: np.ndarray, sr: int) -> dict[str, float]:
    """DNSMOS, NaN for an utterance shorter than its 1 s minimum (left out of the means; see the counts)."""
    try:
        return dnsmos(wave, sr)
    except DataError:
        return dict.fromkeys(("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"), float("nan"))


def world_resynthesis(wave: np.ndarray, sr: int) -> np.ndarray:
    x = wave.astype(np.float64)
    f0, times = pyworld.harvest(x, sr, frame_period=5.0)
    sp = pyworld.cheaptrick(x, f0, times, sr)
    ap = pyworld.d4c(x, f0, times, sr)
    return pyworld.synthesize(f0, sp, ap, sr, frame_period=5.0)[: len(x)].astype(np.float32)


def label(run: LoadedRun) -> str:
    return f"{run.config.generators['generator'].name} ({run.run_dir.name}, step {run.step})"


def parse_run(spec: str) -> tuple[Path, Path | None]:
    """``RUN_DIR`` or ``RUN_DIR:CHECKPOINT`` (a path relative to the run directory)."""
    run, _, checkpoint = spec.partition(":")
    return Path(run), (Path(run) / checkpoint if checkpoint else None)


def front_end_label(run: LoadedRun) -> str:
    f = run.features
    return f"Griffin-Lim on {run.config.generators['generator'].name}'s mel (fmax {f.fmax:g} Hz, {f.n_iter} iterations)"


def evaluate(runs: list[str], voice: str, gl_iters: int, limit: int | None) -> tuple[dict, dict]:
    """``{set: {system: {key: [values]}}}`` and the figure's utterance: its rate and waveforms."""
    values: dict[str, dict[str, dict[str, list[float]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    figure: dict[str, np.ndarray] = {}
    done_baselines: set[tuple[str, str]] = set()
    for spec in runs:
        run_dir, checkpoint = parse_run(spec)
        for name, overrides in (("held-out utterances", ()), (f"held-out voice {voice}",
                                                               (f"data.valid.args.speakers=[{voice}]",))):
            run = load_run(run_dir, overrides=overrides, checkpoint=checkpoint)
            run.features.n_iter = gl_iters  # only shapes the inverse (not part of the fingerprint)
            generator = remove_parametrizations(run.generators["generator"]).eval()
            dataset = build_dataset(run.config, run.registry, "valid", features=run.features)
            sr = int(run.features.sample_rate)
            gl_key = front_end_label(run)
            baselines = (gl_key, name) not in done_baselines
            world = ("WORLD analysis-synthesis", name) not in done_baselines
            count = len(dataset) if limit is None else min(limit, len(dataset))
            tick = time.perf_counter()
            for i in range(count):
                item = dataset[i]
                ref = item["wave"].reshape(-1).float()
                mel = item["features"].unsqueeze(0)  # (1, n_mels, N)
                with torch.inference_mode():
                    fake = generator(mel).reshape(-1).numpy()
                    gl = run.features.inverse(mel, length=ref.numel()).reshape(-1).numpy() if baselines else None
                ref_np = ref.numpy()
                systems = {label(run): fake}
                if baselines:
                    systems[gl_key] = gl
                if world:
                    systems["WORLD analysis-synthesis"] = world_resynthesis(ref_np, sr)
                for system, wave in systems.items():
                    for k, v in scores(ref_np, wave, sr).items():
                        values[name][system][k].append(v)
                if world:
                    for k, v in naturalness(ref_np, sr).items():
                        values[name]["recording"][k].append(v)
                if name.startswith("held-out voice") and i == 0:
                    figure.setdefault("sample_rate", sr)
                    figure.setdefault("recording", ref_np)
                    figure[label(run)] = fake
                    if baselines:
                        figure[gl_key] = gl
            done_baselines |= {(gl_key, name), ("WORLD analysis-synthesis", name)}
            print(f"{label(run)}, {name}: {count} utterances in {time.perf_counter() - tick:.0f} s", file=sys.stderr)
    return values, figure


def summarise(values: dict) -> dict:
    """``{set: {system: {key, key_std, key_count}}}`` by the speech metrics' own :func:`summarize`."""
    return {split: {system: summarize(keys) for system, keys in systems.items()} for split, systems in values.items()}


def markdown(summary: dict) -> str:
    head = ("| set | system | log-mel L1 ↓ | MR-STFT ↓ | PESQ (wb) ↑ | DNSMOS SIG ↑ | DNSMOS BAK ↑ | DNSMOS OVRL ↑ "
            "| DNSMOS P.808 ↑ |\n|---|---|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for split, systems in summary.items():
        for system, row in systems.items():
            cells = [f"{row[k]:.3f}" if k in row and math.isfinite(row[k]) else "-" for k in KEYS]
            lines.append(f"| {split} | {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(figure: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from speechgan.features import LogMelSpectrogram

    figure = dict(figure)
    sr = figure.pop("sample_rate")
    mel = LogMelSpectrogram(sample_rate=sr, fmax=None)
    fig, axes = plt.subplots(len(figure), 1, figsize=(8, 1.9 * len(figure)), sharex=True, constrained_layout=True)
    for ax, (name, wave) in zip(axes, figure.items()):
        spec = mel(torch.from_numpy(wave).float()).numpy()  # (80, N) natural-log mel, 0 Hz to Nyquist
        ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=-11.5, vmax=2.0,
                  extent=(0, len(wave) / sr, 0, spec.shape[0]))
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("mel bin")
    axes[-1].set_xlabel("time (s)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", help="RUN_DIR, or RUN_DIR:CHECKPOINT for another checkpoint of the run")
    parser.add_argument("--held-out-voice", default="m3")
    parser.add_argument("--gl-iters", type=int, default=100)
    parser.add_argument("--limit", type=int, help="At most this many utterances per set (default: all).")
    parser.add_argument("--out", type=Path, required=True, help="JSON file of the means, stds and counts.")
    parser.add_argument("--figure", type=Path, help="PNG of the first held-out-voice utterance's spectrograms.")
    args = parser.parse_args()
    values, figure = evaluate(args.runs, args.held_out_voice, args.gl_iters, args.limit)
    summary = summarise(values)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print(markdown(summary))
    if args.figure:
        plot(figure, args.figure)


if __name__ == "__main__":
    main()
