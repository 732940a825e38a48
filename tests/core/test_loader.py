"""The trainer's batches: resumable, rank-aware batch sampling and whole-batch fetching."""

import pytest
import torch
from torch.utils.data import Dataset

from speechgan.loader import ResumableBatchSampler, make_loader


def epoch_order(size, seed, epoch):
    """The order the sampler has always drawn: a permutation seeded by (seed, epoch)."""
    return torch.randperm(size, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


def test_batches_are_consecutive_runs_of_the_epoch_order_as_index_tensors():
    sampler = ResumableBatchSampler(10, batch_size=4, shuffle=True, drop_last=False, seed=3)
    sampler.set_epoch(2)
    order = epoch_order(10, 3, 2)
    batches = list(sampler)
    assert [b.tolist() for b in batches] == [order[:4].tolist(), order[4:8].tolist(), order[8:].tolist()]
    assert all(b.dtype == torch.int64 for b in batches)
    assert len(sampler) == 3
    sampler.drop_last = True
    assert [b.tolist() for b in sampler] == [order[:4].tolist(), order[4:8].tolist()] and len(sampler) == 2


def test_without_shuffling_the_order_is_the_index_order():
    sampler = ResumableBatchSampler(5, batch_size=2, shuffle=False, drop_last=False, seed=0)
    assert [b.tolist() for b in sampler] == [[0, 1], [2, 3], [4]]


def test_a_resumed_epoch_continues_with_the_batches_it_would_have_had():
    sampler = ResumableBatchSampler(20, batch_size=3, shuffle=True, drop_last=True, seed=1)
    sampler.set_epoch(4)
    whole = [b.tolist() for b in sampler]
    sampler.set_epoch(4, start=2)
    assert [b.tolist() for b in sampler] == whole[2:]
    assert len(sampler) == len(whole) - 2 == 4


def test_ranks_take_every_world_size_th_index_in_equal_shares():
    size, order = 11, epoch_order(11, 0, 0)
    shares = []
    for rank in (0, 1):
        sampler = ResumableBatchSampler(size, batch_size=2, shuffle=True, drop_last=False, seed=0,
                                        rank=rank, world_size=2)
        shares.append(torch.cat(list(sampler)))
        assert torch.equal(shares[-1], order[rank:10:2])  # 5 each: the 11th index is left out
    assert sorted(torch.cat(shares).tolist()) == sorted(order[:10].tolist())


class Items(Dataset):
    """Items indexed one at a time; refuses anything but a Python int."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        assert type(i) is int, f"index {i!r} is not an int"
        return {"x": torch.tensor(float(i))}


class Batches(Items):
    """Fetches whole batches and records the indices it was given."""

    def __init__(self):
        self.seen = []

    def __getitems__(self, indices):
        self.seen.append(indices)
        return {"x": indices.float()}

    @staticmethod
    def collate(batch):
        return batch


def test_a_dataset_with_getitems_gets_each_batch_as_one_index_tensor():
    data = Batches()
    loader, _ = make_loader(data, batch_size=4, shuffle=True, drop_last=False, num_workers=0, seed=2)
    batches = list(loader)
    assert [type(i) for i in data.seen] == [torch.Tensor, torch.Tensor]
    assert torch.equal(torch.cat([b["x"] for b in batches]), epoch_order(6, 2, 0).float())


def test_other_datasets_are_indexed_with_ints_and_collated():
    loader, _ = make_loader(Items(), batch_size=4, shuffle=True, drop_last=True, num_workers=0, seed=2)
    (batch,) = list(loader)
    assert torch.equal(batch["x"], epoch_order(6, 2, 0)[:4].float())


class BreaksAt(Dataset):
    """Items i -> {"x": [i, -i]}; item ``bad`` raises the BadFile a changed audio file raises."""

    def __init__(self, bad: int, batched: bool) -> None:
        self.bad = bad
        if batched:
            self.__getitems__ = lambda indices: [self[int(i)] for i in indices]

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i):
        from speechgan.data.policy import BadFile

        if int(i) == self.bad:
            raise BadFile("corpus/b.flac", "not a readable audio file (Internal psf_fseek() failed.)")
        return {"x": torch.tensor([float(i), -float(i)])}


@pytest.mark.parametrize("batched", [False, True])
def test_a_user_error_in_a_worker_process_reaches_the_trainer_as_itself(batched):
    from speechgan.data.policy import BadFile
    from speechgan.loader import WorkerError

    loader, sampler = make_loader(BreaksAt(5, batched), batch_size=4, shuffle=False, drop_last=True,
                                  num_workers=1, seed=0)
    first, second = list(loader)
    assert torch.equal(first["x"][:, 0], torch.arange(4.0))
    assert isinstance(second, WorkerError)  # PyTorch would re-raise a RuntimeError holding the traceback
    with pytest.raises(BadFile) as info:
        second.raise_it()
    assert str(info.value) == "corpus/b.flac: not a readable audio file (Internal psf_fseek() failed.)"

