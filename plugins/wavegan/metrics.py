"""Spoken-digit metrics as evaluation components (the ``wavegan_metrics`` plugin).

Generated clips are scored with the SC09 digit classifier of :mod:`.classifier`, trained
once on the real training split of the corpus at ``root`` and cached; each metric reports
a real-data number to read it against.

* ``digits_inception_score``: ``inception_score`` (``_std``: the spread over splits), the
  Inception Score of Salimans et al. 2016 as Donahue et al. 2019 ("Adversarial Audio
  Synthesis", Section 5.1) compute it for SC09: the mean of ``exp(E_x KL(p(y|x) || p(y)))``
  over 10 consecutive splits of the samples (5,000 of them in WaveGAN's ``incept`` loop
  during training; 50,000 in the paper's table); ``inception_score_real`` is that of the
  real test split (WaveGAN's "Real (test)" row).
* ``digits_frechet_distance``: ``frechet_distance`` (Heusel et al. 2017's FID, here on the
  classifier's penultimate features) between ``n`` generated clips and the real test (or
  training) split, and ``frechet_distance_real`` between the real validation split and the
  same reference: the floor a generator that reproduced the data would reach, up to the
  estimate's upward bias with few samples.
* ``digits_label_accuracy``: for conditional generators, how often the classifier
  recognises the digit asked for (ACGAN's measure, Odena et al. 2017, with this classifier);
  ``label_accuracy_real`` is the classifier's accuracy on the real test split.

Generated audio comes from the objective's ``sample(g=, n=, device=)`` (or
``sample_conditional(g=, labels=, device=)``) as (N, 1, T) waveforms in [-1, 1] at 16 kHz;
clips are zero-padded or cut to 16,384 samples before the classifier sees them.
``root`` defaults to the root of the config's training dataset (``data.train.args.root``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch

from speechgan import hookimpl
from speechgan.errors import ConfigError, SpeechganError
from speechgan.hookspecs import Register
from speechgan.metrics.image import classifier_score, frechet_distance_of_features

from .classifier import SC09_WORDS, DigitClassifier, load_digit_classifier, resolve_settings, sc09_clips

__all__ = [
    "DigitsInceptionScore",
    "DigitsFrechetDistance",
    "DigitsLabelAccuracy",
    "corpus_root",
    "generated_clips",
]


# -- what the metrics read from a run --------------------------------------------------------


def _check(metric: str, ok: bool, message: str) -> None:
    """A bad argument in the config: its message names the metric."""
    if not ok:
        raise ConfigError(f"metric {metric!r}: {message}")


def corpus_root(ctx: Any, root: str | None, metric: str) -> Path:
    """``root``, else the config's ``data.train.args.root``; a ``ConfigError`` naming the metric if neither."""
    if root is None:
        train = getattr(getattr(ctx.config, "data", None), "train", None)
        root = getattr(train, "args", {}).get("root")
        _check(
            metric, root is not None,
            "needs the Speech Commands corpus its digit classifier learns from: set the metric's args.root "
            "(e.g. `{name: " + metric + ", args: {root: data/sc09}}`), or train on a dataset with args.root",
        )
    _check(metric, Path(root).is_dir(), f"root {str(root)!r} is not a folder (a Speech Commands corpus)")
    return Path(root)


def _as_clips(waves: torch.Tensor, ctx: Any, metric: str) -> torch.Tensor:
    """Samples (N, 1, T) or (N, T) -> (N, 1, T); anything else names the objective."""
    if waves.dim() == 2:
        waves = waves.unsqueeze(1)
    if waves.dim() != 3 or waves.shape[1] != 1:
        raise SpeechganError(
            f"metric {metric!r} needs mono waveforms (N, 1, T) at 16 kHz; objective "
            f"{type(ctx.objective).__name__} samples tensors of shape {tuple(waves.shape)}"
        )
    return waves


def generated_clips(ctx: Any, n: int, metric: str, batch_size: int = 100) -> torch.Tensor:
    """``n`` unconditional samples (n, 1, T) on the CPU, drawn ``batch_size`` at a time.

    Drawn once per evaluation (:meth:`~speechgan.evaluate.EvaluationContext.samples_once`):
    the inception score and the Fréchet distance of one evaluation score the same clips.
    """
    try:
        return _as_clips(ctx.samples_once(n, batch_size), ctx, metric)
    except NotImplementedError as exc:
        raise SpeechganError(f"metric {metric!r} needs generated audio, but {exc}") from None


