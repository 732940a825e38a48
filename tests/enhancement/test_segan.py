"""SEGAN (Pascual et al. 2017): generator and discriminator shapes and paper-size parameter
counts, the skip connections, virtual batch normalisation against its closed form, pre- and
de-emphasis, overlap-add enhancement of whole utterances, one training step's terms, and a
tiny run through the trainer that resumes exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.signal import lfilter
from torch import nn
from torch.utils.data import Dataset

from speechgan import hookimpl
from speechgan.batches import PAIRED
from speechgan.build import build_components
from speechgan.config import validate_config
from speechgan.errors import ConfigError, DataError
from speechgan.losses import LeastSquares, MultiResolutionSTFTLoss
from speechgan.nn import VirtualBatchNorm1d
from speechgan.plugins import get_plugin_manager
from speechgan.trainer import Trainer
from speechgan_plugins import losses as builtin_losses
from speechgan_plugins.enhancement.objective import SEGAN, deemphasis, preemphasis
from speechgan_plugins.enhancement.segan import (
    PAPER_CHANNELS,
    SEGANDiscriminator,
    SEGANGenerator,
    segan_discriminator,
    segan_generator,
)

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = (4, 8, 8, 16)  # 4 layers: lengths must be multiples of 16
SEGMENT = 256


def small_generator(**kwargs) -> SEGANGenerator:
    return SEGANGenerator(channels=SMALL, latent_channels=16, segment_length=SEGMENT, **kwargs)


def small_discriminator(**kwargs) -> SEGANDiscriminator:
    return SEGANDiscriminator(channels=SMALL, segment_length=SEGMENT, **kwargs)


class Identity(nn.Module):
    """A generator that returns its (pre-emphasised) input: enhance() must then give back the input."""

    def forward(self, noisy: torch.Tensor) -> torch.Tensor:
        return noisy


# -- generator and discriminator ---------------------------------------------------------------


@pytest.mark.parametrize("length", [SEGMENT, 3 * SEGMENT // 2])
def test_generator_keeps_the_length_of_any_multiple_of_two_to_the_depth(length: int) -> None:
    g = small_generator()
    torch.manual_seed(0)
    out = g(torch.randn(3, 1, length))
    assert out.shape == (3, 1, length)
    assert out.abs().max() < 1  # tanh
    assert g.frame_multiple == 16 and g.latent_shape == (16, SEGMENT // 16)


def test_generator_refuses_a_length_that_is_not_a_multiple_of_two_to_the_depth() -> None:
    with pytest.raises(DataError, match="length 100 is not a positive multiple of 16"):
        small_generator()(torch.randn(1, 1, 100))


def test_generator_refuses_a_latent_of_the_wrong_shape() -> None:
    with pytest.raises(DataError, match=r"z must have shape \(2, 16, 16\)"):
        small_generator()(torch.randn(2, 1, SEGMENT), torch.randn(2, 16, 8))


def test_discriminator_gives_one_logit_per_pair() -> None:
    assert small_discriminator()(torch.randn(5, 2, SEGMENT)).shape == (5, 1)


def test_discriminator_refuses_segments_of_another_length() -> None:
    with pytest.raises(DataError, match="built for segments of 256 samples .* got 512"):
        small_discriminator()(torch.randn(2, 2, 2 * SEGMENT))


def test_paper_sized_models_have_the_closed_form_parameter_counts() -> None:
    with torch.device("meta"):  # no memory, no initialisation cost
        g, d = segan_generator(), segan_discriminator()
    k, enc = 31, (1, *PAPER_CHANNELS)
    encoder = k * sum(a * b for a, b in zip(enc, enc[1:]))
    dec_out = (*PAPER_CHANNELS[-2::-1], 1)
    dec_in = (2 * 1024, *(2 * c for c in dec_out[:-1]))  # z + code, then each output + its skip
    decoder = k * sum(a * b for a, b in zip(dec_in, dec_out))
    prelus = sum(PAPER_CHANNELS) + sum(dec_out[:-1])
    assert [m.in_channels for m in g.decoder] == [2048, 1024, 512, 512, 256, 256, 128, 128, 64, 64, 32]
    assert sum(p.numel() for p in g.parameters()) == encoder + decoder + prelus == 73_096_048
    d_convs = k * sum(a * b for a, b in zip((2, *PAPER_CHANNELS), PAPER_CHANNELS))
    vbn, head = 2 * sum(PAPER_CHANNELS), 1024 + 8 + 1  # 1 x 1 conv, dense over 8 frames + bias
    assert sum(p.numel() for p in d.parameters()) == d_convs + vbn + head == 24_370_569
    assert g.latent_shape == (1024, 8) and g.frame_multiple == 2048


def test_the_decoder_reads_the_first_encoder_layer_through_its_skip() -> None:
    # With every deeper encoder layer zeroed and z = 0, nothing but the first layer's output
    # (before its PReLU) reaches the decoder, through the last layer's skip: the output is
    # then tanh(last transposed conv of that skip alone).
    torch.manual_seed(0)
    g = small_generator()
    with torch.no_grad():
        for conv in g.encoder[1:]:
            conv.weight.zero_()
    x = torch.randn(2, 1, SEGMENT)
    out = g(x, torch.zeros(2, 16, SEGMENT // 16))
    skip, last = g.encoder[0](x), g.decoder[-1]  # (2, 4, T / 2); weight (8, 1, 31): [decoded 4 ; skip 4]
    expected = torch.tanh(F.conv_transpose1d(skip, last.weight[-SMALL[0]:], stride=2, padding=last.padding,
                                             output_padding=last.output_padding))
    torch.testing.assert_close(out, expected)
    assert out.std() > 1e-3  # the input does get through


def test_residual_generator_starts_as_the_identity_and_learns_a_correction() -> None:
    torch.manual_seed(0)
    g = small_generator(residual=True)
    x = 1.5 * torch.randn(2, 1, SEGMENT)  # beyond the tanh's range: the residual output is not squashed
    torch.testing.assert_close(g(x), x, rtol=0, atol=0)  # the last layer starts at zero
    assert sum(p.numel() for p in g.parameters()) == sum(p.numel() for p in small_generator().parameters())
    target = 0.5 * x  # learn to halve the input: the L1 distance falls after a few steps
    opt = torch.optim.SGD(g.parameters(), lr=1e-3)
    before = F.l1_loss(g(x), target).item()
    for _ in range(5):
        opt.zero_grad()
        F.l1_loss(g(x), target).backward()
        opt.step()
    assert F.l1_loss(g(x), target).item() < before
    assert g.decoder[-1].weight.abs().sum() > 0


def test_gated_generator_starts_as_the_identity_and_its_output_is_gain_times_input_plus_correction() -> None:
    torch.manual_seed(0)
    g = small_generator(residual=True, gate=True)
    x = 1.5 * torch.randn(2, 1, SEGMENT)
    torch.testing.assert_close(g(x), x, rtol=0, atol=0)  # correction 0, gain min(1, 2 sigmoid(0)) = 1
    # one more output channel: the last layer's kernel gains (its input channels x kernel) weights
    last = g.decoder[-1]
    assert tuple(last.weight.shape) == (2 * SMALL[0], 2, 31)
    plain = small_generator(residual=True)
    extra = sum(p.numel() for p in g.parameters()) - sum(p.numel() for p in plain.parameters())
    assert extra == 2 * SMALL[0] * 31
    # the last layer's output (zero: its kernel starts at zero) replaced through a hook by a
    # correction c and a constant gate logit a: the output is min(1, 2 sigmoid(a)) * noisy + c
    correction = 0.1 * torch.randn(2, 1, SEGMENT)
    for logit in (-3.0, 0.0, 2.0):
        h = torch.cat([correction, torch.full((2, 1, SEGMENT), logit)], dim=1)  # (B, 2, T)
        handle = last.register_forward_hook(lambda module, args, out, h=h: out + h)
        gain = min(1.0, 2.0 / (1.0 + math.exp(-logit)))
        torch.testing.assert_close(g(x), gain * x + correction)
        handle.remove()


def test_gated_generator_learns_to_close_its_gate_over_silence() -> None:
    torch.manual_seed(0)
    g = small_generator(residual=True, gate=True)
    x = torch.randn(4, 1, SEGMENT)
    target = x.clone()
    target[..., SEGMENT // 2:] = 0.0  # the second half is a pause: only noise, to be removed
    opt = torch.optim.Adam(g.parameters(), lr=1e-2)
    z = torch.zeros(4, 16, SEGMENT // 16)
    before = g(x, z)[..., SEGMENT // 2:].abs().mean().item()
    for _ in range(60):
        opt.zero_grad()
        F.l1_loss(g(x, z), target).backward()
        opt.step()
    after = g(x, z)
    assert after[..., SEGMENT // 2:].abs().mean().item() < 0.5 * before
    assert F.l1_loss(after[..., : SEGMENT // 2], target[..., : SEGMENT // 2]).item() < 0.5


def test_a_gate_without_the_residual_output_is_refused() -> None:
    with pytest.raises(ConfigError, match="gate=true .* needs residual=true"):
        small_generator(gate=True)


# -- virtual batch normalisation ---------------------------------------------------------------


def _vbn(channels: int = 3) -> VirtualBatchNorm1d:
    vbn = VirtualBatchNorm1d(channels)
    with torch.no_grad():
        vbn.gamma.copy_(torch.tensor([0.5, 1.5, 2.0]))
        vbn.beta.copy_(torch.tensor([0.1, -0.2, 0.3]))
    return vbn


def test_vbn_normalises_each_example_with_the_reference_batch_plus_itself() -> None:
    torch.manual_seed(0)
    vbn, ref, x = _vbn(), torch.randn(5, 3, 7) * 2 + 1, torch.randn(4, 3, 7)
    normalised_ref = vbn.set_reference(ref)
    gamma, beta = vbn.gamma[:, None], vbn.beta[:, None]
    var, mean = torch.var_mean(ref, dim=(0, 2), unbiased=False, keepdim=True)
    torch.testing.assert_close(normalised_ref, (ref - mean) / torch.sqrt(var + 1e-5) * gamma + beta)
    out = vbn(x)
    for b in range(4):  # the statistics of the virtual batch: the reference and this example
        virtual = torch.cat([ref, x[b:b + 1]])  # (6, 3, 7)
        var, mean = torch.var_mean(virtual, dim=(0, 2), unbiased=False)
        expected = (x[b] - mean[:, None]) / torch.sqrt(var[:, None] + 1e-5) * gamma + beta
        torch.testing.assert_close(out[b], expected)


def test_vbn_reference_is_the_first_training_batch_and_stays_frozen() -> None:
    torch.manual_seed(0)
    vbn, first = _vbn().train(), torch.randn(6, 3, 9)
    vbn(first)
    vbn(torch.randn(4, 3, 9) * 10)
    torch.testing.assert_close(vbn.ref_mean, first.mean(dim=(0, 2)))
    torch.testing.assert_close(vbn.ref_mean_sq, first.pow(2).mean(dim=(0, 2)))
    assert int(vbn.ref_size) == 6
    assert {"ref_mean", "ref_mean_sq", "ref_size"} <= vbn.state_dict().keys()


def test_vbn_eval_mode_uses_the_checkpointed_reference() -> None:
    torch.manual_seed(0)
    vbn, x = _vbn().train(), torch.randn(2, 3, 9)
    vbn.set_reference(torch.randn(6, 3, 9))
    restored = VirtualBatchNorm1d(3)
    restored.load_state_dict(vbn.state_dict())
    torch.testing.assert_close(restored.eval()(x), vbn(x))


def test_vbn_without_a_reference_is_refused_in_eval_mode() -> None:
    with pytest.raises(RuntimeError, match="no reference statistics: run a training batch"):
        VirtualBatchNorm1d(3).eval()(torch.randn(2, 3, 5))


def test_discriminator_refreshes_the_reference_statistics_under_new_weights() -> None:
    torch.manual_seed(0)
    d, first = small_discriminator().train(), torch.randn(4, 2, SEGMENT)
    d(first)
    with torch.no_grad():
        d.convs[0].weight.mul_(3.0)
    d(torch.randn(2, 2, SEGMENT))
    assert torch.equal(d.reference_batch, first)  # the first batch stays the reference
    torch.testing.assert_close(d.norms[0].ref_mean, d.convs[0](first).mean(dim=(0, 2)))


def test_discriminator_with_frozen_statistics_keeps_the_first_ones() -> None:
    torch.manual_seed(0)
    d, first = small_discriminator(reference="statistics").train(), torch.randn(4, 2, SEGMENT)
    d(first)
    kept = d.norms[0].ref_mean.clone()
    with torch.no_grad():
        d.convs[0].weight.mul_(3.0)
    d(torch.randn(2, 2, SEGMENT))
    torch.testing.assert_close(d.norms[0].ref_mean, kept)
    assert d.reference_batch.shape[0] == 0  # no batch kept


def test_discriminator_reference_batch_survives_a_checkpoint() -> None:
    torch.manual_seed(0)
    d, pairs = small_discriminator().train(), torch.randn(3, 2, SEGMENT)
    d(torch.randn(4, 2, SEGMENT))
    restored = small_discriminator()
    restored.load_state_dict(d.state_dict())  # a (4, 2, T) reference into a fresh (0, 2, T) buffer
    assert torch.equal(restored.reference_batch, d.reference_batch)
    torch.testing.assert_close(restored.eval()(pairs), d.eval()(pairs))
    torch.testing.assert_close(restored.train()(pairs), d.train()(pairs))


# -- pre-emphasis and enhancement --------------------------------------------------------------


def test_preemphasis_is_the_reference_first_order_filter() -> None:
    x = torch.tensor([[1.0, 2.0, -1.0, 0.5]])
    torch.testing.assert_close(preemphasis(x, 0.95), torch.tensor([[1.0, 2.0 - 0.95, -1.0 - 1.9, 0.5 + 0.95]]))


@pytest.mark.parametrize("length", [1, 511, 512, 2000])
def test_deemphasis_inverts_preemphasis(length: int) -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 3, length, dtype=torch.float64)
    torch.testing.assert_close(deemphasis(preemphasis(x, 0.95), 0.95), x, rtol=0, atol=1e-12)
    assert torch.equal(deemphasis(x, 0.0), x) and torch.equal(preemphasis(x, 0.0), x)


@pytest.mark.parametrize("shape", [(5000,), (2, 1500)])
def test_enhancing_with_an_identity_generator_gives_back_the_input(shape: tuple[int, ...]) -> None:
    # lengths that are not multiples of the window: the padding, Hann overlap-add and
    # de-emphasis must reproduce every sample
    torch.manual_seed(0)
    noisy = torch.rand(shape) * 1.6 - 0.8
    out = SEGAN(criterion=LeastSquares(), window_length=1024).enhance(noisy, g=nn.ModuleDict({"generator": Identity()}))
    assert out.shape == noisy.shape
    torch.testing.assert_close(out, noisy, rtol=0, atol=1e-5)


def test_the_dc_blocker_is_the_first_order_high_pass_and_removes_an_offset() -> None:
    rate, cutoff = 16000, 20.0
    t = torch.arange(3 * rate, dtype=torch.float64) / rate
    noisy = 0.3 * torch.sin(2 * math.pi * 1000 * t) + 0.1  # a tone on a constant offset
    objective = SEGAN(criterion=LeastSquares(), window_length=SEGMENT, highpass_hz=cutoff)
    out = objective.enhance(noisy, g=nn.ModuleDict({"generator": Identity()}))
    pole = math.exp(-2 * math.pi * cutoff / rate)
    expected = lfilter([1.0, -1.0], [1.0, -pole], noisy.numpy())  # y[n] = x[n] - x[n-1] + r y[n-1]
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-9)
    tail = out[rate:]  # after one second the offset has decayed (time constant 1 / (2 pi 20) s)
    assert abs(float(tail.mean())) < 1e-4
    w = 2 * math.pi * 1000 / rate  # the tone passes with the filter's gain |1 - e^-jw| / |1 - r e^-jw| (1.0035)
    gain = abs(1 - np.exp(-1j * w)) / abs(1 - pole * np.exp(-1j * w))
    amplitude = math.sqrt(2) * float(tail.square().mean().sqrt())
    assert amplitude == pytest.approx(0.3 * gain, rel=1e-4) and gain == pytest.approx(1, abs=0.004)
    with pytest.raises(ConfigError, match="highpass_hz must be in"):
        SEGAN(criterion=LeastSquares(), highpass_hz=8000.0)


def test_enhancing_draws_the_same_seeded_latent_every_time() -> None:
    torch.manual_seed(0)
    g, noisy = nn.ModuleDict({"generator": small_generator()}), torch.randn(700) * 0.3
    objective = SEGAN(criterion=LeastSquares(), window_length=SEGMENT)
    first = objective.enhance(noisy, g=g)
    assert first.shape == (700,) and torch.equal(first, objective.enhance(noisy, g=g))
    zeros = SEGAN(criterion=LeastSquares(), window_length=SEGMENT, inference_latent="zeros").enhance(noisy, g=g)
    assert not torch.equal(first, zeros)


def test_enhancing_with_a_window_the_generator_cannot_read_is_refused() -> None:
    g = nn.ModuleDict({"generator": small_generator()})
    with pytest.raises(ConfigError, match="window_length 200 is not a multiple of 16"):
        SEGAN(criterion=LeastSquares(), window_length=200).enhance(torch.randn(300), g=g)


@pytest.mark.parametrize(("args", "message"), [
    ({"preemphasis": 1.0}, r"preemphasis must be in \[0, 1\)"),
    ({"window_length": 1001}, "window_length must be a positive even number"),
])
def test_bad_objective_arguments_are_refused(args: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SEGAN(criterion=LeastSquares(), **args)


# -- one training step -------------------------------------------------------------------------


def test_one_step_has_finite_terms_with_gradients_for_both_networks() -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": small_generator()})
    d = nn.ModuleDict({"discriminator": small_discriminator()})
    objective = SEGAN(criterion=LeastSquares(), window_length=SEGMENT)
    assert objective.reads == {"noisy", "clean"} and objective.terms == {"d/adv": 1.0, "g/adv": 1.0, "g/l1": 100.0,
                                                                  "g/stft": 0.0}
    clean = torch.randn(4, SEGMENT) * 0.3
    batch = {"noisy": clean + 0.1 * torch.randn(4, SEGMENT), "clean": clean}
    state = objective.generate(batch, g=g, step=0)
    d_terms = objective.discriminator_terms(batch, state, g=g, d=d, step=0, weights=objective.terms)
    real = d["discriminator"](torch.cat([state["clean"], state["noisy"]], dim=1))
    fake = d["discriminator"](torch.cat([state["fake"].detach(), state["noisy"]], dim=1))
    torch.testing.assert_close(d_terms["d/adv"], (real - 1).pow(2).mean() + fake.pow(2).mean())
    d_terms["d/adv"].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())
    assert all(p.grad is None for p in g.parameters())  # the fakes were detached
    g_terms = objective.generator_terms(batch, state, g=g, d=d, step=0, weights=objective.terms)
    torch.testing.assert_close(g_terms["g/l1"], (state["fake"] - preemphasis(clean, 0.95)[:, None]).abs().mean())
    assert all(torch.isfinite(t) for t in (*d_terms.values(), *g_terms.values()))
    (g_terms["g/adv"] + 100 * g_terms["g/l1"]).backward()
    grads = [p.grad for p in g.parameters()]
    assert all(grad is not None and torch.isfinite(grad).all() for grad in grads)
    assert g["generator"].encoder[0].weight.grad.abs().sum() > 0
    assert "g/stft" not in g_terms  # weight 0 by default: the paper's objective, not computed


def test_stft_term_is_the_multi_resolution_loss_in_the_preemphasised_domain() -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": small_generator()})
    stft = MultiResolutionSTFTLoss(resolutions=((64, 16, 64), (128, 32, 96)))
    objective = SEGAN(criterion=LeastSquares(), window_length=SEGMENT, stft_loss=stft)
    clean = torch.randn(3, SEGMENT) * 0.3
    batch = {"noisy": clean + 0.1 * torch.randn(3, SEGMENT), "clean": clean}
    state = objective.generate(batch, g=g, step=0)
    terms = objective.generator_terms(batch, state, g=g, d=nn.ModuleDict(), step=0,
                                      weights={"g/l1": 0.0, "g/adv": 0.0, "g/stft": 1.0})
    assert set(terms) == {"g/stft", "stats/stft_convergence", "stats/stft_log_magnitude"}
    convergence, log_magnitude = stft(state["fake"], preemphasis(clean, 0.95)[:, None])
    torch.testing.assert_close(terms["g/stft"], convergence + log_magnitude)
    torch.testing.assert_close(terms["stats/stft_convergence"], convergence)
    terms["g/stft"].backward()
    assert g["generator"].encoder[0].weight.grad.abs().sum() > 0
    # a generator that returns the clean signal scores 0 on both parts
    perfect = {**state, "fake": state["clean"]}
    zero = objective.generator_terms(batch, perfect, g=g, d=nn.ModuleDict(), step=0, weights={"g/stft": 1.0})
    torch.testing.assert_close(zero["g/stft"], torch.tensor(0.0))


def test_samples_log_the_enhanced_noisy_and_clean_segment() -> None:
    torch.manual_seed(0)
    g = nn.ModuleDict({"generator": small_generator()})
    batch = {"noisy": torch.randn(2, SEGMENT) * 0.3, "clean": torch.randn(2, SEGMENT) * 0.3}
    logged = SEGAN(criterion=LeastSquares(), window_length=SEGMENT).samples(g=g, batch=batch, step=0)
    assert set(logged) == {"enhanced", "noisy", "clean"}
    assert logged["enhanced"].wave.shape == (SEGMENT,) and logged["enhanced"].sample_rate == 16000


# -- through the trainer -----------------------------------------------------------------------


class PairedNoise(Dataset):
    """Sines in white noise: ``{"noisy": (T,), "clean": (T,)}``, a PAIRED dataset."""

    yields = PAIRED

    def __init__(self, n: int = 8, length: int = SEGMENT) -> None:
        g = torch.Generator().manual_seed(1)
        t = torch.arange(length) / 16000
        self.clean = 0.5 * torch.sin(2 * torch.pi * (200 + 800 * torch.rand(n, 1, generator=g)) * t)
        self.noisy = self.clean + 0.1 * torch.randn(n, length, generator=g)

    def __len__(self) -> int:
        return len(self.clean)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"noisy": self.noisy[i], "clean": self.clean[i]}


class TinySEGANKit:
    @hookimpl
    def speechgan_register_generators(self, register):
        register("tiny_segan", SEGANGenerator)

    @hookimpl
    def speechgan_register_discriminators(self, register):
        register("tiny_segan", SEGANDiscriminator)

    @hookimpl
    def speechgan_register_objectives(self, register):
        register("tiny_segan", SEGAN)

    @hookimpl
    def speechgan_register_datasets(self, register):
        register("paired_noise", PairedNoise)


TINY_RUN = {
    "seed": 0,
    "objective": {"name": "tiny_segan", "args": {"window_length": SEGMENT}},
    "generators": {"generator": {"name": "tiny_segan",
                                 "args": {"channels": list(SMALL), "latent_channels": 16, "segment_length": SEGMENT}}},
    "discriminators": {"discriminator": {"name": "tiny_segan",
                                         "args": {"channels": list(SMALL), "segment_length": SEGMENT}}},
    "data": {"train": {"name": "paired_noise"}, "batch_size": 4},
    "optim": {"generator": {"name": "rmsprop", "lr": 2e-4}, "discriminator": {"name": "rmsprop", "lr": 2e-4}},
    "trainer": {"max_steps": 4, "log_every": 1, "checkpoint_every": None},
}


def _trainer(registry, run_dir, max_steps: int) -> Trainer:
    config = validate_config(TINY_RUN | {"trainer": TINY_RUN["trainer"] | {"max_steps": max_steps}}, registry)
    torch.manual_seed(config.seed)
    return Trainer(build_components(config, registry), run_dir, device=torch.device("cpu"))


def test_a_resumed_run_continues_exactly_with_the_reference_batch_restored(tmp_path) -> None:
    pm = get_plugin_manager(entry_points=False, plugins=[("losses", builtin_losses), ("tiny_segan", TinySEGANKit())])
    assert not pm.failures, [f.message for f in pm.failures]
    whole = _trainer(pm.registry, tmp_path / "whole", 4)
    whole.fit()
    assert isinstance(whole.objective.criterion, LeastSquares)  # "least_squares" by name
    assert whole.d["discriminator"].reference_batch.shape == (4, 2, SEGMENT)
    _trainer(pm.registry, tmp_path / "split", 2).fit()
    resumed = _trainer(pm.registry, tmp_path / "split", 4)
    resumed.resume(tmp_path / "split" / "checkpoints" / "last.pt")
    resumed.fit()
    rows = [(tmp_path / run / "scalars.jsonl").read_text().splitlines() for run in ("whole", "split")]
    assert rows[0] == rows[1] and len(rows[0]) == 4
    assert all(math.isfinite(json.loads(line)["g/l1"]) for line in rows[0])
    for p, q in zip(whole.d.state_dict().values(), resumed.d.state_dict().values()):
        assert torch.equal(p, q)
