"""Feature caching: a front-end's features for every utterance, computed once, in parallel.

On disk::

    <cache_dir>/<front-end fingerprint>/manifest.json   front-end class and params, one stamp per entry
    <cache_dir>/<front-end fingerprint>/<id>.npy        features (C, N), float32

The fingerprint hashes the front-end's class and parameters
(:attr:`speechgan.features.FrontEnd.fingerprint`): a changed parameter (a hop size, say)
is another folder, so stale features are never read. An entry's stamp holds the audio
file's path, size and modification time (ns) and the :class:`AudioLoader`'s key, so an
edited file, or a changed sample rate, trimming or normalization, is computed again.
Ids are percent-encoded into file names (``p225/p225_001`` -> ``p225%2Fp225_001.npy``).

Work is spread over ``num_workers`` processes (a ``ProcessPoolExecutor`` with the
platform's start method, each worker running torch on one thread, as DataLoader workers
do); one worker computes in this process. Files are written under a temporary name and
renamed, so an interrupted run leaves no partial file.

The user cache (:func:`user_cache_dir`) holds what is computed once per machine, the
evaluation classifiers: :func:`write_cached` saves a state there atomically and
:func:`read_cached` reads it back, or says it must be trained again.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote

import numpy as np
import torch
from tqdm import tqdm

from ..checkpoint import atomic_save
from ..features.base import FrontEnd
from .audio_io import AudioLoader
from .corpora import Utterance
from .policy import BadFile, ErrorPolicy, OnError

__all__ = ["CacheResult", "FeatureCache", "PreprocessResult", "preprocess", "read_cached", "user_cache_dir",
           "write_cached"]

logger = logging.getLogger(__name__)
MANIFEST = "manifest.json"
_T = TypeVar("_T")


def user_cache_dir() -> Path:
    """Where what is computed once per machine lives (evaluation classifiers): ``$SPEECHGAN_CACHE``,
    or ``~/.cache/speechgan``."""
    return Path(os.environ.get("SPEECHGAN_CACHE") or Path.home() / ".cache" / "speechgan")


def read_cached(path: Path, build: Callable[[dict[str, Any]], _T], *, what: str) -> _T | None:
    """``build(state)`` of the state :func:`write_cached` saved at ``path`` (read with ``weights_only``).

    None if there is no such file, or, with a warning naming ``what`` ("digit classifier"), if it
    cannot be read or built from (torn, truncated or foreign): the caller trains it again. The
    warning points at the caller's caller, the code that asked for the cached model.
    """
    if not path.exists():
        return None
    try:
        return build(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as exc:  # torn, truncated or foreign file: train again
        warnings.warn(f"cached {what} {path} is unreadable ({type(exc).__name__}); retraining it", stacklevel=3)
        return None


def write_cached(state: dict[str, Any], path: Path, *, what: str) -> None:
    """Save ``state`` at ``path`` atomically (:func:`speechgan.checkpoint.atomic_save`): a concurrent reader
    sees the old file or the new one. A cache that cannot be written only warns, naming ``what``: it
    costs a retraining next time."""
    try:
        atomic_save(state, path)
    except OSError as exc:
        warnings.warn(f"cannot write the {what} cache {path}: {exc}", stacklevel=3)


@dataclass(frozen=True)
class CacheResult:
    """What :meth:`FeatureCache.fill` did: files cached, newly computed, audio seconds, wall time."""

    n_files: int
    n_computed: int
    seconds: float
    wall_time: float
    failed: tuple[str, ...] = ()  # ids whose audio could not be loaded (skipped by the policy)


class PreprocessResult(NamedTuple):
    n_files: int
    seconds: float
    wall_time: float


# -- computing one entry (in this process or a worker) ------------------------------------

_WORKER_STATE: tuple[FrontEnd, AudioLoader] | None = None


def _init_worker(features: FrontEnd, loader: AudioLoader) -> None:
    global _WORKER_STATE
    torch.set_num_threads(1)  # the workers are the parallelism
    _WORKER_STATE = (features, loader)


def _compute(features: FrontEnd, loader: AudioLoader, audio: Path, out: Path) -> float | BadFile:
    """Write the features of ``audio`` to ``out``; the audio's duration in seconds, or the problem."""
    try:
        wave, rate = loader.load_with_rate(audio)  # (T,)
    except BadFile as problem:
        return problem
    with torch.no_grad():
        feats = features(torch.from_numpy(wave)).numpy().astype(np.float32, copy=False)  # (C, N)
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, feats)
    os.replace(tmp, out)
    return len(wave) / rate


def _compute_in_worker(task: tuple[Path, Path]) -> float | BadFile:
    assert _WORKER_STATE is not None, "worker not initialized"
    return _compute(*_WORKER_STATE, *task)


