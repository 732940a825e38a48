"""speechgan.metrics.image against closed forms and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import f1_score

from speechgan.metrics.image import (
    PARZEN_SIGMA_GRID,
    classifier_score,
    f1_scores,
    frechet_distance,
    frechet_distance_of_features,
    parzen_log_densities,
    parzen_log_likelihood,
    select_parzen_sigma,
)

# -- Fréchet distance ------------------------------------------------------------------------


def test_frechet_distance_of_a_set_with_itself_is_zero() -> None:
    f = np.random.default_rng(0).normal(size=(400, 16))
    assert frechet_distance_of_features(f, f) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    v1, v2 = rng.uniform(0.1, 3.0, size=5), rng.uniform(0.1, 3.0, size=5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(v1 + v2 - 2 * np.sqrt(v1 * v2))
    assert frechet_distance(mu1, np.diag(v1), mu2, np.diag(v2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_of_rotated_covariances_matches_the_commuting_closed_form() -> None:
    # S1 = R D1 R^T and S2 = R D2 R^T commute: (S1 S2)^1/2 = R sqrt(D1 D2) R^T, same trace
    rng = np.random.default_rng(2)
    rotation, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    d1, d2 = np.array([4.0, 1.0, 0.25, 2.0]), np.array([1.0, 9.0, 1.0, 0.5])
    s1, s2 = rotation @ np.diag(d1) @ rotation.T, rotation @ np.diag(d2) @ rotation.T
    expected = np.sum(d1 + d2 - 2 * np.sqrt(d1 * d2))
    assert frechet_distance(np.zeros(4), s1, np.zeros(4), s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_of_singular_covariances_stays_finite_and_exact() -> None:
    # variance only along x in one, only along y in the other: the product is the zero matrix
    value = frechet_distance([0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]], [1.0, 0.0], [[0.0, 0.0], [0.0, 1.0]])
    assert value == pytest.approx(1.0 + 1.0 + 1.0)


def test_frechet_distance_of_shifted_features_is_the_squared_shift() -> None:
    f = np.random.default_rng(3).normal(size=(300, 8))
    shift = np.arange(8) / 4.0
    assert frechet_distance_of_features(f, f + shift) == pytest.approx(np.sum(shift**2), rel=1e-8)


def test_frechet_distance_of_samples_approaches_the_closed_form() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(0.0, 1.0, size=(20000, 3))
    b = rng.normal(1.0, 2.0, size=(20000, 3))
    expected = 3 * 1.0 + 3 * (1.0 + 4.0 - 2 * 2.0)  # ||mu||^2 + Tr(S1 + S2 - 2 (S1 S2)^1/2)
    assert frechet_distance_of_features(a, b) == pytest.approx(expected, rel=0.05)


def test_frechet_distance_rejects_mismatched_features() -> None:
    with pytest.raises(ValueError, match="feature sizes differ: 3 and 4"):
        frechet_distance_of_features(np.zeros((5, 3)), np.zeros((5, 4)))


# -- classifier score ------------------------------------------------------------------------


def test_classifier_score_of_constant_predictions_is_one() -> None:
    probs = np.tile([0.2, 0.3, 0.5], (100, 1))
    assert classifier_score(probs) == pytest.approx((1.0, 0.0))


def test_classifier_score_of_confident_balanced_predictions_is_the_number_of_classes() -> None:
    probs = np.eye(10)[np.arange(1000) % 10]  # one-hot, each class 100 times
    mean, std = classifier_score(probs, splits=10)
    assert mean == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-12)


def test_classifier_score_of_a_mixture_is_its_closed_form() -> None:
    # half confident class 0, half undecided: p(y) = (3/4, 1/4), mean KL = 3/4 log(4/3)
    probs = np.array([[1.0, 0.0]] * 50 + [[0.5, 0.5]] * 50)
    assert classifier_score(probs)[0] == pytest.approx((4 / 3) ** 0.75, rel=1e-12)


def test_classifier_score_splits_score_each_part() -> None:
    # first half all class 0 (score 1), second half balanced over two classes (score 2)
    probs = np.array([[1.0, 0.0]] * 10 + [[1.0, 0.0], [0.0, 1.0]] * 5)
    assert classifier_score(probs, splits=2) == pytest.approx((1.5, 0.5))


def test_classifier_score_rejects_rows_that_are_not_distributions() -> None:
    with pytest.raises(ValueError, match="rows that sum to 1"):
        classifier_score(np.full((4, 3), 0.5))


# -- Parzen window ---------------------------------------------------------------------------


def _gaussian_quantiles(n: int, std: float) -> np.ndarray:
    """n evenly spread draws of N(0, std^2), (n, 1): a sample without sampling noise."""
    return (std * norm.ppf((np.arange(n) + 0.5) / n))[:, None]


def test_parzen_estimate_of_a_gaussian_converges_to_the_smoothed_gaussian() -> None:
    # samples of N(0, s^2) with a window sigma: the density tends to N(0, s^2 + sigma^2)
    s, sigma = 1.0, 0.5
    samples = _gaussian_quantiles(20000, s)
    test = np.linspace(-2.5, 2.5, 51)[:, None]
    mean, _ = parzen_log_likelihood(samples, test, sigma)
    expected = norm.logpdf(test[:, 0], scale=math.sqrt(s**2 + sigma**2)).mean()
    assert mean == pytest.approx(expected, abs=2e-3)


def test_parzen_estimate_matches_a_direct_mixture_density_and_its_standard_error() -> None:
    rng = np.random.default_rng(5)
    samples, test, sigma = rng.uniform(size=(40, 3)), rng.uniform(size=(25, 3)), 0.3
    # p(x) = 1/N sum_i prod_d N(x_d; s_id, sigma^2), computed directly in float64
    density = norm.pdf(test[:, None, :], loc=samples[None], scale=sigma).prod(-1).mean(1)  # (25,)
    log_p = np.log(density)
    mean, se = parzen_log_likelihood(samples, test, sigma)
    assert mean == pytest.approx(log_p.mean(), rel=1e-12)
    assert se == pytest.approx(log_p.std() / math.sqrt(25), rel=1e-10)


def test_parzen_estimate_far_from_every_sample_is_finite() -> None:
    # one centre at the origin, a point 10 away with sigma 0.1 in 4-D: exp underflows naively
    x = np.array([[10.0, 0.0, 0.0, 0.0]])
    expected = -(10.0**2) / (2 * 0.1**2) - 4 / 2 * math.log(2 * math.pi * 0.1**2)
    assert parzen_log_likelihood(np.zeros((1, 4)), x, 0.1)[0] == pytest.approx(expected, rel=1e-12)


def test_parzen_densities_are_the_same_in_chunks() -> None:
    rng = np.random.default_rng(6)
    samples, points = rng.normal(size=(30, 2)), rng.normal(size=(17, 2))
    whole = parzen_log_densities(samples, points, [0.2, 1.0], chunk=1000)
    assert whole.shape == (2, 17)
    np.testing.assert_allclose(parzen_log_densities(samples, points, [0.2, 1.0], chunk=4), whole, rtol=1e-12)


def test_select_parzen_sigma_finds_the_window_that_matches_the_spread() -> None:
    # samples of N(0, 1) against validation data of N(0, 2): the best smoothed density
    # N(0, 1 + sigma^2) has sigma = 1
    samples, valid = _gaussian_quantiles(2000, 1.0), _gaussian_quantiles(500, math.sqrt(2.0))
    assert select_parzen_sigma(samples, valid, [0.25, 0.5, 1.0, 2.0, 4.0]) == 1.0


def test_the_default_sigma_grid_is_goodfellows() -> None:
    np.testing.assert_allclose(PARZEN_SIGMA_GRID, np.logspace(-1, 0, 10))


# -- multi-label F1 --------------------------------------------------------------------------


def test_f1_scores_match_scikit_learn() -> None:
    rng = np.random.default_rng(7)
    y_true = (rng.uniform(size=(60, 6)) < 0.3).astype(float)
    y_true[:, 5] = 0.0  # a label nobody has...
    probs = y_true * 0.4 + rng.uniform(size=(60, 6)) * 0.6  # right about 5 times in 6
    probs[:, 5] = 0.1  # ...and nobody predicts: F1 0 by convention
    pred = (probs >= 0.5).astype(int)
    scores = f1_scores(y_true, probs)
    assert scores["micro_f1"] == pytest.approx(f1_score(y_true, pred, average="micro", zero_division=0))
    assert scores["macro_f1"] == pytest.approx(f1_score(y_true, pred, average="macro", zero_division=0))
    assert 0.3 < scores["macro_f1"] < scores["micro_f1"] < 1.0


def test_f1_scores_of_perfect_predictions_are_one() -> None:
    y = np.eye(4)[[0, 1, 2, 3, 0]] + np.eye(4)[[1, 2, 3, 0, 0]]
    assert f1_scores(y, y) == {"micro_f1": 1.0, "macro_f1": 1.0}
