"""Voice-conversion generators and discriminators: shapes, frame multiples, parameter counts against the references.

Reference counts are closed forms of the reference implementations' layer lists:
``leimao/Voice-Converter-CycleGAN`` ``module.py`` (CycleGAN-VC), ``jackaduma/CycleGAN-VC2``
``model_tf.py`` (CycleGAN-VC2), ``GANtastic3/MaskCycleGAN-VC`` ``mask_cyclegan_vc/model.py``
(MaskCycleGAN-VC) and ``hujinsen/pytorch-StarGAN-VC`` ``model.py`` (StarGAN-VC). Where the
modules deviate (the docstrings of :mod:`speechgan_plugins.voice_conversion` say why), the
test adds the difference as its own closed form.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

import speechgan_plugins.voice_conversion as vc
from speechgan.build import build_component
from speechgan.errors import ConfigError, DataError
from speechgan.plugins import get_plugin_manager

pytestmark = pytest.mark.usefixtures("one_thread")


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _on_meta(factory: Callable[[], nn.Module]) -> nn.Module:
    """Full-size presets built without memory or initialisation time: enough to count parameters."""
    with torch.device("meta"):
        return factory()


def conv(c_in: int, c_out: int, taps: int) -> int:
    """A convolution (plain or transposed) with ``taps`` kernel positions: weight + bias."""
    return c_in * c_out * taps + c_out


def norm(channels: int) -> int:
    """An instance norm with a learned scale and shift."""
    return 2 * channels


def gated(c_in: int, c_out: int, taps: int, normed: bool = True) -> int:
    """A value and a gate convolution of ``c_out`` channels each, each with its instance norm."""
    return 2 * conv(c_in, c_out, taps) + (2 * norm(c_out) if normed else 0)


# -- parameter counts -------------------------------------------------------------------------


def test_cyclegan_vc_generator_matches_lei_maos_layer_list() -> None:
    """``generator_gatedcnn``: separate value and gate convolutions, TensorFlow instance norms with scale and shift."""
    reference = (
        gated(24, 128, 15, normed=False)
        + gated(128, 256, 5) + gated(256, 512, 5)
        + 6 * (gated(512, 1024, 3) + conv(1024, 512, 3) + norm(512))
        # upsampling: 1024 value and 1024 gate channels, shuffled to 512 each before their norms
        + 2 * conv(512, 1024, 5) + 2 * norm(512)
        + 2 * conv(512, 512, 5) + 2 * norm(256)
        + conv(256, 24, 15)
    )
    assert reference == 38_055_704
    assert _count(_on_meta(vc.CycleGANVCGenerator)) == reference


def test_cyclegan_vc_discriminator_matches_lei_maos_layer_list() -> None:
    """The reference's per-position dense unit (1,025 weights) stands for the paper's FC layer.

    The paper's fully connected layer over the ``(1024, 6, 8)`` map of a 128-frame segment
    would have ``1024 * 6 * 8 + 1`` weights instead.
    """
    body = gated(1, 128, 9, normed=False) + gated(128, 256, 9) + gated(256, 512, 9) + gated(512, 1024, 18)
    reference = body + conv(1024, 1, 1)
    assert reference == 21_837_825
    assert _count(_on_meta(vc.CycleGANVCDiscriminator)) == reference
    assert body + 1024 * 6 * 8 + 1 == reference + 48_128  # the paper's FullGAN layer, fixed to 128 frames


def _port_212_generator(in_channels: int, flat: int) -> int:
    """The 2-1-2D generator of jackaduma's and GANtastic3's ports, as their ``forward`` uses it.

    Gated (value + gate) input, downsampling and residual blocks; upsampling blocks with one
    convolution and ``x * sigmoid(x)``. ``flat`` is 256 x a quarter of the frequency bins.
    """
    return (
        gated(in_channels, 128, 75, normed=False)
        + gated(128, 256, 25) + gated(256, 256, 25)
        + conv(flat, 256, 1) + norm(256)
        + 6 * (gated(256, 512, 3) + conv(512, 256, 3) + norm(256))
        + conv(256, flat, 1) + norm(flat)
        + conv(256, 1024, 25) + norm(256)  # conv -> pixel shuffle (256 channels) -> norm -> SiLU
        + conv(256, 512, 25) + norm(128)
        + conv(128, 1, 75)
    )


#: What the true GLUs of the two upsampling blocks add: a gate convolution and norm beside each value half.
_UPSAMPLING_GATES = conv(256, 1024, 25) + norm(256) + conv(256, 512, 25) + norm(128)


@pytest.mark.parametrize(
    ("factory", "in_channels", "flat", "port", "ours"),
    [
        (vc.cyclegan_vc2_generator, 1, 256 * 9, 23_068_289, 32_900_993),  # 36 mel-cepstra -> 9 rows
        (vc.maskcyclegan_vc_generator, 2, 256 * 20, 24_537_729, 34_370_433),  # 80 mels -> 20 rows
    ],
    ids=["cyclegan_vc2", "maskcyclegan_vc"],
)
def test_2_1_2d_generators_match_the_ports_plus_the_upsampling_gates(factory, in_channels, flat, port, ours) -> None:
    """The ports' ``forward`` layers, plus the gate halves their SiLU "GLU" upsampling leaves out.

    GANtastic3's module also holds two TFAN modules (CycleGAN-VC3) that its ``forward``
    never calls; they are not part of MaskCycleGAN-VC and are left out of its count.
    """
    assert _port_212_generator(in_channels, flat) == port
    assert _count(_on_meta(factory)) == port + _UPSAMPLING_GATES == ours


def test_35_and_36_mel_cepstra_give_the_same_generator() -> None:
    """35 coefficients are padded to 36 inside: the same 9 rows after two halvings."""
    assert _count(_on_meta(lambda: vc.cyclegan_vc2_generator(n_features=35))) == 32_900_993


@pytest.mark.parametrize("factory", [vc.cyclegan_vc2_discriminator, vc.maskcyclegan_vc_discriminator])
def test_patchgan_matches_the_ports_plus_its_gates(factory) -> None:
    """jackaduma's ``Discriminator``: SiLU "GLU"s (no gate convolutions), and a 1x5 block built but unused.

    Its ``parameters()`` hold the 1x5 block, so its count is that of the full layer list;
    GANtastic3's builds that block 1x10 (also unused). The PatchGAN here runs every layer
    with true gates, which adds a gate convolution (and norm) to each gated layer.
    """
    used = (conv(1, 128, 9) + conv(128, 256, 9) + norm(256) + conv(256, 512, 9) + norm(512)
            + conv(512, 1024, 9) + norm(1024) + conv(1024, 1, 3))
    jackaduma = used + conv(1024, 1024, 5) + norm(1024)
    gantastic3 = used + conv(1024, 1024, 10) + norm(1024)
    gates = conv(1, 128, 9) + conv(128, 256, 9) + norm(256) + conv(256, 512, 9) + norm(512) \
        + conv(512, 1024, 9) + norm(1024) + conv(1024, 1024, 5) + norm(1024)
    assert (jackaduma, gantastic3) == (11_448_833, 16_691_713)
    assert _count(_on_meta(factory)) == jackaduma + gates == 22_894_593


def _down2d(c_in: int, c_out: int, taps: int) -> int:
    """hujinsen's ``Down2d`` / ``Up2d``: value and gate (transposed) convolutions, instance norms without parameters."""
    return 2 * conv(c_in, c_out, taps)


