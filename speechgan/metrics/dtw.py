"""Dynamic time warping of two feature sequences (Sakoe & Chiba 1978), for MCD and F0 metrics.

The classic symmetric DTW without slope constraint or band: with the frame distance
``c(i, j) = ||x_i - y_j||_2`` the accumulated cost is

    D(i, j) = c(i, j) + min(D(i-1, j-1), D(i-1, j), D(i, j-1)),   D(0, 0) = c(0, 0),

and the path runs from ``(0, 0)`` to ``(N-1, M-1)`` with steps (1, 1), (1, 0), (0, 1).
This is the recursion of ``librosa.sequence.dtw`` with its default steps and of the
``fastdtw`` exact fallback the MCD scripts of ESPnet and pymcd use. The cells of one
anti-diagonal ``i + j = k`` depend only on the two previous anti-diagonals, so each
diagonal is filled with one vectorised NumPy step: O(N + M) Python iterations.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from ..errors import DataError

__all__ = ["dtw_path"]


def _check_sequence(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"{name}: expected a non-empty (frames, dims) array, got shape {x.shape}")
    return x


def _accumulated_cost(cost: np.ndarray) -> np.ndarray:
    """``D`` padded with an infinite first row and column: ``acc[i + 1, j + 1] = D(i, j)``."""
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for k in range(2, n + m + 1):  # k = (i + 1) + (j + 1) in padded coordinates
        i = np.arange(max(1, k - m), min(n, k - 1) + 1)  # padded row indices on this diagonal
        j = k - i
        best = np.minimum(np.minimum(acc[i - 1, j - 1], acc[i - 1, j]), acc[i, j - 1])
        acc[i, j] = cost[i - 1, j - 1] + best
    return acc


def _backtrack(acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(i - 1, j - 1)]
    while (i, j) != (1, 1):
        # Ties go to the diagonal step, then to the vertical one: a deterministic path.
        steps = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(steps, key=lambda s: acc[s])
        path.append((i - 1, j - 1))
    ix, jx = np.asarray(path[::-1]).T
    return ix, jx


def dtw_path(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Optimal DTW alignment of ``x`` (N, D) and ``y`` (M, D) under the Euclidean frame distance.

    Returns ``(ix, jx, total_cost)``: index arrays of equal length L (``max(N, M) <= L <=
    N + M - 1``) such that frame ``x[ix[l]]`` is paired with ``y[jx[l]]``, both
    non-decreasing from ``(0, 0)`` to ``(N-1, M-1)``, and the summed distance along them.
    """
    x = _check_sequence(x, "dtw_path: x")
    y = _check_sequence(y, "dtw_path: y")
    if x.shape[1] != y.shape[1]:
        raise DataError(f"dtw_path: x has {x.shape[1]} dims per frame and y has {y.shape[1]}; they must match")
    cost = cdist(x, y, metric="euclidean")  # (N, M)
    acc = _accumulated_cost(cost)
    ix, jx = _backtrack(acc)
    return ix, jx, float(acc[-1, -1])
