"""Config loading: includes, overrides, interpolation, and validation with key paths."""

import copy
import inspect

import pytest

from speechgan.config import config_to_yaml, load_config
from speechgan.errors import ConfigError
from speechgan.plugins import ENV_PLUGINS, get_plugin_manager
from speechgan_plugins.toy.mlp import MLPGenerator

from ..conftest import TINY_GAN, write_yaml


def cfg(**changes):
    data = copy.deepcopy(TINY_GAN)
    data.update(changes)
    return data


def errors_of(path, registry, overrides=()):
    with pytest.raises(ConfigError) as err:
        load_config(path, overrides, registry)
    return str(err.value)


def test_valid_config_round_trips_through_the_resolved_yaml(tiny_config, registry, tmp_path):
    config = load_config(tiny_config, registry=registry)
    assert config.trainer.max_steps == 4
    assert config.generators["generator"].args == {"latent_dim": 2, "hidden_dim": 16, "num_layers": 2}
    resolved = write_yaml(tmp_path / "resolved.yaml", {})
    resolved.write_text(config_to_yaml(config))
    again = load_config(resolved, registry=registry)
    assert again == config
    # defaults are explicit in the resolved file
    assert "d_steps_per_g: 1" in config_to_yaml(config)
    # component references are normalised to {name, args}
    assert again.objective.args["criterion"] == {"name": "non_saturating", "args": {}}


def test_dotted_overrides_and_deletion(tiny_config, registry):
    config = load_config(
        tiny_config,
        ["trainer.max_steps=200", "optim.generator.args.betas=[0.0, 0.9]", "loss_weights.d/r1=5", "~optim.discriminator.args"],
        registry,
    )
    assert config.trainer.max_steps == 200
    assert config.optim["generator"].args["betas"] == [0.0, 0.9]
    assert config.loss_weights == {"d/r1": 5.0}
    assert config.optim["discriminator"].args == {}


def test_bad_override_syntax(tiny_config, registry):
    assert errors_of(tiny_config, registry, ["trainer.max_steps"]) == (
        "override 'trainer.max_steps' must look like key.path=value (or ~key.path to delete)"
    )
    assert errors_of(tiny_config, registry, ["~trainer.nope"]) == (
        "override '~trainer.nope': there is no key 'trainer.nope' to delete"
    )


def test_include_and_override_with_a_renamed_component(tmp_path, registry):
    write_yaml(tmp_path / "base" / "gan.yaml", TINY_GAN)
    child = write_yaml(tmp_path / "child.yaml", {
        "include": "base/gan.yaml",
        "trainer": {"max_steps": 9},
        # a different dataset: the base's args (num_samples) must not leak into it
        "data": {"train": {"name": "grid25", "args": {"sigma": 0.1}}},
    })
    config = load_config(child, registry=registry)
    assert config.trainer.max_steps == 9
    assert config.trainer.log_every == 1  # from the base
    assert config.data.train.name == "grid25"
    assert config.data.train.args == {"sigma": 0.1}


def test_include_cycle_and_missing_include(tmp_path, registry):
    write_yaml(tmp_path / "a.yaml", {"include": "b.yaml"})
    write_yaml(tmp_path / "b.yaml", {"include": "a.yaml"})
    assert errors_of(tmp_path / "a.yaml", registry).startswith("include cycle: ")
    write_yaml(tmp_path / "c.yaml", {"include": "nope.yaml"})
    assert errors_of(tmp_path / "c.yaml", registry) == (
        f"{tmp_path / 'c.yaml'}: include: nope.yaml: file not found (looked for {(tmp_path / 'nope.yaml').resolve()})"
    )


def test_interpolation(tmp_path, registry):
    data = cfg()
    data["discriminators"]["discriminator"]["args"]["hidden_dim"] = "${generators.generator.args.hidden_dim}"
    config = load_config(write_yaml(tmp_path / "i.yaml", data), registry=registry)
    assert config.discriminators["discriminator"].args["hidden_dim"] == 16
    data["discriminators"]["discriminator"]["args"]["hidden_dim"] = "${nowhere.x}"
    msg = errors_of(write_yaml(tmp_path / "j.yaml", data), registry)
    assert "discriminators.discriminator.args.hidden_dim" in msg and "nowhere" in msg


def test_missing_file_and_bad_yaml(tmp_path, registry):
    assert errors_of(tmp_path / "absent.yaml", registry) == f"config file not found: {tmp_path / 'absent.yaml'}"
    bad = tmp_path / "bad.yaml"
    bad.write_text("trainer:\n  max_steps: [1, 2\n")
    assert errors_of(bad, registry).startswith(f"{bad}:3:1: invalid YAML: ")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    assert errors_of(scalar, registry) == f"{scalar}: a config must be a mapping of sections, got str"