class _DigitsMetric:
    """What the three metrics share: the corpus, the classifier settings, the batch size."""

    name = ""

    def __init__(self, root: str | None, batch_size: int, classifier: dict[str, Any] | None) -> None:
        _check(self.name, batch_size >= 1, f"batch_size must be >= 1, got {batch_size}")
        try:
            self.settings = resolve_settings(classifier)
        except ConfigError as exc:
            raise ConfigError(f"metric {self.name!r}: args.classifier: {exc}") from None
        self.root, self.batch_size = root, batch_size

    def classifier(self, ctx: Any) -> tuple[Path, DigitClassifier]:
        """The corpus root and its classifier (trained on first use, then cached)."""
        for owner in (ctx.objective, *ctx.generators.values()):  # the first that says its rate
            rate = getattr(owner, "sample_rate", None)
            if isinstance(rate, int) and rate > 0:
                _check(
                    self.name, rate == self.settings["sample_rate"],
                    f"the digit classifier hears {self.settings['sample_rate']} Hz audio, but "
                    f"{type(owner).__name__} generates at {rate} Hz",
                )
                break
        root = corpus_root(ctx, self.root, self.name)
        return root, load_digit_classifier(root, self.settings)

    def real(self, root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Real clips (N, 1, clip_length) and labels (N,) of a split."""
        return sc09_clips(root, split, sample_rate=self.settings["sample_rate"], length=self.settings["clip_length"])


# -- the components --------------------------------------------------------------------------


class DigitsInceptionScore(_DigitsMetric):
    """Inception score of generated digits with the SC09 classifier (Donahue et al. 2019): inception_score.

    ``n`` samples in ``splits`` consecutive parts; ``inception_score_real`` scores the real
    test split, in a fixed random order, with the same number of parts (fewer if it has
    fewer clips).
    """

    name = "digits_inception_score"

    def __init__(
        self, root: str | None = None, n: int = 5000, splits: int = 10, batch_size: int = 100,
        classifier: dict[str, Any] | None = None,
    ) -> None:
        _check(self.name, 1 <= splits <= n, f"needs 1 <= splits <= n, got splits={splits} and n={n}")
        super().__init__(root, batch_size, classifier)
        self.n, self.splits = n, splits

    def __call__(self, ctx: Any) -> dict[str, float]:
        root, model = self.classifier(ctx)
        _, p_fake = model.embed(generated_clips(ctx, self.n, self.name, self.batch_size))  # (n, 10)
        test, _ = self.real(root, "test")
        _, p_test = model.embed(test)
        # the corpus lists clips word by word: shuffled (seeded) so that each split holds every word,
        # as WaveGAN's score.py shuffles its files with seed 0
        p_test = p_test[torch.randperm(len(p_test), generator=torch.Generator().manual_seed(0))]
        score, score_std = classifier_score(p_fake.numpy(), self.splits)
        return {
            "inception_score": score,
            "inception_score_std": score_std,
            "inception_score_real": classifier_score(p_test.numpy(), min(self.splits, len(p_test)))[0],
        }


class DigitsFrechetDistance(_DigitsMetric):
    """Fréchet distance of generated digits to real ones in the SC09 classifier's features: frechet_distance.

    ``n`` generated clips against the real ``reference`` split (``test`` or ``train``);
    ``frechet_distance_real`` compares the real ``valid`` split with the same reference.
    The estimate grows as the sample sizes shrink: compare numbers of equal ``n``.
    """

    name = "digits_frechet_distance"

    def __init__(
        self, root: str | None = None, n: int = 5000, reference: Literal["test", "train"] = "test",
        batch_size: int = 100, classifier: dict[str, Any] | None = None,
    ) -> None:
        _check(self.name, n >= 2, f"needs n >= 2 samples for a covariance, got {n}")
        _check(self.name, reference in ("test", "train"), f"reference must be 'test' or 'train', got {reference!r}")
        super().__init__(root, batch_size, classifier)
        self.n, self.reference = n, reference

    def __call__(self, ctx: Any) -> dict[str, float]:
        root, model = self.classifier(ctx)
        f_fake, _ = model.embed(generated_clips(ctx, self.n, self.name, self.batch_size))  # (n, feature_dim)
        f_ref, _ = model.embed(self.real(root, self.reference)[0])
        f_valid, _ = model.embed(self.real(root, "valid")[0])
        return {
            "frechet_distance": frechet_distance_of_features(f_fake.numpy(), f_ref.numpy()),
            "frechet_distance_real": frechet_distance_of_features(f_valid.numpy(), f_ref.numpy()),
        }


class DigitsLabelAccuracy(_DigitsMetric):
    """How often the SC09 classifier recognises the digit a conditional generator was asked for: label_accuracy.

    ``n`` clips with the labels 0, 1, ..., 9 in turn (balanced when ``n`` is a multiple of
    10); ``label_accuracy_real`` is the classifier's accuracy on the real test split.
    """

    name = "digits_label_accuracy"

    def __init__(
        self, root: str | None = None, n: int = 1000, batch_size: int = 100, classifier: dict[str, Any] | None = None,
    ) -> None:
        _check(self.name, n >= 1, f"n must be >= 1, got {n}")
        super().__init__(root, batch_size, classifier)
        self.n = n

    def __call__(self, ctx: Any) -> dict[str, float]:
        objective = type(ctx.objective).__name__
        k = getattr(ctx.objective, "num_classes", None)  # 0: an unconditional run of a conditional family
        _check(
            self.name, callable(getattr(ctx.objective, "sample_conditional", None)) and k != 0,
            f"needs a conditional generator (an objective with sample_conditional and num_classes: 10); "
            f"objective {objective} is unconditional",
        )
        _check(self.name, k in (None, len(SC09_WORDS)), f"the digit classifier knows 10 classes, but objective "
                                                        f"{objective} has num_classes={k}")
        _, model = self.classifier(ctx)
        labels = torch.arange(self.n) % len(SC09_WORDS)  # (n,)
        parts = []
        for part in labels.split(self.batch_size):
            clips = ctx.objective.sample_conditional(g=ctx.generators, labels=part.to(ctx.device), device=ctx.device)
            parts.append(_as_clips(clips.float().cpu(), ctx, self.name))
        _, probs = model.embed(torch.cat(parts))  # (n, 10)
        return {
            "label_accuracy": float((probs.argmax(1) == labels).double().mean()),
            "label_accuracy_real": model.test_accuracy,
        }


# -- registration ----------------------------------------------------------------------------


@hookimpl
def speechgan_register_metrics(register: Register) -> None:
    register(DigitsInceptionScore.name, DigitsInceptionScore)
    register(DigitsFrechetDistance.name, DigitsFrechetDistance)
    register(DigitsLabelAccuracy.name, DigitsLabelAccuracy)
