"""DCGAN generators, discriminators and the classifier: shapes, architecture, conditioning."""

import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError
from speechgan_plugins.image.models import (
    DCGANClassifier,
    DCGANDiscriminator,
    DCGANGenerator,
    LabelEmbedding,
)

SIZES = [8, 28, 32, 64]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes_for_every_size(size, channels):
    torch.manual_seed(0)
    g = DCGANGenerator(image_size=size, channels=channels, latent_dim=16, base_channels=8)
    d = DCGANDiscriminator(image_size=size, channels=channels, base_channels=8)
    assert g.latent_dim == 16
    x = g(torch.randn(3, 16))
    assert x.shape == (3, channels, size, size)
    assert x.abs().max() <= 1.0  # tanh output
    assert d(x).shape == (3, 1)


@pytest.mark.parametrize("size", SIZES)
def test_conditional_and_auxiliary_shapes_for_every_size(size):
    g = DCGANGenerator(image_size=size, latent_dim=8, base_channels=4, num_classes=10, embed_dim=5)
    labels = torch.tensor([0, 3, 9])
    x = g(torch.randn(3, 8), labels)
    assert x.shape == (3, 1, size, size)
    for conditioning in ("concat", "projection"):
        d = DCGANDiscriminator(image_size=size, base_channels=4, conditioning=conditioning, num_classes=10)
        assert d(x, labels).shape == (3, 1)
    logit, classes = DCGANDiscriminator(image_size=size, base_channels=4, conditioning="auxiliary", num_classes=10)(x)
    assert logit.shape == (3, 1) and classes.shape == (3, 10)


def test_layer_counts_follow_the_dcgan_rule():
    # 64: z -> 4x4 then four doublings (the paper's generator); 8: 2x2 then two
    for size, transposed in [(64, 5), (32, 4), (28, 3), (8, 3)]:
        g = DCGANGenerator(image_size=size, base_channels=4)
        assert sum(isinstance(m, nn.ConvTranspose2d) for m in g.modules()) == transposed
    g = DCGANGenerator(image_size=64, base_channels=4, latent_dim=10)
    first = g.net[0]
    assert (first.in_channels, first.out_channels, first.kernel_size) == (10, 32, (4, 4))


def test_architecture_follows_radford_et_al():
    g = DCGANGenerator(image_size=32, base_channels=8)
    d = DCGANDiscriminator(image_size=32, base_channels=8)
    layers = list(g.net)
    # batch norm after every transposed conv but the last, which feeds tanh
    assert isinstance(layers[-1], nn.Tanh) and isinstance(layers[-2], nn.ConvTranspose2d)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 3
    assert all(isinstance(m, nn.ReLU) for m in layers if isinstance(m, (nn.ReLU, nn.LeakyReLU)))
    # D: no batch norm on its input layer, LeakyReLU 0.2, strided convs, no pooling
    trunk = list(d.encoder.net)
    assert isinstance(trunk[0], nn.Conv2d) and isinstance(trunk[1], nn.LeakyReLU)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 2
    assert {m.negative_slope for m in d.modules() if isinstance(m, nn.LeakyReLU)} == {0.2}
    assert {m.stride for m in d.modules() if isinstance(m, nn.Conv2d)} == {(2, 2)}
    assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in d.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in DCGANDiscriminator(batch_norm=False).modules())


def test_weights_are_drawn_from_n_0_002():
    torch.manual_seed(0)
    g = DCGANGenerator(image_size=64, base_channels=64)
    d = DCGANDiscriminator(image_size=64, base_channels=64)
    for w in (g.net[0].weight, g.net[3].weight, d.encoder.net[2].weight):
        assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.02)
    bn = g.net[1]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and bn.bias.abs().max() == 0


