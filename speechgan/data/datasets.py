"""Speech datasets: random fixed-length segments or whole utterances, with optional features.

:class:`AudioDataset` scans every file when it is built (the header and the last sample,
except where a check needs every sample; see :meth:`AudioLoader.probe`), so bad files,
truncated ones included, are found before training starts and handled by the ``on_error``
policy. A file that passed the scan but fails to load during training (it changed since)
follows the policy too: ``"fail"`` raises the :class:`BadFile`, ``"skip"`` warns once and
returns the next item that loads in its place.

Segments follow the GAN vocoder recipe (random fixed-length crops of each utterance,
as in HiFi-GAN, Kong et al. 2020, and WaveGAN's fixed-length slices, Donahue et al.
2019): the offset is drawn by a generator seeded with (seed, epoch, index), so a run is
reproducible. A clip shorter than the segment is right-padded with zeros (``"zeros"``),
mirrored (``"reflect"``), or rejected when the dataset is built (``"none"``).

Items follow the ``WAVEFORM`` batch contract of :mod:`speechgan.batches`,
``{"wave": (T,), "speaker": int, "id": str}``, and ``FEATURES`` with a front-end, which
adds ``"features": (C, N)``. A segment's offset is then a multiple of the hop and its features are the first ``segment_length // hop``
frames of the front-end's output (read from the cache when one is given, computed on the
segment otherwise). :class:`UnpairedDataset` pairs two domains at random for
CycleGAN-VC (Kaneko & Kameoka, 2018), or, given ``pairs``, in a fixed parallel order for
evaluation.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from ..errors import ConfigError, DataError
from ..features.base import FrontEnd
from .audio_io import AudioLoader
from .cache import CacheResult, FeatureCache
from .corpora import Utterance
from .policy import BadFile, ErrorPolicy, OnError, SkipReport
from .samplers import derive_seed, epoch_permutation, item_rng

__all__ = ["PadMode", "AudioDataset", "UnpairedDataset", "collate_padded"]

logger = logging.getLogger(__name__)
PadMode = Literal["zeros", "reflect", "none"]


def _pad_last(tensors: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad along the last axis with zeros: ``(B, ..., L_max)`` and the lengths ``(B,)``."""
    lengths = torch.tensor([t.shape[-1] for t in tensors])
    out = tensors[0].new_zeros((len(tensors), *tensors[0].shape[:-1], int(lengths.max())))
    for i, t in enumerate(tensors):
        out[i, ..., : t.shape[-1]] = t
    return out, lengths


