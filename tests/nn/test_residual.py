"""HiFi-GAN and MelGAN residual blocks: shapes, closed-form parameter counts, receptive fields."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan.nn import (
    MelGANResidualStack,
    MelGANResidualUnit,
    MultiReceptiveFieldFusion,
    ResBlock1,
    ResBlock2,
    conv1d,
    conv_transpose1d,
    remove_parametrizations,
)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv(c: int, k: int, weight_norm: bool) -> int:
    """Parameters of a (c -> c, kernel k) convolution: weight, bias, and weight norm's g."""
    return c * c * k + c + (c if weight_norm else 0)


@pytest.mark.parametrize("weight_norm", [True, False])
def test_parameter_counts_match_closed_forms(weight_norm: bool) -> None:
    norm = "weight" if weight_norm else "none"
    c = 32
    # ResBlock1: two convolutions per dilation
    assert _count(ResBlock1(channels=c, kernel_size=7, dilations=(1, 3, 5), norm=norm)) == 6 * _conv(c, 7, weight_norm)
    # ResBlock2: one convolution per dilation
    assert _count(ResBlock2(channels=c, kernel_size=5, dilations=(2, 6), norm=norm)) == 2 * _conv(c, 5, weight_norm)
    # MRF of HiFi-GAN V1/V2 (kernels 3, 7, 11; dilations 1, 3, 5 each) and V3 (ResBlock2)
    v1 = MultiReceptiveFieldFusion(channels=c, norm=norm)
    assert _count(v1) == sum(6 * _conv(c, k, weight_norm) for k in (3, 7, 11))
    v3 = MultiReceptiveFieldFusion(channels=c, kernel_sizes=(3, 5, 7), dilations=((1, 2), (2, 6), (3, 12)), block=2,
                                   norm=norm)
    assert _count(v3) == sum(2 * _conv(c, k, weight_norm) for k in (3, 5, 7))
    # MelGAN: conv(3) + conv(1) + shortcut conv(1) per unit, three units
    unit = _conv(c, 3, weight_norm) + 2 * _conv(c, 1, weight_norm)
    assert _count(MelGANResidualUnit(channels=c, dilation=9, norm=norm)) == unit
    assert _count(MelGANResidualStack(channels=c, norm=norm)) == 3 * unit


