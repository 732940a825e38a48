"""Normalised convolutions: padding rules, parameter counts, norm removal, spectral norm, init (normal, Glorot)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from speechgan.errors import ConfigError
from speechgan.nn import (
    conv1d,
    conv2d,
    conv_transpose1d,
    get_padding,
    init_conv_normal,
    init_glorot_uniform,
    remove_parametrizations,
    transposed_padding,
)


@pytest.mark.parametrize("kernel_size", [3, 5, 7, 11, 15, 41])
@pytest.mark.parametrize("dilation", [1, 2, 3, 5, 12])
def test_same_padding_keeps_the_length_of_dilated_odd_kernels(kernel_size: int, dilation: int) -> None:
    conv = conv1d(in_channels=2, out_channels=3, kernel_size=kernel_size, dilation=dilation)
    assert conv.padding == (get_padding(kernel_size, dilation),)
    assert conv(torch.randn(1, 2, 200)).shape == (1, 3, 200)


def test_get_padding_is_hifigans_formula() -> None:
    # int((k * d - d) / 2) as in HiFi-GAN's utils.py, for its ResBlock kernels and dilations
    assert [get_padding(k, d) for k, d in [(3, 1), (3, 5), (7, 3), (11, 5), (7, 12), (5, 1)]] == [1, 5, 9, 25, 36, 2]


def test_conv2d_default_padding_is_per_axis() -> None:
    # HiFi-GAN's period discriminator: (5, 1) kernels, stride (3, 1), padding (2, 0)
    conv = conv2d(in_channels=1, out_channels=4, kernel_size=(5, 1), stride=(3, 1))
    assert conv.padding == (2, 0)
    assert conv(torch.randn(2, 1, 30, 7)).shape == (2, 4, 10, 7)


def test_even_kernel_without_padding_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        conv1d(in_channels=1, out_channels=1, kernel_size=4)
    assert str(err.value) == (
        "conv1d: kernel_size 4 is even, so no symmetric padding keeps the length; "
        "use an odd kernel or pass padding explicitly"
    )
    explicit = conv1d(in_channels=1, out_channels=1, kernel_size=4, stride=2, padding=1)
    assert explicit(torch.randn(1, 1, 8)).shape == (1, 1, 4)


@pytest.mark.parametrize(
    ("kernel_size", "stride", "expected"),
    [(16, 8, (4, 0)), (4, 2, (1, 0)), (8, 4, (2, 0)),  # HiFi-GAN: (k - u) // 2
     (6, 3, (2, 1)), (10, 5, (3, 1)),  # MelGAN with odd rates: k = 2u, u // 2 + u % 2, output padding u % 2
     (4, 4, (0, 0))],
)
def test_transposed_padding_gives_exactly_t_times_stride(
    kernel_size: int, stride: int, expected: tuple[int, int]
) -> None:
    assert transposed_padding(kernel_size, stride) == expected
    up = conv_transpose1d(in_channels=3, out_channels=2, kernel_size=kernel_size, stride=stride)
    for frames in (1, 7, 32):
        assert up(torch.randn(1, 3, frames)).shape == (1, 2, frames * stride)


def test_transposed_kernel_shorter_than_stride_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^conv_transpose1d: kernel_size 2 is smaller than stride 4, "):
        conv_transpose1d(in_channels=1, out_channels=1, kernel_size=2, stride=4)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_of_each_norm() -> None:
    cin, cout, k = 6, 10, 7
    # weight (cout, cin, k) + bias (cout); weight norm adds g (cout, 1, 1); spectral norm adds buffers only
    assert _count(conv1d(in_channels=cin, out_channels=cout, kernel_size=k)) == cout * cin * k + cout
    assert _count(conv1d(in_channels=cin, out_channels=cout, kernel_size=k, norm="weight")) == cout * cin * k + 2 * cout
    assert _count(conv1d(in_channels=cin, out_channels=cout, kernel_size=k, norm="spectral")) == cout * cin * k + cout
    # a transposed weight is (cin, cout, k): weight norm's g has one entry per *input* channel
    up = conv_transpose1d(in_channels=cin, out_channels=cout, kernel_size=16, stride=8, norm="weight")
    assert _count(up) == cin * cout * 16 + cout + cin
    # grouped: (cout, cin / groups, k)
    grouped = conv1d(in_channels=8, out_channels=16, kernel_size=41, stride=4, groups=4, norm="weight")
    assert _count(grouped) == 16 * 2 * 41 + 16 + 16


def test_unknown_norm_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        conv1d(in_channels=1, out_channels=1, kernel_size=3, norm="batch")  # type: ignore[arg-type]
    assert str(err.value) == "unknown norm 'batch': use 'none', 'weight' or 'spectral'"


class _Mixed(nn.Module):
    """Weight- and spectrally normed convolutions of every kind, in one module."""

    def __init__(self) -> None:
        super().__init__()
        self.pre = conv1d(in_channels=4, out_channels=8, kernel_size=7, norm="weight")
        self.up = conv_transpose1d(in_channels=8, out_channels=4, kernel_size=8, stride=4, norm="weight")
        self.post = conv1d(in_channels=4, out_channels=2, kernel_size=3, norm="spectral")
        self.conv2 = conv2d(in_channels=2, out_channels=3, kernel_size=(5, 1), norm="weight")

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 4, T) -> (B, 3, 2 T, 2)
        h = self.post(F.leaky_relu(self.up(F.leaky_relu(self.pre(x), 0.1)), 0.1))  # (B, 2, 4 T)
        return self.conv2(h.reshape(h.shape[0], 2, -1, 2))


def test_remove_parametrizations_keeps_outputs_and_leaves_plain_weights() -> None:
    torch.manual_seed(0)
    model = _Mixed()
    x = torch.randn(3, 4, 25)
    for _ in range(3):  # training forwards move spectral norm's power-iteration vectors
        model(x)
    model.eval()
    with torch.no_grad():
        before = model(x)
        g, v = model.pre.parametrizations.weight.original0.clone(), model.pre.parametrizations.weight.original1.clone()
    model.train()
    assert remove_parametrizations(model) is model
    assert model.training  # the training flag is restored
    assert not any(parametrize.is_parametrized(m) for m in model.modules())
    assert all(name.endswith(("weight", "bias")) and "parametrizations" not in name for name in model.state_dict())
    assert torch.allclose(model.pre.weight, g * v / v.norm(dim=(1, 2), keepdim=True), atol=1e-7)
    with torch.no_grad():
        after = model.eval()(x)
    assert (after - before).abs().max().item() <= 1e-6


def test_spectral_norm_gives_a_unit_top_singular_value() -> None:
    torch.manual_seed(0)
    conv = conv2d(in_channels=6, out_channels=16, kernel_size=3, norm="spectral")
    with torch.no_grad():
        conv.parametrizations.weight.original.mul_(7.0)  # far from unit norm before normalisation
    original = conv.parametrizations.weight.original.detach().reshape(16, -1)
    assert torch.linalg.matrix_norm(original, ord=2).item() > 3.0
    x = torch.randn(2, 6, 8, 8)
    for _ in range(100):  # one power iteration per training forward; sigma_2 / sigma_1 = 0.95 here
        conv(x)
    conv.eval()
    sigma = torch.linalg.matrix_norm(conv.weight.detach().reshape(16, -1), ord=2).item()
    assert sigma == pytest.approx(1.0, abs=1e-5)


def test_init_conv_normal_sets_the_effective_weight_even_under_weight_norm() -> None:
    torch.manual_seed(0)
    plain = conv1d(in_channels=64, out_channels=64, kernel_size=7)
    normed = conv1d(in_channels=64, out_channels=64, kernel_size=7, norm="weight")
    spectral = conv1d(in_channels=64, out_channels=64, kernel_size=7, norm="spectral")
    up = conv_transpose1d(in_channels=64, out_channels=64, kernel_size=8, stride=4, norm="weight")
    # PyTorch's default: uniform(+-1 / sqrt(fan_in)), std 1 / sqrt(3 * 64 * 7) = 0.0273
    assert normed.weight.std().item() == pytest.approx((3 * 64 * 7) ** -0.5, rel=0.05)
    bias = normed.bias.detach().clone()
    model = nn.ModuleList([plain, normed, spectral, up])
    init_conv_normal(model, std=0.01)
    for conv in (plain, normed, up):
        assert conv.weight.mean().item() == pytest.approx(0.0, abs=5e-4)
        assert conv.weight.std().item() == pytest.approx(0.01, rel=0.05)
    # weight norm stores v = w and g = ||w||: the convolution computes with the drawn w itself
    wn = normed.parametrizations.weight
    assert torch.allclose(normed.weight, wn.original1, atol=1e-8)
    assert torch.allclose(wn.original0, wn.original1.norm(dim=(1, 2), keepdim=True))
    assert spectral.parametrizations.weight.original.std().item() == pytest.approx(0.01, rel=0.05)
    assert torch.equal(normed.bias, bias)  # biases are left alone, as in HiFi-GAN


def test_init_glorot_uniform_draws_within_the_glorot_bound_and_zeroes_biases() -> None:
    torch.manual_seed(0)
    conv = nn.Conv1d(16, 32, 25)  # fans 16 * 25 and 32 * 25
    up = nn.ConvTranspose2d(32, 16, 5)  # weight (32, 16, 5, 5): fans 16 * 25 and 32 * 25 as well
    normed = conv1d(in_channels=16, out_channels=32, kernel_size=25, norm="weight")
    dense = nn.Linear(300, 100)
    plain_norm = nn.BatchNorm1d(8)
    model = nn.ModuleList([conv, up, normed, dense, plain_norm])
    scale = plain_norm.weight.detach().clone()
    init_glorot_uniform(model)
    # Glorot & Bengio 2010, Eq. 16: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), variance a^2 / 3
    for layer, fans in ((conv, 48 * 25), (up, 48 * 25), (normed, 48 * 25), (dense, 400)):
        bound = (6.0 / fans) ** 0.5
        weight = layer.weight.detach()
        assert weight.abs().max().item() <= bound
        assert weight.abs().max().item() == pytest.approx(bound, rel=0.02)  # the draws reach the bound
        assert weight.std().item() == pytest.approx(bound / 3**0.5, rel=0.05)
        assert torch.count_nonzero(layer.bias) == 0
    wn = normed.parametrizations.weight  # the convolution computes with the drawn w itself
    assert torch.allclose(normed.weight, wn.original1, atol=1e-8)
    assert torch.equal(plain_norm.weight, scale)  # other layers are left alone
