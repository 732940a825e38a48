"""Audio-layer benchmark: WORLD analysis-synthesis MCD and preprocessing speed-up.

Usage: ``python benchmarks/audio_layer.py [--sentences 20] [--out /tmp/sg_audio_bench]``

1. Synthesizes the offline demo corpus (4 eSpeak voices x N ARCTIC prompts, 22.05 kHz).
2. WORLD analysis-synthesis: each utterance through the ``world`` front-end and back, then
   the mel-cepstral distortion (``speechgan.metrics.mel_cepstral_distortion``: order 24,
   c0 excluded, DTW, mean over the path) between original and resynthesis.
3. Preprocessing: fills an empty feature cache for the whole corpus with 1 worker and with
   every core, for the ``log_mel`` and ``world`` front-ends, and reports x real time and
   the speed-up.
4. Scanning: building an ``AudioDataset`` over the corpus checks every file (header, last
   sample, WAV data size); the cost per file, against decoding every file whole.

Feature-extraction speed per front-end is ``benchmarks/features_speed.py``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import torch

from speechgan.data import AudioDataset, AudioLoader, cmu_arctic, load_audio, preprocess, read_audio
from speechgan.features.mel import LogMelSpectrogram
from speechgan.features.world import WorldFeatures
from speechgan.metrics.speech import mel_cepstral_distortion
from speechgan_plugins.audio.corpus_synth import synthesize_corpus

RATE = 22050


def world_mcd(utterances: list, limit: int) -> tuple[float, float, int]:
    world = WorldFeatures(sample_rate=RATE)
    values = []
    for utt in utterances[:limit]:
        wave, _ = load_audio(utt.path, RATE)
        wave = torch.from_numpy(wave)
        resynth = world.inverse(world(wave), length=wave.numel())
        values.append(mel_cepstral_distortion(wave.numpy(), resynth.numpy(), RATE))
    return statistics.mean(values), statistics.stdev(values), len(values)


def fill_time(utterances: list, front_end: torch.nn.Module, cache: Path, workers: int, repeats: int) -> tuple[float, float]:
    """Best of ``repeats`` fills of an empty cache: (x real time, wall seconds)."""
    best = None
    for _ in range(repeats):
        shutil.rmtree(cache, ignore_errors=True)
        result = preprocess(utterances, front_end, cache, loader=AudioLoader(sample_rate=RATE),
                            num_workers=workers, progress=False)
        best = result if best is None or result.wall_time < best.wall_time else best
    return best.seconds / best.wall_time, best.wall_time


def scan_cost(utterances: list, repeats: int) -> tuple[float, float]:
    """Best of ``repeats``, in microseconds per file: (building a dataset, decoding every file whole)."""
    def best(work) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return min(times) * 1e6 / len(utterances)

    loader = AudioLoader(sample_rate=RATE)
    scan = best(lambda: AudioDataset(utterances, loader, segment_length=8192, progress=False))
    return scan, best(lambda: [read_audio(u.path) for u in utterances])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=20)
    parser.add_argument("--mcd-utterances", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("/tmp/sg_audio_bench"))
    args = parser.parse_args()
    corpus = args.out / "corpus"
    synthesize_corpus(corpus, sentences=args.sentences, overwrite=True, progress=False)
    utterances = cmu_arctic(corpus)
    total = sum(load_audio(u.path, RATE)[0].size for u in utterances) / RATE
    print(f"corpus: {len(utterances)} utterances, {total:.1f} s of speech, {RATE} Hz\n")

    mean, std, n = world_mcd(utterances, args.mcd_utterances)
    print(f"WORLD analysis-synthesis MCD (harvest, order 34 features, MCD order 24, DTW): "
          f"{mean:.2f} +- {std:.2f} dB over {n} utterances\n")

    cores = os.cpu_count() or 1
    print(f"| front-end | 1 worker (x real time) | {cores} workers (x real time) | speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for name, front_end in (("log_mel", LogMelSpectrogram(sample_rate=RATE)), ("world", WorldFeatures(sample_rate=RATE))):
        fill_time(utterances[:2], front_end, args.out / "cache", 1, 1)  # warm-up: imports, first calls
        one, t1 = fill_time(utterances, front_end, args.out / "cache", 1, args.repeats)
        many, tn = fill_time(utterances, front_end, args.out / "cache", cores, args.repeats)
        print(f"| {name} | {one:.0f} | {many:.0f} | {t1 / tn:.2f}x |")

    scan, decode = scan_cost(utterances, max(args.repeats, 3))
    print(f"\nscan when a dataset is built: {scan:.0f} us per file (decoding each file whole: {decode:.0f} us)")


if __name__ == "__main__":
    main()
