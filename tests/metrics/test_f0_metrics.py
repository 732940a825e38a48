"""Log-F0 RMSE and V/UV error: closed forms on contours, pitch shifts of a harmonic signal."""

from __future__ import annotations

import math

import numpy as np
import pytest

from speechgan.errors import DataError
from speechgan.metrics import CENTS_PER_NEPER, aligned_f0, log_f0_rmse, log_f0_rmse_from_f0, voicing_error

SR = 16000


def test_contour_metrics_by_hand() -> None:
    ref = np.array([100.0, 200.0, 0.0, 150.0])
    gen = np.array([110.0, 0.0, 0.0, 150.0])
    # voiced in both: frames 0 and 3 -> differences ln(100/110) and 0
    assert log_f0_rmse_from_f0(ref, gen) == pytest.approx(math.sqrt(math.log(1.1) ** 2 / 2), rel=1e-12)
    assert voicing_error(ref, gen) == 0.25  # frame 1: voiced vs unvoiced
    assert voicing_error(ref, ref) == 0.0
    assert voicing_error(ref, np.where(ref > 0, 0.0, 120.0)) == 1.0


def test_no_frame_voiced_in_both_is_nan_and_shapes_must_match() -> None:
    assert math.isnan(log_f0_rmse_from_f0(np.array([0.0, 100.0]), np.array([100.0, 0.0])))
    message = r"expected two aligned, non-empty F0 contours of equal length, got shapes \(3,\) and \(2,\)"
    with pytest.raises(DataError, match=message):
        voicing_error(np.zeros(3), np.zeros(2))


def test_cents_per_neper() -> None:
    assert CENTS_PER_NEPER * math.log(2.0) == pytest.approx(1200.0)


def test_identical_signals_give_zero(speech_like) -> None:
    x = speech_like(0.5)
    ref_f0, gen_f0 = aligned_f0(x, x, SR)  # Harvest, DTW: the defaults
    assert (ref_f0 > 0).mean() > 0.9
    assert log_f0_rmse_from_f0(ref_f0, gen_f0) == 0.0
    assert voicing_error(ref_f0, gen_f0) == 0.0


@pytest.mark.parametrize("k", [1.2, 0.8])
def test_a_pitch_shift_by_k_gives_abs_log_k(speech_like, k: float) -> None:
    ref = speech_like(0.6, f0=140.0)
    gen = speech_like(0.6, f0=140.0 * k)
    # Frame t with frame t (same timing): measured 0.0016 (k = 1.2) and 0.0007 (k = 0.8) away.
    assert log_f0_rmse(ref, gen, SR, dtw=False, f0_method="dio") == pytest.approx(abs(math.log(k)), abs=3e-3)
    # DTW on mel-cepstra pairs frames by envelope, a little off in time on the F0 glide:
    # measured 0.0009 and 0.0021 away (Harvest: 0.0023 and 0.0024).
    assert log_f0_rmse(ref, gen, SR, f0_method="dio") == pytest.approx(abs(math.log(k)), abs=0.01)


def test_voicing_error_of_a_half_silenced_copy(speech_like) -> None:
    ref = speech_like(0.6, am_floor=1.0)  # voiced throughout
    gen = ref.copy()
    gen[len(gen) // 2 :] = 0.0
    ref_f0, gen_f0 = aligned_f0(ref, gen, SR, dtw=False, f0_method="dio")
    assert voicing_error(ref_f0, gen_f0) == pytest.approx(0.5, abs=0.05)
    # over the half voiced in both the F0 is the same
    assert log_f0_rmse_from_f0(ref_f0, gen_f0) < 0.01
