"""DCGAN generators and discriminators, unconditional and class-conditional.

DCGAN (Radford et al. 2016, "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks"): no pooling (strided convolutions in D, transposed
convolutions in G), batch norm in G (not on its output) and in D (not on its input),
ReLU in G with a tanh output in [-1, 1], LeakyReLU 0.2 in D, weights drawn from
N(0, 0.02). The paper trains with Adam, lr 2e-4, betas (0.5, 0.999); the recipes do too.

The paper's 64x64 generator projects z to a 4x4 map and doubles it four times. The same
rule gives 32x32 (three doublings); 28x28 (MNIST) starts from 7x7 and 8x8 (scikit-learn's
digits) from 2x2, two doublings each, because a 4x4 start leaves a single layer.

Conditioning:

* the generator concatenates a label embedding with z (Mirza & Osindero 2014,
  "Conditional Generative Adversarial Nets");
* the discriminator takes the label embedding as extra input channels (``concat``,
  Mirza & Osindero), or as a projection (Miyato & Koyama 2018, "cGANs with Projection
  Discriminator": ``logit = psi(phi(x)) + <V y, phi(x)>``), or not at all but with an
  auxiliary classifier head returning ``(logit, class_logits)`` (``auxiliary``, Odena et
  al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs").

Labels are class indices ``(B,)`` (long) or label vectors ``(B, K)`` (float, e.g. multi-hot
or probabilities): ``y^T V`` with one-hot ``y`` is the embedding lookup, so one embedding
serves both. :class:`DCGANClassifier` is the discriminator's trunk with ``K`` sigmoid
outputs: the generator of the image-to-label objective.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from speechgan.errors import ConfigError
from speechgan.nn import LabelEmbedding, check_labels, projection_logit

__all__ = [
    "IMAGE_SIZES",
    "LabelEmbedding",
    "DCGANGenerator",
    "DCGANEncoder",
    "DCGANDiscriminator",
    "DCGANClassifier",
    "dcgan_init",
]

ImageSize = Literal[8, 28, 32, 64]
Conditioning = Literal["none", "concat", "projection", "auxiliary"]

#: image side -> (side of G's first / D's last feature map, number of 2x resolution steps)
IMAGE_SIZES: dict[int, tuple[int, int]] = {8: (2, 2), 28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _layout(image_size: int, what: str) -> tuple[int, int]:
    if image_size not in IMAGE_SIZES:
        raise ConfigError(f"{what}: image_size must be one of {', '.join(map(str, IMAGE_SIZES))}, got {image_size}")
    return IMAGE_SIZES[image_size]


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: conv and linear weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """DCGAN generator: z (B, latent_dim) [+ labels] -> images (B, channels, S, S) in [-1, 1]."""

    def __init__(
        self,
        image_size: ImageSize = 32,
        channels: int = 1,
        latent_dim: int = 100,
        base_channels: int = 64,
        num_classes: int = 0,
        embed_dim: int = 10,
    ) -> None:
        super().__init__()
        start, doublings = _layout(image_size, "DCGANGenerator")
        self.latent_dim, self.num_classes, self.image_size = latent_dim, num_classes, image_size
        width = base_channels * 2 ** (doublings - 1)
        in_dim = latent_dim + (embed_dim if num_classes else 0)
        # z as a 1x1 map; a start x start transposed conv is DCGAN's projection of z
        layers: list[nn.Module] = [nn.ConvTranspose2d(in_dim, width, start, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)]
        for _ in range(doublings - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)
        # the label code is concatenated with z ~ N(0, 1): on the same scale, not DCGAN's 0.02
        self.label = LabelEmbedding(num_classes, embed_dim, std=1.0) if num_classes else None

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_labels(
            self, labels, conditional=self.label is not None,
            use="train it with objective cgan or acgan, or set num_classes: 0",
        )
        if self.label is not None:
            z = torch.cat([z, self.label(labels)], dim=1)  # (B, latent_dim + embed_dim)
        return self.net(z[:, :, None, None])  # (B, C, S, S)


class DCGANEncoder(nn.Module):
    """DCGAN discriminator trunk: images (B, C, S, W) -> features phi(x) (B, out_features).

    Strided 4x4 convolutions halve the resolution down to IMAGE_SIZES' first map size;
    batch norm on every layer but the first. ``width`` (default ``image_size``) allows
    non-square inputs such as two 8x8 digits side by side (8x16).
    """

    def __init__(
        self, image_size: ImageSize, channels: int, base_channels: int, batch_norm: bool = True, width: int | None = None
    ) -> None:
        super().__init__()
        start, doublings = _layout(image_size, "DCGANEncoder")
        width = image_size if width is None else width
        if width % 2**doublings:
            raise ConfigError(f"width must be a multiple of {2**doublings} for {image_size}-pixel-high images, got {width}")
        c = base_channels
        layers: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for _ in range(doublings - 1):
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=not batch_norm)]
            layers += [nn.BatchNorm2d(2 * c)] if batch_norm else []
            layers += [nn.LeakyReLU(0.2, True)]
            c *= 2
        self.net = nn.Sequential(*layers)
        self.out_features = c * start * (width // 2**doublings)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten(1)  # (B, c * start * start')


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: images [+ labels] -> logits (B, 1), or (logits, class logits) for ACGAN.

    ``conditioning``: ``none``; ``concat`` (label embedding of ``embed_dim`` as extra input
    channels); ``projection`` (Miyato & Koyama 2018); ``auxiliary`` (ACGAN's class head,
    no label input). ``num_classes`` counts classes, or the labels of a label vector.
    The last layer is linear on the flattened features, as DCGAN's final convolution is.
    """

    def __init__(
        self,
        image_size: ImageSize = 32,
        channels: int = 1,
        base_channels: int = 64,
        batch_norm: bool = True,
        conditioning: Conditioning = "none",
        num_classes: int = 0,
        embed_dim: int = 10,
        width: int | None = None,
    ) -> None:
        super().__init__()
        if conditioning != "none" and num_classes < 1:
            raise ConfigError(f"DCGANDiscriminator: conditioning {conditioning!r} needs num_classes >= 1, got {num_classes}")
        self.conditioning, self.num_classes = conditioning, num_classes if conditioning != "none" else 0
        extra = embed_dim if conditioning == "concat" else 0
        self.encoder = DCGANEncoder(image_size, channels + extra, base_channels, batch_norm, width)
        features = self.encoder.out_features
        self.head = nn.Linear(features, 1)  # psi
        self.classifier = nn.Linear(features, num_classes) if conditioning == "auxiliary" else None
        dcgan_init(self)
        self.label: LabelEmbedding | None = None
        if conditioning == "concat":  # input channels next to pixels in [-1, 1]
            self.label = LabelEmbedding(num_classes, embed_dim, std=1.0)
        elif conditioning == "projection":  # V, on the scale of psi's weights
            self.label = LabelEmbedding(num_classes, features, std=0.02)

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        check_labels(
            self, labels, conditional=self.label is not None,
            use="train it with objective cgan or image_to_label (acgan's discriminator has conditioning: auxiliary)",
        )
        if self.conditioning == "concat":
            code = self.label(labels)[:, :, None, None]  # type: ignore[misc]  # (B, E, 1, 1)
            x = torch.cat([x, code.expand(-1, -1, *x.shape[2:])], dim=1)  # (B, C + E, H, W)
        h = self.encoder(x)  # phi(x): (B, F)
        logit = self.head(h)  # (B, 1)
        if self.conditioning == "projection":
            logit = logit + projection_logit(self.label, labels, h)  # type: ignore[arg-type]
        if self.classifier is not None:
            return logit, self.classifier(h)  # (B, 1), (B, K)
        return logit


class DCGANClassifier(nn.Module):
    """DCGAN discriminator trunk with sigmoid outputs: images (B, C, S, W) -> label probabilities (B, K)."""

    def __init__(
        self,
        image_size: ImageSize = 8,
        channels: int = 1,
        base_channels: int = 64,
        num_labels: int = 10,
        batch_norm: bool = True,
        width: int | None = None,
    ) -> None:
        super().__init__()
        self.num_labels = num_labels
        self.encoder = DCGANEncoder(image_size, channels, base_channels, batch_norm, width)
        self.head = nn.Linear(self.encoder.out_features, num_labels)
        dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.encoder(x)))  # (B, K)