def test_changing_the_label_changes_the_generator_output():
    torch.manual_seed(0)
    g = DCGANGenerator(image_size=8, latent_dim=16, base_channels=8, num_classes=10).eval()
    z = torch.randn(4, 16)
    same = g(z, torch.tensor([1, 1, 1, 1]))
    assert torch.equal(same, g(z, torch.tensor([1, 1, 1, 1])))
    other = g(z, torch.tensor([2, 2, 2, 2]))
    # every sample changed, by far more than rounding (a fresh G's outputs are small: weights ~ N(0, 0.02))
    change = (same - other).flatten(1).norm(dim=1) / same.flatten(1).norm(dim=1)
    assert (change > 0.1).all()


def test_projection_discriminator_output_depends_on_the_label():
    torch.manual_seed(0)
    d = DCGANDiscriminator(image_size=8, base_channels=8, conditioning="projection", num_classes=10).eval()
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    y = torch.tensor([0, 1, 2, 3, 4])
    out = d(x, y)
    # logit = psi(phi(x)) + <V y, phi(x)>, computed independently
    phi = d.encoder(x)
    expected = d.head(phi) + (d.label.weight[y] * phi).sum(1, keepdim=True)
    torch.testing.assert_close(out, expected)
    assert ((out - d(x, (y + 1) % 10)).abs() > 1e-6).all()


def test_concat_discriminator_output_depends_on_the_label():
    torch.manual_seed(0)
    d = DCGANDiscriminator(image_size=8, base_channels=8, conditioning="concat", num_classes=10).eval()
    x = torch.rand(5, 1, 8, 8) * 2 - 1
    y = torch.arange(5)
    assert ((d(x, y) - d(x, y + 5)).abs() > 1e-6).all()


def test_label_vectors_and_class_indices_share_one_embedding():
    emb = LabelEmbedding(num_classes=4, dim=3, std=1.0)
    y = torch.tensor([2, 0, 3])
    torch.testing.assert_close(emb(y), emb(torch.nn.functional.one_hot(y, 4).float()))
    multi = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    torch.testing.assert_close(emb(multi), (emb.weight[0] + emb.weight[2])[None])
    with pytest.raises(ValueError, match=r"label vectors must be \(B, 4\), got \(1, 3\)"):
        emb(torch.zeros(1, 3))


def test_classifier_gives_label_probabilities_for_square_and_wide_images():
    c = DCGANClassifier(image_size=8, base_channels=8, num_labels=10)
    p = c(torch.rand(6, 1, 8, 8))
    assert p.shape == (6, 10) and ((p > 0) & (p < 1)).all()
    wide = DCGANClassifier(image_size=8, base_channels=8, num_labels=10, width=16)
    assert wide(torch.rand(2, 1, 8, 16)).shape == (2, 10)
    d = DCGANDiscriminator(image_size=8, base_channels=8, conditioning="projection", num_classes=10, width=16)
    assert d(torch.rand(2, 1, 8, 16), torch.rand(2, 10)).shape == (2, 1)


def test_wrong_pairings_are_config_errors():
    with pytest.raises(ConfigError, match="is conditional \\(num_classes=10\\) and needs labels"):
        DCGANGenerator(image_size=8, num_classes=10)(torch.randn(2, 100))
    with pytest.raises(ConfigError, match="was given labels but is unconditional"):
        DCGANDiscriminator(image_size=8)(torch.rand(2, 1, 8, 8), torch.tensor([0, 1]))
    with pytest.raises(ConfigError, match="conditioning 'projection' needs num_classes >= 1, got 0"):
        DCGANDiscriminator(conditioning="projection")
    with pytest.raises(ConfigError, match="image_size must be one of 8, 28, 32, 64, got 16"):
        DCGANGenerator(image_size=16)
    with pytest.raises(ConfigError, match="width must be a multiple of 4 for 8-pixel-high images, got 10"):
        DCGANClassifier(image_size=8, width=10)


def test_registered_under_their_names(build):
    assert isinstance(build("generator", "dcgan", image_size=8), DCGANGenerator)
    assert isinstance(build("discriminator", "dcgan", image_size=8, conditioning="concat", num_classes=10), DCGANDiscriminator)
    assert isinstance(build("generator", "dcgan_classifier", num_labels=5), DCGANClassifier)
