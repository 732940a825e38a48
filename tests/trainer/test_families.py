"""The four GAN families of the issue, each trained a few steps with no trainer change."""

import json
import math

import pytest
import torch


def logged(run_dir):
    return [json.loads(line) for line in (run_dir / "scalars.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("criterion", ["minimax", "non_saturating"])
def test_original_gan_minimax_and_non_saturating(make_trainer, criterion):
    trainer = make_trainer({"objective": {"name": "gan", "args": {"criterion": criterion}}})
    trainer.fit()
    rows = logged(trainer.run_dir)
    assert [r["step"] for r in rows] == [1, 2, 3]
    first = rows[0]
    assert set(first) >= {"d/adv", "g/adv", "d/total", "g/total", "stats/d_real", "stats/d_fake",
                          "grad_norm/generator", "grad_norm/discriminator", "lr/generator"}
    # G minimises log(1 - D(G(z))) < 0 (minimax) or -log D(G(z)) > 0 (non-saturating)
    assert (first["g/adv"] < 0) == (criterion == "minimax")
    # the D loss is the same for both: -log D(x) - log(1 - D(G(z)))  >= 0
    assert first["d/adv"] > 0
    assert math.isclose(first["g/total"], first["g/adv"], rel_tol=1e-6)


def test_wgan_gp_takes_five_critic_steps_per_generator_step(make_trainer):
    trainer = make_trainer({
        "objective": {"name": "gan", "args": {"criterion": "wasserstein"}},
        "loss_weights": {"d/gp": 10.0},
        "optim": {"generator": {"name": "adam", "lr": 1e-4, "args": {"betas": [0.0, 0.9]}},
                  "discriminator": {"name": "adam", "lr": 1e-4, "args": {"betas": [0.0, 0.9]}}},
        "trainer": {"max_steps": 2, "d_steps_per_g": 5},
    })
    trainer.fit()
    d_state = next(iter(trainer.optimizers["discriminator"].state.values()))
    g_state = next(iter(trainer.optimizers["generator"].state.values()))
    assert (int(d_state["step"]), int(g_state["step"])) == (10, 2)
    assert (trainer.epoch, trainer.batch_in_epoch) == (1, 2)  # 10 batches; 8 per epoch of 64 points
    row = logged(trainer.run_dir)[0]
    assert row["d/gp"] > 0
    assert math.isclose(row["d/total"], row["d/adv"] + 10 * row["d/gp"], rel_tol=1e-5, abs_tol=1e-6)


def test_hifigan_style_vocoder_weights_1_2_45(make_trainer):
    trainer = make_trainer({
        "objective": {"name": "vocoder"},
        "features": {"name": "frames", "args": {"hop": 8}},
        "generators": {"generator": {"name": "upsampler", "args": {"channels": 4, "hop": 8}}},
        "discriminators": {"mpd": {"name": "wave_disc"}, "msd": {"name": "wave_disc"}},
        "data": {"train": {"name": "waves", "args": {"n": 16, "length": 64}}, "batch_size": 4},
        "trainer": {"max_steps": 2},
    })
    trainer.fit()
    row = logged(trainer.run_dir)[0]
    assert set(row) >= {"d/adv", "g/adv", "g/fm", "g/mel"}
    expected = row["g/adv"] + 2 * row["g/fm"] + 45 * row["g/mel"]
    assert math.isclose(row["g/total"], expected, rel_tol=1e-5)
    pairs = list(trainer.objective.evaluation_pairs(g=trainer.g, dataset=trainer.c.datasets["train"],
                                                    device=trainer.device, limit=2))
    assert [p.id for p in pairs] == ["utt0", "utt1"]
    assert pairs[0].generated.shape == pairs[0].reference.shape == (64,)


def test_hop_mismatch_is_a_config_error_at_load_and_at_build(kit_registry):
    from speechgan.build import build_components
    from speechgan.config import validate_config
    from speechgan.errors import ConfigError

    from .conftest import BASE, merge

    config = merge(BASE, {
        "objective": {"name": "vocoder"},
        "features": {"name": "frames", "args": {"hop": 8}},
        "generators": {"generator": {"name": "upsampler", "args": {"hop": 4}}},
        "discriminators": {"d": {"name": "wave_disc"}},
        "data": {"train": {"name": "waves"}},
    })
    message = (r"generators.generator: generator 'upsampler' upsamples by 4 samples per "
               r"frame but the front-end `features: frames` has hop_length 8")
    with pytest.raises(ConfigError, match=message):
        validate_config(config, kit_registry)  # at load
    valid = validate_config(merge(config, {"generators": {"generator": {"name": "upsampler", "args": {"hop": 8}}}}),
                            kit_registry)
    valid.generators["generator"].args["hop"] = 4  # a config changed after it was validated
    with pytest.raises(ConfigError, match=message):
        build_components(valid, kit_registry)  # and again where the modules are built


def test_cyclegan_identity_loss_switches_off(make_trainer):
    trainer = make_trainer({
        "objective": {"name": "cyclegan"},
        "generators": {"a2b": {"name": "linear"}, "b2a": {"name": "linear"}},
        "discriminators": {"a": {"name": "linear", "args": {"o": 1}}, "b": {"name": "linear", "args": {"o": 1}}},
        "data": {"train": {"name": "domains"}},
        "loss_weights": {"g/identity": {"value": 5.0, "stop": 2}},
        "trainer": {"max_steps": 4},
    })
    trainer.fit()
    rows = logged(trainer.run_dir)
    assert ["g/identity" in r for r in rows] == [True, True, False, False]
    first = rows[0]
    expected = first["g/adv"] + 10 * first["g/cycle"] + 5 * first["g/identity"]
    assert math.isclose(first["g/total"], expected, rel_tol=1e-5)
    last = rows[-1]
    assert math.isclose(last["g/total"], last["g/adv"] + 10 * last["g/cycle"], rel_tol=1e-5)


def test_cyclegan_two_step_adversarial_loss_with_second_discriminators(make_trainer):
    """CycleGAN-VC2's second-step discriminators judge the cycle-reconstructed features."""
    linear_d = {"name": "linear", "args": {"o": 1}}
    trainer = make_trainer({
        "objective": {"name": "cyclegan"},
        "generators": {"a2b": {"name": "linear"}, "b2a": {"name": "linear"}},
        "discriminators": {"a": linear_d, "b": linear_d, "a2": linear_d, "b2": linear_d},
        "data": {"train": {"name": "domains"}},
        "trainer": {"max_steps": 2},
    })
    seen = {role: [] for role in ("a", "b", "a2", "b2")}
    for role, disc in trainer.d.items():
        disc.register_forward_hook(lambda m, i, o, role=role: seen[role].append(i[0].detach().clone()))
    state_inputs = {}
    generate = trainer.objective.generate

    def spy(batch, **kw):
        state = generate(batch, **kw)
        state_inputs.update({k: v.detach().clone() for k, v in state.items()})
        state_inputs["a"], state_inputs["b"] = batch["a"]["features"], batch["b"]["features"]
        return state

    trainer.objective.generate = spy
    logs = trainer.train_step()
    assert {"d/adv", "d/adv2", "g/adv", "g/adv2", "g/cycle", "g/identity"} <= set(logs)
    # D step: a2 saw the cycled a -> b -> a, then the real A features; G step: the cycled ones again
    assert torch.equal(seen["a2"][0], state_inputs["cycle_a"]) and torch.equal(seen["a2"][1], state_inputs["a"])
    assert torch.equal(seen["b2"][0], state_inputs["cycle_b"]) and torch.equal(seen["b2"][1], state_inputs["b"])
    assert len(seen["a2"]) == 3 and torch.equal(seen["a2"][2], state_inputs["cycle_a"])
    total = logs["g/adv"] + logs["g/adv2"] + 10 * logs["g/cycle"] + 5 * logs["g/identity"]
    assert math.isclose(float(logs["g/total"]), float(total), rel_tol=1e-5)
    assert math.isclose(float(logs["d/total"]), float(logs["d/adv"] + logs["d/adv2"]), rel_tol=1e-5)


def test_cyclegan_second_step_discriminators_come_in_pairs(kit_registry):
    from speechgan.config import validate_config
    from speechgan.errors import ConfigError

    linear_d = {"name": "linear", "args": {"o": 1}}
    data = {
        "objective": {"name": "cyclegan"},
        "generators": {"a2b": {"name": "linear"}, "b2a": {"name": "linear"}},
        "discriminators": {"a": linear_d, "b": linear_d, "a2": linear_d},
        "data": {"train": {"name": "domains"}},
        "optim": {"generator": {"name": "adam", "lr": 1e-3}, "discriminator": {"name": "adam", "lr": 1e-3}},
        "trainer": {"max_steps": 1},
    }
    with pytest.raises(ConfigError, match=r"discriminators\.b2: objective 'cyclegan' takes its optional roles a2, b2 "
                                          r"together, all or none; a2 given without b2"):
        validate_config(data, kit_registry)
