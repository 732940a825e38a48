"""Multi-process resume: every rank's RNG state is saved and restored; all ranks stop together."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from speechgan.checkpoint import load_checkpoint, save_checkpoint
from speechgan.errors import TrainingError

from ..conftest import TINY_GAN, write_yaml
from .kit import assert_same_models

ENV = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def torchrun(config, out, *args):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            "-m", "speechgan", "train", str(config), "--out", str(out), *args]


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


def worker_pid(launcher: int, rank: int) -> int:
    """The pid of the torchrun worker of ``rank`` (a child of the ``launcher`` process)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if ppid == launcher and f"RANK={rank}".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no worker of rank {rank} under process {launcher}")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the worker's pid through /proc (Linux)")
def test_sigterm_to_one_rank_stops_both_at_one_step_and_the_resumed_run_continues_exactly(tmp_path):
    config = write_yaml(tmp_path / "tiny.yaml", TINY_GAN | {"trainer": {"max_steps": 300, "log_every": 1}})
    split, whole = tmp_path / "split", tmp_path / "whole"
    proc = subprocess.Popen(torchrun(config, split), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 180
    while not (split / "scalars.jsonl").exists():  # a step has been logged
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < end, "no step logged in 180 s"
        time.sleep(0.01)
    os.kill(worker_pid(proc.pid, rank=1), signal.SIGTERM)  # a preemption that reaches rank 1 only
    _, err = proc.communicate(timeout=180)
    assert proc.returncode != 0
    state = load_checkpoint(split / "checkpoints" / "last.pt")
    step = state["step"]
    assert 1 <= step < 300
    # rank 0 saw no signal, stopped at the same step, and wrote the checkpoint with both ranks' states
    assert f"speechgan: stopped by SIGTERM after step {step} of 300; saved {split}/checkpoints/last.pt" in err
    assert "resume with (under torchrun, with 2 processes as before): speechgan train" in err
    assert len(set(state["replica_fingerprints"])) == 1
    assert len(state["rng"]) == 2 and not torch.equal(state["rng"][0]["torch"], state["rng"][1]["torch"])

    resumed = subprocess.run(torchrun(config, split, "--resume"), env=ENV, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    full = subprocess.run(torchrun(config, whole), env=ENV, capture_output=True, text=True, timeout=240)
    assert full.returncode == 0, full.stderr[-3000:]
    assert rows(split) == rows(whole)
    assert_same_models(whole, split)


def test_a_checkpoint_of_another_number_of_processes_is_refused(make_trainer):
    trainer = make_trainer()
    trainer.fit()
    last = trainer.run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    assert len(state["rng"]) == 1
    state["rng"] = state["rng"] * 2  # as a run of 2 processes writes it
    del state["format"]
    save_checkpoint(state, last)
    again = make_trainer()
    with pytest.raises(TrainingError) as err:
        again.resume(last)
    assert str(err.value) == (
        f"{last}: does not fit this run: it was written by 2 process(es), this run has 1; each rank's data "
        "share and noise depend on the number, so resume with 2 (torchrun --nproc_per_node=2), or train "
        "into another --out"
    )


def test_a_checkpoint_from_before_per_rank_rng_states_resumes(make_trainer):
    """Checkpoints written before this change hold one RNG state (a dict), not a list."""
    trainer = make_trainer({"trainer": {"max_steps": 2}})
    trainer.fit()
    last = trainer.run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    state["rng"] = state["rng"][0]
    del state["format"]
    save_checkpoint(state, last)
    again = make_trainer({"trainer": {"max_steps": 3}})
    again.resume(last)
    assert torch.equal(torch.get_rng_state(), state["rng"]["torch"])
