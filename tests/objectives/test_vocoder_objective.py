"""The ``vocoder`` objective: the loss front-end of ``g/mel``, zero weights that compute nothing,
the MR-STFT term, and the HiFi-GAN / MelGAN / Parallel WaveGAN configurations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechgan.build import build_components
from speechgan.config import validate_config
from speechgan.errors import ConfigError
from speechgan.features import LogMelSpectrogram
from speechgan.losses import Hinge, LeastSquares, MultiResolutionSTFTLoss
from speechgan.plugins import get_plugin_manager
from speechgan.trainer import Trainer
from speechgan_plugins.objectives import Vocoder
from tests.trainer.conftest import BASE, merge
from tests.trainer.kit import Kit, WaveDisc

SR = 22050
HIFIGAN_WEIGHTS = {"d/adv": 1.0, "g/adv": 1.0, "g/fm": 2.0, "g/mel": 45.0, "g/stft": 0.0}

# a tiny vocoder of the kit's components: 800 Hz "audio", 8 samples per frame
TINY = merge(BASE, {
    "objective": {"name": "vocoder"},
    "features": {"name": "frames", "args": {"hop": 8}},
    "generators": {"generator": {"name": "upsampler", "args": {"channels": 4, "hop": 8}}},
    "discriminators": {"msd": {"name": "wave_disc"}},
    "data": {"train": {"name": "waves", "args": {"n": 16, "length": 64}}, "batch_size": 4},
    "trainer": {"max_steps": 2},
})


@pytest.fixture(scope="module")
def kit_registry():
    pm = get_plugin_manager(plugins=[("kit", Kit())])
    assert not pm.failures, [f.message for f in pm.failures]
    return pm.registry


def _trainer(registry, tmp_path, changes: dict) -> Trainer:
    config = validate_config(merge(TINY, changes), registry)
    torch.manual_seed(config.seed)
    return Trainer(build_components(config, registry), tmp_path / "run", device=torch.device("cpu"))


def _rows(trainer: Trainer) -> list[dict]:
    return [json.loads(line) for line in (trainer.run_dir / "scalars.jsonl").read_text().splitlines()]


def _errors(registry, changes: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate_config(merge(TINY, changes), registry)
    return str(info.value).splitlines()[1:]


@pytest.fixture
def waves() -> dict[str, torch.Tensor]:
    """Real (B, 1, T) speech-like tones at 22.05 kHz and a fake with broadband noise added."""
    t = torch.arange(8192, dtype=torch.float32) / SR
    real = torch.stack([sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 40)) for f0 in (110.0, 190.0)])
    real = 0.3 * real / real.abs().max()
    fake = real + 0.02 * torch.randn(real.shape, generator=torch.Generator().manual_seed(0))
    return {"real": real[:, None], "fake": fake[:, None].requires_grad_()}


class Counting(nn.Module):
    """Wraps a module and counts its calls."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.calls = inner, 0

    def forward(self, x: torch.Tensor):
        self.calls += 1
        return self.inner(x)


def _vocoder(features: nn.Module, loss_features: nn.Module | None = None) -> Vocoder:
    """The objective as the config builds it by default (least squares, PWG's resolutions)."""
    return Vocoder(features=features, criterion=LeastSquares(), loss_features=loss_features,
                   stft_loss=MultiResolutionSTFTLoss())


def _terms(objective: Vocoder, waves: dict, weights: dict, d: nn.ModuleDict | None = None) -> dict[str, torch.Tensor]:
    d = nn.ModuleDict({"msd": WaveDisc()}) if d is None else d
    return objective.generator_terms({}, waves, g=nn.ModuleDict(), d=d, step=0, weights=weights)


# -- the loss front-end of g/mel ------------------------------------------------------------


