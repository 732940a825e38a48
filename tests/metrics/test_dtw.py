"""DTW against a plain double-loop dynamic programme (the textbook recursion)."""

from __future__ import annotations

import numpy as np
import pytest

from speechgan.errors import DataError
from speechgan.metrics import dtw_path


def _reference_cost(x: np.ndarray, y: np.ndarray) -> float:
    n, m = len(x), len(y)
    acc = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            c = float(np.linalg.norm(x[i] - y[j]))
            if i == 0 and j == 0:
                acc[i, j] = c
                continue
            prev = min(
                acc[i - 1, j - 1] if i and j else np.inf,
                acc[i - 1, j] if i else np.inf,
                acc[i, j - 1] if j else np.inf,
            )
            acc[i, j] = c + prev
    return float(acc[-1, -1])


@pytest.mark.parametrize("n, m", [(1, 1), (1, 5), (6, 1), (7, 9), (20, 13)])
def test_cost_and_path_match_the_textbook_recursion(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 100 + m)
    x, y = rng.normal(size=(n, 3)), rng.normal(size=(m, 3))
    ix, jx, cost = dtw_path(x, y)
    assert cost == pytest.approx(_reference_cost(x, y), rel=1e-12)
    # the returned path realises that cost and is a valid warping path
    assert np.linalg.norm(x[ix] - y[jx], axis=1).sum() == pytest.approx(cost, rel=1e-12)
    assert (ix[0], jx[0]) == (0, 0) and (ix[-1], jx[-1]) == (n - 1, m - 1)
    steps = set(zip(np.diff(ix).tolist(), np.diff(jx).tolist()))
    assert steps <= {(1, 1), (1, 0), (0, 1)}
    assert max(n, m) <= len(ix) <= n + m - 1


def test_identical_sequences_align_on_the_diagonal() -> None:
    x = np.random.default_rng(0).normal(size=(12, 4))
    ix, jx, cost = dtw_path(x, x)
    assert cost == 0.0
    np.testing.assert_array_equal(ix, np.arange(12))
    np.testing.assert_array_equal(jx, np.arange(12))


def test_a_time_stretched_copy_costs_nothing() -> None:
    x = np.random.default_rng(1).normal(size=(10, 4))
    ix, jx, cost = dtw_path(x, np.repeat(x, 3, axis=0))
    assert cost == 0.0
    assert len(ix) == 30


def test_mismatched_dims_are_a_data_error() -> None:
    with pytest.raises(DataError, match=r"dtw_path: x has 3 dims per frame and y has 2; they must match"):
        dtw_path(np.zeros((4, 3)), np.zeros((4, 2)))
    empty = r"dtw_path: y: expected a non-empty \(frames, dims\) array, got shape \(0, 3\)"
    with pytest.raises(DataError, match=empty):
        dtw_path(np.zeros((4, 3)), np.zeros((0, 3)))
