import copy

import pytest

from speechgan.build import build_components
from speechgan.config import validate_config
from speechgan.plugins import get_plugin_manager
from speechgan.trainer import Trainer

from .kit import Kit

BASE = {
    "seed": 0,
    "objective": {"name": "gan"},
    "generators": {"generator": {"name": "linear", "args": {"i": 2, "o": 2}}},
    "discriminators": {"discriminator": {"name": "linear", "args": {"i": 2, "o": 1}}},
    "data": {"train": {"name": "points", "args": {"n": 64}}, "batch_size": 8},
    "optim": {"generator": {"name": "adam", "lr": 1e-2}, "discriminator": {"name": "adam", "lr": 1e-2}},
    "trainer": {"max_steps": 3, "log_every": 1, "checkpoint_every": None},
}


@pytest.fixture(scope="session")
def kit_registry():
    pm = get_plugin_manager(plugins=[("kit", Kit())])
    assert not pm.failures, [f.message for f in pm.failures]
    return pm.registry


def merge(base, changes):
    """Deep-merge ``changes`` into ``base``; components and role sections are replaced whole."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        replace = "name" in value if isinstance(value, dict) else True
        if key in ("generators", "discriminators") or replace or not isinstance(out.get(key), dict):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = merge(out[key], value)
    return out


@pytest.fixture
def make_trainer(kit_registry, tmp_path):
    """make_trainer(changes) -> a Trainer on the merged config, writing into tmp_path/run."""

    def make(changes=None, run="run"):
        config = validate_config(merge(BASE, changes or {}), kit_registry)
        import torch

        torch.manual_seed(config.seed)
        components = build_components(config, kit_registry)
        return Trainer(components, tmp_path / run, device=torch.device("cpu"))

    return make
