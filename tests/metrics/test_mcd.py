"""Mel-cepstral distortion: the formula by hand, DTW, voicing masks and WORLD analysis."""

from __future__ import annotations

import math

import numpy as np
import pysptk
import pytest
import torch

from speechgan.errors import DataError
from speechgan.metrics import mcd_from_mcep, mel_cepstral_distortion, world_features

SR = 16000
DB = 10.0 / math.log(10.0)


def test_formula_against_a_hand_computation_without_dtw() -> None:
    ref = np.array([[1.0, 0.0, 0.0, 0.0], [5.0, 1.0, 1.0, 1.0], [0.0, 0.5, 0.0, 0.0]])
    gen = np.array([[9.0, 0.0, 0.0, 0.0], [2.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # frame 0: only c0 differs -> 0; frame 1: sum d^2 = 1; frame 2: sum d^2 = 0.25
    expected = (0.0 + DB * math.sqrt(2 * 1.0) + DB * math.sqrt(2 * 0.25)) / 3
    assert expected == pytest.approx(3.0709257, abs=1e-7)
    assert mcd_from_mcep(ref, gen, dtw=False) == pytest.approx(expected, rel=1e-12)


def test_c0_is_excluded() -> None:
    ref = np.random.default_rng(0).normal(size=(8, 5))
    gen = ref.copy()
    gen[:, 0] += 3.0
    assert mcd_from_mcep(ref, gen) == 0.0
    assert mcd_from_mcep(ref, gen, dtw=False) == 0.0


def test_dtw_absorbs_a_time_stretch_and_plain_pairing_does_not() -> None:
    ref = np.random.default_rng(1).normal(size=(10, 25))
    gen = np.repeat(ref, 2, axis=0)  # every frame twice
    assert mcd_from_mcep(ref, gen, dtw=True) == 0.0
    assert mcd_from_mcep(ref, gen, dtw=False) > 5.0  # frames t and t paired, cut to 10


def test_voicing_masks_drop_pairs_unvoiced_in_both() -> None:
    ref = np.zeros((4, 3))
    gen = np.zeros((4, 3))
    gen[2, 1] = 1.0  # the only difference sits in frame 2
    voiced_ref = np.array([True, True, False, False])
    voiced_gen = np.array([False, True, False, True])  # frame 2 unvoiced in both
    assert mcd_from_mcep(ref, gen, dtw=False) == pytest.approx(DB * math.sqrt(2) / 4)
    assert mcd_from_mcep(ref, gen, dtw=False, ref_voiced=voiced_ref, gen_voiced=voiced_gen) == 0.0
    none = np.zeros(4, dtype=bool)
    assert math.isnan(mcd_from_mcep(ref, gen, dtw=False, ref_voiced=none, gen_voiced=none))
    with pytest.raises(ValueError, match="give both ref_voiced and gen_voiced, or neither"):
        mcd_from_mcep(ref, gen, ref_voiced=voiced_ref)


def test_world_features_shape_and_mcep_settings(speech_like) -> None:
    x = speech_like(0.5)
    feats = world_features(x, SR, f0_method="dio")
    frames = len(x) // (SR * 5 // 1000) + 1  # one frame per 5 ms, both ends included
    assert feats.mcep.shape == (frames, 25)  # order 24: c0..c24
    assert feats.f0.shape == (frames,)
    assert feats.voiced.mean() > 0.8
    # the default all-pass constant is SPTK's for 16 kHz, 0.41: same as passing it
    explicit = world_features(x, SR, f0_method="dio", alpha=pysptk.util.mcepalpha(SR))
    np.testing.assert_array_equal(feats.mcep, explicit.mcep)
    assert pysptk.util.mcepalpha(SR) == pytest.approx(0.41)


def test_identical_waveforms_give_zero(speech_like) -> None:
    x = speech_like(0.5)
    assert mel_cepstral_distortion(x, x, SR) == 0.0  # Harvest, the default
    t = torch.from_numpy(x).float()
    assert mel_cepstral_distortion(t, t, SR, f0_method="dio") == 0.0


def test_a_delayed_copy_is_about_zero_after_dtw(speech_like) -> None:
    x = speech_like(0.6)
    ref = np.concatenate([np.zeros(SR // 10), x])  # 100 ms of silence, then speech
    gen = np.concatenate([np.zeros(SR // 10 + SR // 20), x])  # the same, 50 ms later
    # Measured (DIO): 0.090 dB with DTW, 0.0003 dB dropping unvoiced pairs, 2.3 dB without
    # DTW. What remains with DTW is the 10 extra silent frames of gen, all paired with the
    # last silent frame of ref: WORLD's infinitesimal noise makes silent frames differ by
    # about 1.35 dB each, 10 x 1.35 / 151 path pairs = 0.09 dB.
    assert mel_cepstral_distortion(ref, gen, SR, f0_method="dio") < 0.15
    r, g = world_features(ref, SR, f0_method="dio"), world_features(gen, SR, f0_method="dio")
    assert mcd_from_mcep(r.mcep, g.mcep, ref_voiced=r.voiced, gen_voiced=g.voiced) < 0.01
    assert mcd_from_mcep(r.mcep, g.mcep, dtw=False) > 1.5


def test_a_gain_change_only_moves_c0_so_mcd_ignores_it(speech_like) -> None:
    x = speech_like(0.5)
    # measured 0.0027 dB: WORLD's absolute noise floor is all that does not scale
    assert mel_cepstral_distortion(x, 0.25 * x, SR, f0_method="dio") < 0.01


def test_a_different_vowel_is_clearly_positive(speech_like) -> None:
    a = speech_like(0.5)
    i = speech_like(0.5, formants=(300.0, 2300.0, 3000.0), f0=120.0)
    assert mel_cepstral_distortion(a, i, SR, f0_method="dio") > 5.0  # measured 10.3 dB


def test_bad_input_is_a_data_error() -> None:
    with pytest.raises(DataError, match=r"ref: expected one mono waveform of shape \(T,\), got shape \(2, 100\)"):
        mel_cepstral_distortion(np.zeros((2, 100)), np.zeros(100), SR)
    with pytest.raises(DataError, match="gen: the waveform contains NaN or infinite samples"):
        mel_cepstral_distortion(np.zeros(1600), np.full(1600, np.nan), SR)
    with pytest.raises(DataError, match="ref_mcep has 25 coefficients per frame and gen_mcep 13"):
        mcd_from_mcep(np.zeros((3, 25)), np.zeros((3, 13)))
