"""Shared fixtures: tiny configs, fake installed distributions, a fresh plugin manager."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from speechgan.plugins import ENV_PLUGINS, ENV_STRICT, get_plugin_manager

TINY_GAN = {
    "seed": 0,
    "objective": {"name": "gan", "args": {"criterion": "non_saturating"}},
    "generators": {"generator": {"name": "mlp", "args": {"latent_dim": 2, "hidden_dim": 16, "num_layers": 2}}},
    "discriminators": {"discriminator": {"name": "mlp", "args": {"input_dim": 2, "hidden_dim": 16, "num_layers": 2}}},
    "data": {"train": {"name": "ring8", "args": {"num_samples": 512}}, "batch_size": 32},
    "optim": {
        "generator": {"name": "adam", "lr": 1e-3, "args": {"betas": [0.5, 0.999]}},
        "discriminator": {"name": "adam", "lr": 1e-3, "args": {"betas": [0.5, 0.999]}},
    },
    "trainer": {"max_steps": 4, "log_every": 1, "checkpoint_every": 2},
}


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Nothing a test runs writes to the user's ~/.cache/speechgan (the digits classifier...)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPEECHGAN_CACHE", str(tmp_path_factory.mktemp("speechgan_cache")))
        yield


@pytest.fixture(autouse=True)
def _clean_plugin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests control plugin loading themselves."""
    monkeypatch.delenv(ENV_PLUGINS, raising=False)
    monkeypatch.delenv(ENV_STRICT, raising=False)


@pytest.fixture
def one_thread():
    """Small models and batches: more threads only contend on a shared CPU (restored afterwards)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def registry():
    """The registry of every installed plugin (the built-ins included)."""
    pm = get_plugin_manager()
    assert not pm.failures, [f.message for f in pm.failures]
    return pm.registry


def write_yaml(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A complete, valid recipe that trains the toy GAN for a few steps."""
    return write_yaml(tmp_path / "tiny.yaml", TINY_GAN)


def make_distribution(root: Path, name: str, version: str, modules: dict[str, str], entry_points: dict[str, str]) -> None:
    """An installed distribution as importlib.metadata sees it: modules + a dist-info folder."""
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[speechgan]\n{lines}\n")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install fake distributions by putting them on sys.path for this test only."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))

    def install(name: str, version: str, modules: dict[str, str], entry_points: dict[str, str]) -> Path:
        make_distribution(root, name, version, modules, entry_points)
        return root

    yield install
    import importlib
    import sys

    for mod in [m for m, v in sys.modules.items() if getattr(v, "__file__", None) and str(root) in str(v.__file__)]:
        del sys.modules[mod]
    importlib.invalidate_caches()
