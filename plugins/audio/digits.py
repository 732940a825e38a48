"""An offline SC09 corpus: eSpeak NG voices saying "zero" ... "nine" in the Speech Commands layout.

SC09 is the digit subset of Speech Commands (Warden, "Speech Commands: A Dataset for
Limited-Vocabulary Speech Recognition", arXiv:1804.03209, 2018) that WaveGAN (Donahue,
McAuley & Puckette, "Adversarial Audio Synthesis", ICLR 2019) trains on. Its layout::

    out_dir/<word>/<speaker>_nohash_<take>.wav     16 kHz, 16-bit PCM mono, 16,000 samples
    out_dir/validation_list.txt, testing_list.txt    held-out files, relative paths (train: the rest)
    out_dir/corpus.json, out_dir/README.md           engine version, speakers, settings, counts

A speaker is an eSpeak NG voice (an English accent: ``en-us``, ``en-gb-scotland``,
``en-029``...) with a voice variant (``m1``, ``f3``, ``Alicia``...) and a base pitch
(:data:`DEFAULT_SPEAKERS`: 7 accents x 28 variants, 14 female and 14 male, each with a base
pitch in 38..62 from its name). Each take of a word varies pitch, pitch range and rate
around the speaker's own by a seeded draw (:data:`JITTER`), as a person never says a word
twice the same way.

Each clip is rendered at the engine's 22,050 Hz, resampled to 16 kHz with soxr (HQ), and
placed in a one-second clip with the centre of the word at sample 8,000: the word's extent
is where a 10 ms moving RMS is within ``threshold_db`` (-40 dB) of its maximum
(:func:`word_extent`); a word longer than one second is an error. Each clip is then scaled
to a peak of ``peak`` (0.9), so no clip clips and every clip has the same peak level (the
variants' own levels differ by 5 dB; Speech Commands' recordings vary far more).

Speakers are split as Speech Commands splits them (its README's ``which_set``): the SHA-1
of the speaker id, modulo 2**27, as a percentage; below ``valid_percent`` is validation,
below ``valid_percent + test_percent`` is test, the rest training. The split depends on
the speaker's name alone, so no speaker is in two splits and adding speakers moves none.
Every file depends only on the arguments: the same call writes the same bytes.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf
import soxr
from tqdm.auto import tqdm

from speechgan.errors import ConfigError, DataError

from . import espeak
from .corpus_synth import Speaker, prepare_out_dir

__all__ = [
    "ACCENTS",
    "CLIP_SAMPLES",
    "DEFAULT_SPEAKERS",
    "DIGITS",
    "JITTER",
    "SAMPLE_RATE",
    "VARIANTS",
    "SplitName",
    "digit_speaker",
    "place_word",
    "speaker_split",
    "synthesize_digits",
    "take_settings",
    "word_extent",
]

DIGITS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SAMPLE_RATE = 16000
CLIP_SAMPLES = 16000  # one second, as every Speech Commands clip

#: eSpeak NG's English voices that differ on the digits (``en-us-nyc`` renders them as ``en-us``).
ACCENTS: tuple[str, ...] = (
    "en", "en-029", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-gb-x-rp", "en-us",
)  # fmt: skip
#: Human-sounding variants, 14 female and 14 male (no robots, whispers, croaks or Klatt modes).
VARIANTS: tuple[str, ...] = (
    "f1", "f2", "f3", "f4", "f5", "Alicia", "Andrea", "Annie", "anika", "aunty", "belinda", "grandma", "linda", "steph",
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "Andy", "Denis", "Gene", "Jacky", "Mario", "grandpa", "victor",
)  # fmt: skip

#: How far a take's settings stray from its speaker's (uniform integers, clamped to the engine's ranges).
JITTER: dict[str, int] = {"pitch": 8, "pitch_range": 10, "rate": 30}

SplitName = Literal["train", "valid", "test"]
_MAX_HASH = 2**27 - 1  # Speech Commands' MAX_NUM_WAVS_PER_CLASS
_SPLIT_FILES: dict[str, str] = {"valid": "validation_list.txt", "test": "testing_list.txt"}


def _default_id(voice: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", voice.lower()).strip("-")


def _default_speakers() -> tuple[str, ...]:
    specs = []
    for accent in ACCENTS:
        for variant in VARIANTS:
            speaker_id = _default_id(f"{accent}+{variant}")
            pitch = 38 + int(hashlib.sha1(speaker_id.encode()).hexdigest(), 16) % 25  # 38..62
            specs.append(f"{accent}+{variant}:pitch={pitch}:id={speaker_id}")
    return tuple(specs)


#: ``<accent>+<variant>:pitch=P:id=<accent>-<variant>`` for every accent and variant (196 speakers).
DEFAULT_SPEAKERS: tuple[str, ...] = _default_speakers()


def digit_speaker(spec: str | Speaker) -> Speaker:
    """A speaker spec (``en-gb-scotland+f3``, ``en+m1:pitch=40:rate=160``) -> :class:`Speaker`.

    Without ``:id=`` the id is the whole voice in lower case (``en-gb-scotland-f3``), so one
    variant in two accents makes two speakers.
    """
    if isinstance(spec, Speaker):
        return spec
    has_id = any(option.startswith("id=") for option in spec.split(":")[1:])
    return Speaker.parse(spec if has_id else f"{spec}:id={_default_id(spec.split(':')[0])}")


def speaker_split(speaker_id: str, valid_percent: float = 10.0, test_percent: float = 10.0) -> SplitName:
    """Speech Commands' split of a speaker: SHA-1 of the id as a percentage, valid first, then test."""
    digest = int(hashlib.sha1(speaker_id.encode("utf-8")).hexdigest(), 16)
    percentage = (digest % (_MAX_HASH + 1)) * (100.0 / _MAX_HASH)
    if percentage < valid_percent:
        return "valid"
    if percentage < valid_percent + test_percent:
        return "test"
    return "train"


