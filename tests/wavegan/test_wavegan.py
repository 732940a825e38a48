"""WaveGAN's generator and discriminator: shapes, parameter counts, phase shuffle, uniform
latents, class conditioning, and WGAN-GP steps through the ``gan`` and ``cgan`` objectives."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.losses import Wasserstein
from speechgan.objective import AudioSample, FigureSample, draw_latent
from speechgan_plugins.image.objectives import ConditionalGAN
from speechgan_plugins.objectives.gan import GAN
from speechgan_plugins.wavegan.wavegan import (
    WaveGANDiscriminator,
    WaveGANGenerator,
    wavegan_discriminator,
    wavegan_generator,
)

CPU = torch.device("cpu")
TINY = {"d": 2, "slice_len": 1024}  # start = 1024 / 4^5 = 1


def g_params(*, latent: int, d: int, k: int, start: int, channels: int = 1, classes: int = 0, embed: int = 0) -> int:
    """Closed form: dense (latent [+ E]) -> 16d * start, transposed convs 16d -> 8d -> 4d -> 2d -> d -> channels."""
    widths = [16 * d, 8 * d, 4 * d, 2 * d, d, channels]
    dense = (latent + embed) * 16 * d * start + 16 * d * start
    convs = sum(a * b * k + b for a, b in zip(widths[:-1], widths[1:]))
    return dense + convs + classes * embed


def d_params(
    *, d: int, k: int, start: int, channels: int = 1, classes: int = 0, code: int = 0, concat: bool = False
) -> int:
    """Closed form: convs channels [+ E] -> d -> 2d -> 4d -> 8d -> 16d, dense 16d * start -> 1, V (K x code)."""
    widths = [channels + (code if concat else 0), d, 2 * d, 4 * d, 8 * d, 16 * d]
    convs = sum(a * b * k + b for a, b in zip(widths[:-1], widths[1:]))
    return convs + 16 * d * start + 1 + classes * code


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# -- architecture ------------------------------------------------------------------------


def test_paper_size_generator_and_discriminator_shapes() -> None:
    torch.manual_seed(0)
    g, d = wavegan_generator(), wavegan_discriminator()
    assert (g.latent_dim, g.latent_distribution, g.sample_rate, g.num_classes) == (100, "uniform", 16000, 0)
    with torch.no_grad():
        x = g(draw_latent(g, 2, CPU))
        assert x.shape == (2, 1, 16384) and x.abs().max() <= 1.0
        assert d(x).shape == (2, 1)


def test_paper_size_parameter_counts_follow_from_the_layer_sizes() -> None:
    g, d = wavegan_generator(), wavegan_discriminator()
    assert count(g) == g_params(latent=100, d=64, k=25, start=16) == 19_065_345
    assert count(d) == d_params(d=64, k=25, start=16) == 17_427_969


@pytest.mark.parametrize("d, slice_len", [(16, 16384), (4, 4096), (2, 1024)])
def test_every_layer_multiplies_the_length_by_the_stride(d: int, slice_len: int) -> None:
    g = WaveGANGenerator(d=d, slice_len=slice_len, latent_dim=8)
    disc = WaveGANDiscriminator(d=d, slice_len=slice_len)
    shapes: list[tuple[int, ...]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape)))
             for m in [*g.upsample, *disc.convs]]
    start = slice_len // 1024
    with torch.no_grad():
        assert disc(g(torch.rand(3, 8) * 2 - 1)).shape == (3, 1)
    for h in hooks:
        h.remove()
    assert shapes[:5] == [(3, 8 * d, 4 * start), (3, 4 * d, 16 * start), (3, 2 * d, 64 * start),
                          (3, d, 256 * start), (3, 1, 1024 * start)]
    assert shapes[5:] == [(3, d, 256 * start), (3, 2 * d, 64 * start), (3, 4 * d, 16 * start),
                          (3, 8 * d, 4 * start), (3, 16 * d, start)]
    assert count(g) == g_params(latent=8, d=d, k=25, start=start)
    assert count(disc) == d_params(d=d, k=25, start=start)


def test_bad_sizes_are_config_and_data_errors() -> None:
    with pytest.raises(ConfigError, match=r"WaveGANGenerator: slice_len must be a positive multiple of stride "
                                          r"\*\* 5 = 1024 \(the paper's is 16384 at stride 4\), got 16000"):
        WaveGANGenerator(slice_len=16000)
    with pytest.raises(ConfigError, match=r"^WaveGANDiscriminator: d \(the model size\) must be at least 1, got 0$"):
        WaveGANDiscriminator(d=0)
    with pytest.raises(ConfigError, match=r"conditioning must be 'none', 'concat' or 'projection', got 'auxiliary'"):
        WaveGANDiscriminator(conditioning="auxiliary", num_classes=10)  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"expects waveforms \(B, C, 1024\) \(slice_len\), got \(2, 1, 1000\)"):
        WaveGANDiscriminator(**TINY)(torch.zeros(2, 1, 1000))


# -- phase shuffle (PhaseShuffle itself: tests/nn/test_discriminator.py) ------------------


def test_discriminator_shuffles_the_phase_after_the_first_four_layers_in_training_only() -> None:
    torch.manual_seed(0)
    disc = WaveGANDiscriminator(d=4, slice_len=4096)
    calls: list[tuple[int, ...]] = []
    disc.shuffle.register_forward_hook(lambda _m, inp, _o: calls.append(tuple(inp[0].shape)))
    x = torch.randn(4, 1, 4096) * 0.3
    outs = [disc(x) for _ in range(8)]
    assert calls[:4] == [(4, 4, 1024), (4, 8, 256), (4, 16, 64), (4, 32, 16)]
    assert len(calls) == 32  # four per forward, none after the fifth layer
    assert any(not torch.equal(outs[0], o) for o in outs[1:])  # random shifts change the logits
    disc.eval()
    assert torch.equal(disc(x), disc(x))
    still = WaveGANDiscriminator(d=4, slice_len=4096, phase_shuffle=0)
    assert torch.equal(still(x), still(x))


# -- latents -----------------------------------------------------------------------------


def test_draw_latent_is_uniform_in_the_unit_cube_for_wavegan() -> None:
    torch.manual_seed(0)
    z = draw_latent(WaveGANGenerator(latent_dim=50, **TINY), 4000, CPU)  # (4000, 50)
    assert z.shape == (4000, 50) and z.min() >= -1.0 and z.max() <= 1.0
    assert z.min() < -0.999 and z.max() > 0.999
    assert abs(z.mean().item()) < 0.01 and abs(z.var().item() - 1 / 3) < 0.01  # U(-1, 1): mean 0, var 1/3
    normal = draw_latent(type("G", (nn.Module,), {"latent_dim": 50})(), 4000, CPU)  # no attribute: N(0, I)
    assert normal.abs().max() > 3.0 and abs(normal.var().item() - 1.0) < 0.02


def test_draw_latent_refuses_an_unknown_distribution() -> None:
    g = WaveGANGenerator(**TINY)
    g.latent_distribution = "laplace"  # type: ignore[misc]
    with pytest.raises(ConfigError, match=r"^WaveGANGenerator.latent_distribution is 'laplace'; draw_latent knows "
                                          r"'normal' and 'uniform'$"):
        draw_latent(g, 2, CPU)


# -- conditioning ------------------------------------------------------------------------


def test_conditional_models_need_labels_and_say_so() -> None:
    with pytest.raises(ConfigError, match=r"^WaveGANGenerator is conditional \(num_classes=10\) and needs labels: "
                                          r"train it with objective cgan, or set num_classes: 0$"):
        WaveGANGenerator(num_classes=10, **TINY)(torch.rand(2, 100))
    with pytest.raises(ConfigError, match=r"^WaveGANDiscriminator is conditional \(num_classes=10\) and needs labels"):
        WaveGANDiscriminator(num_classes=10, conditioning="projection", **TINY)(torch.zeros(2, 1, 1024))
    with pytest.raises(ConfigError, match=r"^WaveGANDiscriminator was given labels but is unconditional"):
        WaveGANDiscriminator(**TINY)(torch.zeros(2, 1, 1024), torch.tensor([0, 1]))
    with pytest.raises(ConfigError, match=r"^WaveGANDiscriminator: conditioning 'concat' needs num_classes >= 1, "
                                          r"got 0$"):
        WaveGANDiscriminator(conditioning="concat", **TINY)


def test_conditional_parameter_counts_add_the_label_embeddings() -> None:
    g = WaveGANGenerator(latent_dim=8, num_classes=10, embed_dim=6, **TINY)
    assert count(g) == g_params(latent=8, d=2, k=25, start=1, classes=10, embed=6)
    concat = WaveGANDiscriminator(num_classes=10, conditioning="concat", embed_dim=6, **TINY)
    assert count(concat) == d_params(d=2, k=25, start=1, classes=10, code=6, concat=True)
    projection = WaveGANDiscriminator(num_classes=10, conditioning="projection", **TINY)
    assert count(projection) == d_params(d=2, k=25, start=1, classes=10, code=32)  # V: 10 x (16d * start)


def test_projection_logit_is_psi_plus_the_label_projection() -> None:
    torch.manual_seed(0)
    disc = WaveGANDiscriminator(d=4, slice_len=2048, num_classes=10, conditioning="projection").eval()
    phi: list[torch.Tensor] = []
    disc.head.register_forward_hook(lambda _m, inp, _o: phi.append(inp[0]))
    x, y = torch.randn(5, 1, 2048) * 0.3, torch.tensor([3, 1, 4, 1, 5])
    out = disc(x, y)
    expected = disc.head(phi[0]) + (disc.label.weight[y] * phi[0]).sum(1, keepdim=True)  # type: ignore[union-attr]
    torch.testing.assert_close(out, expected)
    assert ((out - disc(x, (y + 1) % 10)).abs() > 1e-7).all()


def test_the_label_changes_conditional_outputs() -> None:
    torch.manual_seed(0)
    g = WaveGANGenerator(latent_dim=8, num_classes=10, **TINY)
    disc = WaveGANDiscriminator(num_classes=10, conditioning="concat", **TINY).eval()
    z, y = torch.rand(4, 8) * 2 - 1, torch.arange(4)
    x = g(z, y)
    assert x.shape == (4, 1, 1024) and ((x - g(z, y + 4)).abs().amax(dim=(1, 2)) > 0).all()
    assert ((disc(x, y) - disc(x, y + 4)).abs() > 1e-7).all()


# -- training through the objectives -----------------------------------------------------


def _input_gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """WGAN-GP's ``mean (||grad D(x_hat)|| - 1)^2`` written out, for a given eps (B, 1, 1)."""
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def test_a_wgan_gp_step_through_the_gan_objective() -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": WaveGANGenerator(latent_dim=8, d=2, slice_len=1024)})
    d = nn.ModuleDict({"discriminator": WaveGANDiscriminator(d=2, slice_len=1024, phase_shuffle=0)})
    objective, batch = GAN(criterion=Wasserstein()), {"x": torch.rand(6, 1, 1024) * 1.6 - 0.8}
    weights = {"d/adv": 1.0, "d/gp": 10.0, "d/r1": 0.0, "g/adv": 1.0}
    state = objective.generate(batch, g=g, step=0)
    torch.manual_seed(1)
    terms = objective.discriminator_terms(batch, state, g=g, d=d, step=0, weights=weights)
    assert {"d/adv", "d/gp"} <= set(terms)
    critic = d["discriminator"]
    real_out, fake_out = critic(batch["x"]), critic(state["fake"].detach())
    torch.testing.assert_close(terms["d/adv"], fake_out.mean() - real_out.mean())  # the critic's Wasserstein loss
    torch.manual_seed(1)
    eps = torch.rand(6, 1, 1)  # the draw gradient_penalty makes after the same seed
    torch.testing.assert_close(terms["d/gp"], _input_gradient_penalty(critic, batch["x"], state["fake"], eps))
    (terms["d/adv"] + 10.0 * terms["d/gp"]).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in critic.parameters())
    assert critic.convs[0].weight.grad.abs().sum() > 0
    g_terms = objective.generator_terms(batch, state, g=g, d=d, step=0, weights=weights)
    assert torch.isfinite(g_terms["g/adv"])
    g_terms["g/adv"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())


