"""The speech_metrics plugin: registration, config schemas and the pair-averaging contract."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from speechgan.config import check_component_args
from speechgan.errors import ConfigError, DataError
from speechgan.metrics import si_sdr
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec
from speechgan_plugins.audio.metrics import PairwiseMetric, summarize

SR = 16000

#: component name -> the key its mean is reported under
EXPECTED_KEYS = {
    "mcd": ["mcd_db"],
    "log_f0_rmse": ["log_f0_rmse", "f0_rmse_cents", "vuv_error"],
    "log_mel_l1": ["log_mel_l1"],
    "mr_stft": ["mr_stft"],
    "pesq": ["pesq_wb"],
    "stoi": ["stoi"],
    "si_sdr": ["si_sdr_db"],
    "dnsmos": ["dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808"],
    "ssnr": ["ssnr_db"],
    "composite": ["csig", "cbak", "covl"],
}


class FakeContext(SimpleNamespace):
    """Stands in for speechgan.evaluate.EvaluationContext: only ``pairs`` is used."""

    def __init__(self, pairs: list[SimpleNamespace]) -> None:
        super().__init__(calls=[], items=pairs)

    def pairs(self, split: str = "valid", limit: int | None = None):  # type: ignore[no-untyped-def]
        self.calls.append((split, limit))
        return iter(self.items[:limit])


def _pair(ref: np.ndarray, gen: np.ndarray, pid: str) -> SimpleNamespace:
    return SimpleNamespace(
        reference=torch.from_numpy(ref).float(), generated=torch.from_numpy(gen).float(), sample_rate=SR, id=pid
    )


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    pm = get_plugin_manager(only=["speech_metrics"], strict=True)
    return pm.registry


@pytest.fixture(scope="module")
def context(speech_like) -> FakeContext:
    """Two pairs: a noisy copy, and a pitch-shifted version 0.1 s longer (non-parallel); 1 s
    or more each, DNSMOS's shortest input."""
    a = speech_like(1.0)
    noisy = a + 0.01 * np.random.default_rng(0).standard_normal(len(a))
    b = speech_like(1.0, f0=120.0)
    shifted = speech_like(1.1, f0=130.0)
    return FakeContext([_pair(a, noisy, "utt-a"), _pair(b, shifted, "utt-b")])


def test_every_speech_metric_is_registered_with_a_description(registry) -> None:  # type: ignore[no-untyped-def]
    assert registry.names("metric") == sorted(EXPECTED_KEYS)
    for name in EXPECTED_KEYS:
        component = registry.get("metric", name)
        assert component.plugin == "speech_metrics"
        assert component.description


@pytest.mark.parametrize("name", sorted(EXPECTED_KEYS))
def test_every_metric_builds_with_no_args_and_reports_its_keys(  # type: ignore[no-untyped-def]
    registry, context: FakeContext, name: str
) -> None:
    factory = registry.get("metric", name).factory
    spec = ComponentSpec(name=name)
    assert check_component_args("evaluation.metrics[0]", "metric", spec, factory, injectable=set()) == ({}, [])
    metric = registry.build("metric", name)
    result = metric(context)
    assert context.calls[-1] == ("valid", None)
    assert set(result) == {f"{k}{suffix}" for k in EXPECTED_KEYS[name] for suffix in ("", "_std", "_count")}
    for key in EXPECTED_KEYS[name]:
        assert math.isfinite(result[key]), (key, result)
        assert result[f"{key}_count"] == 2.0


def test_split_limit_and_options_are_passed_on(registry, context: FakeContext) -> None:  # type: ignore[no-untyped-def]
    metric = registry.build("metric", "stoi", split="test", limit=1, extended=True)
    result = metric(context)
    assert context.calls[-1] == ("test", 1)
    assert set(result) == {"estoi", "estoi_std", "estoi_count"}
    assert result["estoi_count"] == 1.0 and result["estoi_std"] == 0.0


def test_config_validation_of_metric_args(registry) -> None:  # type: ignore[no-untyped-def]
    spec = ComponentSpec(name="mcd", args={"f0_method": "crepe", "limit": "4"})
    factory = registry.get("metric", "mcd").factory
    values, errors = check_component_args("evaluation.metrics[0]", "metric", spec, factory, injectable=set())
    assert values == {"limit": 4}
    assert errors == ["evaluation.metrics[0].args.f0_method: Input should be 'harvest' or 'dio' (got 'crepe')"]
    with pytest.raises(ConfigError, match=r"metric 'pesq': limit must be a positive number of pairs or null, got 0"):
        registry.build("metric", "pesq", limit=0)


def test_undefined_scores_are_left_out_of_mean_and_count(registry, speech_like) -> None:  # type: ignore[no-untyped-def]
    x = speech_like(0.5)
    noisy = x + 0.05 * np.random.default_rng(1).standard_normal(len(x))
    # SI-SDR is undefined (NaN) for a silent reference: that pair is not averaged
    ctx = FakeContext([_pair(x, noisy, "fine"), _pair(np.zeros_like(x), x, "silent-reference")])
    result = registry.build("metric", "si_sdr")(ctx)
    assert result["si_sdr_db"] == pytest.approx(si_sdr(x.astype(np.float32), noisy.astype(np.float32)))
    assert (result["si_sdr_db_std"], result["si_sdr_db_count"]) == (0.0, 1.0)
    none = summarize({"v": [math.nan, math.nan]})
    assert none == pytest.approx({"v": math.nan, "v_std": math.nan, "v_count": 0.0}, nan_ok=True)


def test_an_empty_split_and_a_bad_pair_are_data_errors() -> None:
    metric = PairwiseMetric("pesq", lambda r, g, sr: {"v": 1.0}, split="valid")
    empty = r"metric 'pesq': the 'valid' split gave no \(reference, generated\) pairs; check that data.valid has items"
    with pytest.raises(DataError, match=empty):
        metric(FakeContext([]))
    stereo = SimpleNamespace(reference=torch.zeros(2, SR), generated=torch.zeros(SR), sample_rate=SR, id="utt-7")
    with pytest.raises(DataError, match=r"metric 'si_sdr', valid pair 'utt-7': ref: expected one mono waveform"):
        PairwiseMetric("si_sdr", lambda r, g, sr: {"v": si_sdr(r, g)})(FakeContext([stereo]))
