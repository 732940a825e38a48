"""Markdown tables of speech-enhancement runs' per-utterance scores (the ``speech_enhancement`` metric).

Usage::

    speechgan evaluate runs/segan_demo "evaluation.metrics=[{name: speech_enhancement}]"
    python benchmarks/enhancement_table.py runs/segan_demo [runs/other ...] [--out table.md]

Each RUN_DIR's ``eval/speech_enhancement.csv`` (or a CSV file named directly) gives one table:
the noisy input, the Wiener filter and the run's enhancement (SEGAN), with mean (std) of wideband
PESQ, STOI, segmental SNR and the composite CSIG, CBAK and COVL over all utterances, then one
block per noise type (with its utterance count and SNR range) where the corpus lists them, and with
``--snr-bands 0,5,10,15`` one block per band of input SNR. Under
each table, the bar of the CPU-scale run (issue text): SEGAN improves PESQ, STOI and SSNR over
the noisy input, and beats the Wiener filter on PESQ and SSNR. The layout is SEGAN's Table 1
(Pascual, Bonafonte & Serra, Interspeech 2017), with STOI added.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

MEASURES = [("pesq", "PESQ", 2), ("stoi", "STOI", 3), ("ssnr_db", "SSNR (dB)", 2), ("csig", "CSIG", 2),
            ("cbak", "CBAK", 2), ("covl", "COVL", 2)]
SYSTEMS = [("noisy", "noisy"), ("wiener", "Wiener"), ("enhanced", "SEGAN")]
CSV_NAME = "speech_enhancement.csv"

Row = dict[str, str]


def read_rows(source: Path, csv_name: str = CSV_NAME) -> tuple[Path, list[Row]]:
    """The CSV's path and rows: ``source`` is the CSV itself or a run directory holding ``eval/<csv_name>``."""
    path = source if source.is_file() else source / "eval" / csv_name
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; run `speechgan evaluate {source} "
                         "\"evaluation.metrics=[{name: speech_enhancement}]\"` first")
    with path.open(newline="") as f:
        return path, list(csv.DictReader(f))


def mean_std(rows: list[Row], measure: str) -> tuple[float, float] | None:
    """Mean and population std of the finite values of a column; None when the column is absent."""
    if not rows or measure not in rows[0]:
        return None
    values = [float(r[measure]) for r in rows]
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    mean = sum(finite) / len(finite)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in finite) / len(finite))


def cell(stats: tuple[float, float] | None, digits: int) -> str:
    return "-" if stats is None else f"{stats[0]:.{digits}f} ({stats[1]:.{digits}f})"


def block_label(name: str, rows: list[Row]) -> str:
    """``all (30)`` or ``white (10, 2.5 to 7.5 dB)``: the utterances of one system in the block."""
    ids = {r["id"] for r in rows}
    snrs = sorted(float(r["snr_db"]) for r in rows if r.get("snr_db"))
    span = "" if not snrs else (f", {snrs[0]:g} dB" if snrs[0] == snrs[-1] else f", {snrs[0]:g} to {snrs[-1]:g} dB")
    return f"{name} ({len(ids)}{span})"


def snr_blocks(rows: list[Row], edges: list[float]) -> list[tuple[str, list[Row]]]:
    """One block per input-SNR band ``[edges[i], edges[i+1])`` (the last one closed) that holds utterances."""
    blocks = []
    for k, (low, high) in enumerate(zip(edges, edges[1:])):
        last = k == len(edges) - 2
        chosen = [r for r in rows if r.get("snr_db")
                  and low <= float(r["snr_db"]) and (float(r["snr_db"]) <= high if last else float(r["snr_db"]) < high)]
        if chosen:
            blocks.append((f"SNR {low:g}-{high:g} dB", chosen))
    return blocks