@pytest.mark.parametrize(
    ("channels", "rates", "kernels", "mrf", "paper"),
    [
        (512, (8, 8, 2, 2), (16, 16, 4, 4), {"block": 1}, 13.92e6),  # V1
        (128, (8, 8, 2, 2), (16, 16, 4, 4), {"block": 1}, 0.92e6),  # V2
        (256, (8, 8, 4), (16, 16, 8),
         {"block": 2, "kernel_sizes": (3, 5, 7), "dilations": ((1, 2), (2, 6), (3, 12))}, 1.46e6),  # V3
    ],
    ids=["v1", "v2", "v3"],
)
def test_hifigan_generator_layers_add_up_to_the_papers_counts(
    channels: int, rates: tuple[int, ...], kernels: tuple[int, ...], mrf: dict, paper: float
) -> None:
    """The blocks laid out as HiFi-GAN's generator (Kong et al. 2020, Table 1: 13.92M, 0.92M, 1.46M).

    The paper's numbers are the inference model's (weight norm removed: no ``g``), cut to
    two decimals: V2 has 925,985 parameters, 928,514 with weight norm's ``g``.
    """
    layers = nn.ModuleList([conv1d(in_channels=80, out_channels=channels, kernel_size=7, norm="weight")])
    for i, (u, k) in enumerate(zip(rates, kernels)):
        c_in, c_out = channels // 2**i, channels // 2 ** (i + 1)
        layers.append(conv_transpose1d(in_channels=c_in, out_channels=c_out, kernel_size=k, stride=u, norm="weight"))
        layers.append(MultiReceptiveFieldFusion(channels=c_out, **mrf))
    layers.append(conv1d(in_channels=channels // 2 ** len(rates), out_channels=1, kernel_size=7, norm="weight"))
    assert paper <= _count(remove_parametrizations(layers)) < paper + 0.01e6


def test_melgan_generator_layers_add_up_to_the_papers_count() -> None:
    """MelGAN's generator (ngf 32, upsampling 8, 8, 2, 2, kernels 2 x rate): 4.26M parameters."""
    layers = nn.ModuleList([conv1d(in_channels=80, out_channels=512, kernel_size=7, norm="weight")])
    channels = 512
    for rate in (8, 8, 2, 2):
        layers.append(conv_transpose1d(in_channels=channels, out_channels=channels // 2, kernel_size=2 * rate,
                                       stride=rate, norm="weight"))
        channels //= 2
        layers.append(MelGANResidualStack(channels=channels))
    layers.append(conv1d(in_channels=channels, out_channels=1, kernel_size=7, norm="weight"))
    assert 4.26e6 <= _count(remove_parametrizations(layers)) < 4.27e6


@pytest.mark.parametrize(
    "block",
    [
        ResBlock1(channels=4, kernel_size=11, dilations=(1, 3, 5)),
        ResBlock2(channels=4, kernel_size=7, dilations=(3, 12)),
        MultiReceptiveFieldFusion(channels=4),
        MelGANResidualUnit(channels=4, dilation=27),
        MelGANResidualStack(channels=4, num_layers=4),
    ],
    ids=["resblock1", "resblock2", "mrf", "melgan_unit", "melgan_stack"],
)
def test_blocks_keep_the_shape(block: nn.Module) -> None:
    assert block(torch.randn(2, 4, 101)).shape == (2, 4, 101)


def _support_radius(block: nn.Module, length: int = 121) -> int:
    """How far an impulse spreads: the largest |t - t0| where output minus shortcut is non-zero."""
    for m in block.modules():
        if isinstance(m, nn.Conv1d):
            nn.init.zeros_(m.bias)  # zero biases: silence stays silent
    x = torch.zeros(1, 1, length)
    x[..., length // 2] = 1.0
    with torch.no_grad():
        delta = block(x) - (block.shortcut(x) if isinstance(block, MelGANResidualUnit) else x)
    where = delta.abs().squeeze() > 1e-12
    return int((torch.nonzero(where).squeeze(1) - length // 2).abs().max())


def test_receptive_fields_follow_the_dilations() -> None:
    torch.manual_seed(0)
    # ResBlock1: each dilation d adds a dilated conv (radius (k - 1) d / 2) and a plain one ((k - 1) / 2)
    resblock1 = ResBlock1(channels=1, kernel_size=3, dilations=(1, 3, 5), norm="none")
    assert _support_radius(resblock1) == (1 + 1) + (3 + 1) + (5 + 1)
    assert _support_radius(ResBlock2(channels=1, kernel_size=5, dilations=(2, 6), norm="none")) == 2 * 2 + 2 * 6
    # MelGAN's stack: dilations 1, 3, 9 with kernel 3 -> 13 samples on each side (27 in all)
    stack = MelGANResidualStack(channels=1, norm="none")
    for m in stack.modules():
        if isinstance(m, nn.Conv1d):
            nn.init.zeros_(m.bias)
    x = torch.zeros(1, 1, 121)
    x[..., 60] = 1.0
    with torch.no_grad():
        nonzero = torch.nonzero(stack(x).squeeze().abs() > 1e-12).squeeze(1)
    assert (nonzero.min().item(), nonzero.max().item()) == (60 - 13, 60 + 13)
    assert _support_radius(MelGANResidualUnit(channels=1, dilation=9, norm="none")) == 9


def test_resblock1_computes_hifigans_update() -> None:
    torch.manual_seed(0)
    block = ResBlock1(channels=3, kernel_size=3, dilations=(1, 3), norm="none")
    x = torch.randn(2, 3, 40)
    expected = x
    for d, c1, c2 in zip((1, 3), block.convs1, block.convs2):
        h = F.conv1d(F.leaky_relu(expected, 0.1), c1.weight, c1.bias, padding=d, dilation=d)
        expected = expected + F.conv1d(F.leaky_relu(h, 0.1), c2.weight, c2.bias, padding=1)
    assert torch.allclose(block(x), expected, atol=1e-6)


def test_melgan_unit_reflection_pads_and_adds_a_shortcut() -> None:
    torch.manual_seed(0)
    unit = MelGANResidualUnit(channels=3, dilation=3, norm="none")
    x = torch.randn(2, 3, 30)
    conv3, conv1 = unit.block[1], unit.block[3]
    h = F.conv1d(F.pad(F.leaky_relu(x, 0.2), (3, 3), mode="reflect"), conv3.weight, conv3.bias, dilation=3)
    h = F.conv1d(F.leaky_relu(h, 0.2), conv1.weight, conv1.bias)
    expected = F.conv1d(x, unit.shortcut.weight, unit.shortcut.bias) + h
    assert torch.allclose(unit(x), expected, atol=1e-6)


def test_mrf_is_the_mean_of_its_blocks() -> None:
    torch.manual_seed(0)
    mrf = MultiReceptiveFieldFusion(channels=5, kernel_sizes=(3, 5), dilations=((1, 2), (1, 3, 9)), block=2)
    x = torch.randn(1, 5, 64)
    expected = (mrf.resblocks[0](x) + mrf.resblocks[1](x)) / 2
    assert torch.allclose(mrf(x), expected, atol=1e-6)
    assert [len(b.convs) for b in mrf.resblocks] == [2, 3]


def test_bad_block_arguments_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        MultiReceptiveFieldFusion(channels=4, kernel_sizes=(3, 7, 11), dilations=((1, 3, 5),))
    assert str(err.value) == (
        "MultiReceptiveFieldFusion: 3 kernel sizes but 1 dilation tuples; give one tuple of dilations per kernel "
        "size (HiFi-GAN's resblock_kernel_sizes and resblock_dilation_sizes)"
    )
    with pytest.raises(ConfigError, match=r"^MultiReceptiveFieldFusion: block must be 1 \(ResBlock1\) or 2"):
        MultiReceptiveFieldFusion(channels=4, block=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as err:
        ResBlock1(channels=4, kernel_size=4)
    assert str(err.value) == "HiFi-GAN residual blocks need an odd kernel_size to keep the length, got 4"


@pytest.mark.filterwarnings("ignore:.*torch.jit.script.* is deprecated:DeprecationWarning")
@pytest.mark.parametrize(
    "block",
    [
        MultiReceptiveFieldFusion(channels=6),
        MultiReceptiveFieldFusion(channels=6, kernel_sizes=(3, 5, 7), dilations=((1, 2), (2, 6), (3, 12)), block=2),
        MelGANResidualStack(channels=6),
    ],
    ids=["mrf1", "mrf2", "melgan_stack"],
)
def test_generator_blocks_export_to_torchscript(block: nn.Module) -> None:
    """What ``speechgan export`` needs: weight norm folded in, then scripted with equal outputs."""
    block = remove_parametrizations(block).eval()
    scripted = torch.jit.script(block)
    x = torch.randn(2, 6, 37)
    assert torch.allclose(scripted(x), block(x), atol=1e-6)
