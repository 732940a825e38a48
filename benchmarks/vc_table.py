"""Markdown tables of voice-conversion runs' ``metrics.json`` (the ``voice_conversion`` metric).

Usage::

    python benchmarks/vc_table.py runs/vc2_f3_m1 runs/vc2_m1_m3

One table per run and direction: the converted speech, the statistics baseline and the
unconverted source, with mean (std) of each measure over the held-out parallel pairs, and the
bar of issue 11 checked (MCD below both baselines, at least 90 % of the utterances closer to
the target, DNSMOS no more than 0.3 below the statistics baseline).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

MEASURES = [("mcd_db", "MCD (dB)"), ("log_f0_rmse", "log-F0 RMSE"), ("vuv_error", "V/UV error"),
            ("sim_target", "sim. to target"), ("sim_source", "sim. to source"),
            ("closer_to_target", "closer to target"), ("dnsmos_ovrl", "DNSMOS OVRL")]
SYSTEMS = [("converted", "converted"), ("statistics", "statistics baseline"), ("unconverted", "unconverted")]


def table(metrics: dict, direction: str) -> str:
    lines = ["| system | " + " | ".join(label for _, label in MEASURES) + " |",
             "| --- |" + " --- |" * len(MEASURES)]
    for key, label in SYSTEMS:
        cells = []
        for measure, _ in MEASURES:
            mean = metrics[f"{direction}/{key}/{measure}"]
            std = metrics[f"{direction}/{key}/{measure}_std"]
            cells.append(f"{100 * mean:.0f} %" if measure == "closer_to_target" else f"{mean:.3f} ({std:.3f})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bar(metrics: dict, direction: str) -> str:
    m = lambda system, measure: metrics[f"{direction}/{system}/{measure}"]  # noqa: E731
    mcd = m("converted", "mcd_db") < min(m("statistics", "mcd_db"), m("unconverted", "mcd_db"))
    closer = m("converted", "closer_to_target") >= 0.9
    dnsmos = m("converted", "dnsmos_ovrl") >= m("statistics", "dnsmos_ovrl") - 0.3
    says = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    gap = m("converted", "dnsmos_ovrl") - m("statistics", "dnsmos_ovrl")
    return (f"MCD below both baselines: {says(mcd)}; closer to the target for >= 90 %: {says(closer)} "
            f"({100 * m('converted', 'closer_to_target'):.0f} %); DNSMOS within 0.3 of the statistics baseline: "
            f"{says(dnsmos)} ({gap:+.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    for run in args.runs:
        metrics = json.loads((run / "metrics.json").read_text())
        for direction in ("a2b", "b2a"):
            print(f"\n{run} (step {metrics['step']}), {direction}:\n")
            print(table(metrics, direction))
            print(f"\nBar: {bar(metrics, direction)}")


if __name__ == "__main__":
    main()
