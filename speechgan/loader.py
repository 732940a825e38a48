"""Batches for the trainer: a resumable, rank-aware sampler and device transfer.

The sampler's order depends only on (seed, epoch), so a resumed run continues with
exactly the batches an uninterrupted run would have seen, on one process or many (each
rank takes every ``world_size``-th index, like ``DistributedSampler``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["ResumableSampler", "make_loader", "to_device"]


class ResumableSampler(Sampler[int]):
    """Indices of one epoch for one rank, optionally starting part-way through."""

    def __init__(self, size: int, *, shuffle: bool, seed: int, rank: int = 0, world_size: int = 1) -> None:
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.start = 0  # indices of this rank's share already consumed

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def _indices(self) -> list[int]:
        if self.shuffle:
            gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(self.size, generator=gen).tolist()
        else:
            order = list(range(self.size))
        per_rank = self.size // self.world_size  # equal shares keep ranks in lock-step
        return order[self.rank : per_rank * self.world_size : self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices()[self.start :])

    def __len__(self) -> int:
        return max(0, self.size // self.world_size - self.start)


def make_loader(
    dataset: Dataset[Any], *, batch_size: int, shuffle: bool, drop_last: bool, num_workers: int,
    seed: int, rank: int = 0, world_size: int = 1,
) -> tuple[DataLoader[Any], ResumableSampler]:
    sampler = ResumableSampler(len(dataset), shuffle=shuffle, seed=seed, rank=rank, world_size=world_size)  # type: ignore[arg-type]
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=num_workers,
        collate_fn=getattr(dataset, "collate", None),
        persistent_workers=False,
        # worker seeds come from this generator, reseeded per epoch, not from global RNG
        generator=torch.Generator(),
    )
    return loader, sampler


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor in a (nested) batch to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        moved = [to_device(v, device) for v in batch]
        return type(batch)(moved) if not hasattr(batch, "_fields") else type(batch)(*moved)
    return batch