@pytest.mark.parametrize("conditioning", ["projection", "concat"])
def test_a_conditional_wgan_gp_step_through_cgan_uses_the_real_labels(conditioning: str) -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": WaveGANGenerator(latent_dim=8, num_classes=3, **TINY)})
    d = nn.ModuleDict({"discriminator": WaveGANDiscriminator(num_classes=3, conditioning=conditioning, **TINY)})
    objective = ConditionalGAN(num_classes=3, criterion=Wasserstein())
    batch = {"x": torch.rand(6, 1, 1024) * 1.6 - 0.8, "label": torch.tensor([0, 1, 2, 2, 1, 0])}
    weights = {"d/adv": 1.0, "d/gp": 10.0, "d/r1": 0.0, "g/adv": 1.0}
    assert objective.terms["d/gp"] == 0.0  # off unless a config weighs it
    state = objective.generate(batch, g=g, step=0)
    assert not torch.equal(state["labels"], batch["label"])  # fake labels are drawn, not copied
    critic = d["discriminator"]
    terms = objective.discriminator_terms(batch, state, g=g, d=d, step=0, weights=weights)  # phase shuffle on
    assert set(terms) == {"d/adv", "d/gp", "stats/d_real", "stats/d_fake"}
    assert all(torch.isfinite(t) for t in terms.values())
    (terms["d/adv"] + 10.0 * terms["d/gp"]).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in critic.parameters())
    assert critic.label.weight.grad.abs().sum() > 0  # type: ignore[union-attr]
    g_terms = objective.generator_terms(batch, state, g=g, d=d, step=0, weights=weights)
    g_terms["g/adv"].backward()
    assert g["generator"].label.weight.grad.abs().sum() > 0  # type: ignore[union-attr]

    critic.eval()  # no phase shuffle: the penalty, computed independently, is D(x_hat, real labels)'s
    torch.manual_seed(1)
    penalty = objective.discriminator_terms(batch, state, g=g, d=d, step=0, weights=weights)["d/gp"]
    torch.manual_seed(1)
    eps = torch.rand(6, 1, 1)
    real, fake = batch["x"], state["fake"]
    torch.testing.assert_close(penalty, _input_gradient_penalty(lambda x: critic(x, batch["label"]), real, fake, eps))
    with_fake_labels = _input_gradient_penalty(lambda x: critic(x, state["labels"]), real, fake, eps)
    assert (penalty - with_fake_labels).abs() > 1e-6


