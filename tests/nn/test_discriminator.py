"""Sub-discriminator blocks: the output convention, period folding, pooling, phase shuffle."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.losses import LeastSquares
from speechgan.nn import (
    AvgPoolPyramid,
    ConvStack,
    PhaseShuffle,
    SubDiscriminatorOutput,
    conv1d,
    conv2d,
    merge_outputs,
    reshape_by_period,
)
from speechgan_plugins.objectives.vocoder import Vocoder


def test_reshape_by_period_reflect_pads_the_end() -> None:
    x = torch.arange(10, dtype=torch.float32).reshape(1, 1, 10)
    folded = reshape_by_period(x, period=3)  # 10 -> 12 samples: ..., 8, 9 | 8, 7
    assert folded.shape == (1, 1, 4, 3)
    assert folded[0, 0].tolist() == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 8, 7]]
    assert folded[0, 0, :, 1].tolist() == [1, 4, 7, 8]  # column j is x_padded[j::p]


def test_reshape_by_period_without_padding_is_a_view_of_the_samples() -> None:
    x = torch.randn(2, 1, 22)
    folded = reshape_by_period(x, period=11)
    assert folded.shape == (2, 1, 2, 11)
    assert torch.equal(folded.reshape(2, 1, 22), x)


@pytest.mark.parametrize("period", [2, 3, 5, 7, 11])
def test_reshape_by_period_rows(period: int) -> None:
    x = torch.randn(3, 1, 8192 + 1)
    folded = reshape_by_period(x, period=period)
    assert folded.shape == (3, 1, -(-8193 // period), period)
    assert torch.equal(folded[..., 0], x[..., ::period][..., : folded.shape[2]])


def test_reshape_by_period_refuses_a_too_short_waveform() -> None:
    with pytest.raises(DataError) as err:
        reshape_by_period(torch.randn(1, 1, 3), period=11)
    assert str(err.value) == (
        "reshape_by_period: a waveform of 3 samples is too short for period 11 (reflect padding needs more than "
        "8 samples); train and evaluate on longer segments"
    )


def _period_stack(period: int) -> nn.Module:
    """A two-layer HiFi-GAN-style period sub-discriminator, for the tests."""

    class PeriodSub(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stack = ConvStack(
                layers=[conv2d(in_channels=1, out_channels=4, kernel_size=(5, 1), stride=(3, 1), norm="weight"),
                        conv2d(in_channels=4, out_channels=8, kernel_size=(5, 1), stride=(3, 1), norm="weight")],
                post=conv2d(in_channels=8, out_channels=1, kernel_size=(3, 1), norm="weight"),
            )

        def forward(self, x: torch.Tensor) -> SubDiscriminatorOutput:
            return self.stack(reshape_by_period(x, period=period))

    return PeriodSub()


class _TinyMPD(nn.Module):
    def __init__(self, periods: tuple[int, ...] = (2, 3)) -> None:
        super().__init__()
        self.subs = nn.ModuleList(_period_stack(p) for p in periods)

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        return merge_outputs(sub(x) for sub in self.subs)


def test_conv_stack_collects_every_activation() -> None:
    torch.manual_seed(0)
    layers = [conv1d(in_channels=1, out_channels=4, kernel_size=15), conv1d(in_channels=4, out_channels=8,
                                                                            kernel_size=41, stride=4, groups=4)]
    stack = ConvStack(layers=layers, post=conv1d(in_channels=8, out_channels=1, kernel_size=3))
    x = torch.randn(2, 1, 64)
    logits, maps = stack(x)
    h1 = F.leaky_relu(layers[0](x), 0.1)
    h2 = F.leaky_relu(layers[1](h1), 0.1)
    post = stack.conv_post(h2)
    assert [m.shape for m in maps] == [(2, 4, 64), (2, 8, 16), (2, 1, 16)]
    assert all(torch.allclose(m, e) for m, e in zip(maps, [h1, h2, post]))
    assert torch.allclose(logits, post.flatten(1)) and logits.shape == (2, 16)
    melgan_style = ConvStack(layers=layers, post=stack.conv_post, negative_slope=0.2, post_is_feature_map=False)
    out = melgan_style(x)
    assert isinstance(out, SubDiscriminatorOutput) and len(out.feature_maps) == 2
    assert torch.allclose(out.feature_maps[0], F.leaky_relu(layers[0](x), 0.2))


def test_period_sub_discriminator_shapes() -> None:
    logits, maps = _period_stack(3)(torch.randn(2, 1, 100))  # 100 -> 102 samples -> (34, 3)
    assert [tuple(m.shape) for m in maps] == [(2, 4, 12, 3), (2, 8, 4, 3), (2, 1, 4, 3)]
    assert logits.shape == (2, 12)


def test_merged_outputs_fit_the_vocoder_objective() -> None:
    """The ``vocoder`` objective's terms equal HiFi-GAN's formulas on a discriminator built from these blocks."""
    torch.manual_seed(0)
    mpd = _TinyMPD()
    real, fake = torch.randn(2, 1, 90), torch.randn(2, 1, 90)
    objective = Vocoder(features=nn.Identity(), criterion=LeastSquares())
    state = {"real": real, "fake": fake}
    d_terms = objective.discriminator_terms({}, state, g=nn.ModuleDict(), d=nn.ModuleDict({"mpd": mpd}), step=0,
                                            weights={})
    g_terms = objective.generator_terms({}, state, g=nn.ModuleDict(), d=nn.ModuleDict({"mpd": mpd}), step=0,
                                        weights={"g/adv": 1.0, "g/fm": 1.0, "g/mel": 0.0})
    (real_logits, real_maps), (fake_logits, fake_maps) = mpd(real), mpd(fake)
    assert len(real_logits) == len(real_maps) == 2 and all(len(m) == 3 for m in real_maps)
    d_expected = sum(((1 - r) ** 2).mean() + (f**2).mean() for r, f in zip(real_logits, fake_logits))
    g_expected = sum(((1 - f) ** 2).mean() for f in fake_logits)
    fm_expected = sum((r - f).abs().mean() for rs, fs in zip(real_maps, fake_maps) for r, f in zip(rs, fs))
    assert d_terms["d/adv"].item() == pytest.approx(d_expected.item(), rel=1e-6)
    assert g_terms["g/adv"].item() == pytest.approx(g_expected.item(), rel=1e-6)
    assert g_terms["g/fm"].item() == pytest.approx(fm_expected.item(), rel=1e-6)


def test_avg_pool_pyramid_lengths_and_edges() -> None:
    ones = torch.ones(1, 1, 64)
    hifigan = AvgPoolPyramid()  # AvgPool1d(4, 2, padding=2): L -> L / 2 + 1, zero padding counted
    scales = hifigan(ones)
    assert [s.shape[-1] for s in scales] == [64, 33, 17]
    assert scales[1][0, 0, 0].item() == 0.5 and scales[1][0, 0, 1].item() == 1.0  # (0 + 0 + 1 + 1) / 4 at the edge
    melgan = AvgPoolPyramid(padding=1, count_include_pad=False)  # MelGAN: L -> L / 2, no edge dip
    scales = melgan(ones)
    assert [s.shape[-1] for s in scales] == [64, 32, 16]
    assert all(torch.equal(s, torch.ones_like(s)) for s in scales)
    assert AvgPoolPyramid(num_scales=1)(ones)[0] is ones
    with pytest.raises(ConfigError, match=r"^AvgPoolPyramid: num_scales must be at least 1, got 0$"):
        AvgPoolPyramid(num_scales=0)


def _shifted(x: torch.Tensor, k: int) -> torch.Tensor:
    """``out[t] = x[t - k]`` with indices reflected at both ends (WaveGAN's reflect-padded shift)."""
    t = x.shape[-1]
    index = [abs(i) if i < 0 else 2 * (t - 1) - i if i > t - 1 else i for i in range(-k, t - k)]
    return x[..., index]


@pytest.mark.parametrize("per_example", [False, True])
def test_phase_shuffle_shifts_within_the_radius_with_reflection(per_example: bool) -> None:
    torch.manual_seed(0)
    shuffle = PhaseShuffle(radius=2, per_example=per_example)
    x = torch.randn(8, 3, 20)
    seen: set[int] = set()
    mixed = False
    for _ in range(50):
        y = shuffle(x)
        shifts = []
        for b in range(8):
            matches = [k for k in range(-2, 3) if torch.equal(y[b], _shifted(x[b], k))]
            assert len(matches) == 1  # every example is x shifted by one k in -2..2
            shifts.append(matches[0])
        if per_example:
            mixed = mixed or len(set(shifts)) > 1
        else:
            assert len(set(shifts)) == 1  # one shift for the whole batch, as in WaveGAN's code
        seen.update(shifts)
    assert seen == {-2, -1, 0, 1, 2}
    assert mixed == per_example


def test_phase_shuffle_is_the_identity_at_radius_zero_and_in_eval() -> None:
    x = torch.randn(4, 2, 16)
    assert PhaseShuffle(radius=0)(x) is x
    assert PhaseShuffle(radius=2).eval()(x) is x
    with pytest.raises(ConfigError, match=r"^PhaseShuffle: radius must be 0 or more, got -1$"):
        PhaseShuffle(radius=-1)
