"""Class conditioning shared by the WaveGAN and SpecGAN models (:mod:`.wavegan`, :mod:`.specgan`).

The paper (Donahue, McAuley & Puckette, ICLR 2019, "Adversarial Audio Synthesis") generates
unconditionally; the conditional variants here follow the conditional DCGANs of the image plugin,
with the blocks of :mod:`speechgan.nn.conditioning`:

* G concatenates a label code with z (Mirza & Osindero 2014, "Conditional Generative Adversarial
  Nets"), drawn with U(-1, 1)'s standard deviation so that it is on the scale of z;
* D (:class:`ConditionalCritic`) takes a label code of ``embed_dim`` as extra input channels,
  constant over time (and frequency) (``concat``, same paper, same scale), or adds the projection
  ``<V y, phi(x)>`` to its logit ``psi(phi(x))`` (``projection``, Miyato & Koyama 2018, "cGANs with
  Projection Discriminator"), V on the scale of psi's Glorot-uniform weights: std ``sqrt(2 / (F + 1))``
  for F features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

import torch
from torch import nn

from speechgan.errors import ConfigError
from speechgan.nn import LabelEmbedding, check_labels, projection_logit

__all__ = ["CODE_STD", "Conditioning", "ConditionalCritic", "generator_label", "with_label"]

Conditioning = Literal["none", "concat", "projection"]
#: standard deviation of U(-1, 1): a label code concatenated with z (or with D's input) on z's scale
CODE_STD = 3.0**-0.5


def generator_label(num_classes: int, embed_dim: int) -> LabelEmbedding | None:
    """G's label codes (num_classes, embed_dim), or None for an unconditional generator (``num_classes`` 0)."""
    return LabelEmbedding(num_classes, embed_dim, std=CODE_STD) if num_classes else None


def with_label(z: torch.Tensor, label: LabelEmbedding | None, labels: torch.Tensor | None) -> torch.Tensor:
    """z (B, latent_dim) -> (B, latent_dim + embed_dim) with the code of ``labels``; z itself without ``label``."""
    if label is None:
        return z
    return torch.cat([z, label(labels)], dim=1)  # type: ignore[arg-type]  # labels: checked by check_labels


class ConditionalCritic(nn.Module):
    """Base of the WaveGAN and SpecGAN critics: inputs (B, C, ...) [+ labels (B,)] -> logits ``psi(phi(x))`` (B, 1).

    A subclass builds its trunk phi on ``C + self.label_channels`` input channels and its head
    ``self.head`` (F -> 1), initialises their weights, then calls :meth:`embed_labels` (so that the
    codes are drawn after the layers, whatever the conditioning); its ``forward`` calls
    :meth:`check_labels`, checks the input's shape and returns :meth:`conditioned_logit`.
    """

    #: how a conditional critic gets labels (the objective), for the error a call without them raises
    labels_from: ClassVar[str] = "objective cgan"
    head: nn.Linear
    label: LabelEmbedding | None

    def __init__(self, *, conditioning: Conditioning, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        who = type(self).__name__
        if conditioning not in ("none", "concat", "projection"):
            raise ConfigError(f"{who}: conditioning must be 'none', 'concat' or 'projection', got {conditioning!r}")
        if conditioning != "none" and num_classes < 1:
            raise ConfigError(f"{who}: conditioning {conditioning!r} needs num_classes >= 1, got {num_classes}")
        self.conditioning, self.num_classes = conditioning, num_classes if conditioning != "none" else 0
        self.embed_dim = embed_dim
        self.label_channels = embed_dim if conditioning == "concat" else 0  # the code's extra input channels

    def embed_labels(self, features: int) -> None:
        """The label codes: ``concat``'s (K, embed_dim), ``projection``'s V (K, features) for phi(x) of
        ``features`` dimensions, or none."""
        self.label = None
        if self.conditioning == "concat":
            self.label = LabelEmbedding(self.num_classes, self.embed_dim, std=CODE_STD)
        elif self.conditioning == "projection":  # V on the scale of psi's Glorot weights: std sqrt(2 / (F + 1))
            self.label = LabelEmbedding(self.num_classes, features, std=(2.0 / (features + 1)) ** 0.5)

    def check_labels(self, labels: torch.Tensor | None) -> None:
        """Refuse a conditional critic without labels, or an unconditional one with some (:func:`check_labels`)."""
        check_labels(self, labels, conditional=self.label is not None,
                     use=f"train it with {self.labels_from}, or set conditioning: none")

    def conditioned_logit(
        self, x: torch.Tensor, labels: torch.Tensor | None, features: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """``psi(phi(x))`` (B, 1), plus ``<V y, phi(x)>`` with ``projection``, of inputs x (B, C, ...); ``features``
        is phi: (B, C + label_channels, ...) -> (B, F)."""
        if self.conditioning == "concat":
            code = self.label(labels)  # type: ignore[misc]  # (B, E)
            code = code.reshape(*code.shape, *(1,) * (x.dim() - 2))  # (B, E, 1, ...)
            x = torch.cat([x, code.expand(-1, -1, *x.shape[2:])], dim=1)  # (B, C + E, ...)
        h = features(x)  # phi(x): (B, F)
        logit = self.head(h)  # (B, 1)
        if self.conditioning == "projection":
            logit = logit + projection_logit(self.label, labels, h)  # type: ignore[arg-type]
        return logit