# -- samples to log ----------------------------------------------------------------------


def test_gan_logs_waveforms_as_audio_and_spectrograms() -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": WaveGANGenerator(latent_dim=8, sample_rate=8000, **TINY)})
    with torch.no_grad():
        samples = GAN().samples(g=g, batch={"x": torch.zeros(2, 1, 1024)}, step=0)
    assert set(samples) == {"fake_0", "fake_1", "fake_2", "fake_3", "spectrograms"}
    assert all(isinstance(samples[f"fake_{k}"], AudioSample) and samples[f"fake_{k}"].sample_rate == 8000
               and samples[f"fake_{k}"].wave.shape == (1024,) for k in range(4))
    figure = samples["spectrograms"].figure
    assert isinstance(samples["spectrograms"], FigureSample)
    assert [ax.get_title() for ax in figure.axes] == ["fake_0", "fake_1", "fake_2", "fake_3"]
    assert figure.axes[0].images[0].get_array().shape == (257, 1024 // 128 + 1)  # n_fft 512, hop 128
    plt.close(figure)


def test_cgan_logs_one_waveform_of_each_class() -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": WaveGANGenerator(latent_dim=8, num_classes=3, **TINY)})
    batch = {"x": torch.zeros(2, 1, 1024), "label": torch.tensor([0, 1])}
    with torch.no_grad():
        samples = ConditionalGAN(num_classes=3).samples(g=g, batch=batch, step=0)
    assert set(samples) == {"class_0", "class_1", "class_2", "spectrograms"}
    assert samples["class_2"].sample_rate == 16000 and samples["class_2"].wave.shape == (1024,)
    plt.close(samples["spectrograms"].figure)
