"""``paired_speech``: noisy speech with its clean twin, time-aligned, for speech enhancement.

SEGAN (Pascual, Bonafonte & Serrà, "SEGAN: Speech Enhancement Generative Adversarial
Network", Interspeech 2017) trains on VoiceBank-DEMAND (Valentini-Botinhao et al., SSW9
2016: 28 training speakers in 40 noise conditions, 2 test speakers in 20 others), down-
sampled from 48 to 16 kHz, in windows of 2**14 = 16,384 samples (about 1 s) cut at the same
place in the noisy file and its clean twin. Items here are such pairs, under the ``PAIRED``
batch contract (:mod:`speechgan.batches`): ``{"noisy": (T,), "clean": (T,), "id": str}``,
collated to ``(B, T)``; whole utterances (``segment_length: null``) are zero-padded to the
longest and add ``"lengths": (B,)``.

Layouts (:data:`speechgan.data.corpora.PAIRED_LAYOUTS`): ``voicebank_demand`` and
``cmu_arctic_noisy`` (the demo corpus's noisy copy, ``noisy_dir`` in each speaker folder).
Both files of every pair are checked when the dataset is built: a missing twin, a rate or
a length that differs from the twin's (both files named), and everything
:meth:`~speechgan.data.AudioLoader.probe` checks go through ``on_error``. Both files are
resampled to ``sample_rate`` alike (soxr; the demo corpus is at 22,050 Hz, VoiceBank-DEMAND
at 48 kHz), never normalised or trimmed apart, so ``noisy - clean`` stays the noise.

Deviation from SEGAN: it cuts each utterance once into windows with 50 % overlap, dropping
the last partial window and utterances shorter than one; here each epoch draws one window
per utterance at a random offset, reproducible per (seed, epoch, item) as in the vocoder
datasets, and a shorter clip is padded (``pad: zeros`` or ``reflect``) or rejected
(``pad: none``).
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import Dataset

from speechgan.batches import PAIRED, BatchSpec
from speechgan.data import (
    AudioLoader,
    BadFile,
    ErrorPolicy,
    OnError,
    PadMode,
    SkipReport,
    Split,
    audio_info,
    item_rng,
    select_speakers,
    split_utterances,
)
from speechgan.data.corpora import PAIRED_LAYOUTS, PairedUtterance, cmu_arctic_noisy, voicebank_demand
from speechgan.errors import ConfigError, DataError

from .corpus_synth import NOISE_MANIFEST

__all__ = ["PairedSpeech", "PairedLayout"]

logger = logging.getLogger(__name__)
PairedLayout = Literal["voicebank_demand", "cmu_arctic_noisy"]
#: VoiceBank-DEMAND's validation speakers when none are named: held out of the training set by hash.
DEFAULT_VALID_SPEAKERS = 2

# eq=False keeps datasets hashable by identity; repr=False keeps the dataset's own repr.
_fields = dataclass(kw_only=True, eq=False, repr=False)


def _hash_order(seed: int, name: str) -> bytes:
    # the split_utterances scheme: SHA-256, not the salted hash(), so every machine agrees
    return hashlib.sha256(f"{seed}:{name}".encode()).digest()


def _read_conditions(path: Path, speaker_prefix: str) -> dict[str, tuple[str, float]]:
    """A mixture's ``noise.csv`` (``id,noise,snr_db``) as ``{<speaker>_<id>: (noise, snr_db)}``."""
    conditions = {}
    with path.open(encoding="utf-8", newline="") as file:
        for lineno, row in enumerate(csv.DictReader(file), start=2):
            try:
                conditions[f"{speaker_prefix}{row['id']}"] = (row["noise"], float(row["snr_db"]))
            except (KeyError, TypeError, ValueError):
                raise DataError(f"{path}:{lineno}: expected id,noise,snr_db, got {row}") from None
    return conditions


