"""The built-in ``losses`` plugin: every loss registers, builds with no args and validates args."""

from __future__ import annotations

import speechgan_plugins.losses
from speechgan.config import check_component_args
from speechgan.losses import AdversarialCriterion
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec

CRITERIA = {"minimax", "non_saturating", "least_squares", "hinge", "wasserstein"}
OTHERS = {"instance_noise", "gradient_penalty", "r1", "feature_matching", "l1", "top_k", "multi_resolution_stft"}


def _registry():
    pm = get_plugin_manager(entry_points=False, plugins=[("losses", speechgan_plugins.losses)])
    registry = pm.registry
    assert pm.failures == []
    return registry


def test_every_loss_is_registered_and_builds_with_no_args() -> None:
    registry = _registry()
    assert set(registry.names("loss")) == CRITERIA | OTHERS
    for name in registry.names("loss"):
        component = registry.get("loss", name)
        assert component.plugin == "losses"
        assert component.description.strip(), name
        built = component.build()
        if name in CRITERIA:
            assert isinstance(built, AdversarialCriterion), name
        else:
            assert callable(built), name


def test_loss_args_validate_against_the_factory_signature() -> None:
    registry = _registry()

    def check(name: str, args: dict) -> tuple[dict, list[str]]:
        spec = ComponentSpec(name=name, args=args)
        return check_component_args("adv", "loss", spec, registry.get("loss", name).factory, injectable=set())

    values, errors = check("non_saturating", {"real_label": "0.9"})
    assert errors == [] and values == {"real_label": 0.9}
    values, errors = check("instance_noise", {"sigma": 0.2, "anneal_steps": None})
    assert errors == [] and registry.build("loss", "instance_noise", **values).sigma_at(10) == 0.2
    _, errors = check("least_squares", {"a": -1, "d": 0})
    assert errors == ["adv.args.d: unknown argument of loss 'least_squares'; it accepts: a, b, c"]
