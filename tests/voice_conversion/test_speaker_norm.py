"""Per-speaker normalisation of voice conversion: SpeakerNormalizer and CycleGAN's speaker_norm.

Closed forms on synthetic WORLD tensors (16 kHz front-end, order 24: 28 channels, no audio
analysis): normalisation against numpy's per-coefficient mean and std, the log-Gaussian F0
transform, the state carried by ``state_dict``, the conversion direction and padding, and an
identity generator that must reproduce the statistics baseline. Then one end-to-end run of
the CPU CycleGAN-VC2 recipe: two steps, the statistics file, ``load_run`` and a resume.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError, DataError
from speechgan.features import (
    LogMelSpectrogram,
    SpeakerNormalizer,
    SpeakerStats,
    WorldFeatures,
    accumulate_stats,
    statistics_baseline,
)
from speechgan.losses import LeastSquares
from speechgan_plugins.objectives.cyclegan import CycleGAN

pytestmark = pytest.mark.usefixtures("one_thread")

FE = WorldFeatures(sample_rate=16000)  # order 24: log F0, voiced, 25 mcep, 1 aperiodicity band
D = FE.order + 1  # 25
C = FE.n_channels  # 28
MCEP = slice(2, 2 + D)


def synthetic(frames: int, seed: int, *, f0: float, level: float) -> torch.Tensor:
    """WORLD-layout float64 features (C, frames) of a made-up speaker.

    About 70 % voiced frames with log F0 near log(f0) (0 elsewhere, the front-end's
    convention); mel-cepstra with a per-coefficient offset set by ``level`` and spreads from
    0.05 to 1; coded aperiodicity in [-30, 0] dB.
    """
    g = torch.Generator().manual_seed(seed)
    voiced = (torch.rand(1, frames, generator=g, dtype=torch.float64) < 0.7).double()  # (1, N)
    log_f0 = voiced * (math.log(f0) + 0.15 * torch.randn(1, frames, generator=g, dtype=torch.float64))
    offset = level * torch.linspace(1.0, -1.0, D, dtype=torch.float64)[:, None]  # (D, 1)
    spread = torch.linspace(1.0, 0.05, D, dtype=torch.float64)[:, None]
    mcep = offset + spread * torch.randn(D, frames, generator=g, dtype=torch.float64)  # (D, N)
    coded_ap = -30 * torch.rand(1, frames, generator=g, dtype=torch.float64)
    return torch.cat([log_f0, voiced, mcep, coded_ap])  # (C, N)


def hand_stats(speaker: str, *, mean: float, std: float, f0: float, f0_std: float) -> SpeakerStats:
    """Statistics with known numbers: mcep mean ``mean + k / 10`` and std ``std * (1 + k / D)`` for coefficient k."""
    k = np.arange(D, dtype=np.float64)
    return SpeakerStats(speaker=speaker, frames=100, voiced_frames=60, mcep_mean=mean + k / 10,
                        mcep_std=std * (1 + k / D), log_f0_mean=math.log(f0), log_f0_std=f0_std)


@pytest.fixture(scope="module")
def corpus() -> dict[str, list[torch.Tensor]]:
    """Two speakers' utterances (C, N): alice high and bright, bob low."""
    return {
        "alice": [synthetic(n, seed, f0=220.0, level=2.0) for seed, n in enumerate([60, 45])],
        "bob": [synthetic(n, 10 + seed, f0=110.0, level=-1.0) for seed, n in enumerate([50, 35, 20])],
    }


LABELS = {"alice": 2, "bob": 0}  # not 0..S-1 in speaker order: rows must follow the labels


@pytest.fixture(scope="module")
def fitted(corpus) -> SpeakerNormalizer:
    normalizer = SpeakerNormalizer(FE)
    normalizer.fit(corpus, LABELS)
    return normalizer


def identity_net() -> nn.Module:
    class Identity(nn.Module):
        """A generator that returns its input and records its shape; needs N a multiple of 4."""

        frame_multiple = 4

        def __init__(self) -> None:
            super().__init__()
            self.inputs: list[torch.Tensor] = []

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            assert x.shape[-1] % self.frame_multiple == 0, f"got {x.shape[-1]} frames"
            self.inputs.append(x.clone())
            return x

    return Identity()