def take_settings(speaker: Speaker, word: str, take: int, seed: int = 0) -> dict[str, int]:
    """The engine settings of one take: the speaker's pitch, range and rate moved by :data:`JITTER`.

    Drawn from a generator seeded by ``(seed, crc32("<speaker>/<word>/<take>"))``, so a
    take does not depend on which other speakers or takes are synthesized. The same
    generator draws the take's breath-noise seed (``seed`` of :func:`espeak.synthesize`).
    """
    rng = np.random.default_rng([seed, zlib.crc32(f"{speaker.id}/{word}/{take}".encode())])
    settings = {}
    for name, low, high in (("pitch", 0, 100), ("pitch_range", 0, 100), ("rate", espeak.RATE_MIN, espeak.RATE_MAX)):
        value = getattr(speaker, name) + int(rng.integers(-JITTER[name], JITTER[name] + 1))
        settings[name] = min(max(value, low), high)
    settings["seed"] = int(rng.integers(2**31))
    return settings


def word_extent(audio: np.ndarray, sample_rate: int, *, threshold_db: float = -40.0,
                window_s: float = 0.01) -> tuple[int, int]:  # fmt: skip
    """``(start, end)`` samples (end exclusive) where the moving RMS of ``audio`` ``(T,)`` is
    within ``threshold_db`` of its maximum; the RMS window of ``window_s`` is centred on each
    sample, and the audio is taken as silent beyond its ends (so a clip that holds it whole,
    zero-padded, gives the same extent, shifted)."""
    x = np.asarray(audio, dtype=np.float64)
    half = max(int(round(window_s * sample_rate)) // 2, 1)
    energy = np.concatenate([[0.0], np.cumsum(x**2)])  # (T+1,)
    index = np.arange(x.shape[0])
    low, high = np.maximum(index - half, 0), np.minimum(index + half + 1, x.shape[0])
    mean_square = (energy[high] - energy[low]) / (2 * half + 1)  # (T,): zeros beyond the ends, as in a clip
    loudest = mean_square.max(initial=0.0)
    if loudest <= 0.0:
        raise DataError("the audio is silent: it has no word to find")
    above = np.flatnonzero(mean_square >= loudest * 10 ** (threshold_db / 10))  # a power ratio
    return int(above[0]), int(above[-1]) + 1


def place_word(audio: np.ndarray, start: int, end: int, length: int = CLIP_SAMPLES) -> np.ndarray:
    """A ``(length,)`` clip of ``audio`` with the middle of ``[start, end)`` at ``length // 2``.

    What lies outside the clip is cut, what the audio does not cover is zero.
    """
    offset = length // 2 - (start + end) // 2  # where audio[0] lands in the clip
    clip = np.zeros(length, dtype=np.float64)
    first, last = max(offset, 0), min(offset + audio.shape[0], length)
    clip[first:last] = audio[first - offset : last - offset]
    return clip


def _render(speaker: Speaker, word: str, settings: dict[str, int], *, threshold_db: float, peak: float) -> np.ndarray:
    """One take as a 16 kHz, one-second clip of 16-bit samples, the word centred, at ``peak``."""
    audio, engine_rate = espeak.synthesize(word, speaker.voice, **settings)
    audio = soxr.resample(audio.astype(np.float64), engine_rate, SAMPLE_RATE, quality="HQ")  # (T,)
    # the engine's output may begin on the word's first sample: pad, so the RMS window sees the onset
    audio = np.pad(audio, SAMPLE_RATE // 50)  # (T + 640,)
    try:
        start, end = word_extent(audio, SAMPLE_RATE, threshold_db=threshold_db)
    except DataError:
        raise DataError(f"speaker {speaker.id} ({speaker.voice}) produced silence for {word!r}") from None
    if end - start > CLIP_SAMPLES:
        raise DataError(
            f"{word!r} by speaker {speaker.id} ({speaker.voice}, rate {settings['rate']} wpm) lasts "
            f"{(end - start) / SAMPLE_RATE:.2f} s, longer than a one-second clip; give the speaker a faster "
            "rate (:rate=WPM)"
        )
    clip = place_word(audio, start, end)
    clip *= peak / np.abs(clip).max()
    return np.round(clip * 32768.0).astype(np.int16)  # |clip| <= peak < 1: no clipping


def _check_arguments(speakers: list[Speaker], takes: int, seed: int, peak: float, threshold_db: float,
                     valid_percent: float, test_percent: float) -> None:  # fmt: skip
    if not speakers:
        raise ConfigError("no speakers given")
    for speaker in speakers:
        speaker.check()
        if "_nohash_" in speaker.id:
            raise ConfigError(f"speaker id {speaker.id!r} must not contain '_nohash_' (it separates id and take)")
    ids = [s.id for s in speakers]
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"speaker id(s) {', '.join(duplicates)} used twice; tell them apart with :id=<name>")
    if takes < 1:
        raise ConfigError(f"takes must be >= 1, got {takes}")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}")
    if not 0.0 < peak < 1.0:
        raise ConfigError(f"peak must be in (0, 1), got {peak}")
    if threshold_db >= 0.0:
        raise ConfigError(f"threshold_db must be below 0 dB, got {threshold_db}")
    if valid_percent < 0 or test_percent < 0 or valid_percent + test_percent >= 100:
        raise ConfigError(f"valid_percent and test_percent must be >= 0 and leave some training speakers, "
                          f"got {valid_percent} and {test_percent}")


