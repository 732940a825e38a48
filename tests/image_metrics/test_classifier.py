"""The digits classifier: accuracy on held-out digits, cache reuse and repair, input resizing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import speechgan_plugins.image.classifier as classifier_module
from speechgan_plugins.image.classifier import (
    TRAINING,
    DigitsClassifier,
    load_digits_classifier,
    to_classifier_input,
    train_digits_classifier,
)
from speechgan_plugins.image.datasets import Digits, digits_split

#: a classifier that trains in a fraction of a second, for the cache tests
QUICK = {**TRAINING, "width": 4, "feature_dim": 8, "epochs": 1}


def test_classifier_recognises_held_out_digits(digits_classifier: DigitsClassifier) -> None:
    images, labels = digits_split("test")  # (450, 1, 8, 8): never seen in training
    features, probs = digits_classifier.embed(images)
    accuracy = float((probs.argmax(1) == labels).double().mean())
    assert features.shape == (450, TRAINING["feature_dim"]) and probs.shape == (450, 10)
    torch.testing.assert_close(probs.sum(1), torch.ones(450))
    assert accuracy > 0.95
    assert accuracy == pytest.approx(digits_classifier.test_accuracy)


def test_cached_classifier_is_reused_without_training(
    digits_classifier: DigitsClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_training(settings: dict) -> DigitsClassifier:
        raise AssertionError("the cached classifier should have been loaded")

    monkeypatch.setattr(classifier_module, "train_digits_classifier", no_training)
    again = load_digits_classifier()
    for name, tensor in digits_classifier.state_dict().items():
        torch.testing.assert_close(again.state_dict()[name], tensor, rtol=0, atol=0)
    assert again.test_accuracy == digits_classifier.test_accuracy


def test_corrupt_cache_is_retrained_and_rewritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGAN_CACHE", str(tmp_path))
    calls: list[dict] = []

    def counting(settings: dict) -> DigitsClassifier:
        calls.append(settings)
        return train_digits_classifier(settings)

    monkeypatch.setattr(classifier_module, "train_digits_classifier", counting)
    first = load_digits_classifier(QUICK)
    (path,) = tmp_path.glob("digits_classifier-*.pt")
    assert len(calls) == 1
    load_digits_classifier(QUICK)
    assert len(calls) == 1  # read from the cache
    path.write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="is unreadable .*; retraining it"):
        repaired = load_digits_classifier(QUICK)
    assert len(calls) == 2
    torch.testing.assert_close(repaired.head.weight, first.head.weight, rtol=0, atol=0)  # seeded: the same weights
    load_digits_classifier(QUICK)
    assert len(calls) == 2  # the rewritten file is good


def test_other_settings_get_their_own_cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGAN_CACHE", str(tmp_path))
    load_digits_classifier(QUICK)
    load_digits_classifier({**QUICK, "seed": 1})
    assert len(list(tmp_path.glob("digits_classifier-*.pt"))) == 2


def test_training_leaves_the_global_rng_and_threads_alone() -> None:
    threads, state = torch.get_num_threads(), torch.get_rng_state()
    train_digits_classifier(QUICK)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), state)


def test_classifier_input_is_grey_8x8() -> None:
    # three constant channels (0.1, 0.2, 0.6) at 16x16 -> one channel of their mean at 8x8
    rgb = torch.tensor([0.1, 0.2, 0.6])[None, :, None, None].expand(2, 3, 16, 16)
    x = to_classifier_input(rgb)
    assert x.shape == (2, 1, 8, 8)
    torch.testing.assert_close(x, torch.full((2, 1, 8, 8), 0.3))
    digits = digits_split("test")[0][:3]
    torch.testing.assert_close(to_classifier_input(digits), digits)  # 8x8 grey passes unchanged


def test_larger_digits_are_resized_for_the_classifier(digits_classifier: DigitsClassifier) -> None:
    big = Digits("test", image_size=32)  # the test digits upsampled to 32x32
    _, probs = digits_classifier.embed(big.images)
    assert float((probs.argmax(1) == big.labels).double().mean()) > 0.9


def test_an_unwritable_cache_only_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SPEECHGAN_CACHE", str(blocker / "cache"))
    with pytest.warns(UserWarning, match="cannot write the digits classifier cache"):
        model = load_digits_classifier(QUICK)
    assert model.head.out_features == 10


def test_training_works_under_no_grad(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics run under torch.no_grad; the first one to need the classifier trains it there."""
    monkeypatch.setenv("SPEECHGAN_CACHE", str(tmp_path))
    with torch.no_grad():
        model = load_digits_classifier(QUICK)
    reference = train_digits_classifier(QUICK)  # seeded: the same weights when trained normally
    torch.testing.assert_close(model.head.weight, reference.head.weight, rtol=0, atol=0)
