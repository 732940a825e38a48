"""Trainer mechanics: freezing, accumulation, clipping, EMA, guards, checkpoints, resume."""

import json
import math
import os

import pytest
import torch

from speechgan import checkpoint as ckpt_module
from speechgan.checkpoint import load_checkpoint, save_checkpoint
from speechgan.errors import TrainingError


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


def test_discriminator_is_frozen_only_during_the_generator_step(make_trainer):
    trainer = make_trainer({"objective": {"name": "probe"}, "trainer": {"max_steps": 3, "d_steps_per_g": 2}})
    trainer.fit()
    probe = trainer.objective
    assert probe.d_trainable == [True] * 6
    assert probe.g_step_d_trainable == [False] * 3
    assert all(p.requires_grad for p in trainer.d.parameters())


def test_gradient_accumulation_equals_the_large_batch(make_trainer):
    common = {"objective": {"name": "mapping"}, "data": {"shuffle": False},
              "optim": {"generator": {"name": "sgd", "lr": 0.1}, "discriminator": {"name": "sgd", "lr": 0.1}},
              "trainer": {"max_steps": 1}}
    big = make_trainer(common | {"data": {"shuffle": False, "batch_size": 8}}, run="big")
    small = make_trainer(common | {"data": {"shuffle": False, "batch_size": 4},
                                   "trainer": {"max_steps": 1, "accumulate": 2}}, run="small")
    big.fit()
    small.fit()
    for a, b in zip(list(big.g.parameters()) + list(big.d.parameters()),
                    list(small.g.parameters()) + list(small.d.parameters())):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_gradient_clipping_bounds_the_update(make_trainer):
    trainer = make_trainer({"optim": {"generator": {"name": "sgd", "lr": 1.0}, "discriminator": {"name": "sgd", "lr": 1.0}},
                            "trainer": {"max_steps": 1, "grad_clip": 1e-3}})
    before = torch.cat([p.detach().clone().reshape(-1) for p in trainer.g.parameters()])
    trainer.fit()
    after = torch.cat([p.detach().reshape(-1) for p in trainer.g.parameters()])
    assert (after - before).norm() <= 1e-3 * (1 + 1e-4)
    assert rows(trainer.run_dir)[0]["grad_norm/generator"] > 1e-3  # the norm before clipping


def test_ema_of_generator_weights_is_used_for_evaluation(make_trainer, kit_registry):
    decay = 0.5
    trainer = make_trainer({"trainer": {"max_steps": 3, "ema": {"decay": decay}}})
    history = []
    trainer.c.callbacks.append(type("Rec", (), {"on_step_end": lambda self, t, s, logs: history.append(
        [p.detach().clone() for p in t.g.parameters()])})())
    trainer.fit()
    # AveragedModel copies the weights at its first update, then averages
    expected = [w.clone() for w in history[0]]
    for weights in history[1:]:
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights)]
    for got, want in zip(trainer.ema["generator"].module.parameters(), expected):
        torch.testing.assert_close(got, want)
    assert trainer.eval_generators()["generator"] is trainer.ema["generator"].module
    assert "generator" in load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")["ema"]


def test_evaluation_uses_live_weights_until_the_ema_has_averaged(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 2, "ema": {"decay": 0.9, "start_step": 5}}})
    trainer.fit()
    assert trainer.eval_generators() is trainer.g


