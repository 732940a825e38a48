"""The spoken-digits classifier the WaveGAN metrics measure generated audio with.

Donahue, McAuley and Puckette, "Adversarial Audio Synthesis" (ICLR 2019), Section 5
and ``eval/inception/train.py`` of their code, score SC09 generators with a classifier
trained on the real training split of Speech Commands "zero" to "nine": log-mel input
(1024-point STFT, hop 128, 128 mel bands over 40-7800 Hz, ``log(mel + 1e-6)``), batch
normalisation, four blocks of 5x5 convolution (128 channels), ReLU and 2x2 max-pooling, a
dense softmax layer; 93 % test accuracy on SC09. Its softmax gives the inception score,
and speechgan uses a penultimate layer as the feature space of a Fréchet distance
(Heusel et al. 2017; WaveGAN itself reports no Fréchet distance).

Differences, for a CPU: the log-mel front-end is :class:`~speechgan.features.mel.LogMelSpectrogram`
(Slaney mel scale, reflect padding) with hop 256 and 64 bands (a 64 x 64 image of a
16,384-sample clip), the convolutions are 3x3 with 16 to 64 channels, and a dense
``feature_dim`` layer with ReLU (the features) comes before the softmax, so that the
Fréchet distance is over 64 dimensions rather than 8,192. Training is Adam with a cosine
learning-rate decay and light augmentation (a random time shift and gain), on one
thread and seeded, so the weights do not depend on the machine; the epoch with the best
validation accuracy is kept, as WaveGAN kept its best validation checkpoint.

Clips are read at 16 kHz and zero-padded at the end (or cut) to 16,384 samples, as
WaveGAN's ``score.py --fix_length`` does. The trained classifier is cached in
``$SPEECHGAN_CACHE`` (default ``~/.cache/speechgan``) under a name holding a hash of the
settings *and* of the corpus (:func:`corpus_fingerprint`), so another corpus, or the same
one re-split, is never scored with a stale classifier; a cache file that cannot be read
is retrained and rewritten. Numbers computed with it compare runs with each other, not
with published inception scores.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.data.audio_io import load_audio
from speechgan.data.cache import read_cached, user_cache_dir, write_cached
from speechgan.data.corpora import speech_commands
from speechgan.errors import ConfigError, DataError
from speechgan.features.mel import LogMelSpectrogram

__all__ = [
    "SC09_WORDS",
    "SETTINGS",
    "DigitClassifier",
    "cache_dir",
    "corpus_fingerprint",
    "fit_length",
    "load_digit_classifier",
    "resolve_settings",
    "sc09_clips",
    "train_digit_classifier",
]

#: The ten classes, in label order.
SC09_WORDS: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: Everything that determines the trained weights (with the corpus, its hash names the cache file).
SETTINGS: dict[str, Any] = {
    "version": 1,
    "sample_rate": 16000,
    "clip_length": 16384,  # WaveGAN's slice: 2^14 samples, a little over a second
    "n_fft": 1024,
    "hop_length": 256,
    "n_mels": 64,
    "fmin": 40.0,
    "fmax": 7800.0,
    "channels": [16, 32, 64, 64],
    "feature_dim": 64,
    "seed": 0,
    "epochs": 15,
    "batch_size": 64,
    "lr": 2e-3,
    "weight_decay": 1e-4,
    "max_shift": 1600,  # samples (0.1 s) either way, zeros filling in
    "max_gain_db": 6.0,
}

_MODEL_KEYS = ("sample_rate", "clip_length", "n_fft", "hop_length", "n_mels", "fmin", "fmax", "channels", "feature_dim")


def resolve_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """:data:`SETTINGS` with ``overrides`` applied; an unknown key is a ``ConfigError``."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"digit classifier settings: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"the settings are {', '.join(SETTINGS)}"
        )
    return {**SETTINGS, **overrides}


# -- the corpus ------------------------------------------------------------------------------


def fit_length(waves: torch.Tensor, length: int) -> torch.Tensor:
    """Waveforms (N, T) or (N, 1, T) -> (N, 1, length): zeros appended, or the end cut off."""
    if waves.dim() == 2:
        waves = waves.unsqueeze(1)
    if waves.dim() != 3 or waves.shape[1] != 1:
        raise DataError(f"expected mono waveforms (N, 1, T) or (N, T), got shape {tuple(waves.shape)}")
    t = waves.shape[-1]
    return F.pad(waves, (0, length - t)) if t < length else waves[..., :length]


