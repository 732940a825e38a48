"""Segmental SNR, LLR, WSS and CSIG/CBAK/COVL against an independent implementation and closed forms.

The reference numbers below were computed once with pysepm-evo 0.1.1 (PyPI; a port of
Loizou's MATLAB code), installed apart from the project:
``pip install --no-deps --target /tmp/indep pysepm-evo==0.1.1``, imported with
``scipy.signal.kaiser = scipy.signal.windows.kaiser`` and a stub ``srmrpy`` module in
``sys.modules`` (it needs both only for measures not used here), on the signals that
``_case`` builds:

    pysepm_evo.SNRseg(clean, degraded, fs)                          -> ssnr
    pysepm_evo.llr(clean, degraded, fs)                             -> llr, limited to 2 per frame
    pysepm_evo.llr(clean, degraded, fs, used_for_composite=True)    -> llr, unlimited
    pysepm_evo.wss(clean, degraded, fs)                             -> wss

Its ``composite`` does not run (it reads an undefined PESQ variable), so CSIG, CBAK and
COVL were computed by hand from those values and ``pesq.pesq(16000, clean, degraded, "wb")``
(pesq 0.0.4) with Hu & Loizou's (2008) formulas, each clipped to [1, 5].
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from speechgan.config import check_component_args
from speechgan.errors import DataError
from speechgan.metrics import composite, composite_scores, llr, segmental_snr, wss
from speechgan.metrics.enhancement import _autocorrelation, _levinson_durbin, lpc_order
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec


def _voiced(seconds: float, sample_rate: int, f0: float = 130.0) -> np.ndarray:
    """A vowel-like signal: harmonics of a gliding F0 under formants at 600, 1200 and 2500 Hz,
    syllabic amplitude modulation that never reaches zero (no digital silence), peak 0.5."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    f0_t = f0 * (1 + 0.05 * np.sin(2 * np.pi * 1.1 * t))  # (T,)
    phase = 2 * np.pi * np.cumsum(f0_t) / sample_rate
    x = np.zeros_like(t)
    for k in range(1, int(0.45 * sample_rate / f0)):
        x += sum(1 / (1 + ((k * f0 - f) / (0.1 * f + 50)) ** 2) for f in (600.0, 1200.0, 2500.0)) * np.sin(k * phase)
    x *= 0.2 + 0.8 * np.abs(np.sin(np.pi * 3 * t))
    return 0.5 * x / np.abs(x).max()


