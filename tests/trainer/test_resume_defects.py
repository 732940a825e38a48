"""Resuming a run: the schedule and optimizer of the config, checkpoints that do not fit,
leftover temporary files, the logged running average, and JSON-safe scalars."""

import json
import shutil

import pytest
import torch

from speechgan.checkpoint import load_checkpoint, save_checkpoint
from speechgan.errors import TrainingError
from speechgan.run import train

from ..conftest import write_yaml
from .conftest import BASE, merge


def rows(run_dir):
    def strict(constant):
        raise ValueError(f"scalars.jsonl holds {constant}, which is not JSON")

    return [json.loads(line, parse_constant=strict) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


def _kit_train(kit_registry, tmp_path, changes=None, **kwargs):
    """``speechgan train`` through the library, on the kit's components, into tmp_path/run."""
    config = write_yaml(tmp_path / "c.yaml", merge(BASE, changes or {}))
    return train(config, tmp_path / "run", kit_registry, **kwargs)


def linear_schedule(total_iters):
    return {"name": "linear", "args": {"start_factor": 1.0, "end_factor": 0.01, "total_iters": total_iters}}


def scheduled(max_steps):
    """Both groups decay linearly over ``max_steps`` (the ring8 recipe's ``${trainer.max_steps}``)."""
    return {
        "optim": {k: {"name": "adam", "lr": 1e-2, "scheduler": linear_schedule(max_steps)}
                  for k in ("generator", "discriminator")},
        "trainer": {"max_steps": max_steps, "log_every": 1, "checkpoint_every": None},
    }


def test_resuming_with_a_larger_max_steps_follows_the_schedule_of_the_new_config(make_trainer, capsys):
    make_trainer(scheduled(20), run="split").fit()
    resumed = make_trainer(scheduled(40), run="split")
    resumed.resume(resumed.run_dir / "checkpoints" / "last.pt")
    capsys.readouterr()
    resumed.fit()
    assert capsys.readouterr().err.startswith(
        "optim.generator.scheduler differs from the checkpoint's (total_iters 20 -> 40): the learning rate "
        "follows the config, 0.00505 after 20 updates\n"
        "optim.discriminator.scheduler differs from the checkpoint's (total_iters 20 -> 40): "
    )
    fresh = make_trainer(scheduled(40), run="fresh")
    fresh.fit()
    after = [r for r in rows(resumed.run_dir) if r["step"] > 20]
    assert [r["step"] for r in after] == list(range(21, 41))
    for group in ("generator", "discriminator"):
        # exactly the learning rate of a fresh 40-step run at every step, not the old schedule's end (1e-4)
        assert [r[f"lr/{group}"] for r in after] == [r[f"lr/{group}"] for r in rows(fresh.run_dir)[20:]]
    assert rows(resumed.run_dir)[-1]["lr/generator"] == pytest.approx(1e-4)
    assert after[0]["lr/generator"] > 1e-3


def test_resuming_with_the_same_schedule_continues_exactly(make_trainer):
    whole = make_trainer(scheduled(8), run="whole")
    whole.fit()
    first = make_trainer(scheduled(8) | {"trainer": {"max_steps": 4, "log_every": 1}}, run="split")
    first.fit()
    second = make_trainer(scheduled(8), run="split")
    second.resume(second.run_dir / "checkpoints" / "last.pt")
    second.fit()
    assert rows(second.run_dir) == rows(whole.run_dir)
    for p, q in zip(whole.g.parameters(), second.g.parameters()):
        assert torch.equal(p, q)


def test_resuming_with_another_optimizer_is_refused(make_trainer):
    make_trainer(run="run").fit()
    sgd = make_trainer({"optim": {"generator": {"name": "sgd", "lr": 1e-2, "args": {"momentum": 0.9}}}}, run="run")
    last = sgd.run_dir / "checkpoints" / "last.pt"
    with pytest.raises(TrainingError) as err:
        sgd.resume(last)
    assert str(err.value) == (
        f"{last}: does not fit optim.generator: it was trained with optimizer adam for 'generator', "
        "the config says sgd. Resume with optim.generator.name=adam, or train into another --out "
        "to change the optimizer"
    )


def test_a_refused_resume_leaves_config_yaml_as_it_was(kit_registry, tmp_path):
    _kit_train(kit_registry, tmp_path)
    before = (tmp_path / "run" / "config.yaml").read_text()
    with pytest.raises(TrainingError, match="does not fit optim.generator"):
        sgd = {"optim": {"generator": {"name": "sgd", "lr": 0.1}}, "trainer": {"max_steps": 5}}
        _kit_train(kit_registry, tmp_path, sgd, resume=True)
    assert (tmp_path / "run" / "config.yaml").read_text() == before


def test_resuming_takes_the_optimizer_settings_of_the_config(make_trainer):
    make_trainer(run="run").fit()
    changed = make_trainer({"optim": {"generator": {"name": "adam", "lr": 5e-3, "args": {"betas": [0.0, 0.9]}}}},
                           run="run")
    changed.resume(changed.run_dir / "checkpoints" / "last.pt")
    group = changed.optimizers["generator"].param_groups[0]
    assert (group["lr"], tuple(group["betas"])) == (5e-3, (0.0, 0.9))
    assert changed.optimizers["generator"].state  # the moments came from the checkpoint


@pytest.mark.parametrize("field", ["rng", "step"])
def test_a_checkpoint_missing_a_field_does_not_fit(kit_registry, tmp_path, field):
    _kit_train(kit_registry, tmp_path)
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    state = load_checkpoint(last)
    del state[field], state["format"]
    save_checkpoint(state, last)
    with pytest.raises(TrainingError) as err:
        _kit_train(kit_registry, tmp_path, {"trainer": {"max_steps": 5}}, resume=True)
    assert str(err.value) == (
        f"{last}: does not fit this run: the checkpoint has no {field!r} field; use a checkpoint that "
        "`speechgan train` wrote for this run (checkpoints/last.pt or step_N.pt)"
    )


def test_unfinished_checkpoint_writes_are_removed_on_start_and_resume(kit_registry, tmp_path):
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    (folder / ".last.pt.k2j4x9.tmp").write_bytes(b"x" * 1000)  # a write killed before its rename
    _kit_train(kit_registry, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"]
    (folder / ".last.pt.a8c1qq.tmp").write_bytes(b"x" * 1000)
    (folder / ".step_00000004.pt.zz01ab.tmp").write_bytes(b"x" * 1000)
    _kit_train(kit_registry, tmp_path, {"trainer": {"max_steps": 5}}, resume=True)
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"]


def test_scalars_jsonl_writes_null_for_non_finite_values(make_trainer):
    trainer = make_trainer({"objective": {"name": "probe", "args": {"nan_steps": [1]}}, "trainer": {"max_steps": 3}})
    trainer.fit()
    logged = rows(trainer.run_dir)  # strict JSON: no bare NaN
    assert logged[1]["d/adv"] is None and logged[1]["d/total"] is None
    assert isinstance(logged[0]["d/adv"], float) and isinstance(logged[2]["d/adv"], float)


def test_the_running_average_of_unlogged_steps_survives_a_resume(make_trainer):
    """log_every=3 does not divide checkpoint_every=4: the row of step 6 averages steps 4, 5 and 6."""
    changes = {"trainer": {"max_steps": 8, "log_every": 3, "checkpoint_every": 4}}
    whole = make_trainer(changes, run="whole")
    whole.fit()
    # a run that stopped after its step-4 checkpoint (its log holds rows up to step 3) resumes from it
    (whole.run_dir.parent / "split").mkdir()
    shutil.copy(whole.run_dir / "scalars.jsonl", whole.run_dir.parent / "split" / "scalars.jsonl")
    resumed = make_trainer(changes, run="split")
    resumed.resume(whole.run_dir / "checkpoints" / "step_00000004.pt")
    resumed.fit()
    assert [r["step"] for r in rows(resumed.run_dir)] == [3, 6, 8]
    assert rows(resumed.run_dir) == rows(whole.run_dir)
