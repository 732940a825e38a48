"""Inverses: exact ones are exact, Griffin-Lim beats random phase, WORLD resynthesizes."""

from __future__ import annotations

import math

import pytest
import torch
import torchaudio.functional as AF

from speechgan.features import (
    MFCC,
    LogMelSpectrogram,
    LogSTFTMagnitude,
    STFTMagnitude,
    Waveform,
    WorldFeatures,
)
from speechgan.features.stft import SpectralFrontEnd


def test_waveform_identity_and_continuous_mu_law_are_exact(tone_22k: torch.Tensor) -> None:
    plain = Waveform()
    assert torch.equal(plain(tone_22k)[0], tone_22k)
    assert torch.equal(plain.inverse(plain(tone_22k)), tone_22k)
    mu = Waveform(mu_law=True, quantization_channels=256)
    x = torch.linspace(-1, 1, 2001)
    y = mu(x)[0]
    torch.testing.assert_close(y, torch.sign(x) * torch.log1p(255 * x.abs()) / math.log(256))
    torch.testing.assert_close(mu.inverse(mu(x)), x, atol=1e-6, rtol=0)
    batch = torch.stack([tone_22k, -tone_22k])
    torch.testing.assert_close(mu.inverse(mu(batch)), batch, atol=1e-6, rtol=0)


@pytest.mark.parametrize("channels", [256, 65536])
def test_quantized_mu_law_is_torchaudios(tone_22k: torch.Tensor, channels: int) -> None:
    fe = Waveform(mu_law=True, quantize=True, quantization_channels=channels)
    x = torch.cat([tone_22k, torch.linspace(-1, 1, 1001)])
    codes = AF.mu_law_encoding(x, channels)  # int64 in [0, channels - 1]
    levels = fe(x)[0]
    assert torch.equal(levels, codes.float() * (2 / (channels - 1)) - 1)
    # the expansion is the continuous law's; on the levels it is torchaudio's decoder
    torch.testing.assert_close(fe.inverse(levels[None]), AF.mu_law_decoding(codes, channels), atol=2e-6, rtol=0)


def test_quantized_mu_law_equals_the_closed_form_off_level_boundaries() -> None:
    """The levels are floor((y + 1) / 2 * mu + 0.5) of the continuous law y, as before."""
    fe = Waveform(mu_law=True, quantize=True)
    x = torch.linspace(-1, 1, 20001, dtype=torch.float64)
    y = torch.sign(x) * torch.log1p(255 * x.abs()) / math.log(256)
    position = (y + 1) / 2 * 255 + 0.5
    away = (position - position.round()).abs() > 1e-6  # float rounding may pick either side on a boundary
    expected = torch.floor(position) * (2 / 255) - 1
    torch.testing.assert_close(fe(x)[0][away], expected[away], atol=1e-12, rtol=0)
    assert away.float().mean() > 0.999


@pytest.mark.parametrize(
    ("factory", "kwargs", "start", "stop"),
    [
        (STFTMagnitude, {}, 0, 11025),
        # without padding the periodic Hann window is 0 on the first sample: start a hop in
        (STFTMagnitude, {"center": False}, 256, 1024 + 39 * 256 - 256),
        (LogMelSpectrogram, {}, 0, 43 * 256),  # N = T // hop frames cover N * hop samples
    ],
)
def test_overlap_add_inverts_the_complex_stft(
    factory: type[SpectralFrontEnd], kwargs: dict, start: int, stop: int, tone_22k: torch.Tensor
) -> None:
    fe = factory(**kwargs)
    x = tone_22k[None]  # (1, T)
    rebuilt = fe.istft(fe.spectrum(x), x.shape[-1])
    assert rebuilt.shape == x.shape
    torch.testing.assert_close(rebuilt[:, start:stop], x[:, start:stop], atol=1e-5, rtol=0)