def test_non_finite_steps_are_skipped_and_counted(make_trainer):
    trainer = make_trainer({"objective": {"name": "probe", "args": {"nan_steps": [1]}}, "trainer": {"max_steps": 3}})
    snapshots = []
    trainer.c.callbacks.append(type("Rec", (), {"on_step_end": lambda self, t, s, logs: snapshots.append(
        [p.detach().clone() for p in t.d.parameters()])})())
    trainer.fit()
    assert trainer.nonfinite_steps == 1
    # the D update of step index 1 (the second step) was skipped: D unchanged by it
    for a, b in zip(snapshots[0], snapshots[1]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert any(not torch.equal(a, b) for a, b in zip(snapshots[1], snapshots[2]))
    assert rows(trainer.run_dir)[1]["nonfinite_steps"] == 1.0
    state = load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")
    assert all(torch.isfinite(v).all() for v in state["discriminators"].values())


def test_too_many_non_finite_steps_stop_the_run_and_keep_the_last_checkpoint(make_trainer):
    trainer = make_trainer({"objective": {"name": "probe", "args": {"nan_steps": [2, 3, 4]}},
                            "trainer": {"max_steps": 6, "checkpoint_every": 2, "max_nonfinite_steps": 2}})
    with pytest.raises(TrainingError) as err:
        trainer.fit()
    assert str(err.value).startswith(
        "3 steps had a non-finite loss or gradient (last: discriminator step at 4), more than "
        "trainer.max_nonfinite_steps=2; stopping."
    )
    # the skipped steps left the weights finite, so the step-4 checkpoint was written; nothing after
    state = load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")
    assert (state["step"], state["nonfinite_steps"]) == (4, 2)


def test_no_checkpoint_with_non_finite_weights(make_trainer):
    trainer = make_trainer()
    trainer.fit()
    last = trainer.run_dir / "checkpoints" / "last.pt"
    before = last.read_bytes()
    with torch.no_grad():
        next(trainer.g.parameters())[0, 0] = float("inf")
    with pytest.raises(TrainingError, match=r"generators.generator.f.weight holds non-finite values; no checkpoint"):
        trainer.save()
    assert last.read_bytes() == before


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = save_checkpoint({"step": 1, "w": torch.ones(3)}, tmp_path / "last.pt")
    before = path.read_bytes()

    def torn_save(obj, f):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(ckpt_module.torch, "save", torn_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"step": 2}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["last.pt"]


def test_checkpoints_load_without_unpickling_objects(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "payload": Evil()}, path)
    with pytest.raises(TrainingError, match=r"evil.pt: not a readable speechgan checkpoint \(UnpicklingError"):
        load_checkpoint(path)
    path.write_bytes(b"garbage")
    with pytest.raises(TrainingError, match="not a readable speechgan checkpoint"):
        load_checkpoint(path)


def test_checkpoint_contents(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 4, "checkpoint_every": 2, "keep_checkpoints": 1},
                            "optim": {"generator": {"name": "adam", "lr": 1e-2,
                                                    "scheduler": {"name": "exponential", "args": {"gamma": 0.5}}}}})
    trainer.fit()
    folder = trainer.run_dir / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt", "step_00000004.pt"]
    state = load_checkpoint(folder / "last.pt")
    assert set(state) >= {"step", "epoch", "batch_in_epoch", "generators", "discriminators", "optimizers",
                          "schedulers", "scalers", "ema", "rng", "config", "nonfinite_steps"}
    assert state["step"] == 4 and state["config"]["trainer"]["max_steps"] == 4
    assert math.isclose(trainer.optimizers["generator"].param_groups[0]["lr"], 1e-2 * 0.5**4)
    assert rows(trainer.run_dir)[-1]["lr/generator"] == pytest.approx(1e-2 * 0.5**4)


def test_resumed_run_matches_an_uninterrupted_one(make_trainer):
    changes = {"objective": {"name": "gan", "args": {"criterion": "hinge"}},
               "data": {"batch_size": 24}, "trainer": {"max_steps": 8, "checkpoint_every": 4}}
    whole = make_trainer(changes, run="whole")
    whole.fit()
    first = make_trainer(changes | {"trainer": {"max_steps": 4, "checkpoint_every": 4}}, run="split")
    first.fit()
    second = make_trainer(changes, run="split")
    second.resume(second.run_dir / "checkpoints" / "last.pt")
    second.fit()
    a, b = rows(whole.run_dir), rows(second.run_dir)
    assert [r["step"] for r in b] == list(range(1, 9))  # entries after the checkpoint were rewritten
    for ra, rb in zip(a, b):
        assert ra == rb
    for p, q in zip(whole.g.parameters(), second.g.parameters()):
        assert torch.equal(p, q)


def test_bf16_autocast_on_cpu(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 2, "precision": "bf16"}})
    trainer.fit()
    assert all(math.isfinite(v) for v in rows(trainer.run_dir)[-1].values())


