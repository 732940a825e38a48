"""Class conditioning shared by conditional generators and discriminators.

* :class:`LabelEmbedding`: ``y^T V``, class indices ``(B,)`` or label vectors ``(B, K)``
  (multi-hot or probabilities) to codes ``(B, dim)``; with one-hot ``y`` it is the lookup of
  row ``y`` of ``V``, so one embedding serves both. A generator concatenates the code with
  z (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets"); a discriminator
  takes it as extra input channels (``concat``, same paper) or as the projection
  ``<V y, phi(x)>`` (Miyato & Koyama 2018, "cGANs with Projection Discriminator").
* :func:`projection_logit`: that projection term, added to ``psi(phi(x))``.
* :func:`check_labels`: the error a conditional model raises when called without labels
  (or an unconditional one with labels): a recipe that pairs the wrong parts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError

__all__ = ["LabelEmbedding", "projection_logit", "check_labels"]


class LabelEmbedding(nn.Module):
    """``y^T V``: class indices (B,) or label vectors (B, K) -> embeddings (B, dim); ``V ~ N(0, std^2)``."""

    def __init__(self, num_classes: int, dim: int, std: float) -> None:
        super().__init__()
        if num_classes < 1:
            raise ConfigError(f"a conditional model needs num_classes >= 1, got {num_classes}")
        self.num_classes = num_classes
        self.weight = nn.Parameter(torch.randn(num_classes, dim) * std)  # V: (K, dim)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        if not labels.is_floating_point():
            return F.embedding(labels, self.weight)  # (B,) -> (B, dim)
        if labels.dim() != 2 or labels.shape[1] != self.num_classes:
            raise ValueError(f"label vectors must be (B, {self.num_classes}), got {tuple(labels.shape)}")
        return labels.to(self.weight.dtype) @ self.weight  # (B, K) @ (K, dim)


def projection_logit(embedding: LabelEmbedding, labels: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """``<V y, phi(x)>`` (Miyato & Koyama 2018, Eq. 3): features (B, F), embedding dim F -> (B, 1)."""
    return (embedding(labels) * features).sum(dim=1, keepdim=True)


def check_labels(model: nn.Module, labels: torch.Tensor | None, *, conditional: bool, use: str) -> None:
    """Raise :class:`ConfigError` if a conditional ``model`` has no labels, or an unconditional one has some.

    ``use`` tells the user how to train a conditional model (which objective gives labels);
    ``model.num_classes`` is named in the message.
    """
    name = type(model).__name__
    if conditional and labels is None:
        classes = getattr(model, "num_classes", "?")
        raise ConfigError(f"{name} is conditional (num_classes={classes}) and needs labels: {use}")
    if not conditional and labels is not None:
        raise ConfigError(
            f"{name} was given labels but is unconditional: set num_classes (and, for a "
            "discriminator, conditioning: concat or projection)"
        )
