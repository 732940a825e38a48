"""Virtual batch normalisation (Salimans et al. 2016, "Improved Techniques for Training GANs", section 3.4).

Batch normalisation makes a discriminator's output for one example depend on the other
examples of its minibatch. Virtual batch normalisation instead normalises each example ``x``
with the statistics of a *reference batch* of ``N`` examples, fixed once, together with ``x``
itself: per channel ``c``, with ``mu_ref``/``sq_ref`` the mean and mean square of the
reference activations over examples and time and ``mu_x``/``sq_x`` those of ``x`` over time,

    w = 1 / (N + 1)
    mean = w * mu_x + (1 - w) * mu_ref,        mean_sq = w * sq_x + (1 - w) * sq_ref
    y = gamma * (x - mean) / sqrt(mean_sq - mean^2 + eps) + beta,

i.e. the statistics of the virtual batch "reference + x" (TF-GAN's ``VBN`` keeps the mean
square rather than the variance for this reason: it mixes linearly). The reference batch is
normalised with its own statistics. SEGAN (Pascual et al. 2017) uses it in its discriminator.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

__all__ = ["VBNReference", "VirtualBatchNorm1d"]


class VBNReference(NamedTuple):
    """The statistics of a reference batch: per-channel ``mean`` and ``mean_sq`` (C,) over ``size`` examples."""

    mean: torch.Tensor
    mean_sq: torch.Tensor
    size: int


class VirtualBatchNorm1d(nn.Module):
    """Virtual batch normalisation of ``(B, C, T)`` activations (Salimans et al. 2016).

    The reference statistics are buffers (saved in checkpoints): set explicitly with
    :meth:`set_reference`, or from the first batch :meth:`forward` sees in training mode,
    and fixed from then on. A caller that propagates a fixed reference *batch* through a
    changing network at every step, as Salimans et al. do, passes the statistics it
    computed to :meth:`forward` as ``reference`` (they then carry gradients) and stores them
    with :meth:`set_reference`. Eval mode uses the stored statistics. ``gamma`` starts at 1,
    ``beta`` at 0.
    """

    ref_mean: torch.Tensor
    ref_mean_sq: torch.Tensor
    ref_size: torch.Tensor

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.gamma = nn.Parameter(torch.ones(num_features))
        self.beta = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("ref_mean", torch.zeros(num_features))
        self.register_buffer("ref_mean_sq", torch.ones(num_features))
        self.register_buffer("ref_size", torch.zeros((), dtype=torch.long))  # 0: no reference yet

    @property
    def has_reference(self) -> bool:
        return int(self.ref_size) > 0

    def statistics(self, x: torch.Tensor) -> VBNReference:
        """The reference statistics of a batch ``x`` (N, C, T): mean and mean square over examples and time."""
        self._check(x)
        return VBNReference(x.mean(dim=(0, 2)), x.pow(2).mean(dim=(0, 2)), x.shape[0])  # (C,), (C,)

    def stored(self) -> VBNReference:
        """The stored reference statistics (buffers)."""
        return VBNReference(self.ref_mean, self.ref_mean_sq, int(self.ref_size))

    @torch.no_grad()
    def store(self, reference: VBNReference) -> None:
        """Keep ``reference`` (detached) as the statistics :meth:`forward` uses by default."""
        self.ref_mean.copy_(reference.mean)
        self.ref_mean_sq.copy_(reference.mean_sq)
        self.ref_size.fill_(reference.size)

    def set_reference(self, x: torch.Tensor) -> torch.Tensor:
        """Make ``x`` (N, C, T) the reference batch: store its statistics, return it normalised by them."""
        reference = self.statistics(x)
        self.store(reference)
        return self.normalize(x, reference.mean, reference.mean_sq)

    def normalize(self, x: torch.Tensor, mean: torch.Tensor, mean_sq: torch.Tensor) -> torch.Tensor:
        """``gamma * (x - mean) / sqrt(mean_sq - mean^2 + eps) + beta``; statistics (C,) or (B, C)."""
        mean, mean_sq = mean.unsqueeze(-1), mean_sq.unsqueeze(-1)  # (..., C, 1)
        scale = torch.rsqrt(mean_sq - mean.pow(2) + self.eps)
        return (x - mean) * scale * self.gamma[:, None] + self.beta[:, None]

    def forward(self, x: torch.Tensor, reference: VBNReference | None = None) -> torch.Tensor:
        """Each example of ``x`` (B, C, T) normalised with the reference statistics mixed with its own."""
        self._check(x)
        if reference is None:
            if not self.has_reference:
                if not self.training:
                    raise RuntimeError(
                        "VirtualBatchNorm1d has no reference statistics: run a training batch through it "
                        "(train mode) or call set_reference(x) before using it in eval mode"
                    )
                return self.set_reference(x)  # the first batch seen in training becomes the reference
            reference = self.stored()
        w = 1.0 / (reference.size + 1.0)  # the example is one of the N + 1 of the virtual batch
        mean = w * x.mean(dim=2) + (1.0 - w) * reference.mean  # (B, C)
        mean_sq = w * x.pow(2).mean(dim=2) + (1.0 - w) * reference.mean_sq  # (B, C)
        return self.normalize(x, mean, mean_sq)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 3 or x.shape[1] != self.num_features:
            raise ValueError(
                f"VirtualBatchNorm1d({self.num_features}): expected activations (B, {self.num_features}, T), "
                f"got {tuple(x.shape)}"
            )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"
