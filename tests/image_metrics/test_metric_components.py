"""The image_metrics components on evaluation contexts whose "generators" are known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score
from torch import nn

from speechgan.config import check_component_args
from speechgan.errors import ConfigError, SpeechganError
from speechgan.evaluate import EvaluationContext, run_metrics
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec
from speechgan_plugins.image.classifier import DigitsClassifier
from speechgan_plugins.image.datasets import Digits
from speechgan_plugins.image.metrics import (
    ClassConditionalAccuracy,
    FrechetClassifierDistance,
    MultilabelF1,
    ParzenLogLikelihood,
)

NAMES = ["class_conditional_accuracy", "frechet_classifier_distance", "multilabel_f1", "parzen_log_likelihood"]


@pytest.fixture(scope="module")
def digits() -> dict[str, Digits]:
    return {"train": Digits("train"), "valid": Digits("test")}


class Memorised:
    """An unconditional "generator" that returns random training images."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        return self.images[torch.randint(len(self.images), (n,))].to(device)


class Collapsed:
    """Mode collapse: the same image every time."""

    def __init__(self, image: torch.Tensor) -> None:
        self.image = image

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        return self.image.expand(n, -1, -1, -1).to(device)


class Conditional(Memorised):
    """A conditional "generator" drawing real test digits of class ``label + offset``."""

    def __init__(self, dataset: Digits, offset: int = 0, num_classes: int = 10) -> None:
        super().__init__(dataset.images)
        self.labels, self.offset, self.num_classes = dataset.labels, offset, num_classes

    def sample_conditional(self, *, g: nn.ModuleDict, labels: torch.Tensor, device: torch.device) -> torch.Tensor:
        out = []
        for label in labels.tolist():
            (members,) = torch.nonzero(self.labels == (label + self.offset) % 10, as_tuple=True)
            out.append(self.images[members[torch.randint(len(members), ())]])
        return torch.stack(out).to(device)


class Tagger:
    """An image-to-label objective whose G reads the labels off the first pixels, with ``flips`` wrong."""

    num_labels = 6

    def __init__(self, flips: torch.Tensor) -> None:
        self.flips = flips  # (N, K) bool, one row per image in dataset order

    def predict(self, *, g: nn.ModuleDict, images: torch.Tensor) -> torch.Tensor:
        bits = images.flatten(1)[:, : self.num_labels] > 0  # (n, K)
        rows = images.flatten(1)[:, -1].long()  # each image's row index, stored in its last pixel
        return (bits ^ self.flips[rows]).float()


def context(tmp_path: Path, objective: object, datasets: dict) -> EvaluationContext:
    return EvaluationContext(
        config=None, run_dir=tmp_path, objective=objective, generators=nn.ModuleDict(),  # type: ignore[arg-type]
        datasets=datasets, features=None, device=torch.device("cpu"),
    )


def test_the_four_metrics_are_registered_and_build_with_no_args() -> None:
    registry = get_plugin_manager(only=["image_metrics"], strict=True).registry
    assert registry.names("metric") == NAMES
    for name in NAMES:
        component = registry.get("metric", name)
        assert component.plugin == "image_metrics" and component.description
        assert check_component_args("m", "metric", ComponentSpec(name=name), component.factory, injectable=set()) == ({}, [])
    _, errors = check_component_args(
        "m", "metric", ComponentSpec(name="x", args={"num_samples": "many"}), FrechetClassifierDistance, injectable=set()
    )
    assert errors == [
        "m.args.num_samples: Input should be a valid integer, unable to parse string as an integer (got 'many')"
    ]


