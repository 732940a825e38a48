"""Deterministic train / valid / test splits of a corpus.

Utterances are ordered by the SHA-256 of ``"<seed>:<id>"``: unlike Python's salted
``hash()`` or a library's random generator, that order is the same on every machine and
version. The first ``valid_size`` utterances of that order form the validation split,
the next ``test_size`` the test split, and the rest the training split, so the three are
disjoint and together hold the whole corpus. With ``stratify`` the cut is made within
each speaker, so every speaker is in each split in proportion.

A size is a fraction of the utterances (a float in [0, 1), rounded half up) or a count
(an int; per speaker when stratified).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal, get_args

from ..errors import ConfigError
from .corpora import Utterance

__all__ = ["Split", "split_utterances"]

Split = Literal["train", "valid", "test", "all"]


def _order_key(seed: int, utterance_id: str) -> bytes:
    return hashlib.sha256(f"{seed}:{utterance_id}".encode()).digest()


def _count(size: float | int, n: int, key: str) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise ConfigError(f"{key}: must be a fraction (float in [0, 1)) or a count (int), got {size!r}")
    if isinstance(size, int):
        if size < 0:
            raise ConfigError(f"{key}: a count cannot be negative, got {size}")
        return size
    if not 0.0 <= size < 1.0:
        raise ConfigError(f"{key}: a fraction must be in [0, 1), got {size}; give an int for a count")
    return int(size * n + 0.5)


def split_utterances(
    utterances: Sequence[Utterance],
    split: Split,
    *,
    valid_size: float | int = 0.05,
    test_size: float | int = 0.05,
    seed: int = 0,
    stratify: bool = False,
) -> list[Utterance]:
    """The utterances of ``split`` (sorted by id); ``"all"`` returns every utterance."""
    if split not in get_args(Split):
        raise ConfigError(f"split: must be one of {', '.join(get_args(Split))}, got {split!r}")
    groups: dict[str, list[Utterance]] = defaultdict(list)
    for utt in utterances:
        groups[utt.speaker if stratify else ""].append(utt)
    chosen: list[Utterance] = []
    for speaker in sorted(groups):
        members = sorted(groups[speaker], key=lambda u: _order_key(seed, u.id))
        n_valid = _count(valid_size, len(members), "valid_size")
        n_test = _count(test_size, len(members), "test_size")
        if n_valid + n_test > len(members):
            whose = f"speaker {speaker!r}" if stratify else "the corpus"
            raise ConfigError(f"valid_size, test_size: {n_valid} + {n_test} utterances are more than "
                              f"the {len(members)} of {whose}")
        bounds = {"valid": (0, n_valid), "test": (n_valid, n_valid + n_test),
                  "train": (n_valid + n_test, len(members)), "all": (0, len(members))}
        start, stop = bounds[split]
        chosen += members[start:stop]
    return sorted(chosen, key=lambda u: u.id)
