"""Mode-collapse benchmark: modes captured and high-quality samples over several seeds.

Usage::

    python benchmarks/toy_modes.py recipes/toy/ring8.yaml recipes/toy/grid25.yaml \
        [--seeds 0 1 2 3 4] [--out runs/toy_modes] [--threads 1] [--override trainer.max_steps=500]

Each recipe is trained once per seed (the override ``seed=N``; the toy recipes tie the
dataset's seed to it) through the library (:func:`speechgan.run.train`) into
``OUT/<recipe>/seed<N>``, and one Markdown table per recipe is printed: seed, modes
captured, high-quality fraction (VEEGAN / PacGAN definition, ``mode_coverage`` metric) and
wall time, whether the seed meets the bar of the toy recipes (all modes, at least 95 %
high-quality samples), plus the mean. ``--threads`` sets ``torch.set_num_threads`` (default:
torch's own choice); on a small shared CPU one thread is often fastest for these tiny MLPs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from speechgan.plugins import get_plugin_manager
from speechgan.run import train

HQ_BAR = 0.95


@dataclass
class SeedResult:
    seed: int
    modes_captured: float
    num_modes: float
    high_quality_fraction: float
    wall_s: float


def run_recipe(recipe: Path, seeds: list[int], out: Path, overrides: list[str]) -> list[SeedResult]:
    registry = get_plugin_manager().registry
    results = []
    for seed in seeds:
        start = time.perf_counter()
        metrics = train(recipe, out / recipe.stem / f"seed{seed}", registry, overrides=[*overrides, f"seed={seed}"])
        wall = time.perf_counter() - start
        results.append(SeedResult(seed, metrics["modes_captured"], metrics["num_modes"], metrics["high_quality_fraction"], wall))
        print(f"  {recipe.stem} seed {seed}: {metrics['modes_captured']:g}/{metrics['num_modes']:g} modes, "
              f"{100 * metrics['high_quality_fraction']:.1f}% high quality, {wall:.0f} s", flush=True)
    return results


def markdown_table(results: list[SeedResult]) -> str:
    """Seed rows and a mean row; a seed that misses the bar is marked."""
    lines = ["| seed | modes captured | high quality | wall time | bar met |", "|---:|---:|---:|---:|:---:|"]
    for r in results:
        met = r.modes_captured == r.num_modes and r.high_quality_fraction >= HQ_BAR
        lines.append(f"| {r.seed} | {r.modes_captured:g}/{r.num_modes:g} | {100 * r.high_quality_fraction:.1f} % "
                     f"| {r.wall_s:.0f} s | {'yes' if met else 'no'} |")
    modes = statistics.mean(r.modes_captured for r in results)
    hq = statistics.mean(r.high_quality_fraction for r in results)
    wall = statistics.mean(r.wall_s for r in results)
    lines.append(f"| mean | {modes:.1f}/{results[0].num_modes:g} | {100 * hq:.1f} % | {wall:.0f} s | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipes", nargs="+", type=Path, help="recipe YAML(s), e.g. recipes/toy/ring8.yaml")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=Path("runs/toy_modes"), help="a new folder for the runs")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--override", action="append", default=[], help="a dotted config override (repeatable)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch threads: {torch.get_num_threads()}")
    total = time.perf_counter()
    tables = {}
    for recipe in args.recipes:
        results = run_recipe(recipe, args.seeds, args.out, args.override)
        tables[str(recipe)] = results
        print(f"\n### {recipe}\n\n{markdown_table(results)}\n", flush=True)
    print(f"total wall time: {time.perf_counter() - total:.0f} s")
    summary = {name: [asdict(r) for r in rs] for name, rs in tables.items()}
    (args.out / "results.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
