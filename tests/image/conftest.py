"""Fixtures of the image-plugin tests: the registry of the installed plugins, tiny batches."""

from __future__ import annotations

import pytest
import torch

from speechgan.build import build_component
from speechgan.plugins import get_plugin_manager


@pytest.fixture(scope="module")
def image_registry():
    pm = get_plugin_manager()
    assert not pm.failures, [f.message for f in pm.failures]
    return pm.registry


@pytest.fixture
def build(image_registry):
    """build(kind, name, **args): one component through the registry, as a config would."""

    def make(kind: str, name: str, **args):
        torch.manual_seed(0)
        return build_component(image_registry, kind, {"name": name, "args": args}, path=f"test.{kind}")

    return make