def _compute_all(
    features: FrontEnd, loader: AudioLoader, tasks: list[tuple[Path, Path]], workers: int
) -> Iterator[float | BadFile]:
    """Results in task order."""
    if workers <= 1:  # one worker is one core, in this process
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield from (_compute(features, loader, *task) for task in tasks)
        finally:
            torch.set_num_threads(threads)
        return
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(features, loader)) as pool:
        yield from pool.map(_compute_in_worker, tasks, chunksize=max(1, len(tasks) // (8 * workers)))


# -- the cache ------------------------------------------------------------------------------


class FeatureCache:
    """Features of ``features`` (a CPU front-end) for audio loaded by ``loader``, under ``cache_dir``."""

    def __init__(self, cache_dir: str | Path, features: FrontEnd, loader: AudioLoader) -> None:
        self.features = features
        self.loader = loader
        self.root = Path(cache_dir) / features.fingerprint

    def path(self, utterance: Utterance) -> Path:
        return self.root / f"{quote(utterance.id, safe='')}.npy"

    def load(self, utterance: Utterance) -> np.ndarray:
        """The cached features ``(C, N)`` of ``utterance`` (after :meth:`fill`)."""
        return np.load(self.path(utterance))

    def _stamp(self, utterance: Utterance) -> dict[str, Any]:
        try:
            stat = utterance.path.stat()
        except FileNotFoundError:
            raise BadFile(utterance.path, "file not found") from None
        return {"path": str(utterance.path.absolute()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                "audio": self.loader.key}

    def _read_entries(self) -> dict[str, Any]:
        try:
            return json.loads((self.root / MANIFEST).read_text(encoding="utf-8"))["entries"]
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return {}  # no cache yet, or a damaged manifest: everything is recomputed

    def _write_entries(self, entries: dict[str, Any]) -> None:
        manifest = {
            "front_end": type(self.features).__name__,
            "fingerprint": self.features.fingerprint,
            "params": self.features.params,
            "entries": entries,
        }
        tmp = self.root / f"{MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True, default=str), encoding="utf-8")
        os.replace(tmp, self.root / MANIFEST)

    def fill(
        self,
        utterances: Sequence[Utterance],
        *,
        num_workers: int | None = None,
        policy: ErrorPolicy | None = None,
        progress: bool = True,
    ) -> CacheResult:
        """Compute the features of every utterance whose entry is missing or stale."""
        start = time.perf_counter()
        policy = policy or ErrorPolicy()
        self.root.mkdir(parents=True, exist_ok=True)
        entries = self._read_entries()
        seconds, computed, failed = 0.0, 0, []
        todo: list[tuple[Utterance, dict[str, Any]]] = []
        for utt in utterances:
            stamp = policy.attempt(self._stamp, utt)
            if stamp is None:
                failed.append(utt.id)
                continue
            entry = entries.get(utt.id)
            if entry is not None and entry["stamp"] == stamp and self.path(utt).is_file():
                seconds += entry["seconds"]
            else:
                todo.append((utt, stamp))
        wanted = (os.cpu_count() or 1) if num_workers is None else num_workers
        workers = max(1, min(wanted, len(todo)))  # 0 or 1: compute in this process
        tasks = [(utt.path, self.path(utt)) for utt, _ in todo]
        tty = sys.stderr.isatty()
        results = tqdm(
            _compute_all(self.features, self.loader, tasks, workers), total=len(tasks), unit="file",
            desc=f"features {self.features.fingerprint}", disable=not progress or not tasks,
            ascii=not tty, mininterval=0.1 if tty else 10.0,  # plain, sparse lines in logs
        )
        try:
            for result, (utt, stamp) in zip(results, todo, strict=True):
                if isinstance(result, BadFile):
                    policy.handle(result)
                    failed.append(utt.id)
                    continue
                entries[utt.id] = {"stamp": stamp, "seconds": result}
                seconds += result
                computed += 1
        finally:  # what was computed before a failure is kept
            self._write_entries(entries)
        return CacheResult(len(utterances) - len(failed), computed, seconds, time.perf_counter() - start, tuple(failed))


def preprocess(
    utterances: Sequence[Utterance],
    features: FrontEnd,
    cache_dir: str | Path,
    *,
    loader: AudioLoader | None = None,
    num_workers: int | None = None,
    on_error: OnError = "fail",
    progress: bool = True,
) -> PreprocessResult:
    """Fill the feature cache for ``utterances``: ``(n_files, seconds of audio, wall time)``.

    ``loader`` defaults to loading at the front-end's sample rate. ``wall_time`` includes
    starting the workers, so comparing ``num_workers=1`` and ``2`` on an empty cache
    measures the real speed-up. Skipped files are logged as a warning.
    """
    loader = loader or AudioLoader(sample_rate=features.sample_rate)
    policy = ErrorPolicy(on_error)
    cache = FeatureCache(cache_dir, copy.deepcopy(features).cpu().eval(), loader)
    result = cache.fill(utterances, num_workers=num_workers, policy=policy, progress=progress)
    if policy.report.count:
        logger.warning(policy.report.summary())
    return PreprocessResult(result.n_files, result.seconds, result.wall_time)