def test_frechet_distance_of_memorised_training_images_is_the_real_data_floor(
    tmp_path: Path, digits: dict, digits_classifier: DigitsClassifier
) -> None:
    metric = FrechetClassifierDistance(num_samples=1347, splits=5)
    out = run_metrics(context(tmp_path, Memorised(digits["train"].images), digits), [("m", metric)])
    assert sorted(out) == [
        "classifier_score", "classifier_score_real_test", "classifier_score_std", "fd", "fd_real_train_vs_test"
    ]
    assert out["fd"] == pytest.approx(out["fd_real_train_vs_test"], rel=0.3)
    assert out["classifier_score"] == pytest.approx(out["classifier_score_real_test"], rel=0.05)
    assert 8.0 < out["classifier_score_real_test"] <= 10.0  # ten classes, recognised confidently
    assert (tmp_path / "eval" / "samples_step00000000.png").is_file()


def test_collapsed_generator_scores_one_and_is_far_away(
    tmp_path: Path, digits: dict, digits_classifier: DigitsClassifier
) -> None:
    metric = FrechetClassifierDistance(num_samples=200, splits=2, grid=False)
    out = run_metrics(context(tmp_path, Collapsed(digits["train"].images[:1]), digits), [("m", metric)])
    assert out["classifier_score"] == pytest.approx(1.0)
    assert out["fd"] > 50 * out["fd_real_train_vs_test"]
    assert not (tmp_path / "eval").exists()


def test_class_conditional_accuracy_is_the_classifiers_on_the_requested_class(
    tmp_path: Path, digits: dict, digits_classifier: DigitsClassifier
) -> None:
    right = run_metrics(context(tmp_path, Conditional(digits["valid"]), digits), [("m", ClassConditionalAccuracy(30))])
    assert right["class_conditional_accuracy"] > 0.95
    assert right["class_conditional_accuracy_real_test"] == pytest.approx(digits_classifier.test_accuracy)
    assert (tmp_path / "eval" / "classes_step00000000.png").is_file()
    off_by_one = context(tmp_path, Conditional(digits["valid"], offset=1), digits)
    wrong = run_metrics(off_by_one, [("m", ClassConditionalAccuracy(30, grid=False))])
    assert wrong["class_conditional_accuracy"] < 0.05


def test_parzen_likelihood_prefers_real_looking_samples(tmp_path: Path, digits: dict) -> None:
    metric = ParzenLogLikelihood(num_samples=1000, num_valid=200)
    good = run_metrics(context(tmp_path, Memorised(digits["train"].images), digits), [("m", metric)])
    bad = run_metrics(context(tmp_path, Collapsed(digits["train"].images[:1]), digits), [("m", metric)])
    assert sorted(good) == [
        "parzen_ll", "parzen_ll_real_train", "parzen_ll_real_train_se",
        "parzen_ll_se", "parzen_sigma", "parzen_sigma_real_train",
    ]
    grid = np.logspace(-1, 0, 10)
    assert good["parzen_sigma"] in grid and bad["parzen_sigma"] in grid
    assert good["parzen_ll"] > bad["parzen_ll"] + 20  # nats
    assert 0 < good["parzen_ll_se"] < 5
    assert good["parzen_ll_real_train"] == bad["parzen_ll_real_train"]  # the same real data


def test_multilabel_f1_of_predictions_matches_scikit_learn(tmp_path: Path) -> None:
    gen = torch.Generator().manual_seed(0)
    labels = (torch.rand(40, 6, generator=gen) < 0.4).float()  # (N, K) multi-hot
    images = -torch.ones(40, 1, 8, 8)
    images.view(40, -1)[:, :6] = labels * 2 - 1  # the labels, readable by Tagger
    images.view(40, -1)[:, -1] = torch.arange(40).float()  # the row index
    flips = torch.rand(40, 6, generator=gen) < 0.15
    dataset = [{"x": x, "label": y} for x, y in zip(images, labels)]
    out = run_metrics(context(tmp_path, Tagger(flips), {"train": dataset, "valid": dataset}), [("m", MultilabelF1())])
    predicted = (labels.bool() ^ flips).int().numpy()
    assert out["micro_f1"] == pytest.approx(f1_score(labels.numpy(), predicted, average="micro", zero_division=0))
    assert out["macro_f1"] == pytest.approx(f1_score(labels.numpy(), predicted, average="macro", zero_division=0))
    assert out["micro_f1"] < 1.0
    oracle = context(tmp_path, Tagger(torch.zeros(40, 6, dtype=torch.bool)), {"valid": dataset})
    perfect = run_metrics(oracle, [("m", MultilabelF1())])
    assert perfect == {"micro_f1": 1.0, "macro_f1": 1.0}