@_fields
class PairedSpeech(Dataset):
    """noisy/clean speech pairs (VoiceBank-DEMAND, or the demo corpus's noisy copy) for speech enhancement

    ``split``: for ``voicebank_demand``, ``test`` is the test set, ``train`` the training set
    (``train_set`` 28spk or 56spk) less ``valid_speakers``, ``valid`` those speakers, and
    ``all`` the training and test sets. ``valid_speakers`` names them, or is how many to
    hold out, chosen by a SHA-256 of ``"<split_seed>:<speaker>"`` (2 by default). For
    ``cmu_arctic_noisy`` the split is by utterance as in every other dataset (``valid_size``,
    ``test_size``, ``split_seed``, ``stratify``); hold voices out with ``speakers``.
    ``speakers`` keeps only those speakers, before the split. ``limit`` keeps that many
    pairs of the split, the first in the SHA-256 order of their ids (so a few still span the
    speakers). :attr:`summary` says what the dataset holds; :attr:`conditions` gives each
    pair's noise type and SNR where the noisy folder lists them (``noise.csv``).
    """

    layout: PairedLayout
    root: str
    noisy_dir: str | None = None  # cmu_arctic_noisy: the noisy copy in each speaker folder (wav_noisy_mix)
    train_set: Literal["28spk", "56spk"] = "28spk"  # voicebank_demand: which training set
    split: Split = "train"
    valid_speakers: int | list[str] | None = None  # voicebank_demand: held out of train as valid
    valid_size: float | int = 0.05  # cmu_arctic_noisy: a fraction of the utterances, or a count
    test_size: float | int = 0.05
    split_seed: int = 0
    stratify: bool = False  # cmu_arctic_noisy: split each speaker's utterances alike
    speakers: list[str] | None = None  # keep only these speakers (all by default)
    sample_rate: int = 16000  # both files are resampled to this rate
    min_sample_rate: int | None = None  # refuse files recorded below this rate (default: sample_rate)
    segment_length: int | None = 16384  # samples per aligned random crop; None: whole utterances
    pad: PadMode = "zeros"  # clips shorter than a segment: zeros, reflect, or none (rejected)
    limit: int | None = None  # keep this many pairs of the split
    seed: int = 0  # crop offsets
    on_error: OnError = "fail"  # a bad pair stops the run, or is skipped and reported
    yields: ClassVar[BatchSpec] = PAIRED

    def __post_init__(self) -> None:
        self._check_arguments()
        self.loader = AudioLoader(sample_rate=self.sample_rate, min_sample_rate=self.min_sample_rate)
        self._policy = ErrorPolicy(self.on_error)
        listed = self._choose(self._list_pairs())
        self.pairs = [p for p in listed if self._policy.attempt(self._check_pair, p) is not None]
        if self.skipped.count:
            logger.warning(self.skipped.summary())
        if not self.pairs:
            detail = f"; {self.skipped.summary()}" if self.skipped.count else " (is the split empty?)"
            raise DataError(f"the paired dataset has no usable pair{detail}")
        self.conditions = self._conditions()
        self.epoch = 0
        logger.info(self.summary)

    def _check_arguments(self) -> None:
        if self.layout not in PAIRED_LAYOUTS:
            raise ConfigError(f"layout: must be one of {', '.join(PAIRED_LAYOUTS)}, got {self.layout!r}")
        if self.split not in get_args(Split):
            raise ConfigError(f"split: must be one of {', '.join(get_args(Split))}, got {self.split!r}")
        if self.layout == "cmu_arctic_noisy":
            if not self.noisy_dir:
                raise ConfigError("noisy_dir: cmu_arctic_noisy needs the noisy copy's folder in each speaker "
                                  "folder, such as wav_noisy_mix or wav_noisy_white5")
            if self.valid_speakers is not None:
                raise ConfigError("valid_speakers: only for voicebank_demand; cmu_arctic_noisy splits by utterance "
                                  "(valid_size, test_size): hold voices out with `speakers`")
        elif self.noisy_dir is not None:
            raise ConfigError("noisy_dir: only for cmu_arctic_noisy; voicebank_demand's folders are fixed "
                              "(train_set chooses 28spk or 56spk)")
        if self.segment_length is not None and self.segment_length <= 0:
            raise ConfigError("segment_length: must be a positive number of samples (or null for whole "
                              f"utterances), got {self.segment_length}")
        if self.pad not in get_args(PadMode):
            raise ConfigError(f"pad: must be 'zeros', 'reflect' or 'none', got {self.pad!r}")
        if self.limit is not None and self.limit < 1:
            raise ConfigError(f"limit: must be at least 1 pair (or null for all), got {self.limit}")

    # -- listing and splitting ------------------------------------------------------------------

    def _list_pairs(self) -> list[PairedUtterance]:
        """The pairs of the split (before ``limit``); missing twins go to the policy."""
        if self.layout == "cmu_arctic_noisy":
            listed = cmu_arctic_noisy(self.root, self.noisy_dir, policy=self._policy)  # type: ignore[arg-type]
            pairs = select_speakers(listed, self.speakers)  # type: ignore[arg-type]  # reads .speaker only
            by_id = {p.id: p for p in pairs}
            chosen = split_utterances([p.clean for p in pairs], self.split, valid_size=self.valid_size,
                                      test_size=self.test_size, seed=self.split_seed, stratify=self.stratify)
            return [by_id[u.id] for u in chosen]
        parts = {"train": ["train"], "valid": ["train"], "test": ["test"], "all": ["train", "test"]}[self.split]
        pairs = [p for part in parts for p in voicebank_demand(self.root, part, self.train_set, policy=self._policy)]
        pairs = select_speakers(pairs, self.speakers)  # type: ignore[arg-type]
        if self.split in ("train", "valid"):
            held_out = self._valid_speakers(sorted({p.speaker for p in pairs}))
            pairs = [p for p in pairs if (p.speaker in held_out) == (self.split == "valid")]
        return pairs

    def _valid_speakers(self, speakers: list[str]) -> set[str]:
        """VoiceBank-DEMAND's validation speakers, from those of the training set."""
        wanted = DEFAULT_VALID_SPEAKERS if self.valid_speakers is None else self.valid_speakers
        if isinstance(wanted, list):
            if missing := sorted(set(wanted) - set(speakers)):
                raise ConfigError(f"valid_speakers: {', '.join(map(repr, missing))} not in the training set; "
                                  f"its speakers are {', '.join(speakers)}")
            chosen = set(wanted)
        elif isinstance(wanted, bool) or not 0 <= wanted < len(speakers):
            raise ConfigError(f"valid_speakers: a count must leave at least one of the {len(speakers)} training "
                              f"speakers for training, got {wanted!r}")
        else:
            chosen = set(sorted(speakers, key=lambda s: _hash_order(self.split_seed, s))[:wanted])
        if self.split == "train" and len(chosen) == len(speakers):
            raise ConfigError("valid_speakers: every training speaker is held out for validation; name fewer")
        return chosen

    def _choose(self, pairs: list[PairedUtterance]) -> list[PairedUtterance]:
        if self.limit is None:
            return pairs
        kept = sorted(pairs, key=lambda p: _hash_order(self.split_seed, p.id))[: self.limit]
        return sorted(kept, key=lambda p: p.id)

    # -- checks -----------------------------------------------------------------------------------

    @property
    def skipped(self) -> SkipReport:
        """The files left out under ``on_error="skip"``, with reasons."""
        return self._policy.report

    def _too_short(self, pair: PairedUtterance, length: int) -> BadFile:
        return BadFile(pair.noisy.path, f"{length} samples at {self.sample_rate} Hz (as its clean twin "
                                        f"{pair.clean.path}) is shorter than segment_length={self.segment_length} "
                                        "with pad='none'; use pad='zeros' or 'reflect', or a shorter segment_length")

    def _check_pair(self, pair: PairedUtterance) -> int:
        """Both files load, at one rate and of one length; the length after loading."""
        length = self.loader.probe(pair.clean.path)
        self.loader.probe(pair.noisy.path)
        clean, noisy = audio_info(pair.clean.path), audio_info(pair.noisy.path)
        if noisy.sample_rate != clean.sample_rate:
            raise BadFile(pair.noisy.path, f"sample rate {noisy.sample_rate} Hz differs from its clean twin "
                                           f"{pair.clean.path} ({clean.sample_rate} Hz); a pair is recorded alike")
        if noisy.frames != clean.frames:
            raise BadFile(pair.noisy.path, f"{noisy.frames} samples but its clean twin {pair.clean.path} has "
                                           f"{clean.frames}; a pair must be time-aligned, of equal length")
        if self.segment_length is not None and self.pad == "none" and length < self.segment_length:
            raise self._too_short(pair, length)
        return length

    def _conditions(self) -> dict[str, tuple[str, float]]:
        """``{pair id: (noise type, SNR in dB)}`` from the noisy folders' ``noise.csv``, where they have one."""
        conditions: dict[str, tuple[str, float]] = {}
        for folder in sorted({p.noisy.path.parent for p in self.pairs}):
            manifest = folder / NOISE_MANIFEST
            if manifest.is_file():
                prefix = f"{next(p.speaker for p in self.pairs if p.noisy.path.parent == folder)}_"
                conditions |= _read_conditions(manifest, prefix)
        return {p.id: conditions[p.id] for p in self.pairs if p.id in conditions}

    @property
    def summary(self) -> str:
        """One line: the pairs, speakers and (for a mixture) noise conditions the dataset holds."""
        speakers = sorted({p.speaker for p in self.pairs})
        names = ", ".join(speakers) if len(speakers) <= 8 else f"{speakers[0]} ... {speakers[-1]}"
        folders = sorted({p.noisy.path.parent.name for p in self.pairs})
        noun = "speaker" if len(speakers) == 1 else "speakers"
        line = (f"paired_speech ({self.layout}, split {self.split}): {len(self.pairs)} pairs of {len(speakers)} "
                f"{noun} ({names}), noisy in {', '.join(folders)}")
        if self.conditions:
            counts = Counter(noise for noise, _ in self.conditions.values())
            snrs = [snr for _, snr in self.conditions.values()]
            line += (f"; noise types: {', '.join(f'{n} {c}' for n, c in sorted(counts.items()))}, "
                     f"SNR {min(snrs):g} to {max(snrs):g} dB")
        return line

    # -- items ------------------------------------------------------------------------------------

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Pair ``index``; under ``on_error="skip"`` a pair that no longer loads is replaced by the next one."""
        return self._policy.first_that_loads(index, len(self.pairs), self._item, unit="pair", substitute="pair")

    def _crop(self, pair: PairedUtterance, clean: np.ndarray, noisy: np.ndarray, index: int) -> list[np.ndarray]:
        """The same ``segment_length`` window of both ``(T,)`` waveforms, or both padded to it."""
        size: int = self.segment_length  # type: ignore[assignment]
        if len(clean) < size:
            if self.pad == "none":  # found at scan time unless the files changed since
                raise self._too_short(pair, len(clean))
            mode = "constant" if self.pad == "zeros" else "reflect"
            return [np.pad(wave, (0, size - len(wave)), mode=mode) for wave in (clean, noisy)]
        start = int(item_rng(self.seed, self.epoch, index).integers(0, len(clean) - size + 1))
        return [clean[start : start + size], noisy[start : start + size]]

    def _item(self, index: int) -> dict[str, Any]:
        pair = self.pairs[index]
        clean, noisy = self.loader.load(pair.clean.path), self.loader.load(pair.noisy.path)  # (T,), (T,)
        if clean.shape != noisy.shape:  # checked at scan time unless the files changed since
            raise BadFile(pair.noisy.path, f"{len(noisy)} samples after loading but its clean twin "
                                           f"{pair.clean.path} has {len(clean)}")
        if self.segment_length is not None:
            clean, noisy = self._crop(pair, clean, noisy, index)
        return {"noisy": torch.from_numpy(np.ascontiguousarray(noisy, dtype=np.float32)),
                "clean": torch.from_numpy(np.ascontiguousarray(clean, dtype=np.float32)), "id": pair.id}

    def collate(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """``noisy``, ``clean``: (B, T); whole utterances are zero-padded to the longest and add ``lengths`` (B,)."""
        batch: dict[str, Any] = {key: pad_sequence([item[key] for item in items], batch_first=True)
                                 for key in ("noisy", "clean")}
        if self.segment_length is None:
            batch["lengths"] = torch.tensor([item["clean"].shape[-1] for item in items])
        batch["id"] = [item["id"] for item in items]
        return batch
