"""The FrontEnd contract for every built-in front-end: shapes, frame counts, buffers,
fingerprints, input errors."""

from __future__ import annotations

import json

import pytest
import torch

import speechgan.features.mel
import speechgan.features.mfcc
import speechgan.features.stft
import speechgan.features.waveform
import speechgan.features.world
from speechgan.errors import ConfigError, DataError
from speechgan.features import (
    MFCC,
    FrontEnd,
    LogMelSpectrogram,
    LogSTFTMagnitude,
    STFTMagnitude,
    Waveform,
    WorldFeatures,
)

T = 11025  # 0.5 s at 22.05 kHz

# (factory, kwargs, expected channels, expected frames for T samples)
CASES = {
    "waveform": (Waveform, {}, 1, T),
    "waveform_mu": (Waveform, {"mu_law": True, "quantize": True}, 1, T),
    "stft": (STFTMagnitude, {}, 513, 1 + T // 256),
    "stft_nocenter": (STFTMagnitude, {"center": False, "win_length": 800}, 513, 1 + (T - 1024) // 256),
    "log_stft": (LogSTFTMagnitude, {"power": 2.0}, 513, 1 + T // 256),
    "log_mel": (LogMelSpectrogram, {}, 80, T // 256),
    "melgan": (LogMelSpectrogram, {"fmax": None, "magnitude_eps": 0.0, "log_base": "10"}, 80, T // 256),
    "mfcc": (MFCC, {}, 13, T // 256),
    "world": (WorldFeatures, {"sample_rate": 22050, "f0_method": "dio"}, 2 + 35 + 2, 1 + T // 110),
}
SPECTRAL = ["stft", "log_stft", "log_mel", "mfcc"]


@pytest.mark.parametrize("case", list(CASES))
def test_shapes_for_single_and_batched_input(case: str, tone_22k: torch.Tensor) -> None:
    factory, kwargs, channels, frames = CASES[case]
    fe = factory(**kwargs)
    assert isinstance(fe, FrontEnd)
    single = fe(tone_22k)
    assert single.shape == (channels, frames)
    batch = torch.stack([tone_22k, 0.5 * tone_22k])
    batched = fe(batch)
    assert batched.shape == (2, channels, frames)
    assert batched.dtype == torch.float32 and torch.isfinite(batched).all()
    # the batch is processed item by item: row 0 equals the single-signal result
    torch.testing.assert_close(batched[0], single, atol=1e-5, rtol=1e-5)
    assert isinstance(fe.sample_rate, int) and isinstance(fe.hop_length, int)
    json.dumps(fe.params)  # JSON-serialisable


@pytest.mark.parametrize("case", SPECTRAL)
def test_windows_and_filterbanks_are_buffers_that_move(case: str, tone_22k: torch.Tensor) -> None:
    factory, kwargs, _, _ = CASES[case]
    fe = factory(**kwargs)
    names = {name for name, _ in fe.named_buffers()}
    expected = {"stft": {"window"}, "log_stft": {"window"}, "log_mel": {"window", "mel_basis", "mel_pinv"},
                "mfcc": {"dct", "log_mel.window", "log_mel.mel_basis", "log_mel.mel_pinv"}}[case]
    assert names == expected
    fe = fe.to(torch.float64)
    assert all(b.dtype == torch.float64 for b in fe.buffers())
    out = fe(tone_22k.double())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), factory(**kwargs)(tone_22k), atol=1e-3, rtol=1e-4)
    # derived from the parameters: not saved in checkpoints
    assert fe.state_dict() == {}


@pytest.mark.parametrize(
    "module",
    [speechgan.features.waveform, speechgan.features.stft, speechgan.features.mel,
     speechgan.features.mfcc, speechgan.features.world],
)
def test_no_module_level_cache(module: object, tone_22k: torch.Tensor) -> None:
    LogMelSpectrogram()(tone_22k)  # a forward pass must not leave state behind either
    for name, value in vars(module).items():
        if name.startswith("__"):
            continue
        assert not isinstance(value, (torch.Tensor, dict, list, set)), f"{module.__name__}.{name} is a cache"


@pytest.mark.parametrize("case", [c for c in CASES if c != "waveform_mu"])
def test_fingerprint_follows_hop_length_only_when_it_changes(case: str) -> None:
    factory, kwargs, _, _ = CASES[case]
    fe = factory(**kwargs)
    assert fe.fingerprint == factory(**kwargs).fingerprint  # stable across instances
    assert fe.fingerprint == fe.to(torch.float64).fingerprint  # and across devices/dtypes
    if case.startswith("waveform"):
        assert fe.fingerprint != factory(**kwargs, mu_law=True).fingerprint
        return
    other = factory(**{**kwargs, "hop_length": 128})
    assert other.hop_length == 128
    assert other.fingerprint != fe.fingerprint


@pytest.mark.parametrize("case", ["stft", "log_mel", "mfcc"])
def test_griffin_lim_settings_do_not_change_the_fingerprint(case: str) -> None:
    factory, kwargs, _, _ = CASES[case]
    assert factory(**kwargs, n_iter=5).fingerprint == factory(**kwargs).fingerprint


def test_mfcc_defaults_match_log_mel_defaults() -> None:
    assert MFCC().params == {"n_mfcc": 13, **LogMelSpectrogram().params}


@pytest.mark.parametrize("samples", [6159, 6160, 6161])
def test_world_frame_count_is_exact_at_multiples_of_the_hop(samples: int) -> None:
    # plain pyworld gives 56 frames, not 57, for 6160 = 56 * 110 samples at 22.05 kHz and a
    # 110-sample (4.988... ms) period: its float division lands just below 56
    fe = WorldFeatures(sample_rate=22050, f0_method="dio")
    wave = 0.1 * torch.randn(samples, generator=torch.Generator().manual_seed(0))
    assert fe(wave).shape[-1] == 1 + samples // 110


def test_world_layout_and_defaults() -> None:
    fe = WorldFeatures()
    assert (fe.sample_rate, fe.hop_length, fe.frame_period, fe.order) == (16000, 80, 5.0, 24)
    assert fe.alpha == pytest.approx(0.41)
    assert fe.n_channels == 2 + 25 + 1
    wide = WorldFeatures(sample_rate=22050)
    assert (wide.hop_length, wide.order, wide.alpha, wide.n_channels) == (110, 34, pytest.approx(0.455), 39)
    parts = fe.split(torch.zeros(3, fe.n_channels, 7))
    assert [p.shape[1] for p in parts] == [1, 1, 25, 1]
    with pytest.raises(DataError, match="expected 28 channels"):
        fe.split(torch.zeros(27, 7))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (torch.zeros(2, 1, 4000), r"expected a waveform of shape \(T,\) or \(B, T\), got \(2, 1, 4000\)"),
        (torch.zeros(4000, dtype=torch.int16), "expected a float tensor, got dtype torch.int16"),
        (torch.zeros(300), "a signal of 300 samples is too short for n_fft=1024 with padding 384\\+384; give at least 385 samples"),
    ],
)
def test_bad_input_is_a_data_error(bad: torch.Tensor, message: str) -> None:
    with pytest.raises(DataError, match=message):
        LogMelSpectrogram()(bad)


def test_inverse_checks_feature_rank() -> None:
    with pytest.raises(DataError, match=r"expected features of shape \(C, N\) or \(B, C, N\), got \(80,\)"):
        LogMelSpectrogram().inverse(torch.zeros(80))


@pytest.mark.parametrize(
    ("factory", "kwargs", "message"),
    [
        (LogMelSpectrogram, {"fmax": 12000.0}, "need 0 <= fmin < fmax <= sample_rate / 2 = 11025.0"),
        (STFTMagnitude, {"win_length": 2048}, r"win_length \(2048\) must not exceed n_fft \(1024\)"),
        (MFCC, {"n_mfcc": 81}, r"need 0 < n_mfcc <= n_mels \(80\)"),
        (Waveform, {"quantize": True}, "quantize=True needs mu_law=True"),
    ],
)
def test_bad_arguments_are_config_errors(factory: type, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        factory(**kwargs)


@pytest.mark.parametrize("case", SPECTRAL)
def test_spectral_front_ends_are_differentiable_even_on_silence(case: str, tone_22k: torch.Tensor) -> None:
    factory, kwargs, _, _ = CASES[case]
    wave = torch.cat([torch.zeros(4096), tone_22k]).requires_grad_()
    factory(**kwargs)(wave).mean().backward()
    assert wave.grad is not None and torch.isfinite(wave.grad).all() and wave.grad.abs().sum() > 0
