"""MPD, MSD (HiFi-GAN and MelGAN) and MRD: closed-form parameter counts, outputs on 8192 samples, spectrograms."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.nn import AvgPoolPyramid, ConvStack, remove_parametrizations
from speechgan_plugins.vocoders import (
    MultiPeriodDiscriminator,
    MultiResolutionDiscriminator,
    MultiScaleDiscriminator,
    ResolutionDiscriminator,
    hifigan_msd,
    melgan_msd,
)
from speechgan_plugins.vocoders.discriminators import HIFIGAN_SCALE_LAYERS

T = 8192


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _conv(c_in: int, c_out: int, k: int, groups: int = 1, g: bool = False) -> int:
    """A convolution's weight (c_out, c_in / groups, k) and bias, plus weight norm's g (one per output channel)."""
    return c_out * (c_in // groups) * k + c_out + (c_out if g else 0)


def _mpd(g: bool) -> int:
    channels = (1, 32, 128, 512, 1024, 1024)
    one = sum(_conv(a, b, 5, g=g) for a, b in zip(channels, channels[1:])) + _conv(1024, 1, 3, g=g)
    return 5 * one


def _hifigan_scale(g: bool) -> int:
    return sum(_conv(a, b, k, groups, g=g) for a, b, k, _, groups in HIFIGAN_SCALE_LAYERS) + _conv(1024, 1, 3, g=g)


def _melgan_scale(g: bool) -> int:
    # 16 -> 64 -> 256 -> 1024 -> 1024 channels in groups of 4 input channels, then 1024 -> 1024 and 1024 -> 1
    grouped = sum(_conv(a, b, 41, a // 4, g=g) for a, b in ((16, 64), (64, 256), (256, 1024), (1024, 1024)))
    return _conv(1, 16, 15, g=g) + grouped + _conv(1024, 1024, 5, g=g) + _conv(1024, 1, 3, g=g)


def _mrd(g: bool) -> int:
    one = _conv(1, 32, 27, g=g) + 3 * _conv(32, 32, 27, g=g) + _conv(32, 32, 9, g=g) + _conv(32, 1, 9, g=g)
    return 3 * one


def test_parameter_counts_match_closed_forms() -> None:
    """The official layer lists counted by hand; without the norms' extra tensors they are

    HiFi-GAN's MPD 41,092,165 and MSD 29,610,627 (jik876/hifi-gan ``models.py``; the paper
    gives no discriminator counts), MelGAN's 16,913,859 and UnivNet's MRD 280,419.
    Spectral norm adds no parameters (its ``u``, ``v`` are buffers): MSD's first scale has no ``g``.
    """
    assert _mpd(g=False) == 41_092_165 and _hifigan_scale(g=False) * 3 == 29_610_627
    assert _melgan_scale(g=False) * 3 == 16_913_859 and _mrd(g=False) == 280_419
    built = {
        "mpd": (MultiPeriodDiscriminator(), _mpd(g=True), _mpd(g=False)),
        "msd": (hifigan_msd(), _hifigan_scale(g=False) + 2 * _hifigan_scale(g=True), 3 * _hifigan_scale(g=False)),
        "melgan": (melgan_msd(), 3 * _melgan_scale(g=True), 3 * _melgan_scale(g=False)),
        "mrd": (MultiResolutionDiscriminator(), _mrd(g=True), _mrd(g=False)),
    }
    for name, (module, training, plain) in built.items():
        assert (_count(module), _count(remove_parametrizations(module))) == (training, plain), name


def _ceil_div(n: int, d: int, times: int = 1) -> int:
    for _ in range(times):
        n = -(-n // d)
    return n


@pytest.fixture(scope="module")
def wave() -> torch.Tensor:
    return torch.randn(2, 1, T, generator=torch.Generator().manual_seed(0)) * 0.1


def _shapes(out: tuple[list[torch.Tensor], list[list[torch.Tensor]]]) -> tuple[list[tuple], list[list[tuple]]]:
    logits, maps = out
    assert len(logits) == len(maps)
    return [tuple(x.shape) for x in logits], [[tuple(m.shape) for m in fm] for fm in maps]


def test_mpd_outputs(wave: torch.Tensor) -> None:
    """Period p folds to (ceil(T / p), p); four stride-3 layers divide the rows by 3 (rounding up)."""
    with torch.no_grad():
        logits, maps = _shapes(MultiPeriodDiscriminator()(wave))
    for p, lg, fm in zip((2, 3, 5, 7, 11), logits, maps):
        rows = [_ceil_div(_ceil_div(T, p), 3, times=i) for i in range(1, 5)]
        assert fm == [(2, 32, rows[0], p), (2, 128, rows[1], p), (2, 512, rows[2], p), (2, 1024, rows[3], p),
                      (2, 1024, rows[3], p), (2, 1, rows[3], p)]
        assert lg == (2, rows[3] * p)
    assert logits == [(2, 102), (2, 102), (2, 105), (2, 105), (2, 110)]


def test_hifigan_msd_outputs(wave: torch.Tensor) -> None:
    """Scales of 8192, 4097 and 2049 samples (AvgPool1d(4, 2, padding=2): L -> L / 2 + 1), strides 2, 2, 4, 4."""
    msd = hifigan_msd()
    with torch.no_grad():
        logits, maps = _shapes(msd(wave))
    for length, lg, fm in zip((8192, 4097, 2049), logits, maps):
        steps = [length, *(_ceil_div(length, s) for s in (2, 4, 16, 64))]
        assert fm == [(2, 128, steps[0]), (2, 128, steps[1]), (2, 256, steps[2]), (2, 512, steps[3]),
                      (2, 1024, steps[4]), (2, 1024, steps[4]), (2, 1024, steps[4]), (2, 1, steps[4])]
        assert lg == (2, steps[4])
    assert logits == [(2, 128), (2, 65), (2, 33)]
    kinds = [type(d.convs[0].parametrizations.weight[0]).__name__ for d in msd.discriminators]
    assert kinds == ["_SpectralNorm", "_WeightNorm", "_WeightNorm"]


def test_melgan_msd_outputs(wave: torch.Tensor) -> None:
    """Scales of 8192, 4096, 2048 samples; four stride-4 layers; the logits layer is no feature map."""
    with torch.no_grad():
        logits, maps = _shapes(melgan_msd()(wave))
    for length, lg, fm in zip((8192, 4096, 2048), logits, maps):
        assert fm == [(2, 16, length), (2, 64, length // 4), (2, 256, length // 16), (2, 1024, length // 64),
                      (2, 1024, length // 256), (2, 1024, length // 256)]
        assert lg == (2, length // 256)


def test_mrd_outputs(wave: torch.Tensor) -> None:
    """(B, 1, n_fft / 2 + 1, frames), frames = (T + n_fft - hop - n_fft) // hop + 1, halved three times."""
    mrd = MultiResolutionDiscriminator()
    with torch.no_grad():
        logits, maps = _shapes(mrd(wave))
    for (n_fft, hop, _), lg, fm in zip(((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)), logits, maps):
        bins, frames = n_fft // 2 + 1, (T - hop + 2 * ((n_fft - hop) // 2) - (n_fft - hop)) // hop + 1
        halved = [_ceil_div(frames, 2, times=i) for i in range(4)]
        assert fm == [(2, 32, bins, halved[0]), (2, 32, bins, halved[1]), (2, 32, bins, halved[2]),
                      (2, 32, bins, halved[3]), (2, 32, bins, halved[3]), (2, 1, bins, halved[3])]
        assert lg == (2, bins * halved[3])
    assert logits == [(2, 513 * 9), (2, 1025 * 5), (2, 257 * 21)]


