"""Image-GAN metrics as evaluation components (the ``image_metrics`` plugin), and ``speechgan image``.

* ``frechet_classifier_distance``: ``fd``, the Fréchet distance (Heusel et al. 2017) between
  the digits classifier's features of generated and of real test images, and
  ``classifier_score``, the Inception Score formula (Salimans et al. 2016) on its
  predictions; with the floors of real data, ``fd_real_train_vs_test`` and
  ``classifier_score_real_test``, to read them against.
* ``class_conditional_accuracy``: how often the classifier recognises the class a
  conditional generator was asked for (the measure of ACGAN, Odena et al. 2017, with our
  classifier in place of Inception).
* ``parzen_log_likelihood``: Goodfellow et al. 2014's Gaussian Parzen-window estimate of the
  test log-likelihood from 10,000 samples, sigma cross-validated; and the same estimate
  from the real training images.
* ``multilabel_f1``: micro and macro F1 of an image-to-label objective's predictions.

The classifier (:mod:`.classifier`) is trained on scikit-learn's 8x8 digits: images of
another size are resized to 8x8 and colour images averaged to grey before it sees them, so
its numbers mean most on digits. The real test images are the config's ``data.valid``
(``digits`` with ``split: test`` in the recipes), the real training images ``data.train``.
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np
import torch

from speechgan import hookimpl
from speechgan.errors import ConfigError, SpeechganError
from speechgan.hookspecs import Register
from speechgan.metrics.image import (
    PARZEN_SIGMA_GRID,
    classifier_score,
    f1_scores,
    frechet_distance_of_features,
    parzen_log_likelihood,
    select_parzen_sigma,
)

from .classifier import load_digits_classifier
from .tools import class_rows, image, save_image_grid

__all__ = [
    "FrechetClassifierDistance",
    "ClassConditionalAccuracy",
    "ParzenLogLikelihood",
    "MultilabelF1",
    "dataset_arrays",
    "generated_images",
]


# -- what the metrics read from a run --------------------------------------------------------


def dataset_arrays(ctx: Any, split: str, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    """All ``(images (N, C, H, W), labels (N,) or (N, K))`` of the ``split`` dataset of a run."""
    if split not in ctx.datasets:
        raise SpeechganError(
            f"metric {metric!r} needs real images in data.{split}, but the config has no data.{split} section "
            "(e.g. `valid: {name: digits, args: {split: test}}`)"
        )
    dataset = ctx.datasets[split]
    items = [dataset[i] for i in range(len(dataset))]
    if not items or not all(isinstance(item, dict) and {"x", "label"} <= item.keys() for item in items):
        raise SpeechganError(f"metric {metric!r}: data.{split} must hold {{x: image, label: ...}} items, and at least one")
    images = torch.stack([torch.as_tensor(item["x"]) for item in items]).float()
    if images.dim() != 4:
        raise SpeechganError(f"metric {metric!r}: data.{split} images must be (C, H, W), got {tuple(images.shape[1:])}")
    return images, torch.stack([torch.as_tensor(item["label"]) for item in items])


def generated_images(ctx: Any, n: int, metric: str, batch_size: int = 1000) -> torch.Tensor:
    """``n`` unconditional samples (n, C, H, W) on the CPU, drawn ``batch_size`` at a time."""
    parts = []
    for start in range(0, n, batch_size):
        try:
            parts.append(ctx.sample(min(batch_size, n - start)).float().cpu())
        except NotImplementedError as exc:
            raise SpeechganError(f"metric {metric!r} needs generated images, but {exc}") from None
    images = torch.cat(parts)
    if images.dim() != 4:
        raise SpeechganError(
            f"metric {metric!r} needs images (N, C, H, W); objective {type(ctx.objective).__name__} "
            f"samples tensors of shape {tuple(images.shape)}"
        )
    return images


def _check(metric: str, ok: bool, message: str) -> None:
    """A bad argument in the config: its message names the metric."""
    if not ok:
        raise ConfigError(f"metric {metric!r}: {message}")


def _needs(ctx: Any, metric: str, attributes: tuple[str, ...], what: str) -> None:
    missing = [a for a in attributes if not hasattr(ctx.objective, a)]
    if missing:
        raise SpeechganError(
            f"metric {metric!r} needs {what}, with {' and '.join(attributes)}; objective "
            f"{type(ctx.objective).__name__} has no {' or '.join(missing)}"
        )


def _to_unit_vectors(images: torch.Tensor) -> np.ndarray:
    """Images in [-1, 1] -> rows (N, C*H*W) of float64 pixels in [0, 1], the Parzen scale."""
    return ((images.double().reshape(len(images), -1) + 1.0) / 2.0).numpy()


# -- the components --------------------------------------------------------------------------


class FrechetClassifierDistance:
    """Fréchet distance and classifier score of generated digits, with real-data floors: fd, classifier_score.

    ``fd`` compares ``num_samples`` generated images with the real images of ``split``, and
    ``fd_real_train_vs_test`` the real training images with the same, on the classifier's
    features; the Fréchet distance is biased upwards by few samples, so the floor is what a
    generator that reproduced the training data would get. ``classifier_score`` is the
    mean (``_std``: the spread) over ``splits`` parts of the generated images, as Salimans
    et al. report it; ``classifier_score_real_test`` scores the real images in one part.
    With ``grid``, the first 64 samples are saved as ``eval/samples_stepNNNNNNNN.png``.
    """

    name = "frechet_classifier_distance"

    def __init__(
        self, num_samples: int = 2000, splits: int = 10, split: str = "valid", batch_size: int = 1000, grid: bool = True
    ) -> None:
        ok = num_samples >= 2 and 1 <= splits <= num_samples
        _check(self.name, ok, "needs num_samples >= 2 and 1 <= splits <= num_samples")
        _check(self.name, batch_size >= 1, "batch_size must be >= 1")
        self.num_samples, self.splits, self.split = num_samples, splits, split
        self.batch_size, self.grid = batch_size, grid

    def __call__(self, ctx: Any) -> dict[str, float]:
        test, _ = dataset_arrays(ctx, self.split, self.name)
        train, _ = dataset_arrays(ctx, "train", self.name)
        fake = generated_images(ctx, self.num_samples, self.name, self.batch_size)
        classifier = load_digits_classifier()
        f_fake, p_fake = classifier.embed(fake)
        f_test, p_test = classifier.embed(test)
        f_train, _ = classifier.embed(train)
        score, score_std = classifier_score(p_fake.numpy(), self.splits)
        if self.grid:
            save_image_grid(fake[:64], ctx.output_path(f"samples_step{ctx.step:08d}.png"))
        return {
            "fd": frechet_distance_of_features(f_fake.numpy(), f_test.numpy()),
            "fd_real_train_vs_test": frechet_distance_of_features(f_train.numpy(), f_test.numpy()),
            "classifier_score": score,
            "classifier_score_std": score_std,
            "classifier_score_real_test": classifier_score(p_test.numpy())[0],
        }


class ClassConditionalAccuracy:
    """How often the digits classifier recognises the class a conditional generator was asked for.

    ``samples_per_class`` images of every class; ``class_conditional_accuracy_real_test``
    is the classifier's accuracy on the real ``data.valid`` images, the ceiling. With
    ``grid``, up to 10 samples per class, a row each, go to ``eval/classes_stepNNNNNNNN.png``.
    """

    name = "class_conditional_accuracy"

    def __init__(self, samples_per_class: int = 100, batch_size: int = 1000, grid: bool = True) -> None:
        _check(self.name, samples_per_class >= 1 and batch_size >= 1, "samples_per_class and batch_size must be >= 1")
        self.samples_per_class, self.batch_size, self.grid = samples_per_class, batch_size, grid

    def __call__(self, ctx: Any) -> dict[str, float]:
        _needs(ctx, self.name, ("num_classes", "sample_conditional"), "a class-conditional objective (cgan, acgan)")
        classifier = load_digits_classifier()
        k = int(ctx.objective.num_classes)
        if k != classifier.num_classes:
            raise SpeechganError(
                f"metric {self.name!r}: the digits classifier knows {classifier.num_classes} classes, "
                f"but objective {type(ctx.objective).__name__} has num_classes={k}"
            )
        labels = torch.arange(k).repeat(self.samples_per_class)  # (k * n,) balanced, every class in each batch
        sample = ctx.objective.sample_conditional
        fake = torch.cat([
            sample(g=ctx.generators, labels=part.to(ctx.device), device=ctx.device).float().cpu()
            for part in labels.split(self.batch_size)
        ])
        _, probs = classifier.embed(fake)
        out = {"class_conditional_accuracy": float((probs.argmax(1) == labels).double().mean())}
        if "valid" in ctx.datasets:  # the ceiling: the classifier on real test digits
            real, real_labels = dataset_arrays(ctx, "valid", self.name)
            if real_labels.dim() == 1:
                _, real_probs = classifier.embed(real)
                accuracy = (real_probs.argmax(1) == real_labels).double().mean()
                out["class_conditional_accuracy_real_test"] = float(accuracy)
        if self.grid:
            rows = class_rows(ctx.objective, ctx.generators, min(self.samples_per_class, 10), ctx.device)
            save_image_grid(rows, ctx.output_path(f"classes_step{ctx.step:08d}.png"), min(self.samples_per_class, 10))
        return out


class ParzenLogLikelihood:
    """Gaussian Parzen-window test log-likelihood of 10,000 samples, in nats (Goodfellow et al. 2014): parzen_ll.

    Pixels are scaled to [0, 1] as in the paper. The window width is chosen from a
    log-spaced grid (the paper's ``np.logspace(-1, 0, 10)`` by default) on ``num_valid``
    images held out of ``data.train`` (a fixed, seeded choice); the same procedure with the
    rest of the real training images as the window's centres gives ``parzen_ll_real_train``.
    The generator has seen the held-out images in training, which favours one that
    memorises; the estimate is known to be poor in high dimension (Theis et al. 2016,
    "A note on the evaluation of generative models"): compare runs, not models across papers.
    """

    name = "parzen_log_likelihood"

    def __init__(
        self,
        num_samples: int = 10000,
        num_valid: int = 300,
        sigma_min: float = float(PARZEN_SIGMA_GRID[0]),
        sigma_max: float = float(PARZEN_SIGMA_GRID[-1]),
        num_sigmas: int = len(PARZEN_SIGMA_GRID),
        split: str = "valid",
        batch_size: int = 1000,
    ) -> None:
        _check(
            self.name, min(num_samples, num_valid, num_sigmas, batch_size) >= 1 and 0 < sigma_min <= sigma_max,
            "num_samples, num_valid, num_sigmas and batch_size must be >= 1, and 0 < sigma_min <= sigma_max",
        )
        self.num_samples, self.num_valid, self.split, self.batch_size = num_samples, num_valid, split, batch_size
        self.grid = np.logspace(np.log10(sigma_min), np.log10(sigma_max), num_sigmas)

    def __call__(self, ctx: Any) -> dict[str, float]:
        test, _ = dataset_arrays(ctx, self.split, self.name)
        train, _ = dataset_arrays(ctx, "train", self.name)
        if len(train) <= self.num_valid:
            raise SpeechganError(
                f"metric {self.name!r}: data.train has {len(train)} images, too few to hold out num_valid="
                f"{self.num_valid} for choosing sigma; lower num_valid"
            )
        fake = generated_images(ctx, self.num_samples, self.name, self.batch_size)
        if fake.shape[1:] != test.shape[1:]:
            raise SpeechganError(
                f"metric {self.name!r}: generated images are {tuple(fake.shape[1:])} but data.{self.split} images "
                f"are {tuple(test.shape[1:])}; the likelihood compares pixels of the same size"
            )
        # the validation images that choose sigma: a fixed part of the training split
        held_out = np.random.default_rng(0).permutation(len(train))
        valid = _to_unit_vectors(train[held_out[: self.num_valid]])
        real = _to_unit_vectors(train[held_out[self.num_valid :]])
        test_x, fake_x = _to_unit_vectors(test), _to_unit_vectors(fake)
        sigma = select_parzen_sigma(fake_x, valid, self.grid)
        ll, se = parzen_log_likelihood(fake_x, test_x, sigma)
        sigma_real = select_parzen_sigma(real, valid, self.grid)
        ll_real, se_real = parzen_log_likelihood(real, test_x, sigma_real)
        return {
            "parzen_ll": ll,
            "parzen_ll_se": se,
            "parzen_sigma": sigma,
            "parzen_ll_real_train": ll_real,
            "parzen_ll_real_train_se": se_real,
            "parzen_sigma_real_train": sigma_real,
        }


class MultilabelF1:
    """Micro and macro F1 of an image-to-label objective's predictions on the valid split: micro_f1, macro_f1."""

    name = "multilabel_f1"

    def __init__(self, split: str = "valid", threshold: float = 0.5, batch_size: int = 1000) -> None:
        ok = 0.0 < threshold < 1.0 and batch_size >= 1
        _check(self.name, ok, "threshold must lie in (0, 1) and batch_size be >= 1")
        self.split, self.threshold, self.batch_size = split, threshold, batch_size

    def __call__(self, ctx: Any) -> dict[str, float]:
        _needs(ctx, self.name, ("num_labels", "predict"), "an image-to-label objective (image_to_label)")
        images, labels = dataset_arrays(ctx, self.split, self.name)
        k = int(ctx.objective.num_labels)
        if labels.dim() != 2 or labels.shape[1] != k:
            raise SpeechganError(
                f"metric {self.name!r}: data.{self.split} must hold multi-hot label vectors of num_labels={k} "
                f"entries (multilabel_digits), got labels of shape {tuple(labels.shape[1:])}"
            )
        probs = torch.cat([
            ctx.objective.predict(g=ctx.generators, images=part.to(ctx.device)).float().cpu()
            for part in images.split(self.batch_size)
        ])
        return f1_scores(labels.numpy(), probs.numpy(), self.threshold)


# -- registration ----------------------------------------------------------------------------


@hookimpl
def speechgan_register_metrics(register: Register) -> None:
    register(FrechetClassifierDistance.name, FrechetClassifierDistance)
    register(ClassConditionalAccuracy.name, ClassConditionalAccuracy)
    register(ParzenLogLikelihood.name, ParzenLogLikelihood)
    register(MultilabelF1.name, MultilabelF1)


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    cli.add_command(image)
