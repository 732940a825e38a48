"""Gated convolution blocks and the 1-D pixel shuffler of CycleGAN-VC."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.nn import (
    GLUConv1d,
    GLUConv2d,
    GLUResidualBlock1d,
    PixelShuffle1d,
    PixelUnshuffle1d,
    feature_norm,
)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_glu_is_a_times_sigmoid_b_on_a_hand_made_example() -> None:
    block = GLUConv1d(in_channels=1, out_channels=1, kernel_size=1, norm="none")
    with torch.no_grad():
        block.conv.weight.copy_(torch.tensor([[[2.0]], [[-1.0]]]))  # a = 2 x + 0.5, b = -x
        block.conv.bias.copy_(torch.tensor([0.5, 0.0]))
    out = block(torch.tensor([[[1.0, -3.0, 0.0]]]))
    expected = [(2 * x + 0.5) / (1 + math.exp(x)) for x in (1.0, -3.0, 0.0)]  # a * sigmoid(-x)
    assert out.squeeze().tolist() == pytest.approx(expected, abs=1e-6)


def test_glu_halves_the_convolutions_channels_into_value_and_gate() -> None:
    torch.manual_seed(0)
    block = GLUConv1d(in_channels=3, out_channels=5, kernel_size=5, norm="none")
    x = torch.randn(2, 3, 20)
    pre = block.conv(x)  # (2, 10, 20)
    assert pre.shape == (2, 10, 20)
    a, b = pre[:, :5], pre[:, 5:]
    out = block(x)
    assert out.shape == (2, 5, 20)
    assert torch.allclose(out, a * torch.sigmoid(b), atol=1e-6)
    assert not torch.allclose(out, pre[:, :5] * torch.sigmoid(pre[:, :5]))  # not the SiLU of some ports


def test_instance_norm_normalises_each_channel_before_the_gate() -> None:
    torch.manual_seed(0)
    block = GLUConv1d(in_channels=2, out_channels=4, kernel_size=3)
    pre = block.norm(block.conv(torch.randn(3, 2, 50) * 5 + 3))  # (3, 8, 50)
    assert torch.allclose(pre.mean(dim=-1), torch.zeros(3, 8), atol=1e-5)
    assert torch.allclose(pre.var(dim=-1, unbiased=False), torch.ones(3, 8), atol=1e-3)
    assert isinstance(block.norm, nn.InstanceNorm1d) and block.norm.affine


@pytest.mark.parametrize(
    ("block", "shape_in", "shape_out"),
    [
        (GLUConv1d(in_channels=24, out_channels=128, kernel_size=15), (2, 24, 64), (2, 128, 64)),
        (GLUConv1d(in_channels=128, out_channels=256, kernel_size=5, stride=2), (2, 128, 64), (2, 256, 32)),
        (GLUConv1d(in_channels=256, out_channels=128, kernel_size=5, upscale=2), (2, 256, 32), (2, 128, 64)),
        (GLUConv2d(in_channels=1, out_channels=8, kernel_size=(5, 15)), (2, 1, 36, 32), (2, 8, 36, 32)),
        (GLUConv2d(in_channels=8, out_channels=16, kernel_size=5, stride=2), (2, 8, 36, 32), (2, 16, 18, 16)),
        (GLUConv2d(in_channels=16, out_channels=8, kernel_size=5, upscale=2), (2, 16, 18, 16), (2, 8, 36, 32)),
        (GLUResidualBlock1d(channels=16, hidden_channels=32), (2, 16, 20), (2, 16, 20)),
    ],
    ids=["conv1d", "down1d", "up1d", "conv2d", "down2d", "up2d", "residual1d"],
)
def test_shapes(block: nn.Module, shape_in: tuple[int, ...], shape_out: tuple[int, ...]) -> None:
    assert block(torch.randn(shape_in)).shape == shape_out


def test_parameter_counts_match_closed_forms() -> None:
    cin, cout, k, r = 6, 10, 5, 2
    # conv to 2 cout r channels (weight + bias), then an affine instance norm over 2 cout channels
    assert _count(GLUConv1d(in_channels=cin, out_channels=cout, kernel_size=k, upscale=r)) == (
        cin * 2 * cout * r * k + 2 * cout * r + 2 * 2 * cout
    )
    assert _count(GLUConv2d(in_channels=cin, out_channels=cout, kernel_size=(3, 5), upscale=r, norm="none")) == (
        cin * 2 * cout * r * r * 3 * 5 + 2 * cout * r * r
    )
    c, h = 8, 12  # gated conv c -> h (2 h conv channels), conv h -> c, two instance norms
    assert _count(GLUResidualBlock1d(channels=c, hidden_channels=h, kernel_size=3)) == (
        (c * 2 * h * 3 + 2 * h + 2 * 2 * h) + (h * c * 3 + c) + 2 * c
    )


def test_residual_block_adds_its_branch_to_the_input() -> None:
    torch.manual_seed(0)
    block = GLUResidualBlock1d(channels=4, hidden_channels=6)
    x = torch.randn(2, 4, 16)
    with torch.no_grad():
        nn.init.zeros_(block.conv.weight)
        nn.init.zeros_(block.conv.bias)
    assert torch.allclose(block(x), x)  # a silent branch leaves the input as it is
    with torch.no_grad():
        block.norm.bias.fill_(0.5)
    assert torch.allclose(block(x), x + 0.5)


def test_pixel_shuffle_moves_channels_into_time() -> None:
    r, c, t = 3, 2, 4
    x = torch.arange(2 * c * r * t, dtype=torch.float32).reshape(2, c * r, t)
    y = PixelShuffle1d(r)(x)
    assert y.shape == (2, c, t * r)
    for b in range(2):
        for ch in range(c):
            for step in range(t):
                for i in range(r):
                    assert y[b, ch, step * r + i] == x[b, ch * r + i, step]


@pytest.mark.parametrize("r", [1, 2, 3, 4])
def test_pixel_shuffle_round_trips(r: int) -> None:
    torch.manual_seed(r)
    x = torch.randn(3, 4 * r, 7)
    assert torch.equal(PixelUnshuffle1d(r)(PixelShuffle1d(r)(x)), x)
    y = torch.randn(3, 4, 7 * r)
    assert torch.equal(PixelShuffle1d(r)(PixelUnshuffle1d(r)(y)), y)


def test_pixel_shuffle_shape_errors() -> None:
    with pytest.raises(ConfigError) as err:
        PixelShuffle1d(4)(torch.randn(1, 6, 3))
    assert str(err.value) == "PixelShuffle1d: 6 input channels are not a multiple of the upscale factor 4"
    with pytest.raises(DataError) as err:
        PixelUnshuffle1d(4)(torch.randn(1, 2, 10))
    assert str(err.value) == (
        "PixelUnshuffle1d: length 10 is not a multiple of the downscale factor 4; pad the input to a multiple of 4"
    )


def test_feature_norm_choices() -> None:
    assert isinstance(feature_norm("batch", channels=3, dims=2), nn.BatchNorm2d)
    assert isinstance(feature_norm("none", channels=3, dims=1), nn.Identity)
    with pytest.raises(ConfigError) as err:
        feature_norm("layer", channels=3, dims=1)  # type: ignore[arg-type]
    assert str(err.value) == "unknown norm 'layer' for a gated block: use 'none', 'instance' or 'batch'"


@pytest.mark.filterwarnings("ignore:.*torch.jit.script.* is deprecated:DeprecationWarning")
def test_gated_blocks_export_to_torchscript() -> None:
    torch.manual_seed(0)
    for block, shape in [
        (GLUConv1d(in_channels=4, out_channels=6, kernel_size=5, upscale=2), (2, 4, 16)),
        (GLUConv2d(in_channels=4, out_channels=6, kernel_size=5, stride=2), (2, 4, 12, 16)),
        (GLUResidualBlock1d(channels=4, hidden_channels=6), (2, 4, 16)),
    ]:
        x = torch.randn(shape)
        assert torch.allclose(torch.jit.script(block.eval())(x), block(x), atol=1e-6)
