"""The SC09 digit classifier and the wavegan_metrics components, on a tiny synthetic corpus.

Each "digit" is a chirp in its own frequency band (random onset, length, amplitude and
phase per clip), written in the Speech Commands layout; "generators" replay real clips,
so every metric has a known answer: a constant clip scores 1, confident balanced
predictions score the number of classes, replayed test clips are at Fréchet distance 0
from the test split and have the classifier's own accuracy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import speechgan_plugins.wavegan.classifier as classifier_module
import speechgan_plugins.wavegan.metrics as metrics_module
from speechgan.config import check_component_args
from speechgan.data.audio_io import write_audio
from speechgan.errors import ConfigError, SpeechganError
from speechgan.evaluate import EvaluationContext, run_metrics
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec, Config
from speechgan_plugins.wavegan.classifier import (
    SC09_WORDS,
    DigitClassifier,
    corpus_fingerprint,
    load_digit_classifier,
    sc09_clips,
    train_digit_classifier,
)
from speechgan_plugins.wavegan.metrics import DigitsFrechetDistance, DigitsInceptionScore, DigitsLabelAccuracy

from .kit import TINY  # a classifier that trains in about a second on the corpus below

SPEAKERS = [f"s{i:02d}" for i in range(16)]  # s11, s12: validation; s13-s15: test


def write_corpus(root: Path, speakers: list[str] = SPEAKERS) -> Path:
    """10 words x ``speakers`` clips of 16,000 samples at 16 kHz; word k chirps upwards from 300 (k + 1) Hz."""
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    for k, word in enumerate(SC09_WORDS):
        (root / word).mkdir(parents=True)
        for speaker in speakers:
            f0, onset, length = 300.0 * (k + 1), rng.uniform(0.0, 0.4), rng.uniform(0.3, 0.5)
            inside = (t >= onset) & (t < onset + length)
            tau = t - onset
            phase = 2 * np.pi * (f0 * tau + 0.5 * (0.3 * f0 / length) * tau**2) + rng.uniform(0, 2 * np.pi)
            wave = rng.uniform(0.2, 0.8) * np.sin(phase) * inside + 0.003 * rng.standard_normal(16000)
            write_audio(root / word / f"{speaker}_nohash_0.wav", wave.astype(np.float32), 16000)
    listed = lambda chosen: "".join(f"{w}/{s}_nohash_0.wav\n" for w in SC09_WORDS for s in chosen)  # noqa: E731
    (root / "validation_list.txt").write_text(listed(speakers[11:13]))
    (root / "testing_list.txt").write_text(listed(speakers[13:]))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("sc09"))


@pytest.fixture(scope="module")
def classifier(corpus: Path) -> DigitClassifier:
    """Trained once into the session's private cache, where the metrics below find it."""
    return load_digit_classifier(corpus, TINY)


@pytest.fixture(scope="module")
def test_split(corpus: Path) -> tuple[torch.Tensor, torch.Tensor]:
    return sc09_clips(corpus, "test")  # (30, 1, 16384), (30,)


class Replay:
    """An unconditional "generator" that plays ``clips`` in order, round and round."""

    def __init__(self, clips: torch.Tensor) -> None:
        self.clips, self.next = clips, 0

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        index = (self.next + torch.arange(n)) % len(self.clips)
        self.next += n
        return self.clips[index].to(device)


class ReplayByLabel:
    """A conditional "generator": the next real clip of class ``label + offset`` for each label asked for."""

    num_classes = 10

    def __init__(self, clips: torch.Tensor, labels: torch.Tensor, offset: int = 0) -> None:
        self.clips, self.labels, self.offset = clips, labels, offset
        self.used = [0] * 10

    def sample_conditional(self, *, g: nn.ModuleDict, labels: torch.Tensor, device: torch.device) -> torch.Tensor:
        out = []
        for label in ((labels + self.offset) % 10).tolist():
            (members,) = torch.nonzero(self.labels == label, as_tuple=True)
            out.append(self.clips[members[self.used[label] % len(members)]])
            self.used[label] += 1
        return torch.stack(out).to(device)


def context(tmp_path: Path, objective: object, config: Config | None = None) -> EvaluationContext:
    return EvaluationContext(
        config=config, run_dir=tmp_path, objective=objective, generators=nn.ModuleDict(),  # type: ignore[arg-type]
        datasets={}, features=None, device=torch.device("cpu"),
    )


# -- the classifier --------------------------------------------------------------------------


def test_clips_are_zero_padded_to_16384_samples_and_labelled_by_their_word(test_split: tuple) -> None:
    waves, labels = test_split
    assert waves.shape == (30, 1, 16384) and waves.dtype == torch.float32
    assert (waves[..., 16000:] == 0).all() and (waves[..., :16000].abs().amax(-1) > 0.1).all()
    assert labels.tolist() == [SC09_WORDS.index(w) for w in sorted(SC09_WORDS) for _ in range(3)]  # sorted by id