def test_stargan_vc_matches_hujinsens_layer_list_plus_affine_norms() -> None:
    """4 speakers, 36 mel-cepstra; each gated block here adds a scale and shift to its two norms (``2 x 2 c``)."""
    s = 4
    generator = (
        _down2d(1, 32, 27) + _down2d(32, 64, 32) + _down2d(64, 128, 32) + _down2d(128, 64, 15) + _down2d(64, 5, 45)
        + _down2d(5 + s, 64, 45) + _down2d(64 + s, 128, 15) + _down2d(128 + s, 64, 32) + _down2d(64 + s, 32, 32)
        + conv(32 + s, 1, 27)
    )
    discriminator = (_down2d(1 + s, 32, 27) + _down2d(32 + s, 32, 24) + _down2d(32 + s, 32, 24)
                     + _down2d(32 + s, 32, 18) + conv(32 + s, 1, 36 * 5))
    classifier = _down2d(1, 8, 16) + _down2d(8, 16, 16) + _down2d(16, 32, 16) + _down2d(32, 16, 12) + conv(16, s, 4)
    assert (generator, discriminator, classifier) == (1_926_679, 167_441, 33_428)
    gated_widths = (32, 64, 128, 64, 5, 64, 128, 64, 32)  # encoder, then decoder
    assert _count(vc.StarGANVCGenerator()) == generator + sum(2 * norm(c) for c in gated_widths)
    assert _count(vc.StarGANVCDiscriminator()) == discriminator + 4 * 2 * norm(32)
    assert _count(vc.StarGANVCClassifier()) == classifier + sum(2 * norm(c) for c in (8, 16, 32, 16))


