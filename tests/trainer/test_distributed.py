"""Two CPU processes under torchrun (gloo) end with identical weights."""

import subprocess
import sys

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
