"""Per-speaker feature normalisation for voice conversion, kept with the trained model.

CycleGAN-VC and CycleGAN-VC2 (Kaneko & Kameoka 2018; Kaneko et al. 2019) train on WORLD
mel-cepstra normalised per speaker and per coefficient, and convert F0 with the
log-Gaussian normalised transform; both need each speaker's statistics
(:class:`~speechgan.features.speaker_stats.SpeakerStats`) over their training utterances.

:class:`SpeakerNormalizer` holds them for the speakers of a run, keyed by the speaker
labels of its datasets (``speaker`` in a batch), and is what a voice-conversion objective
puts between the front-end and the models:

* :meth:`~SpeakerNormalizer.model_input`: WORLD features ``(B, C, N)`` and labels ``(B,)``
  -> the normalised mel-cepstrum ``(B, D, N)`` the generators and discriminators see;
* :meth:`~SpeakerNormalizer.to_features`: a converted normalised mel-cepstrum -> WORLD
  features in the target speaker's scale, F0 converted, voicing and aperiodicity copied
  from the source, ready for ``front_end.inverse``.

Other front-ends (MaskCycleGAN-VC's log-mel spectrograms) are normalised whole, channel by
channel, with each speaker's :class:`~speechgan.features.speaker_stats.ChannelStats`; there
is no F0 to convert, and :meth:`~SpeakerNormalizer.to_features` only denormalises.

The statistics travel in the module's ``state_dict`` (``get_extra_state``), so a checkpoint
carries them and a run directory copied without its corpus still converts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, DataError
from .base import FrontEnd
from .speaker_stats import (
    ChannelStats,
    SpeakerStats,
    accumulate_channel_stats,
    accumulate_stats,
    convert_log_f0,
    statistics_baseline,
)
from .world import WorldFeatures

Stats = SpeakerStats | ChannelStats

__all__ = ["SpeakerNormalizer"]


class SpeakerNormalizer(nn.Module):
    """Per-speaker statistics of a front-end's features: WORLD mel-cepstrum and log F0, or every channel.

    Empty until :meth:`fit` (from training utterances) or ``load_state_dict`` (from a
    checkpoint). ``labels`` maps each speaker name to the label its datasets give it.
    """

    def __init__(self, front_end: FrontEnd) -> None:
        super().__init__()
        if not isinstance(front_end, FrontEnd):
            raise ConfigError("speaker normalisation reads a front-end's features: add a `features:` section "
                              "(world for mel-cepstra, log_mel for mel-spectrograms)")
        self._front_end = (front_end,)  # a tuple: not a submodule, so not in this module's state_dict
        self.world = isinstance(front_end, WorldFeatures)
        self.stats: dict[str, Stats] = {}
        self.labels: dict[str, int] = {}
        # rows indexed by speaker label, (S, D); rebuilt from ``stats`` (non-persistent: the extra state holds them)
        self.register_buffer("mean", torch.zeros(0, 0), persistent=False)
        self.register_buffer("std", torch.ones(0, 0), persistent=False)

    @property
    def front_end(self) -> FrontEnd:
        return self._front_end[0]

    @property
    def n_coefficients(self) -> int | None:
        """D: the channels the models see (c0..c_order of WORLD); None until fitted for other front-ends."""
        if self.world:
            return self.front_end.order + 1  # type: ignore[attr-defined]
        return self.mean.shape[1] if self.stats else None

    @staticmethod
    def _moments(stats: Stats) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(stats, SpeakerStats):
            return stats.mcep_mean, stats.mcep_std
        return stats.mean, stats.std

    # -- statistics -----------------------------------------------------------------------

    def fit(self, utterances: Mapping[str, Iterable[torch.Tensor]], labels: Mapping[str, int]) -> None:
        """Statistics of each speaker from their features ``(C, N)``, one tensor per utterance."""
        missing = sorted(set(utterances) - set(labels))
        if missing:
            raise DataError(f"speaker normalisation: no label for speaker(s) {', '.join(missing)}")
        if self.world:
            stats: dict[str, Stats] = {
                s: accumulate_stats(feats, self.front_end, speaker=s) for s, feats in sorted(utterances.items())  # type: ignore[arg-type]
            }
        else:
            stats = {s: accumulate_channel_stats(feats, speaker=s) for s, feats in sorted(utterances.items())}
        self.set_stats(stats, {s: int(labels[s]) for s in stats})

    def set_stats(self, stats: Mapping[str, Stats], labels: Mapping[str, int]) -> None:
        """Use ``stats`` (speaker -> statistics) for the speakers of ``labels`` (speaker -> label)."""
        if set(stats) != set(labels):
            raise DataError(f"speaker normalisation: statistics for {sorted(stats)} but labels for {sorted(labels)}")
        kind = SpeakerStats if self.world else ChannelStats
        for name, st in stats.items():
            if not isinstance(st, kind):
                raise DataError(f"statistics for {name!r} are {type(st).__name__}; the front-end "
                                f"{type(self.front_end).__name__} needs {kind.__name__}")
        sizes = {name: self._moments(st)[0].size for name, st in stats.items()}
        d = self.front_end.order + 1 if self.world else next(iter(sizes.values()), 0)  # type: ignore[attr-defined]
        for name, size in sizes.items():
            if size != d and self.world:
                raise DataError(f"speaker statistics for {name!r} have {size} mel-cepstral coefficients; the "
                                f"front-end makes {d} (order {self.front_end.order})")  # type: ignore[attr-defined]
            if size != d:
                raise DataError(f"channel statistics for {name!r} have {size} channels, those of "
                                f"{next(iter(sizes))!r} {d}: every speaker needs the front-end's channels")
        rows = max(labels.values(), default=-1) + 1
        mean = torch.zeros(rows, d, dtype=torch.float64)
        std = torch.ones(rows, d, dtype=torch.float64)
        for name, label in labels.items():
            m, sd = self._moments(stats[name])
            mean[label] = torch.from_numpy(m.copy())
            std[label] = torch.from_numpy(sd.copy())
        self.stats, self.labels = dict(stats), dict(labels)
        self.mean = mean.to(self.mean.device, torch.float32)
        self.std = std.to(self.std.device, torch.float32)

    def get_extra_state(self) -> dict[str, Any]:
        return {"labels": dict(self.labels), "stats": {name: s.to_dict() for name, s in self.stats.items()}}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        kind = SpeakerStats if self.world else ChannelStats
        stats: dict[str, Stats] = {name: kind.from_dict(d) for name, d in state.get("stats", {}).items()}
        self.set_stats(stats, state.get("labels", {}))

    def stats_of(self, speaker: str) -> Stats:
        """The statistics of ``speaker``; :class:`DataError` lists the known speakers."""
        if speaker not in self.stats:
            known = ", ".join(sorted(self.stats)) or "none: the statistics were never computed"
            raise DataError(f"unknown speaker {speaker!r}; this run has statistics for: {known}")
        return self.stats[speaker]

    def label_of(self, speaker: str) -> int:
        self.stats_of(speaker)
        return self.labels[speaker]

    def _rows(self, labels: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std (B, D, 1) of each item's speaker, in ``x``'s dtype."""
        if not self.stats:
            raise DataError("speaker normalisation has no statistics: fit it on the training data first")
        labels = labels.to(self.mean.device).long()
        return self.mean[labels][..., None].to(x.dtype), self.std[labels][..., None].to(x.dtype)

    # -- transforms -----------------------------------------------------------------------

    def normalize(self, mcep: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``(mcep - mean) / std`` of each item's speaker: (B, D, N), labels (B,)."""
        mean, std = self._rows(labels, mcep)
        return (mcep - mean) / std

    def denormalize(self, mcep: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """``mcep * std + mean`` of each item's speaker, the inverse of :meth:`normalize`."""
        mean, std = self._rows(labels, mcep)
        return mcep * std + mean

    def model_input(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Features (B, C, N) of speakers ``labels`` (B,) -> what the models see, normalised: the
        mel-cepstra (B, D, N) of WORLD features, every channel (B, C, N) of others."""
        if self.world:
            return self.normalize(self.front_end.split(features).mcep, labels)  # type: ignore[attr-defined]
        return self.normalize(features, labels)

    def to_features(self, converted: torch.Tensor, source_features: torch.Tensor, *, source: str,
                    target: str) -> torch.Tensor:
        """The front-end's features (B, C, N) of a conversion from ``source`` to ``target``.

        ``converted`` (B, D, N) is normalised features in the target's scale (a generator's
        output): it is denormalised with the target's statistics. For WORLD, log F0 of
        ``source_features`` goes through the log-Gaussian transform and the voiced flag and
        coded aperiodicity are copied around the denormalised mel-cepstrum; for other
        front-ends the denormalised features are the result.
        """
        src, tgt = self.stats_of(source), self.stats_of(target)
        labels = torch.full(converted.shape[:1], self.labels[target], device=converted.device)
        restored = self.denormalize(converted, labels).to(source_features.dtype)
        if not self.world:  # a mel-spectrogram: the target's scale is all there is
            return restored
        parts = self.front_end.split(source_features)  # type: ignore[attr-defined]
        log_f0 = convert_log_f0(parts.log_f0, parts.voiced, src, tgt)  # type: ignore[arg-type]
        return torch.cat([log_f0, parts.voiced, restored, parts.coded_ap], dim=-2)

    def statistics_baseline(self, features: torch.Tensor, *, source: str, target: str) -> torch.Tensor:
        """Conversion with no model: ``features`` (B, C, N) of ``source`` in ``target``'s scale.

        WORLD features go through :func:`~speechgan.features.speaker_stats.statistics_baseline`
        (mel-cepstrum mean/variance matching in float64, log-Gaussian F0, voicing and
        aperiodicity copied); other front-ends' channels are matched the same way.
        """
        src, tgt = self.stats_of(source), self.stats_of(target)
        if self.world:
            return statistics_baseline(features, src, tgt, self.front_end)  # type: ignore[arg-type]
        labels = torch.full(features.shape[:1], self.labels[source], device=features.device)
        return self.to_features(self.normalize(features, labels), features, source=source, target=target)

