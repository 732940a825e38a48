"""``trainer.max_nonfinite_steps`` counts training steps, not D and G updates."""

import json

import pytest
import torch

from speechgan.errors import TrainingError


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


def nan_generator_terms(trainer, steps):
    """Make the G loss NaN at the given step indices (the probe objective does D's)."""
    original = trainer.objective.generator_terms

    def terms(batch, state, *, step, **kw):
        out = original(batch, state, step=step, **kw)
        return {k: v * float("nan") for k, v in out.items()} if step in steps else out

    trainer.objective.generator_terms = terms


def test_a_step_with_both_updates_skipped_counts_once_and_the_run_stops_after_limit_plus_one(make_trainer):
    bad = [1, 2, 3]
    trainer = make_trainer({"objective": {"name": "probe", "args": {"nan_steps": bad}},
                            "trainer": {"max_steps": 6, "max_nonfinite_steps": 2}})
    nan_generator_terms(trainer, set(bad))
    with pytest.raises(TrainingError) as err:
        trainer.fit()
    # the third bad step (index 3) is one more than the limit: not the second (index 2),
    # where the D and G updates of steps 1 and 2 would make three skipped updates
    assert str(err.value).startswith(
        "3 steps had a non-finite loss or gradient (last: discriminator step at 3), more than "
        "trainer.max_nonfinite_steps=2; stopping."
    )
    assert (trainer.step, trainer.nonfinite_steps) == (3, 3)


def test_exactly_the_limit_of_bad_steps_lets_the_run_finish(make_trainer):
    bad = [1, 2]
    trainer = make_trainer({"objective": {"name": "probe", "args": {"nan_steps": bad}},
                            "trainer": {"max_steps": 4, "max_nonfinite_steps": 2}})
    nan_generator_terms(trainer, set(bad))
    trainer.fit()
    assert (trainer.step, trainer.nonfinite_steps) == (4, 2)
    assert [r.get("nonfinite_steps") for r in rows(trainer.run_dir)] == [None, 1.0, 2.0, None]


def test_every_skipped_discriminator_round_of_a_step_counts_as_one_step(make_trainer):
    trainer = make_trainer({"objective": {"name": "probe", "args": {"nan_steps": [1]}},
                            "trainer": {"max_steps": 3, "d_steps_per_g": 3, "max_nonfinite_steps": 1}})
    trainer.fit()
    assert trainer.nonfinite_steps == 1
    assert len(trainer.objective.d_trainable) == 9  # 3 D rounds in each of 3 steps, 3 of them skipped


def test_a_skipped_generator_update_alone_counts_the_step_and_leaves_g_unchanged(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 3}})
    nan_generator_terms(trainer, {1})
    weights = []
    trainer.c.callbacks.append(type("Rec", (), {"on_step_end": lambda self, t, s, logs: weights.append(
        ([p.detach().clone() for p in t.g.parameters()], [p.detach().clone() for p in t.d.parameters()]))})())
    trainer.fit()
    assert trainer.nonfinite_steps == 1
    (g0, d0), (g1, d1) = weights[0], weights[1]
    assert all(torch.equal(a, b) for a, b in zip(g0, g1))  # step index 1 left G as it was
    assert any(not torch.equal(a, b) for a, b in zip(d0, d1))  # while D learned
