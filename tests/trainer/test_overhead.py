"""What the lean training step keeps: logged values, gradient norms where they are logged."""

import json

import pytest
import torch


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


def test_gradient_norms_are_computed_on_logged_steps_and_exact_there(make_trainer):
    trainer = make_trainer({"trainer": {"max_steps": 6, "log_every": 3}})
    norms = {"generator": [], "discriminator": []}  # the norm of each update, as torch computes it
    for group, optimizer in trainer.optimizers.items():
        optimizer.register_step_pre_hook(lambda opt, args, kwargs, group=group: norms[group].append(
            float(torch.nn.utils.get_total_norm([p.grad for p in trainer.params[group]]))))
    keys = []
    trainer.c.callbacks.append(type("Rec", (), {"on_step_end": lambda self, t, s, logs: keys.append(set(logs))})())
    trainer.fit()
    logged = rows(trainer.run_dir)
    assert [r["step"] for r in logged] == [3, 6]
    for row in logged:
        for group in norms:
            assert row[f"grad_norm/{group}"] == pytest.approx(norms[group][row["step"] - 1], rel=1e-6, abs=0)
    assert ["grad_norm/generator" in k for k in keys] == [False, False, True, False, False, True]


def test_logged_losses_are_the_means_of_the_steps_since_the_last_row(make_trainer):
    every = make_trainer({"trainer": {"max_steps": 4, "log_every": 1}}, run="every")
    every.fit()
    sparse = make_trainer({"trainer": {"max_steps": 4, "log_every": 2}}, run="sparse")
    sparse.fit()
    each, pairs = rows(every.run_dir), rows(sparse.run_dir)
    assert [r["step"] for r in pairs] == [2, 4]
    for row in pairs:
        before, last = each[row["step"] - 2], each[row["step"] - 1]
        for name in ("d/adv", "d/total", "g/adv", "g/total", "stats/d_real", "stats/d_fake"):
            assert row[name] == pytest.approx((before[name] + last[name]) / 2, rel=1e-6, abs=0)
    # the weights of the gan objective are d/adv 1, g/adv 1 (the others 0): each total is its term
    assert all(r["d/total"] == r["d/adv"] and r["g/total"] == r["g/adv"] for r in each)


def test_weighted_terms_enter_the_total_with_their_weights(make_trainer):
    trainer = make_trainer({"objective": {"name": "gan", "args": {"criterion": "wasserstein"}},
                            "loss_weights": {"d/adv": 0.5, "d/gp": 10.0}, "trainer": {"max_steps": 1}})
    trainer.fit()
    row = rows(trainer.run_dir)[0]
    assert row["d/total"] == pytest.approx(0.5 * row["d/adv"] + 10.0 * row["d/gp"], rel=1e-6)


def test_gradients_are_clipped_on_steps_that_log_nothing(make_trainer):
    trainer = make_trainer({"optim": {"generator": {"name": "sgd", "lr": 1.0}, "discriminator": {"name": "sgd", "lr": 1.0}},
                            "trainer": {"max_steps": 2, "log_every": 2, "grad_clip": 1e-3}})
    weights = [torch.cat([p.detach().clone().reshape(-1) for p in trainer.g.parameters()])]
    trainer.c.callbacks.append(type("Rec", (), {"on_step_end": lambda self, t, s, logs: weights.append(
        torch.cat([p.detach().clone().reshape(-1) for p in t.g.parameters()]))})())
    trainer.fit()
    for before, after in zip(weights, weights[1:]):  # step 1 logs nothing, step 2 writes a row
        assert 0 < (after - before).norm() <= 1e-3 * (1 + 1e-4)
    assert rows(trainer.run_dir)[0]["grad_norm/generator"] > 1e-3  # the norm before clipping
