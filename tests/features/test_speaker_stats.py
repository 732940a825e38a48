"""Per-speaker statistics, the log-Gaussian F0 transform and the statistics baseline:
closed-form values on synthetic WORLD tensors, then WORLD itself on a 150 Hz tone."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch

from speechgan.errors import DataError
from speechgan.features import (
    SpeakerStats,
    WorldFeatures,
    accumulate_stats,
    convert_log_f0,
    denormalize_mcep,
    normalize_mcep,
    statistics_baseline,
)
from speechgan.features.speaker_stats import STD_FLOOR

FE = WorldFeatures(sample_rate=16000, order=4)  # 2 + 5 + 1 = 8 channels
D = FE.order + 1


def world_like(frames: int, seed: int, *, f0: float = 120.0, voiced_rate: float = 0.6) -> torch.Tensor:
    """Synthetic float64 WORLD features (8, frames) in the front-end's layout: log F0 around
    log(f0) where voiced and 0 elsewhere, mel-cepstra with per-coefficient offsets (c0 at
    -1000 with spread 0.01, where sum-of-squares variance would lose every digit)."""
    g = torch.Generator().manual_seed(seed)
    voiced = (torch.rand(frames, generator=g, dtype=torch.float64) < voiced_rate).double()
    log_f0 = (math.log(f0) + 0.1 * torch.randn(frames, generator=g, dtype=torch.float64)) * voiced
    offsets = torch.tensor([-1000.0, 1.0, -0.5, 0.2, 0.0], dtype=torch.float64)[:, None]
    spread = torch.tensor([0.01, 0.5, 0.3, 0.2, 0.1], dtype=torch.float64)[:, None]
    mcep = offsets + spread * torch.randn(D, frames, generator=g, dtype=torch.float64)
    coded_ap = -20 * torch.rand(1, frames, generator=g, dtype=torch.float64)
    return torch.cat([log_f0[None], voiced[None], mcep, coded_ap])


def make_stats(
    speaker: str = "alice", *, mean: float = 0.0, std: float = 1.0, f0: float = 100.0, f0_std: float = 0.1
) -> SpeakerStats:
    return SpeakerStats(
        speaker=speaker, frames=10, voiced_frames=6,
        mcep_mean=mean + np.arange(D, dtype=np.float64), mcep_std=std * np.linspace(0.5, 1.5, D),
        log_f0_mean=math.log(f0), log_f0_std=f0_std,
    )  # fmt: skip


# ---------------------------------------------------------------- statistics


def test_stats_are_numpys_mean_and_std_mcep_over_all_frames_log_f0_over_voiced() -> None:
    utterances = [world_like(n, seed) for seed, n in enumerate([40, 1, 73])]
    stats = accumulate_stats(iter(utterances), FE, speaker="alice")

    every = torch.cat(utterances, dim=1).numpy()  # (8, 114)
    mcep, voiced = every[2 : 2 + D], every[1] > 0.5
    assert stats.speaker == "alice"
    assert (stats.frames, stats.voiced_frames) == (114, int(voiced.sum()))
    assert 0 < stats.voiced_frames < stats.frames  # the data has both kinds of frame
    assert stats.mcep_mean.dtype == stats.mcep_std.dtype == np.float64 and stats.mcep_mean.shape == (D,)
    np.testing.assert_allclose(stats.mcep_mean, mcep.mean(axis=1), rtol=1e-13)
    np.testing.assert_allclose(stats.mcep_std, mcep.std(axis=1), rtol=1e-9)  # ddof = 0, as np.std
    log_f0 = every[0][voiced]
    assert stats.log_f0_mean == pytest.approx(log_f0.mean(), rel=1e-13)
    assert stats.log_f0_std == pytest.approx(log_f0.std(), rel=1e-10)
    # the reference implementations' voiced-only statistic: np.ma.log masks F0 = 0
    f0 = np.where(voiced, np.exp(every[0]), 0.0)
    assert stats.log_f0_mean == pytest.approx(float(np.ma.log(f0).mean()), rel=1e-12)

    # float32 features give the same statistics to float32 precision, still float64
    single = accumulate_stats([u.float() for u in utterances], FE, speaker="alice")
    assert single.mcep_mean.dtype == np.float64
    np.testing.assert_allclose(single.mcep_mean, stats.mcep_mean, rtol=1e-6)
    np.testing.assert_allclose(single.mcep_std[1:], stats.mcep_std[1:], rtol=1e-5)


def test_one_pass_over_chunks_equals_all_at_once() -> None:
    whole = world_like(200, seed=7)
    at_once = accumulate_stats([whole], FE, speaker="bob")
    chunks = (whole[:, a:b] for a, b in [(0, 1), (1, 60), (60, 60), (60, 199), (199, 200)])  # one empty
    chunked = accumulate_stats(chunks, FE, speaker="bob")
    assert chunked.frames == at_once.frames == 200 and chunked.voiced_frames == at_once.voiced_frames
    np.testing.assert_allclose(chunked.mcep_mean, at_once.mcep_mean, rtol=1e-14)
    np.testing.assert_allclose(chunked.mcep_std, at_once.mcep_std, rtol=1e-10)
    assert chunked.log_f0_mean == pytest.approx(at_once.log_f0_mean, rel=1e-14)
    assert chunked.log_f0_std == pytest.approx(at_once.log_f0_std, rel=1e-11)


def test_std_floor_replaces_zero_spread() -> None:
    features = world_like(5, seed=1)
    features[2 + 3] = 0.25  # a constant coefficient
    features[1] = torch.tensor([0.0, 1.0, 0.0, 0.0, 0.0])  # one voiced frame
    features[0] = features[1] * math.log(200.0)
    stats = accumulate_stats([features], FE, speaker="carol")
    assert stats.voiced_frames == 1
    assert stats.mcep_std[3] == STD_FLOOR and stats.mcep_mean[3] == 0.25
    assert stats.log_f0_std == STD_FLOOR and stats.log_f0_mean == pytest.approx(math.log(200.0), rel=1e-15)
    normalized = normalize_mcep(features[2 : 2 + D], stats)
    assert torch.equal(normalized[3], torch.zeros(5, dtype=torch.float64))  # 0, not nan


# ---------------------------------------------------------------- transforms


def test_normalized_training_features_have_zero_mean_unit_std_and_round_trip() -> None:
    utterances = [world_like(n, seed) for seed, n in enumerate([50, 30])]
    stats = accumulate_stats(utterances, FE, speaker="alice")
    mcep = torch.cat([FE.split(u).mcep for u in utterances], dim=1)  # (D, 80)
    normalized = normalize_mcep(mcep, stats)
    torch.testing.assert_close(normalized.mean(dim=1), torch.zeros(D, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(normalized.std(dim=1, correction=0), torch.ones(D, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(denormalize_mcep(normalized, stats), mcep, atol=1e-11, rtol=1e-13)

    batch = torch.stack([mcep, 2 * mcep]).float()  # (B, D, N), float32
    out = normalize_mcep(batch, stats)
    assert out.shape == batch.shape and out.dtype == torch.float32
    torch.testing.assert_close(out[1], normalize_mcep(2 * mcep, stats).float())
    torch.testing.assert_close(denormalize_mcep(out, stats), batch, rtol=1e-5, atol=1e-3)


def test_convert_log_f0_maps_mean_to_mean_and_scales_deviations() -> None:
    source, target = make_stats("src", f0=100.0, f0_std=0.1), make_stats("tgt", f0=200.0, f0_std=0.25)
    k = torch.tensor([-2.0, -1.0, 0.0, 0.5, 3.0, 1.0], dtype=torch.float64)
    voiced = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 0.0], dtype=torch.float64)
    log_f0 = (math.log(100.0) + 0.1 * k) * voiced  # (6,), 0 where unvoiced
    converted = convert_log_f0(log_f0[None], voiced[None], source, target)[0]
    # k source standard deviations from the source mean -> k target ones from the target mean
    torch.testing.assert_close(converted[:5], math.log(200.0) + 0.25 * k[:5], atol=1e-14, rtol=0)
    assert converted[2].exp().item() == pytest.approx(200.0, rel=1e-14)  # F0 at the mean: 100 Hz -> 200 Hz
    assert converted[5].item() == 0.0  # unvoiced stays 0
    # the transform of F0 itself: exp((log f0 - mu_s) / sigma_s * sigma_t + mu_t)
    f0 = torch.tensor([80.0, 100.0, 130.0], dtype=torch.float64)
    expected = torch.exp((f0.log() - math.log(100.0)) / 0.1 * 0.25 + math.log(200.0))
    torch.testing.assert_close(convert_log_f0(f0.log(), torch.ones(3), source, target).exp(), expected)


def test_statistics_baseline_with_source_as_target_is_the_identity() -> None:
    features = world_like(64, seed=3)
    stats = accumulate_stats([features], FE, speaker="alice")
    same = statistics_baseline(features, stats, stats, FE)
    assert same.shape == features.shape and same.dtype == features.dtype
    torch.testing.assert_close(same, features, atol=1e-11, rtol=1e-13)
    assert torch.equal(same[0][features[1] == 0], torch.zeros(int((features[1] == 0).sum()), dtype=torch.float64))
    assert torch.equal(same[1], features[1]) and torch.equal(same[-1], features[-1])  # copied
    batch = torch.stack([features, world_like(64, seed=4)])  # (2, 8, 64)
    torch.testing.assert_close(statistics_baseline(batch, stats, stats, FE), batch, atol=1e-11, rtol=1e-13)


def test_statistics_baseline_gives_the_source_the_target_statistics() -> None:
    source_features = [world_like(n, seed) for seed, n in enumerate([90, 40])]
    source = accumulate_stats(source_features, FE, speaker="alice")
    target = make_stats("bob", mean=3.0, std=2.0, f0=220.0, f0_std=0.3)
    converted = [statistics_baseline(u, source, target, FE) for u in source_features]
    for before, after in zip(source_features, converted):
        assert torch.equal(after[1], before[1]) and torch.equal(after[-1], before[-1])  # voicing, aperiodicity
    # per-coefficient mean and variance matching: the converted features have bob's statistics
    stats = accumulate_stats(converted, FE, speaker="alice as bob")
    np.testing.assert_allclose(stats.mcep_mean, target.mcep_mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(stats.mcep_std, target.mcep_std, rtol=1e-6)
    assert stats.log_f0_mean == pytest.approx(math.log(220.0), rel=1e-13)
    assert stats.log_f0_std == pytest.approx(0.3, rel=1e-12)


# ---------------------------------------------------------------- JSON


def test_json_round_trip_is_exact_and_stats_are_immutable() -> None:
    stats = accumulate_stats([world_like(33, seed=5)], FE, speaker="alice")
    back = SpeakerStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert (back.speaker, back.frames, back.voiced_frames) == (stats.speaker, stats.frames, stats.voiced_frames)
    assert np.array_equal(back.mcep_mean, stats.mcep_mean) and np.array_equal(back.mcep_std, stats.mcep_std)
    assert (back.log_f0_mean, back.log_f0_std) == (stats.log_f0_mean, stats.log_f0_std)
    assert back.to_dict() == stats.to_dict()
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.log_f0_mean = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        stats.mcep_mean[0] = 0.0


# ---------------------------------------------------------------- errors


def _with(**changes: object) -> dict:
    data = make_stats().to_dict()
    data.update(changes)
    return data


A = "speaker statistics for 'alice'"
KEYS = "['speaker', 'frames', 'voiced_frames', 'mcep_mean', 'mcep_std', 'log_f0_mean', 'log_f0_std']"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({k: v for k, v in _with().items() if k != "mcep_std"},
         f"speaker statistics: missing key 'mcep_std' (expected keys {KEYS})"),
        ([1, 2], f"speaker statistics: expected a mapping with keys {KEYS}, got list"),
        (_with(speaker=""), "speaker statistics: 'speaker' must be a non-empty string, got ''"),
        (_with(frames=10.0), f"{A}: 'frames' must be an integer, got 10.0"),
        (_with(voiced_frames=True), f"{A}: 'voiced_frames' must be an integer, got True"),
        (_with(log_f0_std="0.1"), f"{A}: 'log_f0_std' must be a number, got '0.1'"),
        (_with(mcep_mean=[0.0, "x"]), f"{A}: 'mcep_mean' must be a list of numbers, got [0.0, 'x']"),
        (_with(mcep_std=[1.0] * 3), f"{A}: 'mcep_std' has 3 values but 'mcep_mean' has 5"),
        (_with(mcep_std=[1.0, 0.0, 1.0, 1.0, 1.0]), f"{A}: 'mcep_std' must be positive, got minimum 0.0"),
        (_with(mcep_mean=[]), f"{A}: 'mcep_mean' must be a non-empty list of finite numbers, got shape (0,)"),
        (_with(log_f0_mean=float("nan")), f"{A}: 'log_f0_mean' must be finite, got nan"),
        (_with(log_f0_std=0.0), f"{A}: 'log_f0_std' must be positive and finite, got 0.0"),
        (_with(voiced_frames=11), f"{A}: need 0 < 'voiced_frames' <= 'frames', got 11 and 10"),
    ],
)  # fmt: skip
def test_from_dict_names_the_missing_or_bad_key(data: object, message: str) -> None:
    with pytest.raises(DataError) as error:
        SpeakerStats.from_dict(data)  # type: ignore[arg-type]
    assert str(error.value) == message


def test_accumulate_errors_name_the_speaker_and_utterance() -> None:
    unvoiced = world_like(12, seed=2, voiced_rate=0.0)
    with pytest.raises(DataError) as error:
        accumulate_stats([unvoiced, unvoiced], FE, speaker="whisper")
    assert str(error.value) == (
        "speaker 'whisper': no voiced frame in 24 frames, so no log-F0 statistics; "
        "check the audio and the front-end's f0_floor / f0_ceil"
    )
    with pytest.raises(DataError) as error:
        accumulate_stats([], FE, speaker="nobody")
    assert str(error.value) == "speaker 'nobody': no frames to compute statistics from (0 utterances)"
    with pytest.raises(DataError) as error:
        accumulate_stats([world_like(12, seed=0), world_like(12, seed=0)[None]], FE, speaker="alice")
    assert str(error.value) == "speaker 'alice', utterance 1: expected WORLD features (C, N) of one utterance, got (1, 8, 12)"
    with pytest.raises(DataError) as error:
        accumulate_stats([world_like(12, seed=0)[:7]], FE, speaker="alice")
    assert str(error.value) == (
        "speaker 'alice', utterance 0: front-end WorldFeatures: expected 8 channels (order 4, 1 aperiodicity bands), got 7"
    )
    broken = world_like(12, seed=0)
    broken[3, 5] = float("nan")
    with pytest.raises(DataError) as error:
        accumulate_stats([broken], FE, speaker="alice")
    assert str(error.value) == "speaker 'alice', utterance 0: non-finite mel-cepstrum or voiced log-F0 values"
    with pytest.raises(DataError) as error:
        normalize_mcep(torch.zeros(D + 1, 3), make_stats())
    assert str(error.value) == (
        f"{A}: expected a mel-cepstrum (D, N) or (B, D, N) with D = 5, got shape (6, 3)"
    )


# ---------------------------------------------------------------- real WORLD features


def test_world_log_f0_statistics_of_a_150_hz_tone_and_baseline_resynthesis(tone_16k: torch.Tensor) -> None:
    """0.5 s of the conftest tone (150 Hz, 5 Hz vibrato of +-3 %), Harvest at 16 kHz, 5 ms.

    The mean of log F0 over the 101 frames is log(150) up to WORLD's accuracy and the
    vibrato's own mean over 2.5 cycles (true F0 at the frame times: 150.5 Hz; measured 150.3
    Hz): 1 % tolerance. Its standard deviation is the vibrato's, computed from the tone's
    instantaneous F0 at the frame times (0.0208; measured 0.0239, Harvest's edge frames).
    """
    fe = WorldFeatures()  # 16 kHz, Harvest, order 24
    wave = tone_16k[:8000]
    features = fe(wave)  # (28, 101) float32
    stats = accumulate_stats([features], fe, speaker="tone")
    assert stats.frames == 101 and stats.voiced_frames >= 95
    assert math.exp(stats.log_f0_mean) == pytest.approx(150.0, rel=0.01)
    t = np.arange(101) * 0.005
    true_log_f0 = np.log(150.0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t)))
    assert stats.log_f0_std == pytest.approx(true_log_f0.std(), rel=0.25)

    # the baseline to a 300 Hz speaker with the same spread, synthesised by WORLD and analysed again
    target = dataclasses.replace(stats, speaker="high", log_f0_mean=math.log(300.0))
    converted = statistics_baseline(features, stats, target, fe)
    assert converted.shape == features.shape and converted.dtype == features.dtype
    again = accumulate_stats([fe(fe.inverse(converted, length=wave.numel()))], fe, speaker="high")
    assert math.exp(again.log_f0_mean) == pytest.approx(300.0, rel=0.01)
