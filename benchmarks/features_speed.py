"""Feature-extraction speed of the built-in front-ends on the CPU, as x real time.

Usage: ``python benchmarks/features_speed.py [--seconds 10] [--repeats 3]``

Each front-end is built with its defaults at 22.05 kHz (``sample_rate=22050``) and run on
the same synthetic tone; the time is the best of ``--repeats`` runs after one warm-up, with
``torch.set_num_threads(1)`` and with all threads. x real time = audio seconds / seconds spent
(higher is faster). WORLD (pyworld) is single-threaded whatever torch is set to.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import speechgan_plugins.audio.features
from speechgan.plugins import get_plugin_manager

SAMPLE_RATE = 22050


def tone(seconds: float) -> torch.Tensor:
    """A 150 Hz tone with vibrato and 20 harmonics, plus a little noise: (T,) float32."""
    t = torch.arange(int(seconds * SAMPLE_RATE), dtype=torch.float64) / SAMPLE_RATE
    phase = 2 * math.pi * torch.cumsum(150 * (1 + 0.03 * torch.sin(2 * math.pi * 5 * t)), 0) / SAMPLE_RATE
    x = sum(torch.sin(k * phase) / k for k in range(1, 21))
    x = 0.3 * x / x.abs().max() + 1e-3 * torch.randn(t.numel(), generator=torch.Generator().manual_seed(0))
    return x.float()


def best_time(fn, wave: torch.Tensor, repeats: int) -> float:
    fn(wave)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(wave)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    pm = get_plugin_manager(entry_points=False, plugins=[("audio_features", speechgan_plugins.audio.features)])
    registry = pm.registry
    wave = tone(args.seconds)
    all_threads = torch.get_num_threads()
    rows = []
    for name in registry.names("feature"):
        fe = registry.build("feature", name, sample_rate=SAMPLE_RATE)
        speeds = []
        for threads in (1, all_threads):
            torch.set_num_threads(threads)
            with torch.no_grad():
                speeds.append(args.seconds / best_time(fe, wave, args.repeats))
        shape = tuple(fe(wave).shape)
        cells = " | ".join(f"{v:,.0f}" if v >= 100 else f"{v:.2f}" for v in speeds)
        rows.append(f"| {name} | {shape[0]} x {shape[1]} | {cells} |")
    torch.set_num_threads(all_threads)
    print(f"{args.seconds:g} s of {SAMPLE_RATE} Hz audio, best of {args.repeats}, torch {torch.__version__}\n")
    print(f"| front-end | output (C x N) | x real time, 1 thread | x real time, {all_threads} threads |")
    print("| --- | --- | ---: | ---: |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