def table(rows: list[Row], enhanced_label: str = "SEGAN", snr_edges: list[float] | None = None) -> str:
    """The Markdown table: a block of all utterances, then one per noise type, then one per input-SNR band
    (``snr_edges``, when given); one line per system present."""
    labels = dict(SYSTEMS) | {"enhanced": enhanced_label}
    present = [s for s, _ in SYSTEMS if any(r["system"] == s for r in rows)]
    lines = ["| noise | system | " + " | ".join(label for _, label, _ in MEASURES) + " |",
             "| --- | --- |" + " ---: |" * len(MEASURES)]
    noises = sorted({r["noise"] for r in rows if r.get("noise")})
    blocks = [("all", rows)] + [(n, [r for r in rows if r.get("noise") == n]) for n in noises]
    blocks += snr_blocks(rows, snr_edges) if snr_edges else []
    for name, chosen in blocks:
        first_system = [r for r in chosen if r["system"] == present[0]]
        for k, system in enumerate(present):
            mine = [r for r in chosen if r["system"] == system]
            cells = [cell(mean_std(mine, measure), digits) for measure, _, digits in MEASURES]
            label = block_label(name, first_system) if k == 0 else ""
            lines.append(f"| {label} | {labels[system]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bar(rows: list[Row], enhanced_label: str = "SEGAN") -> str:
    """The CPU-scale bar, over all utterances; says what it cannot check when a system is missing."""
    def m(system: str, measure: str) -> float:
        stats = mean_std([r for r in rows if r["system"] == system], measure)
        return math.nan if stats is None else stats[0]

    says = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    parts = []
    if {"enhanced", "noisy"} <= {r["system"] for r in rows}:
        gains = {k: m("enhanced", k) - m("noisy", k) for k in ("pesq", "stoi", "ssnr_db")}
        parts.append(f"{enhanced_label} improves PESQ, STOI and SSNR over the noisy input: "
                     f"{says(all(g > 0 for g in gains.values()))} (PESQ {gains['pesq']:+.2f}, "
                     f"STOI {gains['stoi']:+.3f}, SSNR {gains['ssnr_db']:+.2f} dB)")
    if {"enhanced", "wiener"} <= {r["system"] for r in rows}:
        gains = {k: m("enhanced", k) - m("wiener", k) for k in ("pesq", "ssnr_db")}
        parts.append(f"beats the Wiener filter on PESQ and SSNR: {says(all(g > 0 for g in gains.values()))} "
                     f"(PESQ {gains['pesq']:+.2f}, SSNR {gains['ssnr_db']:+.2f} dB)")
    return "; ".join(parts) if parts else "not checked (the CSV lacks the enhanced system or both baselines)"


def report(sources: list[Path], *, csv_name: str = CSV_NAME, enhanced_label: str = "SEGAN",
           snr_edges: list[float] | None = None) -> str:
    """One section per run (or CSV): its table and the bar."""
    sections = []
    for source in sources:
        path, rows = read_rows(source, csv_name)
        if not rows:
            raise SystemExit(f"{path}: the CSV has no rows")
        sections.append(f"### {source}\n\n{table(rows, enhanced_label, snr_edges)}\n\nBar: {bar(rows, enhanced_label)}")
    return "\n\n".join(sections)


def edges_of(text: str) -> list[float]:
    """``--snr-bands 0,5,10,15`` -> [0.0, 5.0, 10.0, 15.0]: at least two increasing numbers."""
    try:
        edges = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of numbers such as 0,5,10,15") from None
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise argparse.ArgumentTypeError(f"{text!r}: give at least two increasing band edges, such as 0,5,10,15")
    return edges


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (or speech_enhancement CSV files)")
    parser.add_argument("--out", type=Path, help="also write the Markdown to this file")
    parser.add_argument("--csv", default=CSV_NAME, help=f"the metric's csv name under RUN_DIR/eval/ ({CSV_NAME})")
    parser.add_argument("--label", default="SEGAN", help="the name of the enhanced system's rows (SEGAN)")
    parser.add_argument("--snr-bands", type=edges_of, metavar="E0,E1,...",
                        help="also one block per input-SNR band between these edges in dB (e.g. 0,5,10,15)")
    args = parser.parse_args(argv)
    text = report(args.runs, csv_name=args.csv, enhanced_label=args.label, snr_edges=args.snr_bands)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")  # as printed


if __name__ == "__main__":
    main()
