"""Top-k generator updates (Sinha et al. 2020, "Top-k Training of GANs: Improving GAN
Performance by Throwing Away Bad Samples", NeurIPS).

In the generator step only the ``k`` fakes that D scores as most realistic contribute to
the loss; the others get no gradient. The paper's analysis on a mixture of Gaussians finds
that the gradients of the worst-scored samples can push samples further away from their
nearest mode. (On our 25-Gaussian grid with R1 it lowered the high-quality fraction: the
dropped fakes are the ones between modes; see ``recipes/toy/README.md``.) ``k`` starts
at the whole batch and decays geometrically, ``k = max(gamma^t, nu) * B`` after ``t``
decay periods, with the paper's ``gamma = 0.99`` per epoch and ``nu = 0.5``; here a
period is ``decay_steps`` training steps (one epoch: dataset size / batch size).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..errors import ConfigError
from .adversarial import DiscriminatorOutput, as_output_list

__all__ = ["TopK"]


class TopK:
    """Keeps the ``k`` highest-scored samples of D's output on fakes for the G loss.

    Call it on the discriminator output of the generator step: ``top_k(d(fake), step)``.
    A tensor output (B, ...) is ranked by each sample's mean over its other dimensions (a
    patch discriminator's map); a list of sub-discriminator outputs, all with the same
    batch size, is ranked by the sum of those means, and every member keeps the same rows.
    A higher output must mean "more real", as it does for every built-in criterion.
    """

    def __init__(self, gamma: float = 0.99, min_fraction: float = 0.5, decay_steps: int = 1000) -> None:
        if not 0.0 < gamma <= 1.0:
            raise ConfigError(f"TopK: gamma must be in (0, 1], got {gamma}")
        if not 0.0 < min_fraction <= 1.0:
            raise ConfigError(f"TopK: min_fraction must be in (0, 1], got {min_fraction}")
        if decay_steps < 1:
            raise ConfigError(f"TopK: decay_steps must be >= 1, got {decay_steps}")
        self.gamma, self.min_fraction, self.decay_steps = gamma, min_fraction, decay_steps

    def fraction_at(self, step: int) -> float:
        """The kept fraction of the batch at training step ``step``."""
        if step < 0:
            raise ValueError(f"TopK: step must be >= 0, got {step}")
        return max(self.min_fraction, self.gamma ** (step // self.decay_steps))

    def k_at(self, step: int, batch_size: int) -> int:
        """How many of ``batch_size`` samples are kept (at least one)."""
        return max(1, math.ceil(self.fraction_at(step) * batch_size - 1e-9))

    def __call__(self, output: DiscriminatorOutput, step: int) -> DiscriminatorOutput:
        outputs = as_output_list(output, "TopK input")
        sizes = {o.shape[0] for o in outputs}
        if len(sizes) != 1:
            raise ValueError(f"TopK: sub-discriminator outputs have different batch sizes {sorted(sizes)}")
        batch = sizes.pop()
        k = self.k_at(step, batch)
        if k >= batch:
            return output
        # (B,) score per sample, summed over sub-discriminators; no gradient flows through the ranking
        score = torch.stack([o.detach().float().reshape(batch, -1).mean(dim=1) for o in outputs]).sum(dim=0)
        keep = score.topk(k).indices
        kept = [o[keep] for o in outputs]
        return kept[0] if isinstance(output, Tensor) else kept

    def __repr__(self) -> str:
        return f"TopK(gamma={self.gamma!r}, min_fraction={self.min_fraction!r}, decay_steps={self.decay_steps!r})"