def _written_names() -> list[str]:
    return [*DIGITS, *_SPLIT_FILES.values(), "corpus.json", "README.md"]


def synthesize_digits(
    out_dir: str | Path,
    *,
    speakers: Sequence[str | Speaker] = DEFAULT_SPEAKERS,
    takes: int = 2,
    seed: int = 0,
    peak: float = 0.9,
    threshold_db: float = -40.0,
    valid_percent: float = 10.0,
    test_percent: float = 10.0,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Write an SC09-style corpus: every speaker says every digit ``takes`` times.

    ``speakers`` are :class:`Speaker` objects or specs (:func:`digit_speaker`). ``seed``
    draws each take's settings (:func:`take_settings`). An existing non-empty ``out_dir``
    is an error unless ``overwrite``. Returns the manifest written to ``out_dir/corpus.json``.
    """
    out_dir = Path(out_dir)
    parsed = sorted((digit_speaker(s) for s in speakers), key=lambda s: s.id)
    _check_arguments(parsed, takes, seed, peak, threshold_db, valid_percent, test_percent)
    prepare_out_dir(out_dir, _written_names(), overwrite=overwrite, replaces="the word folders, split lists")
    split_of = {s.id: speaker_split(s.id, valid_percent, test_percent) for s in parsed}
    held_out: dict[str, list[str]] = {"valid": [], "test": []}
    bar = tqdm(total=len(parsed) * len(DIGITS) * takes, desc="synthesizing digits", unit="clip", disable=not progress)
    for word in DIGITS:
        (out_dir / word).mkdir()
        for speaker in parsed:
            for take in range(takes):
                settings = take_settings(speaker, word, take, seed)
                pcm = _render(speaker, word, settings, threshold_db=threshold_db, peak=peak)
                name = f"{word}/{speaker.id}_nohash_{take}.wav"
                sf.write(out_dir / name, pcm, SAMPLE_RATE, subtype="PCM_16")
                if split_of[speaker.id] != "train":
                    held_out[split_of[speaker.id]].append(name)
                bar.update()
    bar.close()
    for split, file_name in _SPLIT_FILES.items():
        (out_dir / file_name).write_text("".join(f"{name}\n" for name in sorted(held_out[split])), encoding="utf-8")
    manifest = _manifest(parsed, split_of, takes, seed, peak, threshold_db, valid_percent, test_percent)
    (out_dir / "corpus.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _manifest(
    speakers: list[Speaker], split_of: dict[str, str], takes: int, seed: int, peak: float, threshold_db: float,
    valid_percent: float, test_percent: float,
) -> dict[str, Any]:  # fmt: skip
    variants = espeak.list_variants()
    entries = []
    for speaker in speakers:
        variant = variants.get(speaker.voice.partition("+")[2])
        entries.append(asdict(speaker) | {"gender": variant.gender if variant else None, "split": split_of[speaker.id]})
    splits = {}
    for split in ("train", "valid", "test"):
        count = sum(1 for s in speakers if split_of[s.id] == split)
        splits[split] = {"speakers": count, "clips": count * takes * len(DIGITS)}
    return {
        "engine": "eSpeak NG",
        "engine_version": espeak.engine_version(),
        "espeakng_loader_version": importlib.metadata.version("espeakng-loader"),
        "resampler": f"soxr {importlib.metadata.version('soxr')} HQ",
        "sample_rate": SAMPLE_RATE,
        "clip_samples": CLIP_SAMPLES,
        "format": "WAV PCM 16-bit mono",
        "words": list(DIGITS),
        "takes": takes,
        "seed": seed,
        "jitter": dict(JITTER),
        "peak": peak,
        "threshold_db": threshold_db,
        "split_rule": f"Speech Commands which_set on the speaker id: valid {valid_percent:g}%, test {test_percent:g}%",
        "splits": splits,
        "total_clips": len(speakers) * takes * len(DIGITS),
        "speakers": entries,
    }


def _readme(manifest: dict[str, Any]) -> str:
    splits = manifest["splits"]
    counts = ", ".join(f"{name} {s['speakers']} speakers / {s['clips']} clips" for name, s in splits.items())
    lines = [
        "# Synthetic SC09 (spoken digits) corpus",
        "",
        f"Written by `speechgan corpus digits` with {manifest['engine']} {manifest['engine_version']}: "
        f"{len(manifest['speakers'])} speakers say {', '.join(manifest['words'])}, {manifest['takes']} takes each "
        f"(pitch, range and rate moved by up to {manifest['jitter']}, seed {manifest['seed']}).",
        "",
        f"Speech Commands layout: `<word>/<speaker>_nohash_<take>.wav`, {manifest['sample_rate']} Hz, "
        f"{manifest['format']}, {manifest['clip_samples']} samples, the word centred on the middle sample, "
        f"peak {manifest['peak']}. Held-out files are listed in validation_list.txt and testing_list.txt "
        f"(split by speaker: {manifest['split_rule']}); every other file is training.",
        "",
        f"Splits: {counts}. Machine-readable: corpus.json.",
    ]
    return "\n".join(lines) + "\n"
