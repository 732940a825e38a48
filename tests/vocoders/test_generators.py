"""HiFi-GAN and MelGAN generators: the papers' parameter counts, shapes, weight-norm removal, meta builds."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan_plugins.vocoders import HiFiGANGenerator, MelGANGenerator, hifigan_v1, hifigan_v2, hifigan_v3

PRESETS: dict[str, Callable[[], nn.Module]] = {
    "hifigan_v1": hifigan_v1, "hifigan_v2": hifigan_v2, "hifigan_v3": hifigan_v3, "melgan": MelGANGenerator,
}


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    ("name", "paper", "inference", "training"),
    [
        ("hifigan_v1", 13.92e6, 13_926_017, 13_936_130),
        ("hifigan_v2", 0.92e6, 925_985, 928_514),
        ("hifigan_v3", 1.46e6, 1_462_273, 1_464_322),
        ("melgan", 4.26e6, 4_260_257, 4_266_050),
    ],
)
def test_parameter_counts_match_the_papers(name: str, paper: float, inference: int, training: int) -> None:
    """Kong et al. 2020 (Table 1: 13.92M, 0.92M, 1.46M) and Kumar et al. 2019 (4.26M).

    The papers count the inference model, weight norm removed (without its per-channel
    ``g``), and cut the count to two decimals of a million: V1's 13,926,017 is "13.92M",
    V2's 925,985 "0.92M" (0.65% above it; 0.93% with ``g``). The training model's count,
    with ``g``, is pinned too.
    """
    generator = PRESETS[name]()
    assert _count(generator) == training
    assert _count(generator.remove_weight_norm()) == inference
    assert paper <= inference < paper + 0.01e6
    assert abs(inference / paper - 1) < (0.007 if name == "hifigan_v2" else 0.005)


@pytest.mark.parametrize("name", PRESETS)
def test_each_preset_turns_frames_into_hop_samples(name: str) -> None:
    torch.manual_seed(0)
    generator = PRESETS[name]()
    assert generator.upsample_factor == 256  # 8 * 8 * 2 * 2 and 8 * 8 * 4
    with torch.no_grad():
        wave = generator(torch.randn(2, 80, 9))
    assert wave.shape == (2, 1, 9 * 256)
    assert wave.abs().max() < 1  # tanh output


@pytest.mark.parametrize("name", PRESETS)
def test_removing_weight_norm_keeps_the_output(name: str) -> None:
    torch.manual_seed(0)
    generator = PRESETS[name]().eval()
    mel = torch.randn(1, 80, 8)
    with torch.no_grad():
        before = generator(mel)
        assert generator.remove_weight_norm() is generator
        after = generator(mel)
    assert torch.allclose(before, after, atol=1e-5, rtol=0)
    assert not [k for k in generator.state_dict() if "parametrizations" in k]


@pytest.mark.parametrize("name", PRESETS)
def test_generators_build_on_the_meta_device(name: str) -> None:
    """The config check builds generators there to read ``upsample_factor``: no memory, no ``.item()``."""
    with torch.device("meta"):
        generator = PRESETS[name]()
    assert {p.device.type for p in generator.parameters()} == {"meta"}
    assert generator.upsample_factor == 256


def test_in_channels_sets_the_number_of_mel_bins() -> None:
    generator = hifigan_v3(in_channels=100)
    assert generator.conv_pre.in_channels == 100
    with torch.no_grad():
        assert generator(torch.randn(1, 100, 4)).shape == (1, 1, 1024)
    assert MelGANGenerator(in_channels=64, upsample_rates=(4, 4)).upsample_factor == 16


def test_hifigan_forward_is_the_official_one() -> None:
    """conv_pre -> (leaky 0.1 -> up -> MRF) per rate -> leaky 0.01 (``F.leaky_relu``'s default) -> conv_post -> tanh."""
    torch.manual_seed(0)
    generator = HiFiGANGenerator(in_channels=4, upsample_initial_channel=8, upsample_rates=(3, 2),
                                 upsample_kernel_sizes=(6, 4), resblock=2, resblock_kernel_sizes=(3,),
                                 resblock_dilation_sizes=((1, 2),))
    mel = torch.randn(2, 4, 5)
    x = generator.conv_pre(mel)
    for up, mrf in zip(generator.ups, generator.mrfs):
        x = mrf(up(F.leaky_relu(x, 0.1)))
    expected = torch.tanh(generator.conv_post(F.leaky_relu(x, 0.01)))
    out = generator(mel)
    assert out.shape == (2, 1, 30) and generator.upsample_factor == 6
    assert torch.allclose(out, expected, atol=1e-7)
    assert [up.out_channels for up in generator.ups] == [4, 2]


def _last_resblock_conv(generator: HiFiGANGenerator) -> torch.Tensor:
    """The effective weight (32, 32, 3) of V3's last residual block: PyTorch's default std is 1 / sqrt(3 * 96)."""
    return generator.mrfs[-1].resblocks[0].convs[0].weight


def test_init_std_draws_the_effective_weights() -> None:
    """Drawn through weight norm, so the convolutions compute with them (the official init has no effect)."""
    torch.manual_seed(0)
    assert _last_resblock_conv(hifigan_v3()).std().item() == pytest.approx(0.01, rel=0.1)
    default = HiFiGANGenerator(upsample_initial_channel=256, upsample_rates=(8, 8, 4),
                               upsample_kernel_sizes=(16, 16, 8), resblock=2, resblock_kernel_sizes=(3, 5, 7),
                               resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)), init_std=None)
    assert _last_resblock_conv(default).std().item() == pytest.approx((3 * 32 * 3) ** -0.5, rel=0.1)
    # conv_pre keeps PyTorch's default, as in the official code
    assert hifigan_v3().conv_pre.weight.std().item() == pytest.approx((3 * 80 * 7) ** -0.5, rel=0.1)
    melgan_last = MelGANGenerator().stacks[-1][0].block[1].weight  # (32, 32, 3), every conv drawn
    assert melgan_last.std().item() == pytest.approx(0.02, rel=0.1)


def test_bad_generator_arguments_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        HiFiGANGenerator(upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16))
    assert str(err.value) == (
        "hifigan: 3 upsample_rates but 2 upsample_kernel_sizes; give one kernel size per rate (HiFi-GAN uses 2 x rate)"
    )
    with pytest.raises(ConfigError) as err:
        HiFiGANGenerator(upsample_initial_channel=100)
    assert str(err.value) == (
        "hifigan: upsample_initial_channel 100 is not divisible by 16: each of the 4 upsampling layers halves the "
        "channels; use a multiple of 16"
    )
    with pytest.raises(ConfigError, match=r"^melgan: upsample_rates must not be empty; the paper uses \[8, 8, 2, 2\]$"):
        MelGANGenerator(upsample_rates=())