def test_classifier_recognises_held_out_digits(classifier: DigitClassifier, test_split: tuple) -> None:
    waves, labels = test_split
    features, probs = classifier.embed(waves)
    assert features.shape == (30, TINY["feature_dim"]) and probs.shape == (30, 10)
    torch.testing.assert_close(probs.sum(1), torch.ones(30))
    assert classifier.test_accuracy >= 0.9 and classifier.valid_accuracy >= 0.9
    assert classifier.accuracy(waves, labels) == classifier.test_accuracy


def test_classifier_embeds_clips_of_any_length_as_padded_ones(classifier: DigitClassifier, test_split: tuple) -> None:
    waves = test_split[0][:4]
    padded, _ = classifier.embed(waves)
    short, _ = classifier.embed(waves[..., :16000].squeeze(1))  # (N, T) of another length
    torch.testing.assert_close(short, padded)


def test_cached_classifier_is_reused_and_records_its_accuracy(
    corpus: Path, classifier: DigitClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(root: Path, *, settings: dict) -> DigitClassifier:
        raise AssertionError("the cached classifier should have been loaded")

    monkeypatch.setattr(classifier_module, "train_digit_classifier", no_training)
    again = load_digit_classifier(corpus, TINY)
    for name, tensor in classifier.state_dict().items():
        torch.testing.assert_close(again.state_dict()[name], tensor, rtol=0, atol=0)
    path = classifier_module._cache_path(classifier_module.resolve_settings(TINY), corpus_fingerprint(corpus))
    state = torch.load(path, weights_only=True)
    assert state["test_accuracy"] == again.test_accuracy == classifier.test_accuracy
    assert state["valid_accuracy"] == again.valid_accuracy
    assert state["corpus_fingerprint"] == corpus_fingerprint(corpus)


def test_a_changed_corpus_trains_its_own_classifier(
    corpus: Path, classifier: DigitClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPEECHGAN_CACHE", str(tmp_path / "cache"))
    trained: list[Path] = []

    def counting(root: Path, *, settings: dict) -> DigitClassifier:
        trained.append(root)
        return train_digit_classifier(root, settings=settings)

    monkeypatch.setattr(classifier_module, "train_digit_classifier", counting)
    copy = Path(shutil.copytree(corpus, tmp_path / "copy"))
    assert corpus_fingerprint(copy) == corpus_fingerprint(corpus)  # paths, sizes, lists: not where it lies
    first = load_digit_classifier(copy, TINY)
    load_digit_classifier(copy, TINY)
    assert len(trained) == 1
    for name, tensor in classifier.state_dict().items():  # seeded and on one thread: the same weights
        torch.testing.assert_close(first.state_dict()[name], tensor, rtol=0, atol=0)

    testing = (copy / "testing_list.txt").read_text()
    (copy / "testing_list.txt").write_text(testing.replace("zero/s15_nohash_0.wav\n", ""))  # re-split
    load_digit_classifier(copy, TINY)
    assert len(trained) == 2
    (copy / "testing_list.txt").write_text(testing)
    load_digit_classifier(copy, TINY)
    assert len(trained) == 2  # the first corpus again: its classifier is still cached
    shutil.copy(copy / "one" / "s00_nohash_0.wav", copy / "one" / "s99_nohash_0.wav")  # one more clip
    load_digit_classifier(copy, TINY)
    (copy / "corpus.json").write_text('{"version": 2}')
    load_digit_classifier(copy, TINY)
    assert len(trained) == 4
    assert len(list((tmp_path / "cache").glob("sc09_classifier-*.pt"))) == 4


def test_unknown_classifier_settings_are_refused(corpus: Path) -> None:
    with pytest.raises(ConfigError, match="digit classifier settings: unknown key\\(s\\) 'width'; the settings are"):
        load_digit_classifier(corpus, {"width": 8})


# -- the metrics -----------------------------------------------------------------------------


def test_the_three_metrics_are_registered_and_build_with_no_args() -> None:
    registry = get_plugin_manager(only=["wavegan_metrics"], strict=True).registry
    names = ["digits_frechet_distance", "digits_inception_score", "digits_label_accuracy"]
    assert registry.names("metric") == names
    for name in names:
        component = registry.get("metric", name)
        assert component.plugin == "wavegan_metrics" and component.description
        spec = ComponentSpec(name=name)
        assert check_component_args("m", "metric", spec, component.factory, injectable=set()) == ({}, [])
    _, errors = check_component_args(
        "m", "metric", ComponentSpec(name="x", args={"n": "many"}), DigitsInceptionScore, injectable=set()
    )
    assert errors == ["m.args.n: Input should be a valid integer, unable to parse string as an integer (got 'many')"]


def test_a_constant_clip_has_inception_score_one(
    tmp_path: Path, corpus: Path, classifier: DigitClassifier, test_split: tuple
) -> None:
    metric = DigitsInceptionScore(root=str(corpus), n=40, splits=4, batch_size=16, classifier=TINY)
    out = run_metrics(context(tmp_path, Replay(test_split[0][:1])), [("m", metric)])
    assert sorted(out) == ["inception_score", "inception_score_real", "inception_score_std"]
    assert out["inception_score"] == pytest.approx(1.0, abs=1e-9) and out["inception_score_std"] == 0.0
    assert out["inception_score_real"] > 3.0  # 7 or 8 clips a split, of several words, mostly recognised


def test_confident_balanced_predictions_score_the_number_of_classes(
    tmp_path: Path, corpus: Path, classifier: DigitClassifier, test_split: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    waves, labels = test_split
    _, probs = classifier.embed(waves)
    right = torch.nonzero(probs.argmax(1) == labels).squeeze(1)
    one_per_class = torch.stack([right[labels[right] == k][0] for k in range(10)])  # (10,) clips 0..9
    sharp = DigitClassifier(**{k: classifier_module.resolve_settings(TINY)[k] for k in classifier_module._MODEL_KEYS})
    sharp.load_state_dict(classifier.state_dict())
    with torch.no_grad():  # logits x 1e4: one-hot predictions, the classes unchanged
        sharp.head.weight.mul_(1e4), sharp.head.bias.mul_(1e4)
    monkeypatch.setattr(metrics_module, "load_digit_classifier", lambda root, settings: sharp.eval())
    metric = DigitsInceptionScore(root=str(corpus), n=50, splits=5, batch_size=7, classifier=TINY)
    out = run_metrics(context(tmp_path, Replay(waves[one_per_class])), [("m", metric)])
    assert out["inception_score"] == pytest.approx(10.0, rel=1e-9) and out["inception_score_std"] == pytest.approx(0.0)


def test_replayed_test_clips_are_at_frechet_distance_zero(
    tmp_path: Path, corpus: Path, classifier: DigitClassifier, test_split: tuple
) -> None:
    metric = DigitsFrechetDistance(root=str(corpus), n=30, batch_size=8, classifier=TINY)
    out = run_metrics(context(tmp_path, Replay(test_split[0])), [("m", metric)])
    assert sorted(out) == ["frechet_distance", "frechet_distance_real"]
    assert out["frechet_distance"] == pytest.approx(0.0, abs=1e-6 * out["frechet_distance_real"])
    assert out["frechet_distance_real"] > 0.0
    collapsed = run_metrics(context(tmp_path, Replay(test_split[0][:1])), [("m", metric)])
    assert collapsed["frechet_distance"] > 3 * out["frechet_distance_real"]
    assert collapsed["frechet_distance_real"] == out["frechet_distance_real"]  # the same real data


def test_one_evaluation_draws_its_clips_once_for_both_metrics(
    tmp_path: Path, corpus: Path, classifier: DigitClassifier, test_split: tuple
) -> None:
    """Seeded alike, the two metrics would draw the same clips: the second reuses the first's."""
    score = DigitsInceptionScore(root=str(corpus), n=30, splits=3, batch_size=8, classifier=TINY)
    distance = DigitsFrechetDistance(root=str(corpus), n=30, batch_size=8, classifier=TINY)
    replay = Replay(test_split[0][:20])
    both = run_metrics(context(tmp_path, replay), [("a", score), ("b", distance)])
    assert replay.next == 30  # 30 clips drawn, in batches of 8, once
    alone = run_metrics(context(tmp_path, Replay(test_split[0][:20])), [("b", distance)])
    assert both["frechet_distance"] == alone["frechet_distance"]
    again = run_metrics(context(tmp_path, replay), [("b", distance)])  # a new evaluation draws anew
    assert replay.next == 60 and again["frechet_distance"] != both["frechet_distance"]
    bigger = DigitsFrechetDistance(root=str(corpus), n=40, batch_size=8, classifier=TINY)
    run_metrics(context(tmp_path, replay), [("a", score), ("c", bigger)])  # another n: its own clips
    assert replay.next == 60 + 30 + 40


def test_label_accuracy_of_real_clips_is_the_classifiers_test_accuracy(
    tmp_path: Path, corpus: Path, classifier: DigitClassifier, test_split: tuple
) -> None:
    metric = DigitsLabelAccuracy(root=str(corpus), n=30, batch_size=8, classifier=TINY)
    out = run_metrics(context(tmp_path, ReplayByLabel(*test_split)), [("m", metric)])
    assert out == {"label_accuracy": classifier.test_accuracy, "label_accuracy_real": classifier.test_accuracy}
    wrong = run_metrics(context(tmp_path, ReplayByLabel(*test_split, offset=1)), [("m", metric)])
    assert wrong["label_accuracy"] <= 1.0 - classifier.test_accuracy


def test_the_corpus_defaults_to_the_training_datasets_root(
    tmp_path: Path, corpus: Path, classifier: DigitClassifier, test_split: tuple
) -> None:
    config = Config.model_validate({
        "objective": {"name": "wavegan"}, "generators": {"generator": {"name": "wavegan"}},
        "data": {"train": {"name": "speech_commands", "args": {"root": str(corpus)}}},
        "optim": {"generator": {"lr": 1e-4}}, "trainer": {"max_steps": 1},
    })
    metric = DigitsInceptionScore(n=10, splits=2, classifier=TINY)
    out = run_metrics(context(tmp_path, Replay(test_split[0][:1]), config), [("m", metric)])
    assert out["inception_score"] == pytest.approx(1.0, abs=1e-9)


# -- what a metric needs and the config or objective lacks -------------------------------------


def test_a_metric_without_a_corpus_names_itself(tmp_path: Path, test_split: tuple) -> None:
    with pytest.raises(ConfigError) as err:
        DigitsFrechetDistance()(context(tmp_path, Replay(test_split[0])))
    assert str(err.value) == (
        "metric 'digits_frechet_distance': needs the Speech Commands corpus its digit classifier learns from: set "
        "the metric's args.root (e.g. `{name: digits_frechet_distance, args: {root: data/sc09}}`), or train on a "
        "dataset with args.root"
    )
    with pytest.raises(ConfigError, match=r"^metric 'digits_inception_score': root '/nowhere' is not a folder"):
        DigitsInceptionScore(root="/nowhere")(context(tmp_path, Replay(test_split[0])))


def test_label_accuracy_needs_a_conditional_generator(tmp_path: Path, corpus: Path, test_split: tuple) -> None:
    with pytest.raises(ConfigError) as err:
        DigitsLabelAccuracy(root=str(corpus))(context(tmp_path, Replay(test_split[0])))
    assert str(err.value) == (
        "metric 'digits_label_accuracy': needs a conditional generator (an objective with sample_conditional and "
        "num_classes: 10); objective Replay is unconditional"
    )
    unconditional = ReplayByLabel(*test_split)
    unconditional.num_classes = 0  # a conditional family's unconditional run (specgan with num_classes: 0)
    with pytest.raises(ConfigError, match="objective ReplayByLabel is unconditional$"):
        DigitsLabelAccuracy(root=str(corpus))(context(tmp_path, unconditional))
    four = ReplayByLabel(*test_split)
    four.num_classes = 4
    with pytest.raises(ConfigError, match="knows 10 classes, but objective ReplayByLabel has num_classes=4"):
        DigitsLabelAccuracy(root=str(corpus))(context(tmp_path, four))


def test_audio_at_another_rate_is_refused(tmp_path: Path, corpus: Path, test_split: tuple) -> None:
    objective = Replay(test_split[0])
    objective.sample_rate = 22050  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as err:
        DigitsInceptionScore(root=str(corpus))(context(tmp_path, objective))
    assert str(err.value) == (
        "metric 'digits_inception_score': the digit classifier hears 16000 Hz audio, but Replay generates at 22050 Hz"
    )


def test_generated_audio_must_be_mono(tmp_path: Path, corpus: Path, classifier: DigitClassifier) -> None:
    metric = DigitsInceptionScore(root=str(corpus), n=10, splits=2, classifier=TINY)
    with pytest.raises(SpeechganError, match=r"needs mono waveforms \(N, 1, T\) at 16 kHz; objective Replay "
                                             r"samples tensors of shape \(10, 2, 16384\)"):
        metric(context(tmp_path, Replay(torch.zeros(3, 2, 16384))))


@pytest.mark.parametrize(("factory", "args", "message"), [
    (DigitsInceptionScore, {"n": 5, "splits": 10}, "needs 1 <= splits <= n, got splits=10 and n=5"),
    (DigitsFrechetDistance, {"n": 1}, "needs n >= 2 samples for a covariance, got 1"),
    (DigitsFrechetDistance, {"reference": "valid"}, "reference must be 'test' or 'train', got 'valid'"),
    (DigitsLabelAccuracy, {"batch_size": 0}, "batch_size must be >= 1, got 0"),
    (DigitsLabelAccuracy, {"classifier": {"width": 8}}, "args.classifier: digit classifier settings: unknown key"),
])
def test_bad_arguments_are_config_errors_naming_the_metric(factory: type, args: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        factory(**args)
    assert str(err.value).startswith(f"metric {factory.name!r}: {message}")
