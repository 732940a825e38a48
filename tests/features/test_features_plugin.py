"""The audio_features plugin registers every front-end, and their signatures are config schemas."""

from __future__ import annotations

import inspect

import pytest
import torch

import speechgan_plugins.audio.features
from speechgan.config import check_component_args
from speechgan.features import FrontEnd, LogMelSpectrogram, STFTMagnitude
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


@pytest.mark.parametrize(
    ("name", "args", "errors"),
    [
        ("mfcc", {"n_mfcc": 20, "n_mels": "many", "n_mel": 40}, [
            "features.args.n_mels: Input should be a valid integer, unable to parse string as an integer (got 'many')",
            "features.args.n_mel: unknown argument of feature 'mfcc' (did you mean 'n_mels'?); it accepts: n_mfcc, "
            "sample_rate, n_fft, hop_length, win_length, n_mels, fmin, fmax, window, magnitude_eps, log_clamp, "
            "log_base, n_iter, momentum",
        ]),
        ("log_stft", {"log_clamp": "tiny", "centre": False, "n_fft": 512}, [
            "features.args.log_clamp: Input should be a valid number, unable to parse string as a number (got 'tiny')",
            "features.args.centre: unknown argument of feature 'log_stft' (did you mean 'center'?); it accepts: "
            "log_clamp, sample_rate, n_fft, hop_length, win_length, window, center, power, eps, n_iter, momentum",
        ]),
    ],
)
def test_front_ends_that_pass_args_on_check_each_by_name_and_type(registry, name: str, args: dict, errors: list) -> None:
    """MFCC passes its log-mel's arguments on, LogSTFT its STFT's: the config still sees each one."""
    factory = registry.get("feature", name).factory
    _, found = check_component_args("features", "feature", ComponentSpec(name=name, args=args), factory, injectable=set())
    assert found == errors


def test_passed_on_args_reach_the_wrapped_front_end(registry) -> None:
    mfcc = registry.build("feature", "mfcc", n_mfcc=20, n_mels=40, fmax=None, log_base="10", n_iter=3)
    assert mfcc.params == {"n_mfcc": 20, **LogMelSpectrogram(n_mels=40, fmax=None, log_base="10").params}
    assert (mfcc.log_mel.n_iter, mfcc.dct.shape) == (3, (20, 40))
    log_stft = registry.build("feature", "log_stft", log_clamp=1e-3, n_fft=512, center=False)
    assert log_stft.params == {**STFTMagnitude(n_fft=512, center=False).params, "log_clamp": 1e-3}
