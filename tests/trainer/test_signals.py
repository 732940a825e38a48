"""SIGINT / SIGTERM: finish the step, save last.pt, stop; a resumed run continues exactly."""

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from speechgan.checkpoint import load_checkpoint
from speechgan.signals import StopSignals, TrainingInterrupted

from .kit import assert_same_models

REPO = Path(__file__).resolve().parents[2]


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


class SendSignals:
    """A callback that sends this process ``signals`` at the end of step ``at``."""

    def __init__(self, at, *signals):
        self.at, self.signals, self.handlers = at, signals, []

    def on_step_end(self, trainer, step, logs):
        self.handlers.append(signal.getsignal(signal.SIGINT))
        if step == self.at:
            for s in self.signals:
                os.kill(os.getpid(), s)


CHANGES = {"trainer": {"max_steps": 8, "log_every": 3, "checkpoint_every": None}}


def test_sigint_finishes_the_step_saves_and_the_resumed_run_continues_exactly(make_trainer):
    whole = make_trainer(CHANGES, run="whole")
    whole.fit()
    before = signal.getsignal(signal.SIGINT)
    stopped = make_trainer(CHANGES, run="split")
    sender = SendSignals(4, signal.SIGINT)
    stopped.c.callbacks.append(sender)
    with pytest.raises(TrainingInterrupted) as stop:
        stopped.fit()
    last = stopped.run_dir / "checkpoints" / "last.pt"
    assert (stop.value.step, stop.value.exit_code, stop.value.checkpoint) == (4, 130, last)
    assert str(stop.value) == "stopped by SIGINT after step 4 of 8"
    assert load_checkpoint(last)["step"] == 4
    # the handler was the trainer's during fit, and the previous one is back after it
    assert sender.handlers[0] != before and signal.getsignal(signal.SIGINT) == before
    resumed = make_trainer(CHANGES, run="split")
    resumed.resume(last)
    resumed.fit()
    assert rows(resumed.run_dir) == rows(whole.run_dir)  # step 6 averages steps 4 to 6 in both
    for p, q in zip(whole.g.parameters(), resumed.g.parameters()):
        assert torch.equal(p, q)


def test_sigterm_stops_with_status_143_and_a_repeated_sigterm_changes_nothing(make_trainer):
    trainer = make_trainer(CHANGES)
    trainer.c.callbacks.append(SendSignals(2, signal.SIGTERM, signal.SIGTERM))
    with pytest.raises(TrainingInterrupted) as stop:
        trainer.fit()
    assert (stop.value.step, stop.value.signal_name, stop.value.exit_code) == (2, "SIGTERM", 143)
    assert load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")["step"] == 2


def test_a_second_sigint_aborts_at_once(make_trainer):
    before = signal.getsignal(signal.SIGINT)
    trainer = make_trainer(CHANGES)
    trainer.c.callbacks.append(SendSignals(2, signal.SIGINT, signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        trainer.fit()
    assert not (trainer.run_dir / "checkpoints").exists()  # aborted inside step 2: nothing saved
    assert signal.getsignal(signal.SIGINT) == before


@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler, whatever this process inherited (a shell's background job ignores SIGINT)."""
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, inherited)


def test_a_signal_after_the_last_step_boundary_reaches_the_previous_handler(python_sigint):
    with pytest.raises(KeyboardInterrupt):
        with StopSignals(announce=False) as stop:
            os.kill(os.getpid(), signal.SIGINT)
            assert stop.signum == signal.SIGINT


def test_handlers_are_installed_only_in_the_main_thread():
    seen = []

    def run():
        with StopSignals(announce=False):
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGTERM)]


# -- a real signal to a `speechgan train` process on the toy recipe --------------------------

TINY_RING8 = [
    "data.train.args.num_samples=2048", "data.batch_size=64",
    "generators.generator.args.hidden_dim=32", "discriminators.discriminator.args.hidden_dim=32",
    "trainer.max_steps=300", "trainer.log_every=7", "trainer.checkpoint_every=100", "trainer.ema.start_step=10",
    "evaluation.metrics=[]",
]
ENV = os.environ | {"OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def speechgan(*args):
    return [sys.executable, "-m", "speechgan", *args]


def wait_for(path, proc, timeout=120):
    end = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < end, f"{path} did not appear in {timeout} s"
        time.sleep(0.01)


def test_ctrl_c_on_the_command_line_saves_says_how_to_resume_and_resumes_exactly(tmp_path):
    recipe = "recipes/toy/ring8.yaml"
    whole, split = tmp_path / "whole", tmp_path / "split"
    proc = subprocess.Popen(speechgan("train", recipe, *TINY_RING8, "--out", str(split)),
                            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(split / "scalars.jsonl", proc)  # a step has been logged
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-3000:]
    step = load_checkpoint(split / "checkpoints" / "last.pt")["step"]
    assert 7 <= step < 300
    command = shlex.join(["speechgan", "train", recipe, *TINY_RING8, "--out", str(split), "--resume"])
    assert f"speechgan: stopped by SIGINT after step {step} of 300; saved {split}/checkpoints/last.pt\n" in err
    assert err.endswith(f"resume with: {command}\n")
    assert "run saved to" not in out
    # the printed command continues the run
    resumed = subprocess.run(speechgan(*shlex.split(command)[1:]), cwd=REPO, env=ENV, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    full = subprocess.run(speechgan("train", recipe, *TINY_RING8, "--out", str(whole)), cwd=REPO, env=ENV,
                          capture_output=True, text=True)
    assert full.returncode == 0, full.stderr[-3000:]
    assert rows(split) == rows(whole)
    assert_same_models(whole, split, ema=True)


@pytest.mark.parametrize(
    ("step", "world_size", "checkpoint", "report"),
    [
        (5, 1, True, "resume with: speechgan train 'my recipe.yaml' trainer.max_steps=10 --out {run} --resume\n"),
        (5, 2, True, "resume with (under torchrun, with 2 processes as before): speechgan train 'my recipe.yaml' "
                     "trainer.max_steps=10 --out {run} --resume\n"),
        (10, 1, True, "training is complete; the final evaluation was skipped: speechgan evaluate {run}\n"),
        (5, 2, False, None),  # ranks other than 0 say nothing
    ],
)
def test_the_train_command_reports_where_it_saved_and_how_to_resume(
    monkeypatch, capsys, tmp_path, step, world_size, checkpoint, report
):
    from speechgan.cli import main

    run = tmp_path / "run"
    last = run / "checkpoints" / "last.pt" if checkpoint else None

    def interrupted(*args, on_interrupted=None, **kwargs):  # run.train's contract: report, then raise
        stop = TrainingInterrupted(signal.SIGTERM, step=step, max_steps=10, checkpoint=last, world_size=world_size)
        if on_interrupted is not None and stop.checkpoint is not None:  # only the rank that saved reports
            on_interrupted(stop)
        raise stop

    monkeypatch.setattr("speechgan.run.train", interrupted)
    assert main(["train", "my recipe.yaml", "trainer.max_steps=10", "--out", str(run)]) == 143
    out, err = capsys.readouterr()
    assert out == ""
    if report is None:
        assert err == ""
    else:
        assert err == f"speechgan: stopped by SIGTERM after step {step} of 10; saved {last}\n" + report.format(run=run)
