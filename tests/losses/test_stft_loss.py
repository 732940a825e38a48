"""Parallel WaveGAN's multi-resolution STFT loss: closed forms, a NumPy reference, gradients, buffers."""

from __future__ import annotations

import math
import typing

import numpy as np
import pytest
import torch

import speechgan_plugins.losses
from speechgan.config import check_component_args
from speechgan.errors import ConfigError, DataError
from speechgan.features.stft import WindowName as FrontEndWindowName
from speechgan.losses import PWG_RESOLUTIONS, MultiResolutionSTFTLoss
from speechgan.losses.stft import WindowName
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec


def _noise(*shape: int, seed: int = 0) -> torch.Tensor:
    return 0.1 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _numpy_magnitudes(x: np.ndarray, fft_size: int, hop: int, win: int) -> np.ndarray:
    """|STFT| of (B, T) signals, written from the definition: reflect-pad fft_size // 2, frame,
    periodic Hann of ``win`` centred in ``fft_size``, rfft; power floored at 1e-7. (B, N, F)."""
    pad = fft_size // 2
    padded = np.pad(x, ((0, 0), (pad, pad)), mode="reflect")
    n_frames = 1 + (padded.shape[1] - fft_size) // hop
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)  # periodic
    window = np.zeros(fft_size)
    window[(fft_size - win) // 2 : (fft_size - win) // 2 + win] = hann
    frames = np.stack([padded[:, i * hop : i * hop + fft_size] for i in range(n_frames)], axis=1)  # (B, N, fft)
    power = np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2
    return np.sqrt(np.maximum(power, 1e-7))


def test_identical_signals_give_exactly_zero() -> None:
    x = _noise(2, 4000)
    convergence, log_magnitude = MultiResolutionSTFTLoss()(x, x.clone())
    assert convergence.item() == 0.0 and log_magnitude.item() == 0.0


@pytest.mark.parametrize("gain", [0.5, 3.0])
@pytest.mark.parametrize("resolution", PWG_RESOLUTIONS)
def test_a_gain_gives_its_closed_form_at_every_resolution(resolution, gain: float) -> None:
    real = _noise(3, 6000)
    convergence, log_magnitude = MultiResolutionSTFTLoss(resolutions=(resolution,))(gain * real, real)
    # ||S - aS|| / ||S|| = |1 - a| and |ln aS - ln S| = |ln a| wherever the power is above the
    # 1e-7 floor; a few bins of the first frame (reflect-padded about sample 0, so nearly
    # symmetric, its spectrum nearly real) fall below it: 1 to 2 of 40,000 here
    assert convergence.item() == pytest.approx(abs(1 - gain), rel=1e-9)
    assert log_magnitude.item() == pytest.approx(abs(math.log(gain)), rel=1e-4)


def test_terms_name_the_sum_and_log_each_part_detached() -> None:
    real, fake = _noise(2, 4000), (0.5 * _noise(2, 4000)).requires_grad_()
    loss = MultiResolutionSTFTLoss()
    convergence, log_magnitude = loss(fake, real)
    terms = loss.terms(fake, real, name="g/aux")
    assert set(terms) == {"g/aux", "stats/stft_convergence", "stats/stft_log_magnitude"}
    assert terms["g/aux"].item() == (convergence + log_magnitude).item() and terms["g/aux"].requires_grad
    assert (terms["stats/stft_convergence"].item(), terms["stats/stft_log_magnitude"].item()) == (
        convergence.item(), log_magnitude.item())
    assert not terms["stats/stft_convergence"].requires_grad and not terms["stats/stft_log_magnitude"].requires_grad
    assert set(loss.terms(fake, real)) >= {"g/stft"}  # the name both objectives use


def test_values_match_a_numpy_computation_over_a_batch() -> None:
    real, fake = _noise(3, 5000, seed=1), _noise(3, 5000, seed=2) + 0.5 * _noise(3, 5000, seed=1)
    convergence, log_magnitude = MultiResolutionSTFTLoss()(fake, real)
    sc, mag = [], []
    for resolution in PWG_RESOLUTIONS:
        s_real, s_fake = _numpy_magnitudes(real.numpy(), *resolution), _numpy_magnitudes(fake.numpy(), *resolution)
        sc.append(np.linalg.norm(s_real - s_fake) / np.linalg.norm(s_real))  # Frobenius over the whole batch
        mag.append(np.mean(np.abs(np.log(s_real) - np.log(s_fake))))
    assert convergence.item() == pytest.approx(np.mean(sc), rel=1e-6)  # float32 window vs float64 here
    assert log_magnitude.item() == pytest.approx(np.mean(mag), rel=1e-6)


def test_channels_fold_into_the_batch_and_half_precision_is_computed_in_float32() -> None:
    loss = MultiResolutionSTFTLoss()
    real, fake = _noise(2, 3000, seed=3).float(), _noise(2, 3000, seed=4).float()
    flat = loss(fake, real)
    assert [t.item() for t in loss(fake[:, None], real[:, None])] == [t.item() for t in flat]  # (B, 1, T)
    assert [t.item() for t in loss(fake.reshape(1, 2, -1), real.reshape(1, 2, -1))] == [t.item() for t in flat]
    half = loss(fake.bfloat16(), real.bfloat16())
    assert all(t.dtype == torch.float32 for t in half)
    assert half[0].item() == pytest.approx(flat[0].item(), rel=2e-2)  # bf16 rounding of the samples only


def test_gradients_flow_to_the_fake_signal() -> None:
    loss = MultiResolutionSTFTLoss(resolutions=((16, 4, 12), (8, 2, 8)))
    real = _noise(2, 40, seed=5)
    fake = (_noise(2, 40, seed=6) + real).requires_grad_()
    assert torch.autograd.gradcheck(lambda f: torch.stack(loss(f, real)), (fake,))
    big = fake.detach().repeat(1, 60).requires_grad_()
    sum(MultiResolutionSTFTLoss()(big, real.repeat(1, 60))).backward()
    assert torch.isfinite(big.grad).all() and big.grad.abs().sum() > 0


def test_windows_are_non_persistent_buffers_that_follow_the_module() -> None:
    loss = MultiResolutionSTFTLoss()
    buffers = dict(loss.named_buffers())
    assert {k: tuple(v.shape) for k, v in buffers.items()} == {"window_0": (600,), "window_1": (1200,), "window_2": (240,)}
    assert torch.equal(buffers["window_0"], torch.hann_window(600, dtype=torch.float64).float())  # periodic Hann
    assert loss.state_dict() == {}  # rebuilt from the arguments, never stored in checkpoints
    assert loss.to("meta").window_1.device.type == "meta"
    hamming = MultiResolutionSTFTLoss(resolutions=((64, 16, 32),), window="hamming")
    assert torch.allclose(hamming.window_0, torch.hamming_window(32))
    assert typing.get_args(WindowName) == typing.get_args(FrontEndWindowName)


def test_errors_name_the_problem() -> None:
    loss = MultiResolutionSTFTLoss()
    with pytest.raises(DataError, match=r"needs more than 1024 samples \(half the largest FFT size\), got 1000"):
        loss(torch.zeros(1, 1000), torch.zeros(1, 1000))
    with pytest.raises(ValueError, match=r"fake \(1, 3000\) and real \(1, 2999\) signals differ in shape"):
        loss(torch.zeros(1, 3000), torch.zeros(1, 2999))
    with pytest.raises(ValueError, match=r"fake must be \(B, T\) or \(B, C, T\), got \(3000,\)"):
        loss(torch.zeros(3000), torch.zeros(3000))
    with pytest.raises(ConfigError, match=r"resolution \(256, 64, 512\) must be .* win_length <= fft_size"):
        MultiResolutionSTFTLoss(resolutions=((256, 64, 512),))
    with pytest.raises(ConfigError, match="resolutions is empty"):
        MultiResolutionSTFTLoss(resolutions=())


def test_registered_and_configurable_by_name() -> None:
    pm = get_plugin_manager(entry_points=False, plugins=[("losses", speechgan_plugins.losses)])
    component = pm.registry.get("loss", "multi_resolution_stft")
    assert "Parallel WaveGAN" in component.description
    spec = ComponentSpec(name="multi_resolution_stft", args={"resolutions": [[256, 64, 256], [128, 32, 100]]})
    values, errors = check_component_args("objective.args.stft_loss", "loss", spec, component.factory, injectable=set())
    assert errors == [] and values == {"resolutions": ((256, 64, 256), (128, 32, 100))}
    assert component.build(**values).resolutions == ((256, 64, 256), (128, 32, 100))
    spec = ComponentSpec(name="multi_resolution_stft", args={"window": "hanning"})
    _, errors = check_component_args("objective.args.stft_loss", "loss", spec, component.factory, injectable=set())
    assert errors == ["objective.args.stft_loss.args.window: Input should be 'hann', 'hamming' or 'blackman' (got 'hanning')"]
