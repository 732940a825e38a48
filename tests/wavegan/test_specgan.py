"""SpecGAN (Donahue et al. 2019): model shapes and parameter counts, the normalised spectrogram
against numpy, Griffin-Lim inversion, the ``specgan`` objective's statistics and training terms."""

import json
import math

import numpy as np
import pytest
import torch

from speechgan.errors import ConfigError, DataError
from speechgan.features.speaker_stats import ChannelStats
from speechgan.losses import Wasserstein
from speechgan_plugins.wavegan.spec_objective import SpecGAN
from speechgan_plugins.wavegan.specgan import (
    SpecGANDiscriminator,
    SpecGANGenerator,
    SpecGANSpectrogram,
    specgan_discriminator,
    specgan_generator,
)

T = 16384  # samples per clip: 128 frames of 128


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def tones(n: int, seed: int = 0) -> torch.Tensor:
    """(n, 1, T) sines of random frequency, amplitude and phase plus a little noise, in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(T) / 16000
    f = 200 + 3000 * torch.rand(n, 1, generator=g)
    a = 0.1 + 0.5 * torch.rand(n, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 1, generator=g)
    wave = a * torch.sin(2 * math.pi * f * t + phase) + 0.01 * torch.randn(n, T, generator=g)
    return wave[:, None]


class Clips(torch.utils.data.Dataset):
    """A tiny labelled dataset of tones: items {x: (1, T), label: ()}."""

    def __init__(self, n: int) -> None:
        self.x = tones(n, seed=1)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "label": torch.tensor(i % 3)}


def tiny_models(num_classes: int = 0, conditioning: str = "none") -> torch.nn.ModuleDict:
    torch.manual_seed(0)
    return torch.nn.ModuleDict({
        "generator": SpecGANGenerator(latent_dim=8, d=2, num_classes=num_classes),
        "discriminator": SpecGANDiscriminator(d=2, num_classes=num_classes, conditioning=conditioning),
    })


# -- models ---------------------------------------------------------------------------------


def test_paper_size_models_map_uniform_latents_to_128_by_128_spectrograms_and_logits():
    torch.manual_seed(0)
    g, d = specgan_generator(), specgan_discriminator()
    assert (g.latent_dim, g.latent_distribution, g.num_classes) == (100, "uniform", 0)
    with torch.no_grad():
        x = g(torch.rand(2, 100) * 2 - 1)
        assert x.shape == (2, 1, 128, 128)
        assert x.abs().max() <= 1.0  # tanh
        assert d(x).shape == (2, 1)


def test_small_models_keep_the_shapes():
    g, d = tiny_models()["generator"], tiny_models()["discriminator"]
    x = g(torch.rand(3, 8) * 2 - 1)
    assert x.shape == (3, 1, 128, 128)
    assert d(x).shape == (3, 1)


def test_paper_parameter_counts_match_the_closed_form():
    d, k, z = 64, 5, 100
    widths = [16 * d, 8 * d, 4 * d, 2 * d, d, 1]  # G's feature maps; D runs them backwards
    convs = sum(k * k * a * b + b for a, b in zip(widths[:-1], widths[1:]))  # kernels + biases
    g_closed = (z + 1) * 16 * d * 4 * 4 + convs  # dense z -> (16d, 4, 4)
    d_closed = sum(k * k * a * b + b for a, b in zip(widths[::-1][:-1], widths[::-1][1:])) + 16 * d * 4 * 4 + 1
    assert (g_closed, d_closed) == (19_065_345, 17_427_969)
    assert count(specgan_generator()) == g_closed
    assert count(specgan_discriminator()) == d_closed


def test_an_even_kernel_and_a_wrong_input_are_refused_with_the_reason():
    with pytest.raises(ConfigError, match="kernel_size must be odd"):
        SpecGANGenerator(kernel_size=4)
    with pytest.raises(DataError, match=r"expected spectrograms \(B, 1, 128, 128\), got \(2, 1, 64, 64\)"):
        SpecGANDiscriminator(d=2)(torch.zeros(2, 1, 64, 64))


@pytest.mark.parametrize("conditioning", ["concat", "projection"])
def test_conditional_models_take_labels_and_refuse_to_run_without(conditioning):
    models = tiny_models(num_classes=3, conditioning=conditioning)
    g, d = models["generator"], models["discriminator"]
    labels = torch.tensor([0, 2])
    z = torch.rand(2, 8) * 2 - 1
    x = g(z, labels)
    assert x.shape == (2, 1, 128, 128)
    assert d(x, labels).shape == (2, 1)
    assert not torch.equal(g(z, torch.tensor([1, 1])), x)  # the label changes the output
    with pytest.raises(ConfigError, match=r"SpecGANGenerator is conditional \(num_classes=3\) and needs labels"):
        g(z)


# -- the spectrogram ------------------------------------------------------------------------


def numpy_log_magnitude(waves: np.ndarray) -> np.ndarray:
    """(n, T) -> (n, 129, 128): reflect-pad 64, 256-sample periodic Hann frames every 128, log(|X| + 1e-6)."""
    padded = np.pad(waves, ((0, 0), (64, 64)), mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(256) / 256)
    starts = np.arange(128) * 128
    frames = np.stack([padded[:, s : s + 256] for s in starts], axis=1) * window  # (n, N, 256)
    return np.log(np.abs(np.fft.rfft(frames, axis=-1)) + 1e-6).transpose(0, 2, 1)


def test_fitted_statistics_are_numpys_per_bin_mean_and_std_over_all_frames():
    waves = tones(6)
    spec = SpecGANSpectrogram()
    stats = spec.fit([waves[:4], waves[4:]])  # two batches
    log_mag = numpy_log_magnitude(waves[:, 0].double().numpy())  # (6, 129, 128)
    per_bin = log_mag.transpose(1, 0, 2).reshape(129, -1)  # every frame of every clip
    assert stats.frames == int(spec.frames) == 6 * 128
    np.testing.assert_allclose(spec.mean.numpy(), per_bin.mean(axis=1), rtol=0, atol=2e-4)
    np.testing.assert_allclose(spec.std.numpy(), per_bin.std(axis=1), rtol=1e-4, atol=2e-4)
    np.testing.assert_allclose(spec.log_magnitude(waves).numpy(), log_mag, rtol=0, atol=2e-3)


def known_stats(mean: float = 0.5, std: float = 2.0) -> SpecGANSpectrogram:
    spec = SpecGANSpectrogram()
    spec.set_stats(ChannelStats(speaker="test", frames=10, mean=np.full(129, mean), std=np.full(129, std)))
    return spec


def test_normalisation_divides_by_three_std_clips_and_drops_the_nyquist_bin():
    spec = known_stats(mean=0.5, std=2.0)
    # z-scores -4, -1.5, 0, 1.5, 3, 6 along time, the same in every bin
    z = torch.tensor([-4.0, -1.5, 0.0, 1.5, 3.0, 6.0])
    log_mag = (0.5 + 2.0 * z).expand(2, 129, 6)
    out = spec.normalise(log_mag)
    assert out.shape == (2, 1, 128, 6)
    expected = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 1.0])  # z / 3 clipped to [-1, 1]
    torch.testing.assert_close(out[0, 0, 5], expected)


def test_denormalising_a_normalised_spectrogram_is_the_identity_within_the_clip():
    spec = SpecGANSpectrogram()
    spec.fit([tones(4)])
    torch.manual_seed(0)
    z = 2.5 * (torch.rand(3, 129, 128) * 2 - 1)  # within 3 std
    log_mag = spec.mean[:, None] + z * spec.std[:, None]
    back = spec.denormalise(spec.normalise(log_mag))  # (3, 129, 128)
    torch.testing.assert_close(back[:, :128], log_mag[:, :128], rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(back[:, 128], spec.mean[128].expand(3, 128))  # Nyquist: its mean
    beyond = spec.denormalise(spec.normalise(spec.mean[:, None] + 5 * spec.std[:, None].expand(1, 129, 4)))
    torch.testing.assert_close(beyond[:, :128], (spec.mean + 3 * spec.std)[None, :128, None].expand(1, 128, 4))


def test_griffin_lim_turns_a_pure_tones_spectrogram_back_into_a_matching_waveform():
    t = torch.arange(T) / 16000
    wave = (0.5 * torch.sin(2 * math.pi * 1000 * t))[None, None]  # (1, 1, T)
    spec = SpecGANSpectrogram()
    assert spec.stft.n_iter == 16 and spec.stft.momentum == 0.0  # the paper's plain Griffin-Lim
    log_mag = spec.log_magnitude(wave)[0].double()
    # statistics that leave the tone unclipped: its own mean per bin, a wide std
    spec.set_stats(ChannelStats(speaker="tone", frames=128, mean=log_mag.mean(1).numpy(), std=np.full(129, 10.0)))
    out = spec.inverse(spec(wave))
    assert out.shape == (1, 1, T) and out.abs().max() <= 1.0
    target, got = spec.log_magnitude(wave).exp(), spec.log_magnitude(out).exp()
    convergence = ((target - got).norm() / target.norm()).item()  # spectral convergence
    assert convergence < 0.25  # measured: 0.16 (random phase without iterations: 0.55)
    torch.testing.assert_close(out.square().mean().sqrt(), torch.tensor(0.5 / math.sqrt(2)), rtol=0.03, atol=0)


def test_a_clip_of_the_wrong_length_is_a_data_error_naming_the_expected_shape():
    with pytest.raises(DataError, match=r"reads clips \(B, 1, 16384\) as `x`, got \(2, 1, 16000\)"):
        known_stats()(torch.zeros(2, 1, 16000))


# -- the objective --------------------------------------------------------------------------


def test_prepare_keeps_the_statistics_in_the_state_dict_and_a_fresh_objective_restores_them(tmp_path):
    objective = SpecGAN(criterion=Wasserstein(), stats_clips=4)
    g = tiny_models()
    with pytest.raises(DataError, match="statistics were never computed"):
        objective.sample(g=g, n=1, device=torch.device("cpu"))
    objective.prepare(dataset=Clips(7), run_dir=tmp_path)
    state = objective.state_dict()
    assert {"spectrogram.mean", "spectrogram.std", "spectrogram.frames"} <= set(state)
    assert int(state["spectrogram.frames"]) == 4 * 128  # 4 of the 7 clips, evenly spaced
    written = json.loads((tmp_path / "specgan_stats.json").read_text())
    np.testing.assert_allclose(written["mean"], state["spectrogram.mean"].numpy(), rtol=1e-6)
    fresh = SpecGAN(criterion=Wasserstein())
    fresh.load_state_dict(state)
    torch.testing.assert_close(fresh.spectrogram.std, objective.spectrogram.std)
    torch.manual_seed(1)
    waves = fresh.sample(g=g, n=2, device=torch.device("cpu"))
    assert waves.shape == (2, 1, T) and waves.abs().max() <= 1.0


@pytest.mark.parametrize("num_classes, conditioning", [(0, "none"), (3, "projection")])
def test_one_training_step_gives_finite_terms_with_gradients(num_classes, conditioning):
    objective = SpecGAN(criterion=Wasserstein(), num_classes=num_classes)
    dataset = Clips(4)
    objective.prepare(dataset=dataset, run_dir=None)
    models = tiny_models(num_classes, conditioning)
    g, d = models["generator"], models["discriminator"]
    gs, ds = torch.nn.ModuleDict({"generator": g}), torch.nn.ModuleDict({"discriminator": d})
    batch = {"x": dataset.x, "label": torch.tensor([0, 1, 2, 0])}
    state = objective.generate(batch, g=gs, step=0)
    terms = objective.discriminator_terms(batch, state, g=gs, d=ds, step=0, weights=SpecGAN.terms)
    assert {"d/adv", "d/gp", "stats/d_real", "stats/d_fake"} <= set(terms)
    (terms["d/adv"] + 10 * terms["d/gp"]).backward()
    assert all(torch.isfinite(terms[k]) for k in ("d/adv", "d/gp"))
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in d.parameters())
    assert all(p.grad is None for p in g.parameters())  # fakes are detached in the D step
    terms = objective.generator_terms(batch, state, g=gs, d=ds, step=0, weights=SpecGAN.terms)
    terms["g/adv"].backward()
    assert torch.isfinite(terms["g/adv"])
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())


def test_a_conditional_objective_samples_by_class_and_needs_labels_in_the_batch():
    objective = SpecGAN(criterion=Wasserstein(), num_classes=3)
    objective.prepare(dataset=Clips(3), run_dir=None)
    g = tiny_models(3, "concat")
    waves = objective.sample_conditional(g=g, labels=torch.tensor([2, 2]), device=torch.device("cpu"))
    assert waves.shape == (2, 1, T)
    with pytest.raises(DataError, match="reads `label` next to `x`"):
        objective.generate({"x": Clips(2).x}, g=g, step=0)
    with pytest.raises(ConfigError, match="has num_classes=3 but objective 'specgan' has num_classes=0"):
        SpecGAN(criterion=Wasserstein()).sample_spectrogram(g=g, n=1, device=torch.device("cpu"))


def test_logged_samples_are_spectrogram_images_in_minus_one_to_one_and_a_waveform():
    objective = SpecGAN(criterion=Wasserstein(), sample_rate=16000)
    dataset = Clips(3)
    objective.prepare(dataset=dataset, run_dir=None)
    logged = objective.samples(g=tiny_models(), batch={"x": dataset.x}, step=0)
    assert logged["fake"].images.shape == logged["real"].images.shape == (3, 1, 128, 128)
    assert logged["real"].normalize and logged["real"].images.abs().max() <= 1.0
    assert logged["fake_audio"].wave.shape == (T,) and logged["fake_audio"].sample_rate == 16000