# -- shapes -----------------------------------------------------------------------------------

GENERATOR_PRESETS = {
    "cyclegan_vc": (vc.CycleGANVCGenerator, 24),
    "cyclegan_vc2": (vc.cyclegan_vc2_generator, 36),
    "maskcyclegan_vc": (vc.maskcyclegan_vc_generator, 80),
}


@pytest.mark.parametrize("name", GENERATOR_PRESETS)
def test_each_preset_keeps_the_shape_of_its_features(name: str) -> None:
    factory, n_features = GENERATOR_PRESETS[name]
    torch.manual_seed(0)
    generator = factory()
    assert generator.frame_multiple == 4
    with torch.no_grad():
        out = generator(torch.randn(1, n_features, 8))
    assert out.shape == (1, n_features, 8) and torch.isfinite(out).all()


@pytest.mark.parametrize("frames", [8, 12, 36, 128])  # 8 or more: instance norm needs 2 steps at N / 4
@pytest.mark.parametrize(
    "make",
    [
        lambda: vc.CycleGANVCGenerator(channels=4, n_residual_blocks=2),
        lambda: vc.Generator212(n_features=36, channels=4, n_residual_blocks=1),
        lambda: vc.Generator212(n_features=35, channels=4, n_residual_blocks=1),
        lambda: vc.Generator212(n_features=80, masked=True, channels=4, n_residual_blocks=1),
    ],
    ids=["cyclegan_vc", "2-1-2d", "2-1-2d-35", "masked"],
)
def test_generators_are_fully_convolutional_in_time(make, frames: int) -> None:
    torch.manual_seed(0)
    generator = make()
    x = torch.randn(2, generator.n_features, frames)
    assert generator(x).shape == x.shape


@pytest.mark.parametrize(
    "generator",
    [vc.CycleGANVCGenerator(channels=4, n_residual_blocks=1),
     vc.Generator212(channels=4, n_residual_blocks=1),
     vc.StarGANVCGenerator(n_speakers=2, n_features=12)],
    ids=["cyclegan_vc", "2-1-2d", "stargan_vc"],
)
def test_a_frame_count_off_the_multiple_is_a_data_error(generator: nn.Module) -> None:
    args = (torch.tensor([0]),) if isinstance(generator, vc.StarGANVCGenerator) else ()
    with pytest.raises(DataError) as err:
        generator(torch.randn(1, generator.n_features, 10), *args)
    assert str(err.value) == (
        f"{type(generator).__name__}: 10 frames is not a multiple of 4 (the generator downsamples time by 4); "
        "pad or crop the features to a multiple of 4 frames"
    )
    with pytest.raises(DataError, match=r"expected features \(B, \d+, N\), got a tensor of shape \(1, 7, 8\)"):
        generator(torch.randn(1, 7, 8), *args)


