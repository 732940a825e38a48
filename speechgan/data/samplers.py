"""Seeded randomness for data loading, reproducible per item and per epoch.

Each random choice comes from its own numpy ``Generator`` seeded through a
``SeedSequence`` of integers (the run's seed, the epoch, the item index...), so an item
draws the same segment in every run, on every machine and in whichever DataLoader
worker fetches it, whatever order the items are fetched in. Changing the epoch changes
every draw.
"""

from __future__ import annotations

import numpy as np

__all__ = ["derive_seed", "item_rng", "epoch_permutation"]

_U64 = 2**64
# A leading tag per use keeps the streams apart: SeedSequence pads entropy with zeros, so
# [seed, epoch] and [seed, epoch, 0] would otherwise be the same stream.
_DERIVE, _ITEM, _PERMUTATION = 1, 2, 3


def _entropy(tag: int, *keys: int) -> list[int]:
    return [tag] + [int(k) % _U64 for k in keys]  # SeedSequence takes non-negative integers only


def derive_seed(seed: int, *keys: int) -> int:
    """An independent seed for a sub-stream of ``seed`` (say, one domain of two)."""
    state = np.random.SeedSequence(_entropy(_DERIVE, seed, *keys)).generate_state(1, np.uint64)
    return int(state[0])


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """The generator of item ``index`` in ``epoch``."""
    return np.random.default_rng(_entropy(_ITEM, seed, epoch, index))


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """A permutation of ``range(n)``, new each epoch, the same for the same (seed, epoch)."""
    return np.random.default_rng(_entropy(_PERMUTATION, seed, epoch)).permutation(n)