def cyclegan(*, fit: dict[str, SpeakerStats] | None = None, sides: dict[str, list[str]] | None = None) -> CycleGAN:
    """A speaker-normalised CycleGAN objective with the given statistics (labels in name order) and sides."""
    objective = CycleGAN(criterion=LeastSquares(), speaker_norm=True, features=FE)
    if fit is not None:
        objective.normalizer.set_stats(fit, {name: i for i, name in enumerate(sorted(fit))})
    if sides is not None:
        objective.sides = sides
    return objective


# -- normalize / denormalize -------------------------------------------------------------------


def test_normalized_training_mcep_has_zero_mean_and_unit_std_per_coefficient(corpus, fitted):
    for speaker, utterances in corpus.items():
        frames = torch.cat(utterances, dim=1)  # (C, N_total): the speaker's frames end to end
        mcep = frames[MCEP].numpy()  # (D, N_total)
        # the fitted rows are numpy's population mean and std over all frames (float32 buffers)
        label = LABELS[speaker]
        np.testing.assert_allclose(fitted.mean[label].numpy(), mcep.mean(axis=1), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(fitted.std[label].numpy(), mcep.std(axis=1), rtol=1e-6)
        out = fitted.normalize(torch.from_numpy(mcep)[None], torch.tensor([label]))[0].numpy()  # (D, N_total)
        np.testing.assert_allclose(out, (mcep - mcep.mean(axis=1, keepdims=True)) / mcep.std(axis=1, keepdims=True),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(out.mean(axis=1), np.zeros(D), atol=1e-5)
        np.testing.assert_allclose(out.std(axis=1), np.ones(D), atol=1e-5)


def test_denormalize_undoes_normalize(corpus, fitted):
    x = torch.randn(3, D, 17, dtype=torch.float64)  # (B, D, N)
    labels = torch.tensor([2, 0, 2])
    y = fitted.normalize(x, labels)
    assert y.shape == x.shape and y.dtype == x.dtype
    torch.testing.assert_close(fitted.denormalize(y, labels), x, rtol=1e-6, atol=1e-6)
    single = x.float()
    torch.testing.assert_close(fitted.denormalize(fitted.normalize(single, labels), labels), single)


def test_each_row_of_a_batch_gets_its_own_speakers_statistics(corpus, fitted):
    alice, bob = corpus["alice"][0][:, :20], corpus["bob"][0][:, :20]  # (C, 20) each
    batch = torch.stack([alice, bob, alice]).float()  # (3, C, 20)
    out = fitted.model_input(batch, torch.tensor([LABELS["alice"], LABELS["bob"], LABELS["alice"]]))
    assert out.shape == (3, D, 20)
    for row, item, speaker in zip(out, batch, ["alice", "bob", "alice"]):
        s = fitted.stats_of(speaker)
        expected = (item[MCEP].double().numpy() - s.mcep_mean[:, None]) / s.mcep_std[:, None]  # (D, 20)
        np.testing.assert_allclose(row.numpy(), expected, rtol=1e-5, atol=1e-5)
    # swapping the labels swaps the statistics: alice's frames under bob's are something else
    swapped = fitted.model_input(batch[:1], torch.tensor([LABELS["bob"]]))
    assert not torch.allclose(swapped[0], out[0])


def test_fit_and_set_stats_refuse_what_does_not_match():
    normalizer = SpeakerNormalizer(FE)
    with pytest.raises(DataError) as error:
        normalizer.fit({"alice": [synthetic(8, 0, f0=200.0, level=1.0)], "carol": []}, {"alice": 0})
    assert str(error.value) == "speaker normalisation: no label for speaker(s) carol"
    short = SpeakerStats(speaker="tiny", frames=5, voiced_frames=3, mcep_mean=np.zeros(3), mcep_std=np.ones(3),
                         log_f0_mean=5.0, log_f0_std=0.1)
    with pytest.raises(DataError) as error:
        normalizer.set_stats({"tiny": short}, {"tiny": 0})
    assert str(error.value) == (
        "speaker statistics for 'tiny' have 3 mel-cepstral coefficients; the front-end makes 25 (order 24)")
    with pytest.raises(DataError) as error:
        normalizer.set_stats({"tiny": short}, {"other": 0})
    assert str(error.value) == "speaker normalisation: statistics for ['tiny'] but labels for ['other']"
    with pytest.raises(DataError) as error:  # a mel front-end's statistics are per channel, with no F0
        SpeakerNormalizer(LogMelSpectrogram()).set_stats({"tiny": short}, {"tiny": 0})
    assert str(error.value) == ("statistics for 'tiny' are SpeakerStats; the front-end LogMelSpectrogram "
                                "needs ChannelStats")
    with pytest.raises(ConfigError) as error:
        SpeakerNormalizer(None)
    assert str(error.value) == NO_FRONT_END


NO_FRONT_END = ("speaker normalisation reads a front-end's features: add a `features:` section (world for "
                "mel-cepstra, log_mel for mel-spectrograms)")


def test_a_mel_front_end_is_normalised_channel_by_channel_with_no_f0():
    """MaskCycleGAN-VC's pipeline: every mel bin per speaker, and to_features only denormalises."""
    generator = torch.Generator().manual_seed(3)
    mels = {"alice": [torch.randn(6, 40, generator=generator, dtype=torch.float64) * 2 - 5 for _ in range(2)],
            "bob": [torch.randn(6, 25, generator=generator, dtype=torch.float64) + 1]}
    normalizer = SpeakerNormalizer(LogMelSpectrogram(n_mels=6))
    normalizer.fit(mels, {"alice": 1, "bob": 0})
    frames = torch.cat(mels["alice"], dim=-1).numpy()  # (6, 80)
    np.testing.assert_allclose(normalizer.stats_of("alice").mean, frames.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(normalizer.stats_of("alice").std, frames.std(axis=1), rtol=1e-12)
    assert normalizer.n_coefficients == 6
    x = mels["bob"][0][None].float()  # (1, 6, 25)
    z = normalizer.model_input(x, torch.tensor([0]))
    np.testing.assert_allclose(z[0].mean(dim=-1).numpy(), 0.0, atol=1e-5)
    back = normalizer.to_features(z, x, source="bob", target="alice")  # alice's scale, no F0 channel to convert
    mean, std = normalizer.stats_of("alice").mean, normalizer.stats_of("alice").std
    np.testing.assert_allclose(back[0].numpy(), z[0].numpy() * std[:, None] + mean[:, None], rtol=1e-5, atol=1e-5)
    restored = SpeakerNormalizer(LogMelSpectrogram(n_mels=6))
    restored.load_state_dict(normalizer.state_dict())
    assert restored.stats_of("bob").to_dict() == normalizer.stats_of("bob").to_dict()


# -- to_features: back to WORLD features in the target's voice ----------------------------------


def test_to_features_uses_the_targets_mcep_scale_and_the_log_gaussian_f0_transform():
    src = hand_stats("src", mean=1.0, std=0.5, f0=120.0, f0_std=0.1)
    tgt = hand_stats("tgt", mean=-2.0, std=2.0, f0=240.0, f0_std=0.3)
    normalizer = SpeakerNormalizer(FE)
    normalizer.set_stats({"src": src, "tgt": tgt}, {"src": 1, "tgt": 0})

    source = synthetic(30, seed=5, f0=150.0, level=0.5)[None]  # (1, C, 30) float64
    voiced = source[0, 1] > 0.5  # (30,)
    assert 0 < int(voiced.sum()) < 30  # both kinds of frame
    converted = torch.randn(1, D, 30, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    out = normalizer.to_features(converted, source, source="src", target="tgt")
    assert out.shape == (1, C, 30) and out.dtype == torch.float64

    # mel-cepstrum: the generator's normalised output in the target's scale, y * sigma_t + mu_t
    expected_mcep = converted[0].numpy() * tgt.mcep_std[:, None] + tgt.mcep_mean[:, None]
    np.testing.assert_allclose(out[0, MCEP].numpy(), expected_mcep, rtol=1e-6, atol=1e-6)
    # log F0: (lf0 - mu_s) / sigma_s * sigma_t + mu_t where voiced, 0 elsewhere
    lf0 = source[0, 0].numpy()
    expected_lf0 = (lf0 - math.log(120.0)) / 0.1 * 0.3 + math.log(240.0)
    np.testing.assert_allclose(out[0, 0].numpy()[voiced.numpy()], expected_lf0[voiced.numpy()], rtol=1e-12)
    assert torch.equal(out[0, 0][~voiced], torch.zeros(int((~voiced).sum()), dtype=torch.float64))
    # voicing and aperiodicity: the source's, bit for bit
    assert torch.equal(out[0, 1], source[0, 1]) and torch.equal(out[0, -1], source[0, -1])
    # the converse direction denormalises with src's statistics instead
    back = normalizer.to_features(converted, source, source="tgt", target="src")
    np.testing.assert_allclose(back[0, MCEP].numpy(), converted[0].numpy() * src.mcep_std[:, None]
                               + src.mcep_mean[:, None], rtol=1e-6, atol=1e-6)


# -- state_dict ------------------------------------------------------------------------------------


def _through_a_checkpoint(state: dict) -> dict:
    """``state`` saved and read back as checkpoints are (``torch.load(weights_only=True)``)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_a_fresh_normalizer_loads_the_statistics_from_a_state_dict(corpus, fitted):
    fresh = SpeakerNormalizer(FE)
    fresh.load_state_dict(_through_a_checkpoint(fitted.state_dict()))
    assert fresh.labels == LABELS
    assert {n: s.to_dict() for n, s in fresh.stats.items()} == {n: s.to_dict() for n, s in fitted.stats.items()}
    x = torch.stack([corpus["alice"][1][:, :40], corpus["bob"][1][:, :35].repeat(1, 2)[:, :40]]).float()  # (2, C, 40)
    labels = torch.tensor([2, 0])
    assert torch.equal(fresh.model_input(x, labels), fitted.model_input(x, labels))
    assert torch.equal(fresh.to_features(x[:, MCEP], x, source="alice", target="bob"),
                       fitted.to_features(x[:, MCEP], x, source="alice", target="bob"))


def test_unknown_speakers_and_an_empty_normalizer_get_clear_errors(fitted):
    with pytest.raises(DataError) as error:
        fitted.stats_of("carol")
    assert str(error.value) == "unknown speaker 'carol'; this run has statistics for: alice, bob"
    with pytest.raises(DataError) as error:
        fitted.to_features(torch.zeros(1, D, 4), torch.zeros(1, C, 4), source="alice", target="carol")
    assert str(error.value) == "unknown speaker 'carol'; this run has statistics for: alice, bob"
    empty = SpeakerNormalizer(FE)
    with pytest.raises(DataError) as error:
        empty.normalize(torch.zeros(1, D, 4), torch.tensor([0]))
    assert str(error.value) == "speaker normalisation has no statistics: fit it on the training data first"
    with pytest.raises(DataError) as error:
        empty.stats_of("alice")
    assert str(error.value) == (
        "unknown speaker 'alice'; this run has statistics for: none: the statistics were never computed")


def test_a_fresh_cyclegan_loads_sides_and_statistics_and_converts_the_same(fitted):
    trained = cyclegan(sides={"a": ["alice"], "b": ["bob"]})
    trained.normalizer.load_state_dict(fitted.state_dict())
    state = _through_a_checkpoint(trained.state_dict())
    assert set(state) == {"_extra_state", "normalizer._extra_state"}  # no tensors: nothing to shape-check
    fresh = cyclegan()
    fresh.load_state_dict(state)
    assert fresh.conversion_speakers() == {"a": ["alice"], "b": ["bob"]}
    assert fresh.normalizer.labels == LABELS
    features = synthetic(23, seed=3, f0=210.0, level=2.0).float()  # (C, 23)
    g = nn.ModuleDict({"a2b": identity_net(), "b2a": identity_net()})
    assert torch.equal(fresh.convert(features, g=g, source="alice", target="bob"),
                       trained.convert(features, g=g, source="alice", target="bob"))


# -- the CycleGAN objective --------------------------------------------------------------------------


def test_speaker_norm_without_a_front_end_is_refused_at_construction():
    with pytest.raises(ConfigError) as error:
        CycleGAN(criterion=LeastSquares(), speaker_norm=True, features=None)
    assert str(error.value) == f"objective.args.speaker_norm: {NO_FRONT_END}"
    assert CycleGAN(criterion=LeastSquares(), features=None).normalizer is None  # fine without speaker_norm
    assert CycleGAN(criterion=LeastSquares(), speaker_norm=True, features=LogMelSpectrogram()).normalizer is not None


def test_direction_follows_the_sides_and_names_the_known_speakers():
    objective = cyclegan(sides={"a": ["alice"], "b": ["bob", "carol"]})
    assert objective.direction("alice", "carol") == "a2b"
    assert objective.direction("bob", "alice") == "b2a"
    known = "this run converts between A = alice, B = bob, carol"
    with pytest.raises(DataError) as error:
        objective.direction("alice", "dave")
    assert str(error.value) == f"unknown speaker 'dave'; {known}"
    with pytest.raises(DataError) as error:
        objective.direction("bob", "carol")
    assert str(error.value) == f"'bob' and 'carol' are on the same side; {known}"
    with pytest.raises(DataError) as error:
        cyclegan().direction("alice", "bob")  # never prepared
    assert str(error.value) == "unknown speaker 'alice'; this run converts between A = ?, B = ?"


def test_domains_are_each_sides_normalised_mcep(corpus, fitted):
    objective = cyclegan()
    objective.normalizer.load_state_dict(fitted.state_dict())
    a = torch.stack([corpus["alice"][0][:, :16], corpus["alice"][1][:, :16]]).float()  # (2, C, 16)
    b = torch.stack([corpus["bob"][0][:, :16], corpus["bob"][1][:, :16]]).float()
    batch = {"a": {"features": a, "speaker": torch.tensor([2, 2])},
             "b": {"features": b, "speaker": torch.tensor([0, 0])}}
    got_a, got_b = objective.domains(batch)
    assert got_a.shape == got_b.shape == (2, D, 16)
    assert torch.equal(got_a, fitted.normalize(a[:, MCEP], torch.tensor([2, 2])))
    assert torch.equal(got_b, fitted.normalize(b[:, MCEP], torch.tensor([0, 0])))


@pytest.mark.parametrize("frames", [37, 38, 39, 40])
def test_identity_generator_converts_like_the_statistics_baseline(frames):
    """Identity in normalised space is per-coefficient mean and variance matching: the baseline."""
    alice = hand_stats("alice", mean=1.5, std=0.8, f0=200.0, f0_std=0.12)
    bob = hand_stats("bob", mean=-0.5, std=1.7, f0=100.0, f0_std=0.2)
    objective = cyclegan(fit={"alice": alice, "bob": bob}, sides={"a": ["alice"], "b": ["bob"]})
    g = nn.ModuleDict({"a2b": identity_net(), "b2a": identity_net()})
    features = synthetic(frames, seed=frames, f0=190.0, level=1.5).float()  # (C, N)

    out = objective.convert(features, g=g, source="alice", target="bob")
    assert out.shape == (C, frames)
    (seen,) = g["a2b"].inputs  # one call, of the a2b generator only
    assert g["b2a"].inputs == []
    padded = frames + (-frames % 4)
    assert seen.shape == (1, D, padded)
    # the padding repeats the last frame; the frames before it are the normalised mcep
    assert torch.equal(seen[..., frames:], seen[..., frames - 1 : frames].expand(1, D, padded - frames))
    torch.testing.assert_close(out, statistics_baseline(features, alice, bob, FE), rtol=1e-5, atol=1e-5)
    assert torch.equal(out[1], features[1]) and torch.equal(out[-1], features[-1])

    back = objective.convert(features, g=g, source="bob", target="alice")
    assert len(g["b2a"].inputs) == 1
    torch.testing.assert_close(back, statistics_baseline(features, bob, alice, FE), rtol=1e-5, atol=1e-5)


def test_without_speaker_norm_convert_returns_the_generators_output_trimmed():
    objective = CycleGAN(criterion=LeastSquares())
    objective.sides = {"a": ["alice"], "b": ["bob"]}
    g = nn.ModuleDict({"a2b": identity_net(), "b2a": identity_net()})
    features = torch.randn(C, 21)
    assert torch.equal(objective.convert(features, g=g, source="alice", target="bob"), features)
    assert g["a2b"].inputs[0].shape == (1, C, 24)


def test_prepare_fits_each_speaker_writes_the_json_and_ignores_non_speech_data(corpus, tmp_path):
    def side(speaker: str) -> SimpleNamespace:
        """The parts of an AudioDataset that prepare reads."""
        return SimpleNamespace(utterances=[SimpleNamespace(speaker=speaker)] * len(corpus[speaker]),
                               utterance_features=lambda i: corpus[speaker][i].float(),
                               speaker_to_index={"alice": 0, "bob": 1})

    objective = cyclegan()
    objective.prepare(dataset=SimpleNamespace(a=side("bob"), b=side("alice")), run_dir=tmp_path / "run")
    assert objective.conversion_speakers() == {"a": ["bob"], "b": ["alice"]}
    assert objective.normalizer.labels == {"alice": 0, "bob": 1}
    written = json.loads((tmp_path / "run" / "speaker_stats.json").read_text())
    assert written["sides"] == {"a": ["bob"], "b": ["alice"]}
    for speaker, utterances in corpus.items():
        expected = accumulate_stats([u.float() for u in utterances], FE, speaker=speaker).to_dict()
        assert written["speakers"][speaker] == objective.normalizer.stats[speaker].to_dict() == expected

    images = cyclegan()
    images.prepare(dataset=SimpleNamespace(a=object(), b=object()), run_dir=tmp_path / "images")
    assert images.conversion_speakers() == {"a": [], "b": []} and not (tmp_path / "images").exists()


# -- end to end: the CPU recipe -------------------------------------------------------------------------

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "vc" / "cpu" / "cyclegan_vc2.yaml"


def test_cpu_recipe_writes_keeps_and_resumes_the_speaker_statistics(tmp_path, monkeypatch):
    from speechgan.cli import main
    from speechgan.inference import load_run
    from speechgan_plugins.audio.corpus_synth import synthesize_corpus

    corpus = tmp_path / "corpus"
    synthesize_corpus(corpus, ["en-us+f3", "en-us+m1"], sentences=6, progress=False, overwrite=True)
    run = tmp_path / "run"
    overrides = [f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}",
                 "data.train.args.parallel_size=2", "data.valid.args.parallel_size=2",  # 2 training prompts a side
                 f"data.train.args.cache_dir={tmp_path / 'cache'}", f"data.valid.args.cache_dir={tmp_path / 'cache'}",
                 "evaluation.metrics=[]", "trainer.log_every=1", "trainer.checkpoint_every=null"]
    assert main(["train", str(RECIPE), "--out", str(run), *overrides, "trainer.max_steps=2"]) == 0

    stats_file = run / "speaker_stats.json"
    written = json.loads(stats_file.read_text())
    assert written["sides"] == {"a": ["f3"], "b": ["m1"]} and set(written["speakers"]) == {"f3", "m1"}
    assert all(len(s["mcep_mean"]) == 36 for s in written["speakers"].values())  # order 35
    # m1 is a male voice, f3 a female one: lower mean log F0
    assert written["speakers"]["m1"]["log_f0_mean"] < written["speakers"]["f3"]["log_f0_mean"]

    def stats_of(run_dir: Path) -> tuple[int, dict, dict, dict]:
        """The checkpoint's step, and its objective's sides, labels and statistics."""
        loaded = load_run(run_dir)
        normalizer = loaded.objective.normalizer
        return (loaded.step, loaded.objective.conversion_speakers(), normalizer.labels,
                {n: s.to_dict() for n, s in normalizer.stats.items()})

    assert stats_of(run) == (2, written["sides"], {"f3": 0, "m1": 1}, written["speakers"])

    # resuming restores the statistics from the checkpoint: nothing is fitted or written again
    mtime = stats_file.stat().st_mtime_ns

    def no_refit(*args, **kwargs):
        raise AssertionError("a resumed run recomputed the speaker statistics")

    monkeypatch.setattr(SpeakerNormalizer, "fit", no_refit)
    assert main(["train", str(RECIPE), "--out", str(run), "--resume", *overrides, "trainer.max_steps=3"]) == 0
    assert stats_file.stat().st_mtime_ns == mtime
    steps = [json.loads(line)["step"] for line in (run / "scalars.jsonl").read_text().splitlines()]
    assert steps[-1] == 3
    assert stats_of(run) == (3, written["sides"], {"f3": 0, "m1": 1}, written["speakers"])