@pytest.mark.parametrize(
    ("discriminator", "n_features", "frames", "patches"),
    [
        (vc.CycleGANVCDiscriminator(channels=4), 24, 128, 6 * 8),  # (24 / 4) rows x (128 / 16) columns
        (vc.CycleGANVCDiscriminator(channels=4), 24, 40, 6 * 3),  # ceil(40 / 16)
        (vc.PatchGAN2d(n_features=36, channels=4), 36, 128, 5 * 16),  # ceil(36 / 8) x 128 / 8
        (vc.PatchGAN2d(n_features=80, channels=4), 80, 64, 10 * 8),  # MaskCycleGAN-VC's 64-frame segments
    ],
)
def test_discriminators_return_one_logit_per_patch(discriminator, n_features, frames, patches) -> None:
    torch.manual_seed(0)
    logits = discriminator(torch.randn(3, n_features, frames))
    assert logits.shape == (3, patches)
    assert (logits < 0).any() and (logits > 0).any()  # raw logits, no sigmoid


def test_a_longer_input_only_adds_patches() -> None:
    """The patch discriminators share weights along time: a longer input only adds patches."""
    torch.manual_seed(0)
    d = vc.PatchGAN2d(n_features=16, channels=4).eval()
    assert d(torch.randn(1, 16, 16)).shape == (1, 2 * 2)
    assert d(torch.randn(1, 16, 48)).shape == (1, 2 * 6)


# -- MaskCycleGAN-VC's mask -------------------------------------------------------------------


def test_masked_generator_reads_the_masked_features_and_the_mask() -> None:
    torch.manual_seed(0)
    generator = vc.Generator212(n_features=8, masked=True, channels=4, n_residual_blocks=1).eval()
    x = torch.randn(2, 8, 16)
    mask = torch.ones(2, 1, 16)
    mask[:, :, 4:9] = 0  # a run of missing frames (filling in frames)
    inputs = generator._inputs(x, mask)  # (B, 2, F, N)
    assert inputs.shape == (2, 2, 8, 16)
    assert torch.equal(inputs[:, 0], x * mask) and torch.equal(inputs[:, 1], mask.expand_as(x))
    with torch.no_grad():
        assert torch.equal(generator(x), generator(x, torch.ones_like(x)))  # conversion: all frames present
        assert not torch.allclose(generator(x), generator(x, mask))
    assert generator.conv_in.conv.in_channels == 2


def test_an_unmasked_generator_refuses_a_mask() -> None:
    generator = vc.Generator212(n_features=8, channels=4, n_residual_blocks=1)
    with pytest.raises(DataError, match="masked=False"):
        generator(torch.randn(1, 8, 8), torch.ones(1, 8, 8))


def test_35_features_are_padded_inside_and_cropped_back() -> None:
    torch.manual_seed(0)
    generator = vc.Generator212(n_features=35, channels=4, n_residual_blocks=1)
    assert generator.padded_features == 36
    assert generator.to_1d[0].in_channels == 8 * 9  # 2 C channels x 36 / 4 rows
    assert generator(torch.randn(1, 35, 8)).shape == (1, 35, 8)


# -- StarGAN-VC -------------------------------------------------------------------------------


