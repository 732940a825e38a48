"""The batch contracts: what a dataset's batches hold and what an objective reads from them.

Every batch is a dict of named entries; nested dicts (two domains) are addressed with
dotted keys (``a.features``). One contract per kind of data:

===============  ==========================================================================
kind             keys (shapes after collation; B is the batch size)
===============  ==========================================================================
``SAMPLES``      ``x``: (B, ...) real samples (points in the plane, images)
``LABELS``       ``x``: (B, C, H, W) images; ``label``: (B,) class index (long) or (B, K)
                 multi-label targets (float)
``WAVEFORM``     ``wave``: (B, T) in [-1, 1]; ``speaker``: (B,) long; ``id``: list of str;
                 whole utterances add ``lengths``: (B,)
``FEATURES``     ``WAVEFORM`` plus ``features``: (B, C, N), the config's front-end output
                 (N = T / hop); whole utterances add ``feature_lengths``
``UNPAIRED``     ``a`` and ``b``: one ``WAVEFORM`` (or ``FEATURES``) batch per domain, drawn
                 independently (CycleGAN-VC): ``a.wave``, ``a.features``, ``b.wave`` ...
``PAIRED``       ``noisy`` and ``clean``: (B, T) time-aligned waveforms (speech enhancement)
===============  ==========================================================================

A dataset factory declares what it yields with :func:`yields` (a class may set the
``yields`` attribute instead): a :class:`BatchSpec`, whose ``with_features`` keys are
present only when the config has a ``features:`` section. An objective declares the
keys it reads in its ``reads`` class attribute. The config is refused at load time when
an objective reads a key that the configured datasets do not yield, with both component
names and the missing key (:func:`speechgan.contracts.check_batches`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "BatchSpec",
    "SAMPLES",
    "LABELS",
    "WAVEFORM",
    "FEATURES",
    "UNPAIRED",
    "PAIRED",
    "yields",
    "declared_batch",
    "missing_keys",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class BatchSpec:
    """The keys of a dataset's batches: ``keys`` always, ``with_features`` with a front-end."""

    keys: frozenset[str]
    with_features: frozenset[str] = frozenset()

    @classmethod
    def of(cls, keys: Iterable[str], with_features: Iterable[str] = ()) -> BatchSpec:
        return cls(frozenset(keys), frozenset(with_features))

    def resolve(self, *, has_features: bool) -> frozenset[str]:
        """The keys a batch holds for a config with (or without) a ``features:`` section."""
        return self.keys | self.with_features if has_features else self.keys

    def nested(self, *domains: str) -> BatchSpec:
        """The same keys under each domain prefix (``a.wave``, ``b.wave``...)."""
        return BatchSpec.of(
            (f"{d}.{k}" for d in domains for k in self.keys),
            (f"{d}.{k}" for d in domains for k in self.with_features),
        )


SAMPLES = BatchSpec.of({"x"})
LABELS = BatchSpec.of({"x", "label"})
WAVEFORM = BatchSpec.of({"wave", "speaker", "id"})
#: what an audio dataset yields: a waveform batch, plus features when the config has a front-end
FEATURES = BatchSpec.of(WAVEFORM.keys, {"features"})
UNPAIRED = FEATURES.nested("a", "b")
PAIRED = BatchSpec.of({"noisy", "clean"})


def yields(spec: BatchSpec) -> Callable[[F], F]:
    """Declare what a (function) dataset factory's batches hold: ``@yields(FEATURES)``."""

    def mark(factory: F) -> F:
        factory.yields = spec  # type: ignore[attr-defined]
        return factory

    return mark


def declared_batch(factory: Any) -> BatchSpec | None:
    """The :class:`BatchSpec` a dataset factory declares, or ``None`` (undeclared: unchecked)."""
    spec = getattr(factory, "yields", None)
    return spec if isinstance(spec, BatchSpec) else None


def missing_keys(reads: Iterable[str], spec: BatchSpec, *, has_features: bool) -> list[str]:
    """The keys an objective ``reads`` that batches of ``spec`` lack, sorted."""
    return sorted(set(reads) - spec.resolve(has_features=has_features))
