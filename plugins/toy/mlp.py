"""Multi-layer perceptrons for low-dimensional GANs.

PacGAN's 2-D experiments (Lin et al. 2018, after VEEGAN) use a generator of four hidden
layers of 400 ReLU units with batch normalization, and a discriminator of three hidden
layers of 200 LinearMaxout units with 5 maxout pieces (Goodfellow et al. 2013). Both are
available here (``batch_norm=True``; ``maxout_pieces=5``) next to smaller defaults that
train in minutes on a CPU: ReLU generator, LeakyReLU(0.2) discriminator.
``spectral_norm`` (Miyato et al. 2018) is available for the discriminator.
"""

from __future__ import annotations

import torch
from torch import nn

from speechgan.errors import ConfigError

__all__ = ["Maxout", "MLPGenerator", "MLPDiscriminator"]


class Maxout(nn.Module):
    """The maximum over ``pieces`` consecutive groups of features: (B, k * H) -> (B, H)."""

    def __init__(self, pieces: int) -> None:
        super().__init__()
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (-1, self.pieces)).amax(dim=-1)


def _mlp(
    sizes: list[int], activation: nn.Module, *, spectral_norm: bool = False, batch_norm: bool = False,
    maxout_pieces: int = 1,
) -> nn.Sequential:
    """Linear layers through ``sizes``; each hidden one is followed by [BatchNorm,] activation.

    With ``maxout_pieces`` = k > 1 a hidden layer computes k x its width and :class:`Maxout`
    replaces the activation (a LinearMaxout layer).
    """
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        hidden = i < len(sizes) - 2
        pieces = maxout_pieces if hidden else 1
        linear = nn.Linear(a, b * pieces, bias=not (hidden and batch_norm))  # BN's shift is the bias
        layers.append(nn.utils.parametrizations.spectral_norm(linear) if spectral_norm else linear)
        if hidden:
            if batch_norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(Maxout(pieces) if pieces > 1 else activation)
    return nn.Sequential(*layers)


def _check(name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ConfigError(f"mlp: {name} must be >= {minimum}, got {value}")


class MLPGenerator(nn.Module):
    """Noise (B, latent_dim) -> samples (B, output_dim) through ReLU hidden layers.

    ``batch_norm`` normalizes every hidden layer before its ReLU, as PacGAN's generator does.
    """

    def __init__(
        self, latent_dim: int = 2, output_dim: int = 2, hidden_dim: int = 128, num_layers: int = 3,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("latent_dim", latent_dim), ("output_dim", output_dim), ("hidden_dim", hidden_dim)):
            _check(name, value, 1)
        _check("num_layers", num_layers, 0)
        self.latent_dim = latent_dim
        sizes = [latent_dim] + [hidden_dim] * num_layers + [output_dim]
        self.net = _mlp(sizes, nn.ReLU(), batch_norm=batch_norm)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """Samples (B, input_dim) -> one logit each (B, 1); input_dim = pack x data dim.

    Hidden layers use LeakyReLU(0.2), or LinearMaxout with ``maxout_pieces`` > 1 (PacGAN: 5).
    """

    def __init__(
        self, input_dim: int = 2, hidden_dim: int = 128, num_layers: int = 3, spectral_norm: bool = False,
        maxout_pieces: int = 1,
    ) -> None:
        super().__init__()
        for name, value in (("input_dim", input_dim), ("hidden_dim", hidden_dim), ("maxout_pieces", maxout_pieces)):
            _check(name, value, 1)
        _check("num_layers", num_layers, 0)
        sizes = [input_dim] + [hidden_dim] * num_layers + [1]
        self.net = _mlp(sizes, nn.LeakyReLU(0.2), spectral_norm=spectral_norm, maxout_pieces=maxout_pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
