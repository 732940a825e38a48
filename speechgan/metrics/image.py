"""Image-GAN metrics: pure functions on NumPy arrays (or CPU tensors), float64 inside.

* :func:`frechet_distance`, :func:`frechet_distance_of_features`: the Fréchet distance
  between Gaussians fitted to two sets of features (Heusel et al., "GANs trained by a two
  time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017: FID, there
  on Inception pool3 features).
* :func:`classifier_score`: ``exp(E_x KL(p(y|x) || p(y)))``, the Inception Score of
  Salimans et al., "Improved techniques for training GANs", NeurIPS 2016, computed with
  any classifier's probabilities (speechgan uses its own digits classifier, so the numbers
  are *not* Inception Scores and only compare with each other).
* :func:`parzen_log_likelihood`, :func:`select_parzen_sigma`: the Gaussian Parzen-window
  log-likelihood estimate of Goodfellow et al., "Generative adversarial nets", NeurIPS 2014
  (after Breuleux, Bengio and Vincent, Neural Computation 2011).
* :func:`f1_scores`: micro and macro F1 of multi-label predictions.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import linalg
from scipy.special import logsumexp, rel_entr

__all__ = [
    "PARZEN_SIGMA_GRID",
    "frechet_distance",
    "frechet_distance_of_features",
    "classifier_score",
    "parzen_log_likelihood",
    "parzen_log_densities",
    "select_parzen_sigma",
    "f1_scores",
]

#: Goodfellow et al.'s ``parzen_ll.py`` grid: 10 window widths log-spaced over [0.1, 1],
#: for pixels scaled to [0, 1].
PARZEN_SIGMA_GRID: np.ndarray = np.logspace(-1.0, 0.0, 10)


def _matrix(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (N, D), got shape {a.shape}")
    return a


# -- Fréchet distance ------------------------------------------------------------------------


def _sqrtm(a: np.ndarray) -> np.ndarray | None:
    """``scipy.linalg.sqrtm(a)``, or None where it is not finite or not a root to 1e-5 (relative)."""
    with warnings.catch_warnings():  # a singular ``a`` warns; the residual below is the real check
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(a)
    if not np.isfinite(root).all():
        return None
    scale = np.linalg.norm(a)
    return root if np.linalg.norm(root @ root - a) <= 1e-5 * max(scale, 1e-12) else None


def frechet_distance(
    mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, eps: float = 1e-6
) -> float:
    """Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``d^2 = ||mu1 - mu2||^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})`` (Dowson and
    Landau 1982; the FID of Heusel et al. 2017). The square root of the product is
    ``scipy.linalg.sqrtm``. Two numerical cases are handled the usual way: where the product
    is singular and its root comes out non-finite or inaccurate, it is recomputed with
    ``eps * I`` added to both covariances; and the small imaginary part that rounding
    leaves is dropped (an imaginary diagonal larger than 1e-3 is an error). Returns ``d^2``,
    as FID does.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shapes do not match: mu {mu1.shape}, {mu2.shape}; sigma {s1.shape}, {s2.shape}")
    root = _sqrtm(s1 @ s2)
    if root is None:
        offset = eps * np.eye(s1.shape[0])
        root = _sqrtm((s1 + offset) @ (s2 + offset))
        if root is None:
            raise ValueError("no accurate square root of the covariance product, even regularised")
    if np.iscomplexobj(root):
        imaginary = np.abs(np.diagonal(root).imag).max()
        if imaginary > 1e-3:
            raise ValueError(f"the matrix square root has an imaginary component of {imaginary:.3g}")
        root = root.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(root))


def frechet_distance_of_features(f1: ArrayLike, f2: ArrayLike) -> float:
    """:func:`frechet_distance` of Gaussians fitted to features (N1, D) and (N2, D).

    Mean and unbiased covariance (``np.cov``) of each set, as the FID reference code does.
    The estimate is biased upwards for small N (Bińkowski et al. 2018): compare numbers
    computed from the same numbers of samples.
    """
    a, b = _matrix(f1, "f1"), _matrix(f2, "f2")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} and {b.shape[1]}")
    if min(len(a), len(b)) < 2:
        raise ValueError("a covariance needs at least 2 feature vectors per set")
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


# -- classifier ("Inception") score ----------------------------------------------------------


def classifier_score(probs: ArrayLike, splits: int = 1) -> tuple[float, float]:
    """``exp(E_x KL(p(y|x) || p(y)))`` of class probabilities (N, K): ``(mean, std)`` over splits.

    Salimans et al. 2016's Inception Score with another classifier: ``p(y)`` is the mean of
    ``p(y|x)`` over the split. It ranges from 1 (every sample gets the same prediction)
    to K (confident predictions spread evenly over the K classes). With ``splits > 1`` the
    rows are cut into that many consecutive parts, scored separately (Salimans et al. used
    10), and the mean and population standard deviation are returned; one split gives a
    standard deviation of 0.
    """
    p = _matrix(probs, "probs")
    if splits < 1 or splits > len(p):
        raise ValueError(f"splits must be between 1 and the number of samples ({len(p)}), got {splits}")
    if (p < 0).any() or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise ValueError("probs must be non-negative rows that sum to 1 (softmax outputs)")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0, keepdims=True)  # p(y), (1, K)
        kl = rel_entr(part, marginal).sum(1)  # KL(p(y|x) || p(y)), (n,); 0 log 0 = 0
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


