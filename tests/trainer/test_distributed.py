"""Two CPU processes under torchrun (gloo) end with identical weights."""

import subprocess
import sys

import torch

from speechgan.checkpoint import load_checkpoint

from ..conftest import TINY_GAN, write_yaml


def test_two_processes_keep_identical_weights(tmp_path):
    config = write_yaml(tmp_path / "tiny.yaml", TINY_GAN | {"trainer": {"max_steps": 3, "log_every": 1}})
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "speechgan", "train", str(config), "--out", str(run)],
        capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    fingerprints = state["replica_fingerprints"]
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    assert state["step"] == 3
    # rank 0 alone writes the log: one line per step
    assert len((run / "scalars.jsonl").read_text().splitlines()) == 3


def _average_on_rank(rank: int, store_path: str, out: str) -> None:
    import torch.distributed as dist

    from speechgan.distributed import average_gradients

    dist.init_process_group("gloo", store=dist.FileStore(store_path, 2), rank=rank, world_size=2)
    p = torch.nn.Parameter(torch.zeros(3))
    p.grad = torch.full((3,), float(rank + 1))  # rank 0: 1, rank 1: 2
    loss = torch.tensor(float("nan") if rank == 1 else 0.5)  # non-finite on one rank only
    mean = average_gradients([p], 2, loss)
    torch.save({"grad": p.grad, "loss": mean}, f"{out}.{rank}")
    dist.destroy_process_group()


def test_a_non_finite_loss_on_one_rank_is_non_finite_on_all(tmp_path):
    """Each rank decides to skip an update from the loss: the averaged one, so all agree."""
    import torch.multiprocessing as mp

    out = str(tmp_path / "result")
    mp.spawn(_average_on_rank, args=(str(tmp_path / "store"), out), nprocs=2, join=True)
    for rank in (0, 1):
        result = torch.load(f"{out}.{rank}")
        assert torch.equal(result["grad"], torch.full((3,), 1.5))
        assert torch.isnan(result["loss"])