def test_fp16_with_grad_scaler_on_cpu(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 2, "precision": "fp16"}})
    trainer.fit()
    assert set(trainer.scalers) == {"generator", "discriminator"}
    assert "scalers" in load_checkpoint(trainer.run_dir / "checkpoints" / "last.pt")


def test_tensorboard_events_hold_every_term_and_samples(make_trainer):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer = make_trainer({"trainer": {"max_steps": 2, "sample_every": 2}})
    trainer.fit()
    acc = EventAccumulator(str(trainer.run_dir / "tensorboard"))
    acc.Reload()
    scalars = set(acc.Tags()["scalars"])
    assert scalars >= {"d/adv", "g/adv", "d/total", "g/total", "stats/d_real", "stats/d_fake",
                       "grad_norm/generator", "lr/generator", "lr/discriminator"}
    assert "samples/scatter" in acc.Tags()["images"]


def test_undeclared_loss_term_is_an_error(make_trainer):
    trainer = make_trainer()
    original = trainer.objective.generator_terms
    trainer.objective.generator_terms = lambda *a, **k: original(*a, **k) | {"g/extra": torch.tensor(1.0)}
    with pytest.raises(TrainingError, match="returned loss term 'g/extra', which it does not declare"):
        trainer.fit()


def test_too_small_dataset_is_a_clear_error(make_trainer):
    with pytest.raises(TrainingError, match=r"data.train holds 4 items: not one batch of data.batch_size=8"):
        make_trainer({"data": {"train": {"name": "points", "args": {"n": 4}}}})


def test_datasets_with_set_epoch_are_told_the_epoch(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 10}})  # 8 batches per epoch
    seen = []
    trainer.loader.dataset.set_epoch = seen.append
    trainer.fit()
    assert seen == [0, 1]


def test_a_group_whose_terms_are_all_weighted_zero_is_held_back(make_trainer):
    """Parallel WaveGAN trains G alone at first: D's only term is scheduled to start later.
    D gets no update and its learning-rate schedule waits; G trains as usual."""
    trainer = make_trainer({
        "loss_weights": {"d/adv": {"value": 1.0, "start": 2}},
        "optim": {"discriminator": {"name": "adam", "lr": 1e-2,
                                    "scheduler": {"name": "linear", "args": {"start_factor": 1.0, "end_factor": 0.5,
                                                                              "total_iters": 10}}}},
    })
    d_before = [p.detach().clone() for p in trainer.d.parameters()]
    g_before = [p.detach().clone() for p in trainer.g.parameters()]
    for _ in range(2):
        trainer.train_step()
        trainer.step += 1
    assert all(torch.equal(a, b) for a, b in zip(d_before, trainer.d.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, trainer.g.parameters()))
    assert trainer.schedulers["discriminator"].last_epoch == 0 and trainer.nonfinite_steps == 0
    trainer.train_step()  # step 2: d/adv is on
    assert not all(torch.equal(a, b) for a, b in zip(d_before, trainer.d.parameters()))
    assert trainer.schedulers["discriminator"].last_epoch == 1


def test_while_every_d_term_is_weighted_zero_no_discriminator_runs(make_trainer):
    """A generator warm-up costs G's own step: no D round (D runs once, inside G's adversarial term)
    and one batch a step."""
    trainer = make_trainer({"loss_weights": {"d/adv": {"value": 1.0, "start": 2}},
                            "trainer": {"d_steps_per_g": 2}})
    calls = []
    for disc in trainer.d.values():
        disc.register_forward_hook(lambda *_: calls.append(trainer.step))
    drawn = []
    next_batch = trainer.next_batch
    trainer.next_batch = lambda: drawn.append(trainer.step) or next_batch()
    logs = trainer.train_step()
    assert calls == [0] and drawn == [0]  # the G step's pass alone
    assert not any(k.startswith("d/") for k in logs) and "g/total" in logs
    trainer.step = 2  # d/adv is on: 2 D rounds on fresh batches, the G step reuses the last one
    logs = trainer.train_step()
    assert drawn == [0, 2, 2] and calls.count(2) > 1 and "d/adv" in logs