def test_g_mel_reads_the_loss_front_end_when_one_is_given(waves) -> None:
    features, full_band = LogMelSpectrogram(sample_rate=SR), LogMelSpectrogram(sample_rate=SR, fmax=None)
    real, fake = waves["real"].squeeze(1), waves["fake"].squeeze(1)
    hifigan = _terms(_vocoder(features=features, loss_features=full_band), waves, HIFIGAN_WEIGHTS)["g/mel"]
    assert hifigan.item() == F.l1_loss(full_band(fake), full_band(real)).item()
    default = _terms(_vocoder(features=features), waves, HIFIGAN_WEIGHTS)["g/mel"]
    assert default.item() == F.l1_loss(features(fake), features(real)).item()
    # the broadband noise above 8 kHz is seen by the full-band loss mel only
    assert hifigan.item() > 1.2 * default.item()
    hifigan.backward()
    assert waves["fake"].grad.abs().sum() > 0


def test_the_loss_front_end_is_built_from_the_config_and_may_have_another_hop(kit_registry, tmp_path) -> None:
    trainer = _trainer(kit_registry, tmp_path, {
        "objective": {"name": "vocoder", "args": {"loss_features": {"name": "frames", "args": {"hop": 4, "channels": 3}}}},
    })
    objective = trainer.objective
    assert (objective.loss_features.hop_length, objective.features.hop_length) == (4, 8)
    trainer.fit()
    row = _rows(trainer)[0]
    assert math.isclose(row["g/total"], row["g/adv"] + 2 * row["g/fm"] + 45 * row["g/mel"], rel_tol=1e-5)


def test_a_loss_front_end_at_another_sample_rate_is_refused_at_load(kit_registry) -> None:
    config = merge(TINY, {
        "objective": {"name": "vocoder", "args": {"loss_features": {"name": "log_mel", "args": {"sample_rate": 16000}}}},
    })
    with pytest.raises(ConfigError) as info:
        validate_config(config, kit_registry)  # what `speechgan check` runs: the objective is built on meta
    assert (
        "  objective: objective.args.loss_features: the loss front-end LogMelSpectrogram runs at 16000 Hz but the "
        "input front-end `features:` (Frames) at 800 Hz, which is the rate of the audio the generator makes; "
        "set the loss front-end's sample_rate to 800 (its hop, FFT size and mel bands may differ)"
    ) in str(info.value)


def test_loss_features_are_validated_with_their_key_path(kit_registry) -> None:
    lines = _errors(kit_registry, {
        "objective": {"name": "vocoder", "args": {"loss_features": {"name": "log_mel", "args": {"fmaxx": None}}}},
    })
    assert len(lines) == 1
    assert lines[0].startswith(
        "  objective.args.loss_features.args.fmaxx: unknown argument of feature 'log_mel' (did you mean 'fmax'?); "
        "it accepts: sample_rate, n_fft, hop_length,"
    )
    lines = _errors(kit_registry, {"objective": {"name": "vocoder", "args": {"loss_features": "log_mell"}}})
    assert len(lines) == 1
    assert lines[0].startswith("  objective.args.loss_features: unknown feature 'log_mell'. Did you mean 'log_mel'?")


def test_loss_features_null_means_the_input_front_end(kit_registry) -> None:
    # an optional component reference may be set to null, e.g. to undo a base recipe's
    config = validate_config(merge(TINY, {"objective": {"name": "vocoder", "args": {"loss_features": None}}}), kit_registry)
    objective = build_components(config, kit_registry).objective
    assert objective.loss_features is None and objective.mel is objective.features


# -- zero weights compute nothing; g/stft --------------------------------------------------


def test_a_zero_mel_weight_calls_no_front_end(waves) -> None:
    features, loss_features = Counting(LogMelSpectrogram(sample_rate=SR)), Counting(LogMelSpectrogram(sample_rate=SR))
    terms = _terms(_vocoder(features=features, loss_features=loss_features), waves, {"g/adv": 1.0, "g/fm": 10.0, "g/mel": 0.0})
    assert set(terms) == {"g/adv", "g/fm"}
    assert (features.calls, loss_features.calls) == (0, 0)


