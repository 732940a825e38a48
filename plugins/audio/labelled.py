"""Labelled audio clips: Speech Commands / SC09 words as ``LABELS`` batches for conditional audio GANs.

``speech_commands`` reads the layout of Speech Commands (Warden, arXiv:1804.03209, 2018),
``<word>/<speaker>_nohash_<n>.wav`` with ``validation_list.txt`` and ``testing_list.txt``
(:func:`speechgan.data.corpora.speech_commands`), the real corpus or the synthetic one of
``speechgan corpus digits``. By default it keeps the ten digits of SC09, the set WaveGAN
trains on (Donahue, McAuley & Puckette, "Adversarial Audio Synthesis", ICLR 2019), each
clip labelled by the index of its word. As in WaveGAN's loader (the first slice of each
clip, zero-padded at the end), a clip becomes ``length`` = 16,384 samples (2^14, about one
second at 16 kHz): a shorter one is padded with zeros at the end, a longer one cut there.

Items follow the ``LABELS`` contract (:mod:`speechgan.batches`): ``{"x": (1, length)
float32 in [-1, 1], "label": long scalar}``. Files go through :class:`AudioDataset`: every
file is checked when the dataset is built, a file at a higher rate than ``sample_rate`` is
resampled, one at a lower rate (which would lack the top of the band) is a bad file, and
bad files follow ``on_error`` as in every audio dataset.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Literal

import torch
from torch.utils.data import Dataset

from speechgan.batches import LABELS
from speechgan.data import AudioDataset, AudioLoader, ErrorPolicy, OnError, SkipReport, Utterance
from speechgan.data.corpora import speech_commands
from speechgan.errors import ConfigError

from .digits import DIGITS

__all__ = ["DIGITS", "SpeechCommands", "balanced_prefix"]

logger = logging.getLogger(__name__)


def balanced_prefix(utterances: list[Utterance], words: tuple[str, ...], limit: int) -> list[Utterance]:
    """The first ``limit`` clips taking each word in turn (the first of every word, then the second...),
    in their original order: a small subset that still holds every word."""
    seen: Counter[str] = Counter()
    rank = []
    for position, utt in enumerate(utterances):
        rank.append((seen[utt.text], words.index(utt.text), position))  # type: ignore[arg-type]
        seen[utt.text] += 1
    keep = sorted(position for _, _, position in sorted(rank)[:limit])
    return [utterances[i] for i in keep]


class SpeechCommands(Dataset):
    """Speech Commands / SC09 word clips (<word>/<speaker>_nohash_<n>.wav) labelled by word, as LABELS

    Items are ``{"x": (1, length) in [-1, 1], "label": index of the word in words}``.
    ``split`` is ``train`` (every file the two lists do not name), ``valid``
    (``validation_list.txt``) or ``test`` (``testing_list.txt``). ``limit`` keeps the first
    clips of each word in turn (:func:`balanced_prefix`), for quick runs. :attr:`summary`
    says what the dataset holds (logged at INFO when it is built).
    """

    yields = LABELS  # {"x": (B, 1, length), "label": (B,)}

    def __init__(
        self,
        root: str,
        split: Literal["train", "valid", "test"] = "train",
        words: tuple[str, ...] = DIGITS,
        length: int = 16384,
        sample_rate: int = 16000,
        limit: int | None = None,
        on_error: OnError = "fail",
    ) -> None:
        self.words = tuple(words)
        if not self.words:
            raise ConfigError("words: give at least one word")
        if repeated := sorted({w for w in self.words if self.words.count(w) > 1}):
            raise ConfigError(f"words: {', '.join(map(repr, repeated))} listed twice; each word is one label")
        if isinstance(length, bool) or length < 1:
            raise ConfigError(f"length: must be a positive number of samples, got {length}")
        if limit is not None and limit < 1:
            raise ConfigError(f"limit: must be a positive number of clips (or null for all), got {limit}")
        self.root, self.split, self.length, self.sample_rate = root, split, length, sample_rate
        self.num_classes = len(self.words)
        policy = ErrorPolicy(on_error)
        utterances = speech_commands(root, split, self.words, policy=policy)
        if limit is not None:
            utterances = balanced_prefix(utterances, self.words, limit)
        # whole clips, checked now; a file that fails later is replaced as AudioDataset does
        self.audio = AudioDataset(utterances, AudioLoader(sample_rate=sample_rate), on_error=policy)
        self._label_of = {u.id: self.words.index(u.text) for u in self.audio.utterances}  # type: ignore[arg-type]
        logger.info(self.summary)

    @property
    def utterances(self) -> list[Utterance]:
        """The clips that passed the checks, sorted by id (``<word>/<file stem>``)."""
        return self.audio.utterances

    @property
    def skipped(self) -> SkipReport:
        """The files left out under ``on_error="skip"``, with reasons."""
        return self.audio.skipped

    def __len__(self) -> int:
        return len(self.audio)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.audio[index]  # a lost file is replaced by the next one that loads, or raises
        wave = item["wave"][: self.length]  # (T',), T' <= length
        x = torch.zeros(1, self.length)  # (1, length): zeros at the end, as WaveGAN pads
        x[0, : wave.shape[0]] = wave
        return {"x": x, "label": torch.tensor(self._label_of[item["id"]], dtype=torch.long)}

    @property
    def summary(self) -> str:
        """One line: clips per word, speakers, rate and length."""
        counts = Counter(u.text for u in self.audio.utterances)
        per_word = ", ".join(f"{w} {counts[w]}" for w in self.words)
        speakers = len({u.speaker for u in self.audio.utterances})
        skipped = f", {self.skipped.count} skipped" if self.skipped.count else ""
        return (f"speech_commands {self.split}: {len(self)} clips of {self.num_classes} words ({per_word}) by "
                f"{speakers} speakers{skipped}, {self.sample_rate} Hz, padded or cut to {self.length} samples")
