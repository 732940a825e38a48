"""Multi-process training under ``torchrun`` (gloo on CPU, NCCL on GPU).

GAN steps alternate D and G updates with parts of the graph frozen, which fights
``DistributedDataParallel``'s reducer; instead each rank computes its gradients and they
are averaged with one all-reduce per module group before the optimizer step. Parameters
start identical (broadcast from rank 0), so they stay identical. What differs across ranks
(the noise each one draws, hence its RNG state) is gathered into the checkpoint, and a
stop request (SIGINT / SIGTERM, which may reach one rank or all) is agreed on by all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "DistInfo", "init_distributed", "average_gradients", "broadcast_module", "weights_fingerprint",
    "gather_objects", "max_across_ranks", "barrier", "shutdown_distributed",
]

T = TypeVar("T")


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def choose_device(name: str, local_rank: int) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank)
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def init_distributed(device_name: str) -> tuple[DistInfo, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment, if any."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = choose_device(device_name, local_rank)
    if world <= 1:
        return DistInfo(), device
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend)
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank), device


def average_gradients(params: list[nn.Parameter], world_size: int, loss: torch.Tensor) -> torch.Tensor:
    """All-reduce-average the gradients of ``params`` and ``loss`` (one flat buffer per call).

    Returns the mean ``loss`` over ranks: non-finite on every rank as soon as it is on one,
    so all ranks agree to skip an update and the replicas never drift apart.
    """
    grads = [p.grad for p in params if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1).to(torch.float32)])
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()
    return flat[-1]


def broadcast_module(module: nn.Module) -> None:
    """Make every rank's parameters and buffers equal to rank 0's."""
    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def weights_fingerprint(module: nn.Module) -> str:
    """A hash of all parameters, to check that replicas agree."""
    h = hashlib.sha1()
    for name, p in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def gather_objects(value: T, info: DistInfo) -> list[T]:
    """Every rank's ``value`` (picklable), in rank order, on every rank."""
    if not info.enabled:
        return [value]
    out: list[T] = [value] * info.world_size
    dist.all_gather_object(out, value)
    return out


def max_across_ranks(value: int, info: DistInfo, device: torch.device) -> int:
    """The largest ``value`` any rank holds (one all-reduce of one number)."""
    if not info.enabled:
        return value
    flat = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(flat, op=dist.ReduceOp.MAX)
    return int(flat.item())


def barrier(info: DistInfo) -> None:
    """Wait until every rank gets here."""
    if info.enabled:
        dist.barrier()


def shutdown_distributed(info: DistInfo) -> None:
    """Leave the process group together at the end of a run.

    Rank 0 still evaluates and writes after the last step; a rank that left the process
    without waiting, its gloo threads alive, could abort the whole job at exit
    ("terminate called without an active exception"). So every rank waits for the others,
    then the group is destroyed before the interpreter exits.
    """
    if info.enabled:
        dist.barrier()
        dist.destroy_process_group()