# -- what a metric needs and the objective or config lacks -------------------------------------


def test_class_conditional_accuracy_needs_a_conditional_objective(tmp_path: Path, digits: dict) -> None:
    ctx = context(tmp_path, Memorised(digits["train"].images), digits)
    with pytest.raises(SpeechganError) as err:
        ClassConditionalAccuracy()(ctx)
    assert str(err.value) == (
        "metric 'class_conditional_accuracy' needs a class-conditional objective (cgan, acgan), with "
        "num_classes and sample_conditional; objective Memorised has no num_classes or sample_conditional"
    )


def test_class_conditional_accuracy_needs_the_ten_digit_classes(
    tmp_path: Path, digits: dict, digits_classifier: DigitsClassifier
) -> None:
    ctx = context(tmp_path, Conditional(digits["valid"], num_classes=4), digits)
    message = "the digits classifier knows 10 classes, but objective Conditional has num_classes=4"
    with pytest.raises(SpeechganError, match=message):
        ClassConditionalAccuracy()(ctx)


def test_multilabel_f1_needs_an_image_to_label_objective(tmp_path: Path, digits: dict) -> None:
    with pytest.raises(SpeechganError) as err:
        MultilabelF1()(context(tmp_path, Collapsed(digits["train"].images[:1]), digits))
    assert str(err.value) == (
        "metric 'multilabel_f1' needs an image-to-label objective (image_to_label), with num_labels and predict; "
        "objective Collapsed has no num_labels or predict"
    )


def test_multilabel_f1_needs_multi_hot_labels(tmp_path: Path, digits: dict) -> None:
    with pytest.raises(SpeechganError, match=r"data.valid must hold multi-hot label vectors of num_labels=6 entries"):
        MultilabelF1()(context(tmp_path, Tagger(torch.zeros(1, 6, dtype=torch.bool)), digits))


def test_frechet_distance_needs_real_test_images(tmp_path: Path, digits: dict) -> None:
    ctx = context(tmp_path, Memorised(digits["train"].images), {"train": digits["train"]})
    with pytest.raises(SpeechganError) as err:
        FrechetClassifierDistance()(ctx)
    assert str(err.value) == (
        "metric 'frechet_classifier_distance' needs real images in data.valid, but the config has no data.valid "
        "section (e.g. `valid: {name: digits, args: {split: test}}`)"
    )


def test_metrics_need_samples_from_the_objective(tmp_path: Path, digits: dict) -> None:
    from speechgan.objective import Objective

    message = "^metric 'parzen_log_likelihood' needs generated images, but objective Objective draws no unconditional samples$"
    with pytest.raises(SpeechganError, match=message):
        ParzenLogLikelihood(num_samples=10)(context(tmp_path, Objective(), digits))


def test_parzen_needs_images_of_the_test_size(tmp_path: Path, digits: dict) -> None:
    ctx = context(tmp_path, Collapsed(torch.zeros(1, 1, 16, 16)), digits)
    with pytest.raises(SpeechganError, match=r"generated images are \(1, 16, 16\) but data.valid images are \(1, 8, 8\)"):
        ParzenLogLikelihood(num_samples=10)(ctx)


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"^metric 'frechet_classifier_distance': needs num_samples >= 2 and 1 <= splits"):
        FrechetClassifierDistance(num_samples=100, splits=101)
    with pytest.raises(ConfigError, match=r"^metric 'parzen_log_likelihood': .* and 0 < sigma_min <= sigma_max$"):
        ParzenLogLikelihood(sigma_min=0.5, sigma_max=0.2)