def test_g_stft_appears_only_when_weighted(waves) -> None:
    objective = _vocoder(features=LogMelSpectrogram(sample_rate=SR))
    assert "g/stft" not in _terms(objective, waves, HIFIGAN_WEIGHTS)
    terms = _terms(objective, waves, {**HIFIGAN_WEIGHTS, "g/stft": 1.0})
    convergence, log_magnitude = MultiResolutionSTFTLoss()(waves["fake"], waves["real"])
    assert terms["g/stft"].item() == (convergence + log_magnitude).item()
    assert terms["stats/stft_convergence"].item() == convergence.item()
    assert terms["stats/stft_log_magnitude"].item() == log_magnitude.item()
    terms["g/stft"].backward()
    assert waves["fake"].grad.abs().sum() > 0


def test_parallel_wavegan_weights_skip_feature_matching_and_the_discriminator_when_unused(waves) -> None:
    objective = _vocoder(features=LogMelSpectrogram(sample_rate=SR))
    disc = Counting(WaveDisc())
    pwg = {"d/adv": 1.0, "g/adv": 4.0, "g/fm": 0.0, "g/mel": 0.0, "g/stft": 1.0}
    terms = _terms(objective, waves, pwg, d=nn.ModuleDict({"d": disc}))
    assert {k for k in terms if not k.startswith("stats/")} == {"g/adv", "g/stft"}
    assert disc.calls == 1  # the fake only: no pass on real audio for feature matching
    terms = _terms(objective, waves, {**pwg, "g/adv": 0.0}, d=nn.ModuleDict({"d": disc}))
    assert {k for k in terms if not k.startswith("stats/")} == {"g/stft"}
    assert disc.calls == 1  # STFT-only pre-training: D is not run in the G step at all


def test_the_stft_loss_takes_its_resolutions_from_the_config(kit_registry, tmp_path) -> None:
    trainer = _trainer(kit_registry, tmp_path, {
        "objective": {"name": "vocoder", "args": {
            "stft_loss": {"name": "multi_resolution_stft", "args": {"resolutions": [[16, 4, 16], [8, 2, 8]]}},
        }},
        "loss_weights": {"g/adv": 4.0, "g/fm": 0.0, "g/mel": 0.0, "g/stft": 1.0},
    })
    assert trainer.objective.stft_loss.resolutions == ((16, 4, 16), (8, 2, 8))
    trainer.fit()
    row = _rows(trainer)[0]
    assert "g/fm" not in row and "g/mel" not in row
    assert math.isclose(row["g/stft"], row["stats/stft_convergence"] + row["stats/stft_log_magnitude"], rel_tol=1e-5)
    assert math.isclose(row["g/total"], 4 * row["g/adv"] + row["g/stft"], rel_tol=1e-5)


def test_melgan_by_config_alone_hinge_fm_10_and_no_mel(kit_registry, tmp_path) -> None:
    trainer = _trainer(kit_registry, tmp_path, {
        "objective": {"name": "vocoder", "args": {"criterion": "hinge"}},
        "loss_weights": {"g/fm": 10.0, "g/mel": 0.0},
    })
    assert isinstance(trainer.objective.criterion, Hinge)
    front_end = trainer.objective.features
    calls = []
    front_end.register_forward_hook(lambda *_: calls.append(1))
    trainer.fit()
    assert calls == []  # the mel is never computed
    rows = _rows(trainer)
    assert [r["step"] for r in rows] == [1, 2]
    for row in rows:
        assert "g/mel" not in row
        assert math.isclose(row["g/total"], row["g/adv"] + 10 * row["g/fm"], rel_tol=1e-5)
        assert np.isfinite(row["d/adv"]) and row["d/adv"] >= 0  # hinge: sum of relu terms
