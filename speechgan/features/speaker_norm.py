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

The statistics travel in the module's ``state_dict`` (``get_extra_state``), so a checkpoint
carries them and a run directory copied without its corpus still converts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, DataError
from .speaker_stats import SpeakerStats, accumulate_stats, convert_log_f0
from .world import WorldFeatures

__all__ = ["SpeakerNormalizer"]


class SpeakerNormalizer(nn.Module):
    """Per-speaker mel-cepstrum and log-F0 statistics of a WORLD front-end's features.

    Empty until :meth:`fit` (from training utterances) or ``load_state_dict`` (from a
    checkpoint). ``labels`` maps each speaker name to the label its datasets give it.
    """

    def __init__(self, front_end: WorldFeatures) -> None:
        super().__init__()
        if front_end is None:
            raise ConfigError("speaker normalisation reads WORLD features: add a `features: {name: world}` section")
        if not isinstance(front_end, WorldFeatures):
            raise ConfigError(
                f"speaker normalisation reads WORLD features (features: {{name: world}}), got the front-end "
                f"{type(front_end).__name__}"
            )
        self._front_end = (front_end,)  # a tuple: not a submodule, so not in this module's state_dict
        self.stats: dict[str, SpeakerStats] = {}
        self.labels: dict[str, int] = {}
        # rows indexed by speaker label, (S, D); rebuilt from ``stats`` (non-persistent: the extra state holds them)
        self.register_buffer("mean", torch.zeros(0, front_end.order + 1), persistent=False)
        self.register_buffer("std", torch.ones(0, front_end.order + 1), persistent=False)

    @property
    def front_end(self) -> WorldFeatures:
        return self._front_end[0]

    @property
    def n_coefficients(self) -> int:
        """D: the mel-cepstral coefficients c0..c_order the models see."""
        return self.front_end.order + 1

    # -- statistics -----------------------------------------------------------------------

    def fit(self, utterances: Mapping[str, Iterable[torch.Tensor]], labels: Mapping[str, int]) -> None:
        """Statistics of each speaker from their WORLD features ``(C, N)``, one tensor per utterance."""
        missing = sorted(set(utterances) - set(labels))
        if missing:
            raise DataError(f"speaker normalisation: no label for speaker(s) {', '.join(missing)}")
        stats = {s: accumulate_stats(feats, self.front_end, speaker=s) for s, feats in sorted(utterances.items())}
        self.set_stats(stats, {s: int(labels[s]) for s in stats})

    def set_stats(self, stats: Mapping[str, SpeakerStats], labels: Mapping[str, int]) -> None:
        """Use ``stats`` (speaker -> statistics) for the speakers of ``labels`` (speaker -> label)."""
        if set(stats) != set(labels):
            raise DataError(f"speaker normalisation: statistics for {sorted(stats)} but labels for {sorted(labels)}")
        d = self.n_coefficients
        for name, s in stats.items():
            if s.mcep_mean.size != d:
                raise DataError(f"speaker statistics for {name!r} have {s.mcep_mean.size} mel-cepstral coefficients; "
                                f"the front-end makes {d} (order {self.front_end.order})")
        rows = max(labels.values(), default=-1) + 1
        mean = torch.zeros(rows, d, dtype=torch.float64)
        std = torch.ones(rows, d, dtype=torch.float64)
        for name, label in labels.items():
            mean[label] = torch.from_numpy(stats[name].mcep_mean.copy())
            std[label] = torch.from_numpy(stats[name].mcep_std.copy())
        self.stats, self.labels = dict(stats), dict(labels)
        self.mean = mean.to(self.mean.device, torch.float32)
        self.std = std.to(self.std.device, torch.float32)

    def get_extra_state(self) -> dict[str, Any]:
        return {"labels": dict(self.labels), "stats": {name: s.to_dict() for name, s in self.stats.items()}}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        stats = {name: SpeakerStats.from_dict(d) for name, d in state.get("stats", {}).items()}
        self.set_stats(stats, state.get("labels", {}))

    def stats_of(self, speaker: str) -> SpeakerStats:
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
        """WORLD features (B, C, N) of speakers ``labels`` (B,) -> their normalised mel-cepstra (B, D, N)."""
        return self.normalize(self.front_end.split(features).mcep, labels)

    def to_features(self, converted: torch.Tensor, source_features: torch.Tensor, *, source: str,
                    target: str) -> torch.Tensor:
        """WORLD features (B, C, N) of a conversion from ``source`` to ``target``.

        ``converted`` (B, D, N) is a normalised mel-cepstrum in the target's scale (a
        generator's output): it is denormalised with the target's statistics. Log F0 of
        ``source_features`` goes through the log-Gaussian transform; the voiced flag and the
        coded aperiodicity are copied.
        """
        parts = self.front_end.split(source_features)
        src, tgt = self.stats_of(source), self.stats_of(target)
        labels = torch.full(converted.shape[:1], self.labels[target], device=converted.device)
        mcep = self.denormalize(converted, labels).to(source_features.dtype)
        log_f0 = convert_log_f0(parts.log_f0, parts.voiced, src, tgt)
        return torch.cat([log_f0, parts.voiced, mcep, parts.coded_ap], dim=-2)