@pytest.mark.parametrize("window", ["rectangular", "hann"])
def test_mrd_spectrogram_is_the_framed_magnitude(window: str) -> None:
    """Reflect-padded by (n_fft - hop) / 2, frames every hop, the window centred in n_fft, |rfft|."""
    torch.manual_seed(0)
    n_fft, hop, win = 64, 10, 40
    sub = ResolutionDiscriminator(resolution=(n_fft, hop, win), window=window)
    x = torch.randn(2, 1, 300)
    padded = torch.nn.functional.pad(x, (27, 27), mode="reflect").squeeze(1)  # (n_fft - hop) // 2 = 27
    taper = torch.ones(win) if window == "rectangular" else torch.hann_window(win)
    full = torch.zeros(n_fft)
    full[(n_fft - win) // 2:(n_fft - win) // 2 + win] = taper
    expected = torch.fft.rfft(padded.unfold(-1, n_fft, hop) * full).abs().transpose(1, 2)  # (B, F, frames)
    spec = sub.spectrogram(x)
    assert spec.shape == (2, 33, (300 + 54 - n_fft) // hop + 1)
    assert torch.allclose(spec, expected, atol=1e-4)


def test_multi_scale_discriminator_judges_each_pooled_scale() -> None:
    """Sub-discriminator i sees pyramid level i: here a 1x1 convolution multiplying by i + 1."""
    scales = []
    for i in range(2):
        conv = nn.Conv1d(1, 1, 1, bias=False)
        nn.init.constant_(conv.weight, float(i + 1))
        scales.append(ConvStack(layers=[], post=conv))
    msd = MultiScaleDiscriminator(discriminators=scales, pyramid=AvgPoolPyramid(num_scales=2))
    x = torch.arange(8.0).reshape(1, 1, 8)
    with torch.no_grad():
        logits, maps = msd(x)
    assert logits[0].tolist() == [x.flatten().tolist()]
    # AvgPool1d(4, 2, padding=2) with zeros counted: (0 + 0 + 0 + 1) / 4, (0 + 1 + 2 + 3) / 4, ...
    assert logits[1].tolist() == [[2 * v for v in (0.25, 1.5, 3.5, 5.5, 3.25)]]
    assert [len(m) for m in maps] == [1, 1]


def test_bad_discriminator_arguments_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        MultiScaleDiscriminator(discriminators=[nn.Identity()], pyramid=AvgPoolPyramid(num_scales=3))
    assert str(err.value) == "MultiScaleDiscriminator: 1 sub-discriminators for 3 scales; give one per scale"
    with pytest.raises(ConfigError, match=r"^hifigan_msd: num_scales must be at least 1, got 0$"):
        hifigan_msd(num_scales=0)
    with pytest.raises(ConfigError, match=r"^melgan_msd: num_scales must be at least 1, got 0$"):
        melgan_msd(num_scales=0)
    with pytest.raises(ConfigError) as err:
        melgan_msd(ndf=6)
    assert str(err.value) == (
        "melgan_msd: a grouped layer from 6 to 24 channels needs groups of 4 input channels that divide both; "
        "use an ndf that is a multiple of 4"
    )
    with pytest.raises(ConfigError) as err:
        MultiResolutionDiscriminator(resolutions=((512, 50, 1024),))
    assert str(err.value) == (
        "univnet_mrd: resolution (512, 50, 1024) is not (n_fft, hop_length, win_length) with "
        "0 < hop_length <= n_fft and 0 < win_length <= n_fft"
    )
    with pytest.raises(ConfigError, match=r"^univnet_mrd: resolutions must not be empty"):
        MultiResolutionDiscriminator(resolutions=())
    with pytest.raises(ConfigError, match=r"^hifigan_mpd: periods \[\] and channels \[32\] must not be empty$"):
        MultiPeriodDiscriminator(periods=(), channels=(32,))


def test_mrd_refuses_a_too_short_waveform() -> None:
    with pytest.raises(DataError) as err:
        MultiResolutionDiscriminator()(torch.randn(1, 1, 800))
    assert str(err.value) == (
        "univnet_mrd: a waveform of 800 samples is too short for resolution (2048, 240, 1200) (reflect padding by "
        "904 needs more); train and evaluate on longer segments"
    )


def test_discriminators_build_on_the_meta_device() -> None:
    with torch.device("meta"):
        built = [MultiPeriodDiscriminator(), hifigan_msd(), melgan_msd(), MultiResolutionDiscriminator()]
    assert all({p.device.type for p in d.parameters()} == {"meta"} for d in built)
    assert math.prod(built[3].discriminators[0].window.shape) == 600