# -- Parzen-window log-likelihood ------------------------------------------------------------


def parzen_log_densities(
    samples: ArrayLike, points: ArrayLike, sigmas: Sequence[float] | np.ndarray, chunk: int = 256
) -> np.ndarray:
    """``log p_sigma(x)`` in nats of each point under a Gaussian Parzen window, for each sigma.

    ``p_sigma(x) = 1/N sum_i N(x; s_i, sigma^2 I)`` over the N ``samples`` (N, D), so
    ``log p = logsumexp_i(-||x - s_i||^2 / (2 sigma^2)) - log N - D log(sigma sqrt(2 pi))``.
    Float64 throughout; squared distances are computed once per chunk of points and
    reused for every sigma. Returns (len(sigmas), M) for ``points`` (M, D).
    """
    s, x = _matrix(samples, "samples"), _matrix(points, "points")
    if s.shape[1] != x.shape[1]:
        raise ValueError(f"samples have {s.shape[1]} dimensions, points {x.shape[1]}")
    sig = np.asarray(sigmas, dtype=np.float64).reshape(-1)
    if (sig <= 0).any():
        raise ValueError(f"Parzen window widths must be positive, got {sig}")
    n, d = s.shape
    s_norm = (s * s).sum(1)  # (N,)
    out = np.empty((len(sig), len(x)))
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]  # (m, D)
        d2 = (part * part).sum(1)[:, None] + s_norm[None, :] - 2.0 * part @ s.T  # (m, N)
        np.maximum(d2, 0.0, out=d2)  # rounding can make a tiny distance negative
        for k, sigma in enumerate(sig):
            out[k, start : start + chunk] = (
                logsumexp(-d2 / (2.0 * sigma**2), axis=1) - np.log(n) - d * np.log(sigma * np.sqrt(2.0 * np.pi))
            )
    return out


def parzen_log_likelihood(samples: ArrayLike, test: ArrayLike, sigma: float) -> tuple[float, float]:
    """Mean log-likelihood (nats) of ``test`` (M, D) under a Parzen window on ``samples`` (N, D).

    Goodfellow et al. 2014, Table 1: a Gaussian Parzen window with width ``sigma`` is fitted
    to generated samples and the test set's mean log-likelihood is reported with its
    standard error, ``std / sqrt(M)`` over the test points. Returns ``(mean, standard error)``.
    The paper (and :data:`PARZEN_SIGMA_GRID`) has pixels in [0, 1]: scale images the same
    way, since the estimate depends on the scale (by ``-D log(scale)``).
    """
    ll = parzen_log_densities(samples, test, [sigma])[0]  # (M,)
    return float(ll.mean()), float(ll.std() / np.sqrt(len(ll)))


def select_parzen_sigma(
    samples: ArrayLike, valid: ArrayLike, grid: Sequence[float] | np.ndarray = PARZEN_SIGMA_GRID
) -> float:
    """The window width of ``grid`` that maximises the mean log-likelihood of ``valid``.

    Goodfellow et al. 2014 choose sigma by cross-validation on a validation set, over
    ``np.logspace(-1, 0, 10)`` (:data:`PARZEN_SIGMA_GRID`) for pixels in [0, 1].
    """
    grid = np.asarray(grid, dtype=np.float64).reshape(-1)
    if grid.size == 0:
        raise ValueError("the sigma grid is empty")
    return float(grid[np.argmax(parzen_log_densities(samples, valid, grid).mean(1))])


# -- multi-label F1 --------------------------------------------------------------------------


def f1_scores(y_true: ArrayLike, y_pred: ArrayLike, threshold: float = 0.5) -> dict[str, float]:
    """Micro and macro F1 of multi-label predictions: ``{"micro_f1", "macro_f1"}``.

    ``y_true`` is multi-hot (N, K); ``y_pred`` holds probabilities (N, K), positive where
    ``>= threshold``. F1 = 2 TP / (2 TP + FP + FN): *micro* pools the counts of every label,
    *macro* averages the per-label F1s. A label with no true and no predicted positive
    scores 0, as ``sklearn.metrics.f1_score`` does with ``zero_division=0``.
    """
    t, p = np.asarray(y_true, np.float64) >= 0.5, np.asarray(y_pred, np.float64) >= threshold
    if t.ndim != 2 or t.shape != p.shape:
        raise ValueError(f"y_true and y_pred must both be (N, K), got {t.shape} and {p.shape}")
    tp = (t & p).sum(0).astype(np.float64)  # (K,)
    fp = (~t & p).sum(0).astype(np.float64)
    fn = (t & ~p).sum(0).astype(np.float64)
    denom = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    pooled = 2 * tp.sum() + fp.sum() + fn.sum()
    return {
        "micro_f1": float(2 * tp.sum() / pooled) if pooled > 0 else 0.0,
        "macro_f1": float(per_label.mean()),
    }
