"""The gated transposed 2-D convolution of StarGAN-VC's decoder."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from speechgan.nn import GLUConvTranspose2d


def test_it_gates_the_transposed_convolutions_two_halves() -> None:
    torch.manual_seed(0)
    block = GLUConvTranspose2d(in_channels=3, out_channels=4, kernel_size=(4, 8), stride=2, padding=(1, 3), norm="none")
    x = torch.randn(2, 3, 5, 6)
    pre = block.conv(x)  # (2, 8, 10, 12)
    out = block(x)
    assert pre.shape == (2, 8, 10, 12) and out.shape == (2, 4, 10, 12)
    assert torch.allclose(out, pre[:, :4] * torch.sigmoid(pre[:, 4:]), atol=1e-6)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "shape_in", "shape_out"),
    [
        ((4, 8), 2, (1, 3), (1, 2, 9, 16), (1, 5, 18, 32)),  # doubles both axes
        ((9, 5), (9, 1), (0, 2), (1, 2, 1, 16), (1, 5, 9, 16)),  # one row -> nine, time kept
        ((3, 5), 1, (1, 2), (1, 2, 9, 16), (1, 5, 9, 16)),  # shape kept
    ],
)
def test_output_shapes(kernel, stride, padding, shape_in, shape_out) -> None:
    block = GLUConvTranspose2d(in_channels=2, out_channels=5, kernel_size=kernel, stride=stride, padding=padding)
    assert block(torch.randn(shape_in)).shape == shape_out


def test_parameter_count_and_instance_norm() -> None:
    block = GLUConvTranspose2d(in_channels=6, out_channels=10, kernel_size=(3, 5))
    # weight (C_in, 2 C_out, 3, 5) + bias, then an affine instance norm over 2 C_out channels
    assert sum(p.numel() for p in block.parameters()) == 6 * 20 * 15 + 20 + 2 * 20
    assert isinstance(block.norm, nn.InstanceNorm2d) and block.norm.affine