def collate_padded(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A batch of whole utterances, zero-padded, with their lengths.

    ``{"wave": (B, T_max), "lengths": (B,), "speaker": (B,), "id": [...]}``; items with
    features add ``"features": (B, C, N_max)`` and ``"feature_lengths"``.
    """
    wave, lengths = _pad_last([item["wave"] for item in items])  # type: ignore[index]
    batch: dict[str, Any] = {"wave": wave, "lengths": lengths}
    if "features" in items[0]:
        batch["features"], batch["feature_lengths"] = _pad_last([item["features"] for item in items])  # type: ignore[index]
    batch["speaker"] = torch.tensor([item["speaker"] for item in items])  # type: ignore[index]
    batch["id"] = [item["id"] for item in items]  # type: ignore[index]
    return batch


class AudioDataset(Dataset):
    """Utterances as waveforms at ``loader.sample_rate``, cut into segments or whole.

    ``features`` is a front-end (a CPU copy is kept, so moving the trainer's to a GPU
    does not move this one); with ``cache_dir`` its features are computed for every
    utterance when the dataset is built (:class:`FeatureCache`, ``num_workers``
    processes) and read back per item. ``on_error`` is ``"fail"``, ``"skip"`` or an
    :class:`ErrorPolicy` already used by the corpus layout. ``speaker_to_index`` maps speakers to labels;
    by default the sorted speakers of ``utterances`` get 0, 1, 2...
    The skipped files are logged as a warning unless ``log_skipped`` is false.
    Call :meth:`set_epoch` at each epoch for new random segments.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        loader: AudioLoader,
        *,
        segment_length: int | None = None,
        pad: PadMode = "zeros",
        features: FrontEnd | None = None,
        seed: int = 0,
        on_error: OnError | ErrorPolicy = "fail",
        cache_dir: str | Path | None = None,
        num_workers: int | None = None,
        speaker_to_index: dict[str, int] | None = None,
        progress: bool = True,
        log_skipped: bool = True,
    ) -> None:
        if loader.sample_rate is None:
            raise ConfigError("sample_rate: a dataset needs a sample rate to load every file at")
        if segment_length is not None and segment_length <= 0:
            raise ConfigError("segment_length: must be a positive number of samples (or null for whole "
                              f"utterances), got {segment_length}")
        if pad not in get_args(PadMode):
            raise ConfigError(f"pad: must be 'zeros', 'reflect' or 'none', got {pad!r}")
        if features is not None:
            self._check_front_end(features, loader.sample_rate, segment_length)
            features = copy.deepcopy(features).cpu().eval()
        elif cache_dir is not None:
            raise ConfigError("cache_dir: only features are cached; add a `features:` section or remove cache_dir")
        self.loader = loader
        self.segment_length = segment_length
        self.pad = pad
        self.features = features
        self.seed = seed
        self.epoch = 0
        # A policy object is shared with the corpus layout, so one report lists every skip.
        self._policy = on_error if isinstance(on_error, ErrorPolicy) else ErrorPolicy(on_error)
        self.utterances = self._scan(utterances)
        self.cache = None if cache_dir is None else FeatureCache(cache_dir, features, loader)  # type: ignore[arg-type]
        self.cache_result: CacheResult | None = None  # what filling the cache did (speechgan preprocess)
        if self.cache is not None:
            result = self.cache_result = self.cache.fill(
                self.utterances, num_workers=num_workers, policy=self._policy, progress=progress
            )
            failed = set(result.failed)
            self.utterances = [u for u in self.utterances if u.id not in failed]
        if log_skipped and self.skipped.count:
            logger.warning(self.skipped.summary())
        if not self.utterances:
            detail = f"; {self.skipped.summary()}" if self.skipped.count else " (is the split empty?)"
            raise DataError(f"the dataset has no usable utterances{detail}")
        speakers = sorted({u.speaker for u in self.utterances})
        if speaker_to_index is None:
            speaker_to_index = {s: i for i, s in enumerate(speakers)}
        self.speaker_to_index = dict(speaker_to_index)
        unknown = [s for s in speakers if s not in self.speaker_to_index]
        if unknown:
            raise ConfigError(f"speaker_to_index: has no label for speaker(s) {', '.join(unknown)}")

    @staticmethod
    def _check_front_end(features: FrontEnd, sample_rate: int, segment_length: int | None) -> None:
        if features.sample_rate != sample_rate:
            raise ConfigError(f"sample_rate: the dataset loads audio at {sample_rate} Hz but the front-end "
                              f"{type(features).__name__} expects {features.sample_rate} Hz; make them equal")
        hop = features.hop_length
        if segment_length is not None and segment_length % hop:
            lower, upper = segment_length // hop * hop, (segment_length // hop + 1) * hop
            raise ConfigError(f"segment_length: {segment_length} is not a multiple of the front-end's hop_length "
                              f"{hop}; use {lower or upper} or {upper}")

    # -- scanning ---------------------------------------------------------------------------

    @property
    def skipped(self) -> SkipReport:
        """The files left out under ``on_error="skip"``, with reasons."""
        return self._policy.report

    def _too_short(self, path: Path, length: int) -> BadFile:
        return BadFile(path, f"{length} samples at {self.loader.sample_rate} Hz is shorter than "
                             f"segment_length={self.segment_length} with pad='none'; use pad='zeros' "
                             "or 'reflect', or a shorter segment_length")

    def _probe(self, utt: Utterance) -> int:
        needs_length = self.segment_length is not None and self.pad == "none"
        length = self.loader.probe(utt.path, exact=needs_length)
        if needs_length and length < self.segment_length:  # type: ignore[operator]
            raise self._too_short(utt.path, length)
        return length

    def _scan(self, utterances: Sequence[Utterance]) -> list[Utterance]:
        return [u for u in utterances if self._policy.attempt(self._probe, u) is not None]

    # -- items --------------------------------------------------------------------------------

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.utterances)

    def _features_of(self, wave: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return self.features(torch.from_numpy(wave))  # type: ignore[misc]  # (C, N)

    def utterance_features(self, index: int) -> torch.Tensor:
        """The front-end's features (C, N) of the whole utterance ``index``, from the cache where there is one.

        What a statistic over a speaker's training data reads (voice conversion's per-speaker
        normalisation), whatever the dataset's ``segment_length``.
        """
        if self.features is None:
            raise ConfigError("this dataset has no front-end; add a `features:` section to read features")
        utt = self.utterances[index]
        if self.cache is not None:
            return torch.from_numpy(np.ascontiguousarray(self.cache.load(utt)))
        return self._features_of(self.loader.load(utt.path))

    def _pad_segment(self, path: Path, wave: np.ndarray) -> np.ndarray:
        missing = self.segment_length - len(wave)  # type: ignore[operator]
        if self.pad == "none":  # found at scan time unless the file changed since
            raise self._too_short(path, len(wave))
        return np.pad(wave, (0, missing), mode="constant" if self.pad == "zeros" else "reflect")

    def _segment(self, utt: Utterance, wave: np.ndarray, index: int) -> tuple[np.ndarray, torch.Tensor | None]:
        """A ``segment_length`` crop of ``wave`` ``(T,)`` and its features ``(C, segment_length // hop)``."""
        size = self.segment_length
        hop = self.features.hop_length if self.features is not None else 1
        frames = size // hop  # type: ignore[operator]
        if len(wave) < size:  # type: ignore[operator]
            segment = self._pad_segment(utt.path, wave)
            return segment, None if self.features is None else self._features_of(segment)[..., :frames]
        rng = item_rng(self.seed, self.epoch, index)
        first = int(rng.integers(0, (len(wave) - size) // hop + 1))  # in frames
        segment = wave[first * hop : first * hop + size]
        if self.features is None:
            return segment, None
        if self.cache is not None:
            cached = self.cache.load(utt)[..., first : first + frames]  # (C, frames)
            if cached.shape[-1] == frames:
                return segment, torch.from_numpy(np.ascontiguousarray(cached))
        return segment, self._features_of(segment)[..., :frames]

    def __getitem__(self, index: int) -> dict[str, Any]:
        """Item ``index``; a file that no longer loads follows the ``on_error`` policy.

        Under ``"skip"`` the next item that loads takes its place, exactly as that item would
        be returned, so batch shapes hold (:meth:`~speechgan.data.policy.ErrorPolicy.first_that_loads`).
        """
        return self._policy.first_that_loads(index, len(self.utterances), self._item)

    def _item(self, index: int) -> dict[str, Any]:
        utt = self.utterances[index]
        wave = self.loader.load(utt.path)  # (T,)
        if self.segment_length is not None:
            wave, feats = self._segment(utt, wave, index)
        elif self.features is None:
            feats = None
        elif self.cache is not None:
            feats = torch.from_numpy(self.cache.load(utt))
        else:
            feats = self._features_of(wave)
        item: dict[str, Any] = {
            "wave": torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)),
            "speaker": self.speaker_to_index[utt.speaker],
            "id": utt.id,
        }
        if feats is not None:
            item["features"] = feats
        return item

    def collate(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Stack fixed-length segments; pad whole utterances (:func:`collate_padded`)."""
        return default_collate(list(items)) if self.segment_length is not None else collate_padded(items)


class UnpairedDataset(Dataset):
    """Two speaker sets A and B with no pairing between them (CycleGAN-VC training).

    Each epoch draws independent permutations of A and of B; item ``i`` is
    ``{"a": A[perm_a[i % len(A)]], "b": B[perm_b[i % len(B)]]}``. The length is the
    larger domain's, so every utterance of both is seen each epoch and the smaller domain
    cycles. ``options`` are :class:`AudioDataset`'s; each domain gets its own seed, and
    the two share one speaker-label map and one skip report.

    ``pairs`` (utterance ids ``(id in A, id in B)``) makes the dataset parallel, for
    evaluation: item ``k`` is ``{"a": A of pairs[k][0], "b": B of pairs[k][1]}``, in
    order, never shuffled, with the same keys as unpaired items. Paired items are whole
    utterances (no ``segment_length``: two readings of one prompt differ in length, so
    no one crop aligns them). A pair with a file left out under ``on_error="skip"`` is
    dropped; one that fails to load later is replaced by the next pair that loads.
    """

    def __init__(
        self,
        utterances_a: Sequence[Utterance],
        utterances_b: Sequence[Utterance],
        loader: AudioLoader,
        *,
        seed: int = 0,
        on_error: OnError | ErrorPolicy = "fail",
        pairs: Sequence[tuple[str, str]] | None = None,
        **options: Any,
    ) -> None:
        if pairs is not None and options.get("segment_length") is not None:
            raise ConfigError("segment_length: paired items are whole utterances; set segment_length to null "
                              f"(got {options['segment_length']})")
        speakers = sorted({u.speaker for u in [*utterances_a, *utterances_b]})
        options.setdefault("speaker_to_index", {s: i for i, s in enumerate(speakers)})
        policy = on_error if isinstance(on_error, ErrorPolicy) else ErrorPolicy(on_error)
        self.seed = seed
        shared = {"on_error": policy, "log_skipped": False, **options}
        self.a = AudioDataset(utterances_a, loader, seed=derive_seed(seed, 0), **shared)
        self.b = AudioDataset(utterances_b, loader, seed=derive_seed(seed, 1), **shared)
        if self.skipped.count:
            logger.warning(self.skipped.summary())
        self.pairs: list[tuple[int, int]] | None = None  # (index in A, index in B) per paired item
        if pairs is not None:
            self.pairs = self._index_pairs(pairs)
        self.set_epoch(0)

    def _index_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[int, int]]:
        """``pairs`` of ids as indices into the scanned domains; pairs that lost a file are dropped."""
        index_a = {u.id: i for i, u in enumerate(self.a.utterances)}
        index_b = {u.id: i for i, u in enumerate(self.b.utterances)}
        kept = [(index_a[a], index_b[b]) for a, b in pairs if a in index_a and b in index_b]
        if not kept:
            detail = f"; {self.skipped.summary()}" if self.skipped.count else ""
            raise DataError(f"the paired dataset has no pair whose two files load{detail}")
        return kept

    @property
    def skipped(self) -> SkipReport:
        return self.a.skipped  # the report both domains share

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.a.set_epoch(epoch)
        self.b.set_epoch(epoch)
        self._order_a = epoch_permutation(len(self.a), derive_seed(self.seed, 0), epoch)
        self._order_b = epoch_permutation(len(self.b), derive_seed(self.seed, 1), epoch)

    def __len__(self) -> int:
        return max(len(self.a), len(self.b)) if self.pairs is None else len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if self.pairs is not None:
            return self._pair(index)
        return {
            "a": self.a[int(self._order_a[index % len(self.a)])],
            "b": self.b[int(self._order_b[index % len(self.b)])],
        }

    def _pair(self, index: int) -> dict[str, Any]:
        """Paired item ``index``; on a lost file the next whole pair takes its place, as in :class:`AudioDataset`.

        Substituting per domain (what ``self.a[i]`` would do) would pair two different prompts.
        """
        pairs = self.pairs or []

        def load(k: int) -> dict[str, Any]:
            i, j = pairs[k]
            return {"a": self.a._item(i), "b": self.b._item(j)}

        return self.a._policy.first_that_loads(index, len(pairs), load, unit="pair")  # one policy, one report

    def collate(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {"a": self.a.collate([item["a"] for item in items]), "b": self.b.collate([item["b"] for item in items])}
