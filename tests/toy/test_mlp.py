"""The toy MLPs: shapes, layer structure, the PacGAN options (batch norm, maxout), spectral norm."""

import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError
from speechgan_plugins.toy.mlp import Maxout, MLPDiscriminator, MLPGenerator


def _linears(module: nn.Module) -> list[nn.Linear]:
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


def test_generator_maps_noise_to_points():
    g = MLPGenerator(latent_dim=3, output_dim=2, hidden_dim=16, num_layers=3)
    assert g.latent_dim == 3
    assert g(torch.randn(5, 3)).shape == (5, 2)
    assert [(lin.in_features, lin.out_features) for lin in _linears(g)] == [(3, 16), (16, 16), (16, 16), (16, 2)]
    assert sum(isinstance(m, nn.ReLU) for m in g.net) == 3


def test_discriminator_gives_one_logit_per_packed_sample():
    d = MLPDiscriminator(input_dim=8, hidden_dim=16, num_layers=2)
    assert d(torch.randn(7, 8)).shape == (7, 1)
    assert [(lin.in_features, lin.out_features) for lin in _linears(d)] == [(8, 16), (16, 16), (16, 1)]


def test_generator_batch_norm_normalizes_each_hidden_layer_in_training():
    g = MLPGenerator(latent_dim=2, hidden_dim=8, num_layers=2, batch_norm=True)
    norms = [m for m in g.net if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 2
    assert [lin.bias is None for lin in _linears(g)] == [True, True, False]  # BN's shift replaces the bias
    hidden = g.net[:2](torch.randn(64, 2) * 5 + 3)  # (64, 8) after the first BN
    torch.testing.assert_close(hidden.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
    g.eval()  # running statistics: a single sample works
    assert g(torch.randn(1, 2)).shape == (1, 2)


def test_maxout_takes_the_max_of_consecutive_groups():
    x = torch.tensor([[1.0, 5.0, 2.0, -1.0, -3.0, -2.0]])  # (1, 6): two units of 3 pieces
    torch.testing.assert_close(Maxout(3)(x), torch.tensor([[5.0, -1.0]]))


def test_discriminator_maxout_layers_have_k_times_the_width():
    d = MLPDiscriminator(input_dim=4, hidden_dim=10, num_layers=3, maxout_pieces=5)
    assert [(lin.in_features, lin.out_features) for lin in _linears(d)] == [(4, 50), (10, 50), (10, 50), (10, 1)]
    assert not any(isinstance(m, nn.LeakyReLU) for m in d.net)
    assert d(torch.randn(3, 4)).shape == (3, 1)


def test_spectral_norm_bounds_every_layer_of_the_discriminator():
    d = MLPDiscriminator(input_dim=2, hidden_dim=32, num_layers=2, spectral_norm=True)
    for _ in range(30):  # power iterations run in training mode forward passes
        d(torch.randn(16, 2))
    d.eval()
    with torch.no_grad():
        norms = [float(torch.linalg.matrix_norm(lin.weight, ord=2)) for lin in _linears(d)]
    assert norms == pytest.approx([1.0, 1.0, 1.0], abs=0.05)


def test_bad_sizes_are_config_errors():
    with pytest.raises(ConfigError, match=r"^mlp: hidden_dim must be >= 1, got 0$"):
        MLPGenerator(hidden_dim=0)
    with pytest.raises(ConfigError, match=r"^mlp: maxout_pieces must be >= 1, got 0$"):
        MLPDiscriminator(maxout_pieces=0)