def _white_noise_at(clean: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    n = np.random.default_rng(seed).standard_normal(len(clean))
    return n * np.sqrt(np.sum(clean**2) / np.sum(n**2) / 10 ** (snr_db / 10))


def _case(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(clean, degraded, sample rate) of one reference case, 1 s each."""
    sr = 8000 if name.endswith("8k") else 16000
    clean = _voiced(1.0, sr)
    if name.startswith("lowpass"):
        return clean, lfilter([0.5, 0.5], [1.0], clean) + _white_noise_at(clean, 20.0, 2), sr
    snr, seed = (5.0, 1) if name.startswith("noisy_5db") else (15.0, 3)
    return clean, clean + _white_noise_at(clean, snr, seed), sr


#: case -> (ssnr, llr limited to 2, llr unlimited, wss) from pysepm-evo 0.1.1
PYSEPM = {
    "noisy_5db_16k": (4.105796, 1.999909, 2.770421, 41.028795),
    "noisy_15db_16k": (14.106377, 1.621163, 1.680546, 15.516311),
    "lowpass_20db_16k": (8.479769, 1.307457, 1.312993, 9.414242),
    "noisy_5db_8k": (4.108477, 0.672163, 0.672163, 78.797091),  # LPC order 10 below 10 kHz
}
#: case -> (pesq, csig, cbak, covl): pesq 0.0.4 and the formulas applied to PYSEPM's values
COMPOSITE = {
    "noisy_5db_16k": (1.197255, 1.0, 2.177752, 1.0),
    "noisy_15db_16k": (1.86633, 2.349469, 3.306193, 2.127342),
    "lowpass_20db_16k": (2.342311, 3.069615, 3.221951, 2.741408),
}


# -- against the independent implementation ------------------------------------------------


@pytest.mark.parametrize("name", sorted(PYSEPM))
def test_ssnr_llr_and_wss_match_pysepm(name: str) -> None:
    clean, degraded, sr = _case(name)
    ssnr, llr_limited, llr_free, wss_ref = PYSEPM[name]
    assert segmental_snr(clean, degraded, sr) == pytest.approx(ssnr, abs=2e-6)
    assert llr(clean, degraded, sr) == pytest.approx(llr_limited, abs=2e-6)
    assert llr(clean, degraded, sr, clip=None) == pytest.approx(llr_free, abs=2e-6)
    assert wss(clean, degraded, sr) == pytest.approx(wss_ref, abs=2e-6)


@pytest.mark.parametrize("name", sorted(COMPOSITE))
def test_composite_matches_the_formulas_applied_to_pysepm_and_pesq(name: str) -> None:
    clean, degraded, sr = _case(name)
    scores = composite(clean, degraded, sr)
    assert set(scores) == {"csig", "cbak", "covl", "pesq", "ssnr", "llr", "wss"}
    ssnr, _, llr_free, wss_ref = PYSEPM[name]
    pesq, csig, cbak, covl = COMPOSITE[name]
    expected = dict(pesq=pesq, csig=csig, cbak=cbak, covl=covl, ssnr=ssnr, llr=llr_free, wss=wss_ref)
    assert scores == pytest.approx(expected, abs=2e-5)


# -- closed forms --------------------------------------------------------------------------


@pytest.mark.parametrize(("snr_db", "expected"), [(-5.0, -5.0), (0.0, 0.0), (12.5, 12.5), (30.0, 30.0), (50.0, 35.0)])
def test_ssnr_of_a_scaled_copy_is_its_snr_in_every_frame(snr_db: float, expected: float) -> None:
    """enhanced - clean = -g clean, so every frame's SNR is -20 log10(g), within [-10, 35]."""
    clean = _voiced(0.5, 16000)
    enhanced = clean * (1 - 10 ** (-snr_db / 20))
    assert segmental_snr(clean, enhanced, 16000) == pytest.approx(expected, abs=1e-6)


def test_ssnr_floors_a_huge_error_at_minus_10_db() -> None:
    clean = _voiced(0.5, 16000)
    assert segmental_snr(clean, 101 * clean, 16000) == pytest.approx(-10.0, abs=1e-9)


def test_ssnr_counts_silent_reference_frames_at_minus_10_and_drops_the_last_frame() -> None:
    """16,000 samples: (16000 - 480) // 120 = 129 frames of 480, hop 120. Frames 0..62 lie in
    the leading 8,000 zeros (-10 dB, even for an exact copy); the other 66 score 35 dB."""
    clean = np.concatenate([np.zeros(8000), _voiced(0.5, 16000)])
    assert segmental_snr(clean, clean, 16000) == pytest.approx((-10 * 63 + 35 * 66) / 129, abs=1e-9)


def test_llr_and_wss_are_zero_for_identical_signals_and_ignore_gain() -> None:
    clean, degraded, sr = _case("noisy_15db_16k")
    assert llr(clean, clean, sr) == pytest.approx(0.0, abs=1e-12)
    assert wss(clean, clean, sr) == pytest.approx(0.0, abs=1e-12)
    # LPC models and spectral slopes do not see the level of the processed signal
    assert llr(clean, 2.5 * degraded, sr) == pytest.approx(llr(clean, degraded, sr), abs=1e-9)
    assert wss(clean, 0.1 * degraded, sr) == pytest.approx(wss(clean, degraded, sr), abs=1e-9)


def test_llr_limit_and_lpc_order() -> None:
    clean, degraded, sr = _case("noisy_5db_16k")
    assert lpc_order(8000) == 10 and lpc_order(16000) == 16 and lpc_order(10000) == 16
    assert llr(clean, degraded, sr, clip=None) > llr(clean, degraded, sr) > 1.9  # most frames hit the limit
    assert llr(clean, degraded, sr, order=10) != pytest.approx(llr(clean, degraded, sr), abs=1e-3)


def test_levinson_durbin_solves_the_normal_equations() -> None:
    """Checked against scipy's Toeplitz solver: a = R[:P]^-1 r[1:], A = [1, -a]."""
    frames = np.random.default_rng(0).standard_normal((5, 480)) * np.hanning(480)  # (F, L)
    frames[:, 1:] += 0.8 * frames[:, :-1]  # some correlation
    r = _autocorrelation(frames, 16)  # (F, 17)
    assert r[:, 0] == pytest.approx(np.sum(frames**2, axis=1))
    for row, a in zip(r, _levinson_durbin(r)):
        assert a == pytest.approx(np.concatenate([[1.0], -solve_toeplitz(row[:16], row[1:])]), abs=1e-10)


def test_composite_scores_apply_hu_and_loizou_formulas_and_clip_to_1_5() -> None:
    scores = composite_scores(pesq=3.0, llr=0.5, wss=30.0, ssnr=8.0)
    # 3.093 - 0.5145 + 1.809 - 0.27; 1.634 + 1.434 - 0.21 + 0.504; 1.594 + 2.415 - 0.256 - 0.21
    assert scores == pytest.approx({"csig": 4.1175, "cbak": 3.362, "covl": 3.543}, abs=1e-12)
    assert composite_scores(pesq=4.64, llr=0.0, wss=0.0, ssnr=35.0) == {"csig": 5.0, "cbak": 5.0, "covl": 5.0}
    assert composite_scores(pesq=1.0, llr=2.0, wss=100.0, ssnr=-10.0) == {"csig": 1.0, "cbak": 1.0, "covl": 1.0}
    assert all(math.isnan(v) for v in composite_scores(pesq=math.nan, llr=0.1, wss=5.0, ssnr=20.0).values())


def test_composite_of_identical_speech_is_the_top_of_every_scale() -> None:
    clean = _voiced(1.0, 16000)
    scores = composite(clean, clean, 16000)
    assert scores["llr"] == pytest.approx(0.0, abs=1e-12) and scores["wss"] == pytest.approx(0.0, abs=1e-12)
    assert scores["ssnr"] == pytest.approx(35.0) and scores["pesq"] == pytest.approx(4.644, abs=0.01)
    assert (scores["csig"], scores["cbak"], scores["covl"]) == (5.0, 5.0, 5.0)


# -- inputs --------------------------------------------------------------------------------


def test_tensors_and_unequal_lengths_are_accepted() -> None:
    clean, degraded, sr = _case("lowpass_20db_16k")
    longer = np.concatenate([degraded, np.ones(700)])
    assert segmental_snr(torch.from_numpy(clean), torch.from_numpy(longer)[None], sr) == pytest.approx(
        segmental_snr(clean, degraded, sr), abs=1e-12
    )
    assert wss(clean, longer, sr) == pytest.approx(wss(clean, degraded, sr), abs=1e-12)


def test_bad_inputs_are_data_errors_that_say_what_to_do() -> None:
    with pytest.raises(DataError, match=r"too short \(500 samples at 16000 Hz\); they need at least 600 samples"):
        segmental_snr(np.ones(500), np.ones(500), 16000)
    with pytest.raises(DataError, match="enhanced: expected one mono waveform"):
        wss(np.ones(2000), np.ones((2, 2000)), 16000)
    with pytest.raises(DataError, match="sample_rate must be a positive integer"):
        llr(np.ones(2000), np.ones(2000), 0)
    with pytest.raises(DataError, match="llr: order must be a positive integer, got 0"):
        llr(np.ones(2000), np.ones(2000), 16000, order=0)


# -- the registered components -------------------------------------------------------------


class _Context(SimpleNamespace):
    def pairs(self, split: str = "valid", limit: int | None = None):  # type: ignore[no-untyped-def]
        return iter(self.items[:limit])


#: registered name -> {key: (reference of noisy_15db_16k, of lowpass_20db_16k)}
REGISTERED = {
    "ssnr": {"ssnr_db": (PYSEPM["noisy_15db_16k"][0], PYSEPM["lowpass_20db_16k"][0])},
    "composite": {
        key: (COMPOSITE["noisy_15db_16k"][i], COMPOSITE["lowpass_20db_16k"][i])
        for i, key in enumerate(("csig", "cbak", "covl"), start=1)
    },
}


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_ssnr_and_composite_are_registered_metrics_averaging_pairs(name: str) -> None:
    registry = get_plugin_manager(only=["speech_metrics"], strict=True).registry
    component = registry.get("metric", name)
    assert component.plugin == "speech_metrics" and component.description
    spec = ComponentSpec(name=name)
    args = check_component_args("evaluation.metrics[0]", "metric", spec, component.factory, injectable=set())
    assert args == ({}, [])
    pairs = []
    for case in ("noisy_15db_16k", "lowpass_20db_16k"):
        clean, degraded, sr = _case(case)
        ref, gen = torch.from_numpy(clean).float(), torch.from_numpy(degraded).float()
        pairs.append(SimpleNamespace(reference=ref, generated=gen, sample_rate=sr, id=case))
    result = registry.build("metric", name)(_Context(items=pairs))
    assert set(result) == {f"{k}{s}" for k in REGISTERED[name] for s in ("", "_std", "_count")}
    for key, per_pair in REGISTERED[name].items():
        assert result[key] == pytest.approx(np.mean(per_pair), abs=2e-3)  # the pairs are float32
        assert result[f"{key}_std"] == pytest.approx(np.std(per_pair), abs=2e-3)
        assert result[f"{key}_count"] == 2.0