def sc09_clips(
    root: str | Path, split: str, *, sample_rate: int = 16000, length: int = 16384
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(waves (N, 1, length) float32, labels (N,) int64)`` of a split of a Speech Commands corpus.

    Only the ten digit words; label = index in :data:`SC09_WORDS`. Files at another rate
    are resampled to ``sample_rate``.
    """
    utterances = speech_commands(root, split, SC09_WORDS)
    waves = torch.zeros(len(utterances), 1, length)
    for i, utt in enumerate(utterances):
        wave, _ = load_audio(utt.path, sample_rate)  # (T,) float32 in [-1, 1]
        clip = torch.from_numpy(wave[:length])
        waves[i, 0, : len(clip)] = clip
    labels = torch.tensor([SC09_WORDS.index(utt.text) for utt in utterances], dtype=torch.long)
    return waves, labels


def corpus_fingerprint(root: str | Path) -> str:
    """A hash of what the classifier learns from: every digit-word file's path and size, and the
    contents of ``validation_list.txt``, ``testing_list.txt`` and ``corpus.json`` (where present).

    Modification times are left out, so a copied corpus keeps its fingerprint.
    """
    root = Path(root)
    digest = hashlib.sha256()
    for word in SC09_WORDS:
        folder = root / word
        for wav in sorted(folder.glob("*.wav")) if folder.is_dir() else []:
            digest.update(f"{word}/{wav.name}\0{wav.stat().st_size}\n".encode())
    for name in ("validation_list.txt", "testing_list.txt", "corpus.json"):
        path = root / name
        digest.update(f"{name}\0".encode() + (path.read_bytes() if path.is_file() else b"<absent>") + b"\n")
    return digest.hexdigest()


# -- the network -----------------------------------------------------------------------------


class DigitClassifier(nn.Module):
    """A small log-mel CNN that recognises the spoken digits "zero" to "nine" in 16 kHz clips.

    Per-band batch normalisation of the log-mel image, then per block (batch norm from the
    second on) a 3x3 convolution, ReLU and 2x2 max-pooling; flattened, batch-normalised,
    a dense ReLU layer of ``feature_dim`` units (the features) and the softmax layer.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        clip_length: int = 16384,
        n_fft: int = 1024,
        hop_length: int = 256,
        n_mels: int = 64,
        fmin: float = 40.0,
        fmax: float = 7800.0,
        channels: Sequence[int] = (16, 32, 64, 64),
        feature_dim: int = 64,
        num_classes: int = len(SC09_WORDS),
    ) -> None:
        super().__init__()
        self.clip_length, self.num_classes = clip_length, num_classes
        self.mel = LogMelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, win_length=n_fft,
            n_mels=n_mels, fmin=fmin, fmax=fmax, log_clamp=1e-6,
        )
        pad = (n_fft - hop_length) // 2
        height, width = n_mels, 1 + (clip_length + 2 * pad - n_fft) // hop_length  # log-mel (n_mels, N)
        if min(height, width) < 2 ** len(channels):
            raise ConfigError(
                f"DigitClassifier: a {height} x {width} log-mel image is too small for {len(channels)} "
                "2x2 poolings; use more mel bands, a shorter hop or fewer channels"
            )
        self.input_norm = nn.BatchNorm1d(n_mels)  # per mel band, as WaveGAN normalises its input
        layers: list[nn.Module] = []
        previous = 1
        for i, width_out in enumerate(channels):
            if i > 0:
                layers.append(nn.BatchNorm2d(previous))
            layers += [nn.Conv2d(previous, width_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            previous, height, width = width_out, height // 2, width // 2
        flat = previous * height * width
        self.body = nn.Sequential(
            *layers, nn.Flatten(), nn.BatchNorm1d(flat), nn.Linear(flat, feature_dim), nn.ReLU(),  # the features
        )
        self.head = nn.Linear(feature_dim, num_classes)
        self.valid_accuracy = float("nan")  # set when trained or loaded
        self.test_accuracy = float("nan")

    def features(self, waves: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (B, feature_dim) of waveforms (B, 1, clip_length)."""
        x = self.input_norm(self.mel(waves.squeeze(1)))  # (B, n_mels, N)
        return self.body(x.unsqueeze(1))  # (B, 1, n_mels, N) -> (B, feature_dim)

    def forward(self, waves: torch.Tensor) -> torch.Tensor:
        """Logits (B, num_classes) of waveforms (B, 1, clip_length) at 16 kHz in [-1, 1]."""
        return self.head(self.features(waves))

    @torch.no_grad()
    def embed(self, waves: torch.Tensor, batch_size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
        """``(features (N, feature_dim), probabilities (N, num_classes))`` on the CPU of waveforms
        (N, 1, T) or (N, T), fitted to ``clip_length`` (:func:`fit_length`), in evaluation mode."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        x = fit_length(waves.detach().float(), self.clip_length)
        feats, probs = [], []
        for part in x.split(batch_size):
            h = self.features(part.to(device))  # (b, feature_dim)
            feats.append(h.cpu())
            probs.append(self.head(h).softmax(-1).cpu())
        self.train(was_training)
        return torch.cat(feats), torch.cat(probs)

    @torch.no_grad()
    def accuracy(self, waves: torch.Tensor, labels: torch.Tensor) -> float:
        """The fraction of ``waves`` whose most probable class is ``labels``."""
        _, probs = self.embed(waves)
        return float((probs.argmax(1) == labels).double().mean())


def _build(settings: Mapping[str, Any]) -> DigitClassifier:
    return DigitClassifier(**{k: settings[k] for k in _MODEL_KEYS})


# -- training --------------------------------------------------------------------------------


def _augment(x: torch.Tensor, max_shift: int, max_gain_db: float, gen: torch.Generator) -> torch.Tensor:
    """Shift each clip (B, 1, T) by up to ``max_shift`` samples (zeros fill in) and scale it by a
    gain uniform in +-``max_gain_db`` dB."""
    b, _, t = x.shape
    if max_shift > 0:
        shift = torch.randint(-max_shift, max_shift + 1, (b, 1), generator=gen)  # > 0: later in time
        padded = F.pad(x[:, 0], (max_shift, max_shift))  # (B, T + 2 s)
        x = padded.gather(1, torch.arange(t)[None] + max_shift - shift).unsqueeze(1)
    if max_gain_db > 0:
        gain_db = (torch.rand(b, 1, 1, generator=gen) * 2 - 1) * max_gain_db
        x = x * 10.0 ** (gain_db / 20.0)
    return x


def train_digit_classifier(root: str | Path, *, settings: Mapping[str, Any] | None = None) -> DigitClassifier:
    """Train the classifier on the ``train`` split of the corpus at ``root`` (seeded, CPU, one thread).

    ``settings``: keys of :data:`SETTINGS` to change. Cross-entropy, Adam with weight decay,
    cosine learning-rate decay, augmentation by :func:`_augment`; after each epoch the
    accuracy on the ``valid`` split is measured, and the weights of the best epoch are kept
    (ties: the earlier). ``valid_accuracy`` and ``test_accuracy`` are set. The global RNG
    and thread count are left as they were.
    """
    s = resolve_settings(settings)
    x_train, y_train = sc09_clips(root, "train", sample_rate=s["sample_rate"], length=s["clip_length"])
    x_valid, y_valid = sc09_clips(root, "valid", sample_rate=s["sample_rate"], length=s["clip_length"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # metrics run under torch.no_grad, and the first one to need the classifier trains it
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(s["seed"])
            gen = torch.Generator().manual_seed(s["seed"])
            model = _build(s)
            opt = torch.optim.Adam(model.parameters(), lr=s["lr"], weight_decay=s["weight_decay"])
            steps = s["epochs"] * math.ceil(len(x_train) / s["batch_size"])
            schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
            best, best_state = -1.0, None
            for _ in range(s["epochs"]):
                model.train()
                for batch in torch.randperm(len(x_train), generator=gen).split(s["batch_size"]):
                    if len(batch) < 2:  # batch norm needs two clips
                        continue
                    waves = _augment(x_train[batch], s["max_shift"], s["max_gain_db"], gen)
                    loss = F.cross_entropy(model(waves), y_train[batch])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    schedule.step()
                accuracy = model.accuracy(x_valid, y_valid)
                if accuracy > best:
                    best, best_state = accuracy, copy.deepcopy(model.state_dict())
            model.load_state_dict(best_state)
        x_test, y_test = sc09_clips(root, "test", sample_rate=s["sample_rate"], length=s["clip_length"])
        model.valid_accuracy, model.test_accuracy = best, model.accuracy(x_test, y_test)
    finally:
        torch.set_num_threads(threads)
    return model.eval()


# -- the cache -------------------------------------------------------------------------------


def cache_dir() -> Path:
    """The user cache, :func:`speechgan.data.cache.user_cache_dir` (``$SPEECHGAN_CACHE``)."""
    return user_cache_dir()


def _cache_path(settings: Mapping[str, Any], fingerprint: str) -> Path:
    key = json.dumps({"settings": dict(settings), "corpus": fingerprint}, sort_keys=True)
    return cache_dir() / f"sc09_classifier-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"


def _restore(state: dict[str, Any], settings: Mapping[str, Any]) -> DigitClassifier:
    """The classifier a cache file holds, in evaluation mode."""
    model = _build(settings)
    model.load_state_dict(state["state_dict"])
    model.valid_accuracy = float(state["valid_accuracy"])
    model.test_accuracy = float(state["test_accuracy"])
    return model.eval()


def load_digit_classifier(root: str | Path, settings: Mapping[str, Any] | None = None) -> DigitClassifier:
    """The classifier of the corpus at ``root`` (evaluation mode, CPU): from the cache, else
    trained (:func:`train_digit_classifier`) and cached. ``settings``: keys of :data:`SETTINGS` to change."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: Speech Commands folder not found")
    s = resolve_settings(settings)
    fingerprint = corpus_fingerprint(root)
    path = _cache_path(s, fingerprint)
    model = read_cached(path, lambda state: _restore(state, s), what="digit classifier")
    if model is None:
        model = train_digit_classifier(root, settings=s)
        state = {
            "state_dict": model.state_dict(), "valid_accuracy": model.valid_accuracy,
            "test_accuracy": model.test_accuracy, "settings": dict(s),
            "corpus": str(root.resolve()), "corpus_fingerprint": fingerprint,
        }
        write_cached(state, path, what="digit classifier")
    return model
