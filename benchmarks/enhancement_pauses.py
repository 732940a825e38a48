"""Where an enhancer leaves the noise: in the pauses of the speech, or under it.

Usage::

    python benchmarks/enhancement_pauses.py RUN_DIR [--checkpoint CK] [OVERRIDE ...]
    python benchmarks/enhancement_pauses.py runs/segan_gate data.valid.args.root=data/noisy_ssn

For every utterance of the run's ``data.valid`` split (whole utterances, as the
``speech_enhancement`` metric reads them) the clean reference is cut into 32 ms frames with a
16 ms hop. A frame is a **pause** when its clean energy is more than 40 dB below the
utterance's loudest frame, and **speech** when within 20 dB of it (frames in between count in
neither). For each system (the noisy input, the Wiener filter, the run's enhancement) the
script sums the error energy, output minus clean, over each kind of frame and reports it
relative to the noisy input's, in dB: -19 means the system's error in the pauses is 19 dB
below the noise that was there. PESQ weighs audible noise in the pauses heavily (its
disturbance is high where the reference is silent), so a system can remove as much noise
overall as another and still score lower on PESQ when it leaves the pauses noisier.

Prints one row per system: pause and speech error re noisy (dB, mean over utterances and the
energy-pooled value), over the utterances of the split.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from speechgan.build import build_dataset
from speechgan.errors import DataError
from speechgan.inference import load_run
from speechgan_plugins.enhancement.enhance import enhancing_objective
from speechgan_plugins.enhancement.evaluation import system_output

FRAME_S, HOP_S = 0.032, 0.016
PAUSE_DB, SPEECH_DB = -40.0, -20.0  # re the loudest clean frame


def frame_energy(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Energy of each full frame of ``x`` ``(T,)`` -> ``(n_frames,)``."""
    n = 1 + (len(x) - frame) // hop
    index = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]  # (n_frames, frame)
    return (x[index] ** 2).sum(axis=1)


def frame_classes(clean: np.ndarray, frame: int, hop: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (pause, speech) over the frames of the clean utterance."""
    level = 10 * np.log10(frame_energy(clean, frame, hop) + 1e-12)
    level -= level.max()
    return level < PAUSE_DB, level > SPEECH_DB


def error_db(error_energy: np.ndarray, noise_energy: np.ndarray, mask: np.ndarray) -> tuple[float, float, float]:
    """(dB re noisy, error energy, noisy error energy) over the frames of ``mask``, from the per-frame
    energies of output - clean and of noisy - clean (:func:`frame_energy`)."""
    err, ref = float(error_energy[mask].sum()), float(noise_energy[mask].sum())
    return 10 * np.log10(err / ref), err, ref


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None, help="the first N utterances only")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. data.valid.args.root=data/noisy_ssn")
    args = parser.parse_intermixed_args(argv)
    run = load_run(args.run_dir, checkpoint=args.checkpoint, overrides=args.overrides)
    try:
        objective = enhancing_objective(run)
    except DataError as error:
        raise SystemExit(str(error)) from None
    dataset = build_dataset(run.config, run.registry, "valid", features=None)
    rate = int(objective.sample_rate)
    frame, hop = int(FRAME_S * rate), int(HOP_S * rate)
    systems = ("noisy", "wiener", "enhanced")
    per_utt: dict[str, dict[str, list[float]]] = {s: {"pause": [], "speech": []} for s in systems}
    pooled = {s: {k: [0.0, 0.0] for k in ("pause", "speech")} for s in systems}
    count = len(dataset) if args.limit is None else min(args.limit, len(dataset))
    frames = {"pause": 0, "speech": 0}
    with torch.inference_mode():
        for i in range(count):
            item = dataset[i]
            clean = item["clean"].reshape(-1).double().numpy()  # (T,)
            noisy = item["noisy"].reshape(-1)  # (T,)
            masks = dict(zip(("pause", "speech"), frame_classes(clean, frame, hop)))
            noise_energy = frame_energy(noisy.double().numpy() - clean, frame, hop)  # (n_frames,)
            for kind, mask in masks.items():
                frames[kind] += int(mask.sum())
            for s in systems:
                out = system_output(s, noisy, rate, objective=objective, generators=run.generators, device=run.device)
                error_energy = frame_energy(out - clean, frame, hop)
                for kind, mask in masks.items():
                    if mask.any():
                        db, err, ref = error_db(error_energy, noise_energy, mask)
                        per_utt[s][kind].append(db)
                        pooled[s][kind][0] += err
                        pooled[s][kind][1] += ref
    print(f"{args.run_dir} ({args.checkpoint or 'last.pt'}; {' '.join(args.overrides) or 'its valid split'}): "
          f"{count} utterances, {frames['pause']} pause and {frames['speech']} speech frames of {FRAME_S * 1e3:g} ms")
    print("| system | pause error re noisy (dB) | pooled | speech error re noisy (dB) | pooled |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for s in systems:
        cells = []
        for kind in ("pause", "speech"):
            values = per_utt[s][kind]
            err, ref = pooled[s][kind]
            cells += [f"{np.mean(values):.1f}" if values else "-", f"{10 * np.log10(err / ref):.1f}" if ref else "-"]
        print(f"| {s} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