@pytest.mark.parametrize("frames", [32, 64, 96])
def test_stargan_vc_shapes(frames: int) -> None:
    torch.manual_seed(0)
    g, d, c = vc.StarGANVCGenerator(), vc.StarGANVCDiscriminator(), vc.StarGANVCClassifier()
    x, speaker = torch.randn(2, 36, frames), torch.tensor([1, 3])
    with torch.no_grad():
        assert g(x, speaker).shape == (2, 36, frames)
        assert d(x, speaker).shape == (2, frames // 8)
        assert c(x).shape == (2, 4)
    assert g.frame_multiple == 4


def test_stargan_vc_reads_indices_or_one_hot_codes_and_conditions_on_them() -> None:
    torch.manual_seed(0)
    g = vc.StarGANVCGenerator(n_speakers=3, n_features=12).eval()
    d = vc.StarGANVCDiscriminator(n_speakers=3, n_features=12).eval()
    x = torch.randn(2, 12, 16)
    indices, one_hot = torch.tensor([2, 0]), torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    with torch.no_grad():
        assert torch.equal(g(x, indices), g(x, one_hot))
        assert torch.equal(d(x, indices), d(x, one_hot))
        assert not torch.allclose(g(x, indices), g(x, torch.tensor([1, 1])))
        assert not torch.allclose(d(x, indices), d(x, torch.tensor([1, 1])))
    with pytest.raises(DataError, match=r"expected 3 speakers as indices \(B,\) or one-hot codes \(B, 3\)"):
        g(x, torch.ones(2, 4))


def test_stargan_vc_classifier_reads_only_the_lowest_8_coefficients() -> None:
    torch.manual_seed(0)
    c = vc.StarGANVCClassifier(n_speakers=5).eval()
    x = torch.randn(2, 36, 64)
    y = x.clone()
    y[:, 8:] = torch.randn(2, 28, 64)
    with torch.no_grad():
        assert c(x).shape == (2, 5)
        assert torch.equal(c(x), c(y))
    with pytest.raises(DataError, match=r"\(B, F >= 8, N\)"):
        c(torch.randn(1, 6, 64))


def test_stargan_vc_n_features_must_fold_to_one_row() -> None:
    with pytest.raises(ConfigError, match="n_features 30 must be a multiple of 4"):
        vc.StarGANVCGenerator(n_features=30)
    assert vc.StarGANVCGenerator(n_features=24).encoder[-1].conv.kernel_size == (6, 5)


# -- with the cyclegan objective --------------------------------------------------------------


def test_the_cyclegan_objective_trains_tiny_cyclegan_vc_models() -> None:
    """One D and one G step's terms (Kaneko & Kameoka 2018's losses): finite, with gradients for G."""
    torch.manual_seed(0)
    pm = get_plugin_manager(strict=True, only=["losses", "objectives"], plugins=[("voice_conversion", vc)])
    registry = pm.registry
    objective = build_component(registry, "objective", "cyclegan", path="objective")
    g_spec = {"name": "cyclegan_vc", "args": {"channels": 4, "n_residual_blocks": 1}}
    g = nn.ModuleDict({role: build_component(registry, "generator", g_spec, path=f"generators.{role}")
                       for role in ("a2b", "b2a")})
    d_spec = {"name": "cyclegan_vc_d", "args": {"channels": 4}}
    d = nn.ModuleDict({role: build_component(registry, "discriminator", d_spec, path=f"discriminators.{role}")
                       for role in ("a", "b")})
    batch = {"a": {"features": torch.randn(2, 24, 32)}, "b": {"features": torch.randn(2, 24, 32)}}
    state = objective.generate(batch, g=g, step=0)
    assert state["fake_a"].shape == state["fake_b"].shape == (2, 24, 32)
    d_terms = objective.discriminator_terms(batch, state, g=g, d=d, step=0, weights=objective.terms)
    d.requires_grad_(False)
    g_terms = objective.generator_terms(batch, state, g=g, d=d, step=0, weights=objective.terms)
    assert torch.isfinite(d_terms["d/adv"]) and d_terms["d/adv"] > 0
    total = sum(objective.terms[k] * g_terms[k] for k in ("g/adv", "g/cycle", "g/identity"))
    total.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())
