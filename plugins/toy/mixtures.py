"""The two classic mode-collapse benchmarks, with PacGAN's settings (Lin et al. 2018, Sec. 5).

* ``ring8``: 8 Gaussians evenly spaced on the unit circle, standard deviation 0.01;
* ``grid25``: 25 Gaussians on the grid {-4, -2, 0, 2, 4}^2, standard deviation 0.05.

Both first appeared in VEEGAN (Srivastava et al. 2017) and Unrolled GAN (Metz et al. 2017).
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset

from speechgan.batches import SAMPLES

__all__ = ["GaussianMixture2D", "ring8_modes", "grid25_modes", "Ring8", "Grid25"]


def ring8_modes(radius: float = 1.0) -> torch.Tensor:
    angles = torch.arange(8, dtype=torch.float64) * (2 * math.pi / 8)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()  # (8, 2)


def grid25_modes(spacing: float = 2.0) -> torch.Tensor:
    axis = (torch.arange(5, dtype=torch.float32) - 2) * spacing  # -4 .. 4
    return torch.cartesian_prod(axis, axis)  # (25, 2)


class GaussianMixture2D(Dataset[dict[str, torch.Tensor]]):
    """``num_samples`` points drawn once, reproducibly, from an equal-weight 2-D mixture.

    Items follow the ``SAMPLES`` batch contract (:mod:`speechgan.batches`): ``{"x": (2,)}``.
    """

    yields = SAMPLES

    def __init__(self, modes: torch.Tensor, sigma: float, num_samples: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.modes, self.sigma = modes, sigma
        which = torch.randint(len(modes), (num_samples,), generator=gen)
        self.points = modes[which] + sigma * torch.randn(num_samples, 2, generator=gen)  # (N, 2)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.points[i]}

    def __getitems__(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        # the trainer's loader hands over a whole batch as one (B,) index tensor: one indexing
        # op, ~6 us for 1,024 points where a list of 1,024 ints takes ~110 us
        return {"x": self.points[indices]}  # (B, 2)

    @staticmethod
    def collate(items: dict[str, torch.Tensor] | list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """A batch from :meth:`__getitems__` as is; single items stacked to ``{"x": (B, 2)}``."""
        return items if isinstance(items, dict) else {"x": torch.stack([item["x"] for item in items])}


class Ring8(GaussianMixture2D):
    """8 Gaussians on the unit circle, sigma 0.01 (PacGAN's 2D-ring)."""

    def __init__(self, num_samples: int = 100_000, sigma: float = 0.01, seed: int = 0) -> None:
        super().__init__(ring8_modes(), sigma, num_samples, seed)


class Grid25(GaussianMixture2D):
    """25 Gaussians on {-4,-2,0,2,4}^2, sigma 0.05 (PacGAN's 2D-grid)."""

    def __init__(self, num_samples: int = 100_000, sigma: float = 0.05, seed: int = 0) -> None:
        super().__init__(grid25_modes(), sigma, num_samples, seed)