def test_structural_errors_name_every_bad_key(tmp_path, registry):
    data = cfg()
    data["trainer"] = {"max_steps": "many", "log_evry": 5}
    del data["data"]
    path = write_yaml(tmp_path / "s.yaml", data)
    assert errors_of(path, registry) == (
        f"{path}: invalid config (3 errors)\n"
        "  data: Field required\n"
        "  trainer.max_steps: Input should be a valid integer, unable to parse string as an integer\n"
        "  trainer.log_evry: Extra inputs are not permitted"
    )


def test_component_errors_name_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_PLUGINS, "losses,objectives,toy")  # listings independent of later plugins
    registry = get_plugin_manager().registry
    data = cfg()
    data["generators"]["generator"] = {"name": "mlp", "args": {"hiden_dim": 8, "num_layers": "two"}}
    data["discriminators"]["discriminator"]["name"] = "mlpp"
    data["objective"]["args"] = {"criterion": "hinj"}
    data["loss_weights"] = {"g/adv": 1.0, "d/gpp": 10.0}
    data["optim"]["generator"]["args"]["momentum"] = 0.9
    path = write_yaml(tmp_path / "c.yaml", data)
    lines = errors_of(path, registry).splitlines()
    assert lines[0] == f"{path}: invalid config (6 errors)"
    assert set(lines[1:]) == {
        "  objective.args.criterion: unknown loss 'hinj'. Did you mean 'hinge'? Available losses: feature_matching, "
        "gradient_penalty, hinge, instance_noise, l1, least_squares, minimax, multi_resolution_stft, non_saturating, r1, top_k, wasserstein",
        "  loss_weights.d/gpp: objective 'gan' has no loss term 'd/gpp' (did you mean 'd/gp'?); its terms: d/adv, d/gp, d/r1, g/adv",
        "  generators.generator.args.hiden_dim: unknown argument of generator 'mlp' (did you mean 'hidden_dim'?); "
        f"it accepts: {', '.join(inspect.signature(MLPGenerator).parameters)}",
        "  generators.generator.args.num_layers: Input should be a valid integer, unable to parse string as an integer (got 'two')",
        "  discriminators.discriminator.name: unknown discriminator 'mlpp'. Did you mean 'mlp'? Available discriminators: mlp",
        "  optim.generator.args.momentum: not an argument of Adam; it accepts: amsgrad, betas, capturable, decoupled_weight_decay, "
        "differentiable, eps, foreach, fused, maximize, weight_decay",
    }


def test_missing_required_argument_and_roles(tmp_path, registry):
    data = cfg()
    data["objective"] = {"name": "cyclegan"}
    path = write_yaml(tmp_path / "r.yaml", data)
    lines = errors_of(path, registry).splitlines()[1:]
    assert "  generators.a2b: objective 'cyclegan' needs this role (generators: a2b, b2a)" in lines
    assert "  generators.generator: objective 'cyclegan' has no such role; its generators: a2b, b2a" in lines
    assert "  discriminators.a: objective 'cyclegan' needs this role (discriminators: a, b)" in lines
    data = cfg()
    data["objective"] = {"name": "vocoder"}
    path = write_yaml(tmp_path / "v.yaml", data)
    assert "  objective: objective 'vocoder' needs a `features:` section in the config" in errors_of(path, registry)


def test_injected_arguments_cannot_be_set(tmp_path, registry):
    data = cfg()
    data["objective"] = {"name": "vocoder", "args": {"features": "log_mel"}}
    path = write_yaml(tmp_path / "f.yaml", data)
    assert "  objective.args.features: set by speechgan itself from the `features:` section; remove it here" in errors_of(path, registry)


def test_nested_component_reference_args_are_validated(tmp_path, registry):
    data = cfg()
    data["objective"]["args"] = {"criterion": {"name": "minimax", "args": {"real_lable": 0.9}}}
    path = write_yaml(tmp_path / "n.yaml", data)
    assert (
        "  objective.args.criterion.args.real_lable: unknown argument of loss 'minimax' (did you mean 'real_label'?); "
        "it accepts: real_label"
    ) in errors_of(path, registry)


def test_weight_schedule(tmp_path, registry):
    data = cfg(loss_weights={"d/r1": {"value": 5.0, "start": 2, "stop": 4}})
    config = load_config(write_yaml(tmp_path / "w.yaml", data), registry=registry)
    assert [config.weight("d/r1", s, 0.0) for s in range(5)] == [0.0, 0.0, 5.0, 5.0, 0.0]
    assert config.weight("g/adv", 0, 1.0) == 1.0


def test_every_recipe_in_every_subfolder_validates(registry):
    from pathlib import Path

    recipes = sorted(Path(__file__).resolve().parents[2].joinpath("recipes").rglob("*.yaml"))
    assert recipes, "no recipes found"
    for path in recipes:
        if path.name.startswith("_"):  # include-only fragments
            continue
        load_config(path, registry=registry)
        first = path.read_text().splitlines()[0]
        assert first.startswith("# speechgan train ") and str(path.relative_to(path.parents[2])) in first, path