def spectral_convergence(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    """||S - S'||_F / ||S||_F (Sturmel & Daudet 2011), on magnitudes or features."""
    return (torch.linalg.norm(estimate - reference) / torch.linalg.norm(reference)).item()


def magnitudes(fe: torch.nn.Module, features: torch.Tensor) -> torch.Tensor:
    """The linear-magnitude domain of each front-end; MFCCs are compared as they are."""
    return features.exp() if isinstance(fe, (LogSTFTMagnitude, LogMelSpectrogram)) else features


# Thresholds, measured on this 0.5 s 220 Hz vibrato tone with 32 iterations: STFT 0.088,
# log-mel 0.103, MFCC 0.019; random phase (0 iterations) gives 0.63, 0.56 and 0.24.
# torchaudio's griffinlim with the same settings reaches 0.12 on the STFT (checked below),
# so 0.15 asks for at least the reference implementation's quality, with some margin.
@pytest.mark.parametrize(
    ("factory", "threshold"),
    [(STFTMagnitude, 0.15), (LogSTFTMagnitude, 0.15), (LogMelSpectrogram, 0.15), (MFCC, 0.05)],
)
def test_griffin_lim_reconstructs_a_harmonic_tone(factory: type, threshold: float, tone_22k: torch.Tensor) -> None:
    errors = {}
    for n_iter in (0, 32):  # 0 iterations: the random-phase baseline
        fe = factory(n_iter=n_iter)
        features = fe(tone_22k)
        rebuilt = fe.inverse(features, length=tone_22k.numel())
        assert rebuilt.shape == tone_22k.shape
        errors[n_iter] = spectral_convergence(magnitudes(fe, features), magnitudes(fe, fe(rebuilt)))
    assert errors[32] < threshold
    assert errors[32] < 0.5 * errors[0]


def test_griffin_lim_is_as_good_as_torchaudio(tone_22k: torch.Tensor) -> None:
    fe = STFTMagnitude()
    mag = fe(tone_22k)
    ours = spectral_convergence(mag, fe(fe.inverse(mag, length=tone_22k.numel())))
    torch.manual_seed(0)
    theirs_wave = AF.griffinlim(mag, fe.window, 1024, 256, 1024, 1.0, 32, 0.99, tone_22k.numel(), True)
    theirs = spectral_convergence(mag, fe(theirs_wave))
    assert ours < theirs * 1.1


@pytest.mark.parametrize(
    ("factory", "kwargs"),
    [(Waveform, {"mu_law": True}), (STFTMagnitude, {"n_iter": 1}), (LogMelSpectrogram, {"n_iter": 1}),
     (MFCC, {"n_iter": 1}), (WorldFeatures, {"sample_rate": 22050, "f0_method": "dio"})],
)
def test_inverse_shapes(factory: type, kwargs: dict, tone_22k: torch.Tensor) -> None:
    fe = factory(**kwargs)
    assert fe.has_inverse
    assert fe.inverse(fe(tone_22k), length=11025).shape == (11025,)
    assert fe.inverse(fe(torch.stack([tone_22k, 0.5 * tone_22k])), length=11025).shape == (2, 11025)


def test_world_analysis_synthesis(tone_16k: torch.Tensor) -> None:
    """Resynthesize, analyse again, and compare the parameters.

    Measured on this 1 s 150 Hz vibrato tone: every frame voiced in both, median F0 error
    0.3 cents (mean 2.6: the first and last frames), mel-cepstral distortion over c1..c24
    0.74 dB (copy-synthesis of natural speech is usually 1-3 dB; different speakers 6-9 dB).
    """
    fe = WorldFeatures()  # 16 kHz, 5 ms, Harvest, order 24
    features = fe(tone_16k)
    rebuilt = fe.inverse(features, length=tone_16k.numel())
    assert rebuilt.shape == tone_16k.shape and rebuilt.dtype == tone_16k.dtype
    before, after = fe.split(features), fe.split(fe(rebuilt))
    voiced = (before.voiced[0] > 0) & (after.voiced[0] > 0)
    assert voiced.float().mean() > 0.95
    cents = 1200 / math.log(2) * (before.log_f0[0] - after.log_f0[0]).abs()[voiced]
    assert cents.median() < 5
    diff = (before.mcep[1:] - after.mcep[1:])[:, voiced]  # (24, N_voiced), c0 (energy) left out
    mcd = (10 / math.log(10) * torch.sqrt(2 * diff.square().sum(0))).mean()
    assert mcd < 2.0
    # the F0 analysis itself is right: the tone's mean F0 is 150 Hz
    assert before.log_f0[0][voiced].exp().median() == pytest.approx(150, rel=0.02)
