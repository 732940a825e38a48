"""The digits classifier the image metrics measure generated images with.

Fréchet Inception Distance and the Inception Score (Heusel et al. 2017; Salimans et al.
2016) embed images with an ImageNet Inception network; for scikit-learn's 8x8 digits
(1,797 images, 10 classes; Alpaydin and Kaynak's UCI optical digits, bundled with
scikit-learn, so nothing is downloaded) speechgan trains a small CNN instead, on the
training split of the ``digits`` dataset (1,347 images; its 450 test images are never seen,
see :func:`~speechgan_plugins.image.datasets.digits_split`), and uses its penultimate layer
as features and its softmax as ``p(y|x)``. Numbers computed with it compare runs with each
other, not with published FID or IS values.

Training is seeded and takes a few seconds on a CPU; the weights are cached in
``$SPEECHGAN_CACHE`` (default ``~/.cache/speechgan``) under a name holding a hash of the
training settings, so a change of settings trains a new one, and a cache file that cannot
be read is retrained and rewritten, never an error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.data.cache import read_cached, user_cache_dir, write_cached

from .datasets import DIGITS_TEST_SIZE, digits_split

__all__ = [
    "DIGITS_SIZE",
    "TRAINING",
    "DigitsClassifier",
    "cache_dir",
    "load_digits_classifier",
    "to_classifier_input",
    "train_digits_classifier",
]

#: Height and width of the digits; other images are resized to this for the classifier.
DIGITS_SIZE = 8
#: Everything that determines the trained weights (its hash names the cache file).
TRAINING: dict[str, Any] = {
    "version": 1,
    "test_size": DIGITS_TEST_SIZE,  # the digits dataset's fixed split (seed 0)
    "seed": 0,
    "width": 32,
    "feature_dim": 64,
    "epochs": 15,
    "batch_size": 64,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "max_shift": 1,
}


# -- input ------------------------------------------------------------------------------------


def to_classifier_input(images: torch.Tensor) -> torch.Tensor:
    """Images (N, C, H, W) in [-1, 1] -> (N, 1, 8, 8) float32 on the CPU.

    Several channels are averaged to one; another size is resized to 8x8 by bilinear
    interpolation with antialiasing (an area average when shrinking).
    """
    if images.dim() != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(images.shape)}")
    x = images.detach().float().cpu()
    if x.shape[1] != 1:
        x = x.mean(1, keepdim=True)
    if x.shape[-2:] != (DIGITS_SIZE, DIGITS_SIZE):
        x = F.interpolate(x, size=(DIGITS_SIZE, DIGITS_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x


# -- the network -----------------------------------------------------------------------------


class DigitsClassifier(nn.Module):
    """A small CNN on 8x8 digits: two 3x3 convolutions, 2x2 max-pooling, a hidden layer, softmax."""

    def __init__(self, width: int = 32, feature_dim: int = 64, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),  # (B, 2w, 4, 4)
            nn.Flatten(),
            nn.Linear(2 * width * (DIGITS_SIZE // 2) ** 2, feature_dim), nn.ReLU(),  # the features
        )
        self.head = nn.Linear(feature_dim, num_classes)
        self.test_accuracy = float("nan")  # set when trained or loaded

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of images (B, 1, 8, 8)."""
        return self.head(self.body(x))

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features (N, feature_dim), probabilities (N, num_classes))`` of images (N, C, H, W)
        in [-1, 1] (see :func:`to_classifier_input`), in evaluation mode on the CPU."""
        was_training = self.training
        self.eval()
        x = to_classifier_input(images)
        feats, probs = [], []
        for part in x.split(batch_size):
            h = self.body(part)  # (b, feature_dim)
            feats.append(h)
            probs.append(self.head(h).softmax(-1))
        self.train(was_training)
        return torch.cat(feats), torch.cat(probs)


# -- training and the cache ------------------------------------------------------------------


def _random_shift(x: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image (B, 1, 8, 8) by up to ``max_shift`` pixels; background (-1) fills in."""
    if max_shift == 0:
        return x
    k = 2 * max_shift + 1
    padded = F.pad(x, [max_shift] * 4, value=-1.0)  # (B, 1, 8 + 2s, 8 + 2s)
    offset = torch.randint(0, k * k, (len(x),), generator=gen)  # one of the k x k shifts each
    out = torch.empty_like(x)
    for o in range(k * k):
        dy, dx = divmod(o, k)
        chosen = offset == o
        out[chosen] = padded[chosen, :, dy : dy + DIGITS_SIZE, dx : dx + DIGITS_SIZE]
    return out


def train_digits_classifier(settings: Mapping[str, Any] = TRAINING) -> DigitsClassifier:
    """Train the classifier on the training digits with ``settings`` (seeded, CPU, seconds).

    Adam with weight decay and a cosine learning-rate decay on cross-entropy, random shifts
    of up to one pixel as augmentation. It runs on one thread: on 8x8 images the work per
    operation is too small to gain from more, and one thread makes the weights independent
    of the machine's core count. The global RNG and thread count are left as they were;
    ``test_accuracy`` is measured on the test split.
    """
    xt, yt = digits_split("train")  # (1347, 1, 8, 8), (1347,)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # metrics run under torch.no_grad, and the first one to need the classifier trains it
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(settings["seed"])
            gen = torch.Generator().manual_seed(settings["seed"])
            model = DigitsClassifier(settings["width"], settings["feature_dim"])
            opt = torch.optim.Adam(model.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
            batches = -(-len(xt) // settings["batch_size"])
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, settings["epochs"] * batches)
            model.train()
            for _ in range(settings["epochs"]):
                for batch in torch.randperm(len(xt), generator=gen).split(settings["batch_size"]):
                    logits = model(_random_shift(xt[batch], settings["max_shift"], gen))
                    loss = F.cross_entropy(logits, yt[batch])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    schedule.step()
    finally:
        torch.set_num_threads(threads)
    x_test, y_test = digits_split("test")
    _, probs = model.embed(x_test)
    model.test_accuracy = float((probs.argmax(1) == y_test).double().mean())
    return model


def cache_dir() -> Path:
    """The user cache, :func:`speechgan.data.cache.user_cache_dir` (``$SPEECHGAN_CACHE``)."""
    return user_cache_dir()


def _cache_path(settings: Mapping[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(dict(settings), sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"digits_classifier-{digest}.pt"


def _restore(state: dict[str, Any], settings: Mapping[str, Any]) -> DigitsClassifier:
    """The classifier a cache file holds, in evaluation mode."""
    model = DigitsClassifier(settings["width"], settings["feature_dim"])
    model.load_state_dict(state["state_dict"])
    model.test_accuracy = float(state["test_accuracy"])
    return model.eval()


def load_digits_classifier(settings: Mapping[str, Any] = TRAINING) -> DigitsClassifier:
    """The trained classifier (evaluation mode, CPU): from the cache, else trained and cached
    (:func:`speechgan.data.cache.read_cached`, :func:`~speechgan.data.cache.write_cached`)."""
    path = _cache_path(settings)
    model = read_cached(path, lambda state: _restore(state, settings), what="digits classifier")
    if model is None:
        model = train_digits_classifier(settings)
        state = {"state_dict": model.state_dict(), "test_accuracy": model.test_accuracy, "settings": dict(settings)}
        write_cached(state, path, what="digits classifier")
    return model
