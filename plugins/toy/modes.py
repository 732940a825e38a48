"""Mode coverage of a 2-D mixture, as VEEGAN (Srivastava et al. 2017) and PacGAN define it.

Each of 2,500 generated samples is assigned to its nearest mode; it is *high quality*
when it lies within 3 standard deviations of that mode; a mode is *captured* when at
least one high-quality sample lands in it. Reported: ``modes_captured`` and
``high_quality_fraction``, and ``far_fraction``, the samples more than twice the threshold
(6 sigma) from every mode: the "bridges" a continuous generator leaves between modes, told
apart from modes that are merely too wide. A scatter plot of real and generated samples is
saved.
"""

from __future__ import annotations

from typing import Any

import torch

from speechgan.errors import SpeechganError

__all__ = ["mode_coverage", "ModeCoverage"]


def mode_coverage(samples: torch.Tensor, modes: torch.Tensor, sigma: float, threshold: float = 3.0) -> dict[str, float]:
    """``modes_captured``, ``high_quality_fraction``, ``far_fraction`` (beyond 2 x threshold
    sigma) and ``num_modes`` of samples (N, 2)."""
    dist = torch.cdist(samples.double(), modes.double())  # (N, M)
    nearest, which = dist.min(dim=1)
    good = nearest <= threshold * sigma
    captured = torch.unique(which[good]).numel()
    return {
        "modes_captured": float(captured),
        "high_quality_fraction": float(good.double().mean()),
        "far_fraction": float((nearest > 2 * threshold * sigma).double().mean()),
        "num_modes": float(len(modes)),
    }


class ModeCoverage:
    """Modes captured and high-quality fraction of 2,500 samples (VEEGAN / PacGAN)."""

    def __init__(self, num_samples: int = 2500, threshold: float = 3.0, plot: bool = True) -> None:
        self.num_samples, self.threshold, self.plot = num_samples, threshold, plot

    def __call__(self, ctx: Any) -> dict[str, float]:
        data = ctx.datasets["train"]
        if not hasattr(data, "modes"):
            raise SpeechganError("metric mode_coverage needs a 2-D mixture dataset (ring8, grid25) as data.train")
        samples = ctx.sample(self.num_samples).float().cpu()
        result = mode_coverage(samples, data.modes, data.sigma, self.threshold)
        if self.plot:
            self._scatter(ctx.output_path(f"scatter_step{ctx.step:08d}.png"), data.points[: self.num_samples], samples)
        return result

    @staticmethod
    def _scatter(path: Any, real: torch.Tensor, fake: torch.Tensor) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 5))
        ax.scatter(*real.T, s=3, alpha=0.5, c="tab:blue", label="real")
        ax.scatter(*fake.T, s=3, alpha=0.5, c="tab:red", label="generated")
        ax.set_aspect("equal")
        ax.legend(loc="upper right")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
