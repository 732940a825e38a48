"""Interleaved timing of two training loops, shared by the trainer-overhead benchmarks.

``trainer_overhead.py`` and ``vocoder_training_speed.py`` both time the trainer's step
against a hand-written one: blocks of steps that take turns going first, measured by the
wall clock and by the process's CPU time, summarised as medians and as the median of the
per-block ratios. The scripts import this module from their own folder (``python
benchmarks/<script>.py`` puts ``benchmarks/`` first on ``sys.path``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

Step = Callable[[], Any]
Times = dict[str, list[tuple[float, float]]]  # loop name -> (wall ms, CPU ms) per step, one pair per block


def time_block(step: Step, steps: int) -> tuple[float, float]:
    """Milliseconds per step over ``steps`` steps: wall-clock and CPU time of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return 1000 * (time.perf_counter() - wall) / steps, 1000 * (time.process_time() - cpu) / steps


def interleave(loops: Mapping[str, Step], *, blocks: int, steps: int) -> Times:
    """``blocks`` blocks of ``steps`` steps of every loop, the loops taking turns at going first."""
    times: Times = {name: [] for name in loops}
    for block in range(blocks):
        # the loops take turns going first, so that a drift in the machine's load favours neither
        for name, step in list(loops.items())[:: 1 if block % 2 == 0 else -1]:
            times[name].append(time_block(step, steps))
    return times


def report(times: Times, *, number: str) -> dict[str, dict[str, float]]:
    """Print the medians and the trainer / hand-written ratios by both clocks; return them by clock.

    ``number`` formats milliseconds (``"6.2f"``: width and precision). Returns ``{clock:
    {loop name: median ms, ..., "ratio": median of the per-block ratios}}``.
    """
    precision = "." + number.split(".")[1]
    out: dict[str, dict[str, float]] = {}
    # CPU time (all threads) is the steadier figure where other jobs share the cores; wall time is what a run takes
    for clock, i in (("wall", 0), ("cpu", 1)):
        median = {name: statistics.median(t[i] for t in blocks) for name, blocks in times.items()}
        for name, blocks in times.items():
            print(f"  {clock:>4} {name:>12}: {median[name]:{number}} ms/step  "
                  f"(blocks: {' '.join(f'{t[i]:{precision}}' for t in blocks)})")
        # each block's pair ran back to back: their ratio is the least disturbed by other jobs
        paired = statistics.median(t[i] / h[i] for t, h in zip(times["trainer"], times["hand-written"]))
        print(f"  {clock:>4} ratio trainer / hand-written: {paired:.3f} (median of the per-block ratios; "
              f"ratio of the medians {median['trainer'] / median['hand-written']:.3f})")
        out[clock] = {**median, "ratio": paired}
    return out
