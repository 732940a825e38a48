"""The audio_features plugin registers every front-end, and their signatures are config schemas."""

from __future__ import annotations

import inspect

import pytest
import torch

import speechgan_plugins.audio.features
from speechgan.config import check_component_args
from speechgan.features import FrontEnd
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec

NAMES = ["waveform", "stft", "log_stft", "log_mel", "mfcc", "world"]


@pytest.fixture
def registry():
    pm = get_plugin_manager(entry_points=False, plugins=[("audio_features", speechgan_plugins.audio.features)])
    assert pm.failures == []
    return pm.registry


def test_registers_all_six_with_descriptions(registry) -> None:
    assert registry.names("feature") == sorted(NAMES)
    for name in NAMES:
        component = registry.get("feature", name)
        assert component.plugin == "audio_features"
        assert component.description and "\n" not in component.description


@pytest.mark.parametrize("name", NAMES)
def test_each_builds_with_no_args_and_runs_on_half_a_second(registry, name: str) -> None:
    fe = registry.build("feature", name)
    assert isinstance(fe, FrontEnd)
    wave = 0.1 * torch.randn(fe.sample_rate // 2, generator=torch.Generator().manual_seed(0))
    out = fe(wave)
    assert out.dim() == 2 and torch.isfinite(out).all()
    frames = {"waveform": wave.numel(), "stft": 1 + wave.numel() // 256, "log_stft": 1 + wave.numel() // 256,
              "log_mel": wave.numel() // 256, "mfcc": wave.numel() // 256, "world": 1 + wave.numel() // 80}
    assert out.shape[-1] == frames[name]


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_a_valid_config_schema(registry, name: str) -> None:
    """Every argument is typed, keyword-only, and its default validates as a config value."""
    factory = registry.get("feature", name).factory
    params = inspect.signature(factory).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty for p in params)
    defaults = {p.name: p.default for p in params}
    values, errors = check_component_args("features", "feature", ComponentSpec(name=name, args=defaults), factory, injectable=set())
    assert errors == []
    assert values == defaults


def test_config_accepts_hop_length_and_names_a_misspelt_key(registry) -> None:
    factory = registry.get("feature", "log_mel").factory
    spec = ComponentSpec(name="log_mel", args={"hop_length": 256, "fmax": None, "log_base": "10"})
    values, errors = check_component_args("features", "feature", spec, factory, injectable=set())
    assert errors == [] and values == {"hop_length": 256, "fmax": None, "log_base": "10"}

    spec = ComponentSpec(name="log_mel", args={"hop_lenght": 256})
    _, errors = check_component_args("features", "feature", spec, factory, injectable=set())
    assert len(errors) == 1
    assert errors[0].startswith(
        "features.args.hop_lenght: unknown argument of feature 'log_mel' (did you mean 'hop_length'?); it accepts: "
    )

    spec = ComponentSpec(name="log_mel", args={"hop_length": "a lot", "log_base": "2"})
    _, errors = check_component_args("features", "feature", spec, factory, injectable=set())
    assert [e.split(":")[0] for e in errors] == ["features.args.hop_length", "features.args.log_base"]
