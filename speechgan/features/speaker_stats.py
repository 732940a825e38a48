"""Per-speaker WORLD feature statistics, the log-Gaussian normalised F0 transform and the
statistics baseline of voice conversion.

The CycleGAN-VC line of work (Kaneko & Kameoka 2018, "CycleGAN-VC: Non-parallel voice
conversion using cycle-consistent adversarial networks", EUSIPCO; Kaneko et al. 2019,
"CycleGAN-VC2", ICASSP) trains on mel-cepstra normalised per speaker and per coefficient,
and converts F0 by the logarithm Gaussian normalised transformation (Liu, Zhang & Yan 2007,
"High quality voice conversion through phoneme-based linear mapping functions with
STRAIGHT for Mandarin", FSKD):

    log F0_converted = (log F0_source - mu_s) / sigma_s * sigma_t + mu_t

with mu, sigma the mean and standard deviation of a speaker's log F0 over voiced frames.

What is normalised over which frames follows the public reference implementations,
``leimao/Voice-Converter-CycleGAN`` ``preprocess.py`` and ``jackaduma/CycleGAN-VC2``
``preprocess.py``: ``coded_sps_normalization_fit_transoform`` (``..._fit_transform`` in the
latter) concatenates a speaker's training utterances along time and takes ``np.mean`` /
``np.std`` per coefficient over *all* frames (silence and unvoiced frames included), and
``logf0_statistics`` takes ``np.ma.log`` of the concatenated F0, which masks the zeros, so the
log-F0 mean and standard deviation run over *voiced* frames only. Both use the population
standard deviation (``ddof=0``) and no floor. We do the same, with a floor on every standard
deviation (:data:`STD_FLOOR`) so that a constant coefficient, or a speaker with a single
voiced frame, cannot divide by zero.

Statistics are float64 numpy arrays (what :class:`SpeakerStats` stores and writes to JSON);
the transforms take and return torch tensors in the layout of
:class:`~speechgan.features.world.WorldFeatures`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from .world import WorldFeatures

__all__ = [
    "STD_FLOOR",
    "SpeakerStats",
    "ChannelStats",
    "accumulate_stats",
    "accumulate_channel_stats",
    "normalize_mcep",
    "denormalize_mcep",
    "convert_log_f0",
    "statistics_baseline",
]

#: Smallest standard deviation a statistic may have. Real mel-cepstral coefficients and log
#: F0 vary by 1e-3 or more over a speaker's frames, so the floor only ever replaces an exact
#: (or round-off) zero: a coefficient that never changes normalises to 0 instead of nan.
STD_FLOOR = 1e-8

_KEYS = ("speaker", "frames", "voiced_frames", "mcep_mean", "mcep_std", "log_f0_mean", "log_f0_std")


@dataclass(frozen=True, eq=False)
class SpeakerStats:
    """One speaker's feature statistics over their training utterances.

    ``mcep_mean`` and ``mcep_std`` are float64 arrays (D,) with D = order + 1 (c0..c_order),
    over all ``frames``; ``log_f0_mean`` and ``log_f0_std`` are of the natural log of F0 in
    Hz over the ``voiced_frames``. Standard deviations are the population ones (ddof = 0),
    floored at :data:`STD_FLOOR`. The arrays are read-only copies. There is no ``==``
    (an array has no single truth value): compare ``to_dict()`` results.
    """

    speaker: str
    frames: int
    voiced_frames: int
    mcep_mean: np.ndarray  # (D,)
    mcep_std: np.ndarray  # (D,)
    log_f0_mean: float
    log_f0_std: float

    def __post_init__(self) -> None:
        where = f"speaker statistics for {self.speaker!r}"
        for key in ("mcep_mean", "mcep_std"):
            value = np.array(getattr(self, key), dtype=np.float64)  # a copy, made read-only below
            if value.ndim != 1 or value.size == 0 or not np.isfinite(value).all():
                raise DataError(f"{where}: {key!r} must be a non-empty list of finite numbers, got shape {value.shape}")
            value.flags.writeable = False
            object.__setattr__(self, key, value)
        object.__setattr__(self, "log_f0_mean", float(self.log_f0_mean))
        object.__setattr__(self, "log_f0_std", float(self.log_f0_std))
        if self.mcep_std.shape != self.mcep_mean.shape:
            raise DataError(
                f"{where}: 'mcep_std' has {self.mcep_std.size} values but 'mcep_mean' has {self.mcep_mean.size}"
            )
        if not (self.mcep_std > 0).all():
            raise DataError(f"{where}: 'mcep_std' must be positive, got minimum {self.mcep_std.min()}")
        if not math.isfinite(self.log_f0_mean):
            raise DataError(f"{where}: 'log_f0_mean' must be finite, got {self.log_f0_mean}")
        if not (math.isfinite(self.log_f0_std) and self.log_f0_std > 0):
            raise DataError(f"{where}: 'log_f0_std' must be positive and finite, got {self.log_f0_std}")
        if not 0 < self.voiced_frames <= self.frames:
            raise DataError(
                f"{where}: need 0 < 'voiced_frames' <= 'frames', got {self.voiced_frames} and {self.frames}"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``json.dumps`` writes each float64 so that it reads back exactly."""
        return {
            "speaker": self.speaker,
            "frames": self.frames,
            "voiced_frames": self.voiced_frames,
            "mcep_mean": self.mcep_mean.tolist(),
            "mcep_std": self.mcep_std.tolist(),
            "log_f0_mean": self.log_f0_mean,
            "log_f0_std": self.log_f0_std,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SpeakerStats:
        """The statistics :meth:`to_dict` wrote; :class:`DataError` names a missing or bad key."""
        if not isinstance(data, Mapping):
            raise DataError(f"speaker statistics: expected a mapping with keys {list(_KEYS)}, got {type(data).__name__}")
        missing = [key for key in _KEYS if key not in data]
        if missing:
            raise DataError(f"speaker statistics: missing key {missing[0]!r} (expected keys {list(_KEYS)})")
        speaker = data["speaker"]
        if not isinstance(speaker, str) or not speaker:
            raise DataError(f"speaker statistics: 'speaker' must be a non-empty string, got {speaker!r}")
        where = f"speaker statistics for {speaker!r}"
        for key in ("frames", "voiced_frames"):
            if not _is_int(data[key]):
                raise DataError(f"{where}: {key!r} must be an integer, got {data[key]!r}")
        for key in ("log_f0_mean", "log_f0_std"):
            if not _is_number(data[key]):
                raise DataError(f"{where}: {key!r} must be a number, got {data[key]!r}")
        for key in ("mcep_mean", "mcep_std"):
            value = data[key]
            if not isinstance(value, (list, tuple)) or not all(_is_number(v) for v in value):
                raise DataError(f"{where}: {key!r} must be a list of numbers, got {_short(value)}")
        return cls(**{key: data[key] for key in _KEYS})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Moments:
    """Count, mean and sum of squared deviations of a stream of (D, n) chunks, merged chunk by
    chunk in float64 (Chan, Golub & LeVeque 1979, "Updating formulae and a pairwise algorithm
    for computing sample variances"): one pass, and no cancellation of sum x^2 - n mean^2
    when the mean is large against the spread (c0, log F0)."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: torch.Tensor | float = 0.0  # (D,) after the first chunk
        self.m2: torch.Tensor | float = 0.0  # (D,) sum over frames of (x - mean)^2

    def update(self, chunk: torch.Tensor) -> None:
        """Add the frames of ``chunk`` (D, n), float64."""
        n = chunk.shape[-1]
        if n == 0:
            return
        mean = chunk.mean(dim=-1)  # (D,)
        m2 = (chunk - mean[:, None]).square().sum(dim=-1)  # (D,)
        total = self.count + n
        delta = mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + m2 + delta.square() * (self.count * n / total)
        self.count = total

    def mean_std(self, std_floor: float) -> tuple[np.ndarray, np.ndarray]:
        """Mean and population standard deviation (ddof = 0), floored, as float64 arrays (D,)."""
        mean = torch.as_tensor(self.mean, dtype=torch.float64)
        std = (torch.as_tensor(self.m2, dtype=torch.float64) / self.count).sqrt().clamp_min(std_floor)
        return mean.numpy(), std.numpy()


def accumulate_stats(
    features: Iterable[torch.Tensor],
    front_end: WorldFeatures,
    *,
    speaker: str,
    std_floor: float = STD_FLOOR,
) -> SpeakerStats:
    """Statistics of one speaker's WORLD features, in one pass over ``features``.

    ``features``: any iterable (a generator over a data set is fine) of tensors (C, N) made by
    ``front_end``, one per utterance (or any split of them into chunks along time: the result
    does not depend on the split). The mel-cepstrum statistics run over every frame, the
    log-F0 statistics over the frames whose voiced flag is above 0.5, as in the CycleGAN-VC
    reference implementations (see the module docstring). Sums are float64 whatever the
    features' dtype; standard deviations are floored at ``std_floor``.

    Raises :class:`DataError` for a tensor that is not (C, N) with the front-end's channels,
    non-finite values, no frame at all, or no voiced frame.
    """
    mcep_moments, log_f0_moments = _Moments(), _Moments()
    utterances = 0
    for i, utterance in enumerate(features):
        utterances += 1
        where = f"speaker {speaker!r}, utterance {i}"
        if not isinstance(utterance, torch.Tensor) or utterance.ndim != 2:
            shape = tuple(utterance.shape) if isinstance(utterance, torch.Tensor) else type(utterance).__name__
            raise DataError(f"{where}: expected WORLD features (C, N) of one utterance, got {shape}")
        try:
            parts = front_end.split(utterance.detach().to("cpu", torch.float64))
        except DataError as error:
            raise DataError(f"{where}: {error}") from error
        voiced = parts.voiced[0] > 0.5  # (N,)
        log_f0 = parts.log_f0[:, voiced]  # (1, N_voiced)
        if not (torch.isfinite(parts.mcep).all() and torch.isfinite(log_f0).all()):
            raise DataError(f"{where}: non-finite mel-cepstrum or voiced log-F0 values")
        mcep_moments.update(parts.mcep)  # (D, N)
        log_f0_moments.update(log_f0)
    if mcep_moments.count == 0:
        raise DataError(f"speaker {speaker!r}: no frames to compute statistics from ({utterances} utterances)")
    if log_f0_moments.count == 0:
        raise DataError(
            f"speaker {speaker!r}: no voiced frame in {mcep_moments.count} frames, so no log-F0 statistics; "
            "check the audio and the front-end's f0_floor / f0_ceil"
        )
    mcep_mean, mcep_std = mcep_moments.mean_std(std_floor)
    log_f0_mean, log_f0_std = log_f0_moments.mean_std(std_floor)
    return SpeakerStats(
        speaker=speaker,
        frames=mcep_moments.count,
        voiced_frames=log_f0_moments.count,
        mcep_mean=mcep_mean,
        mcep_std=mcep_std,
        log_f0_mean=float(log_f0_mean[0]),
        log_f0_std=float(log_f0_std[0]),
    )


@dataclass(frozen=True, eq=False)
class ChannelStats:
    """One speaker's mean and standard deviation of each channel of a front-end's features.

    What per-speaker normalisation reads for front-ends other than WORLD (MaskCycleGAN-VC's
    log-mel spectrograms: each speaker's mel bins normalised over all their training frames,
    as the public MaskCycleGAN-VC preprocessing does). ``mean`` and ``std`` are float64
    arrays (C,), the std the population one, floored at :data:`STD_FLOOR`.
    """

    speaker: str
    frames: int
    mean: np.ndarray  # (C,)
    std: np.ndarray  # (C,)

    def __post_init__(self) -> None:
        where = f"channel statistics for {self.speaker!r}"
        for key in ("mean", "std"):
            value = np.array(getattr(self, key), dtype=np.float64)
            if value.ndim != 1 or value.size == 0 or not np.isfinite(value).all():
                raise DataError(f"{where}: {key!r} must be a non-empty list of finite numbers, got shape {value.shape}")
            value.flags.writeable = False
            object.__setattr__(self, key, value)
        if self.std.shape != self.mean.shape or not (self.std > 0).all():
            raise DataError(f"{where}: 'std' must hold one positive number per channel of 'mean'")
        if not _is_int(self.frames) or self.frames <= 0:
            raise DataError(f"{where}: 'frames' must be a positive integer, got {self.frames!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "frames": self.frames, "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelStats:
        keys = ("speaker", "frames", "mean", "std")
        if not isinstance(data, Mapping) or any(key not in data for key in keys):
            raise DataError(f"channel statistics: expected a mapping with keys {list(keys)}, got {_short(data)}")
        for key in ("mean", "std"):
            if not isinstance(data[key], (list, tuple)) or not all(_is_number(v) for v in data[key]):
                raise DataError(f"channel statistics for {data['speaker']!r}: {key!r} must be a list of numbers")
        return cls(**{key: data[key] for key in keys})


def accumulate_channel_stats(
    features: Iterable[torch.Tensor], *, speaker: str, std_floor: float = STD_FLOOR
) -> ChannelStats:
    """Per-channel mean and std of one speaker's features (C, N), one tensor per utterance, in one pass."""
    moments = _Moments()
    for i, utterance in enumerate(features):
        if not isinstance(utterance, torch.Tensor) or utterance.ndim != 2 or not torch.isfinite(utterance).all():
            shape = tuple(utterance.shape) if isinstance(utterance, torch.Tensor) else type(utterance).__name__
            raise DataError(f"speaker {speaker!r}, utterance {i}: expected finite features (C, N), got {shape}")
        moments.update(utterance.detach().to("cpu", torch.float64))
    if moments.count == 0:
        raise DataError(f"speaker {speaker!r}: no frames to compute statistics from")
    mean, std = moments.mean_std(std_floor)
    return ChannelStats(speaker=speaker, frames=moments.count, mean=mean, std=std)


def _mcep_moments(mcep: torch.Tensor, stats: SpeakerStats) -> tuple[torch.Tensor, torch.Tensor]:
    """``stats``' mean and std as (D, 1) tensors on ``mcep``'s device and dtype."""
    if mcep.ndim not in (2, 3) or mcep.shape[-2] != stats.mcep_mean.size:
        raise DataError(
            f"speaker statistics for {stats.speaker!r}: expected a mel-cepstrum (D, N) or (B, D, N) "
            f"with D = {stats.mcep_mean.size}, got shape {tuple(mcep.shape)}"
        )
    # torch.tensor copies: as_tensor would share (and warn about) the read-only arrays
    mean = torch.tensor(stats.mcep_mean, dtype=mcep.dtype, device=mcep.device)[:, None]  # (D, 1)
    std = torch.tensor(stats.mcep_std, dtype=mcep.dtype, device=mcep.device)[:, None]  # (D, 1)
    return mean, std


def normalize_mcep(mcep: torch.Tensor, stats: SpeakerStats) -> torch.Tensor:
    """``(mcep - mean) / std`` per coefficient; ``mcep`` (D, N) or (B, D, N), same shape out."""
    mean, std = _mcep_moments(mcep, stats)
    return (mcep - mean) / std


def denormalize_mcep(mcep: torch.Tensor, stats: SpeakerStats) -> torch.Tensor:
    """``mcep * std + mean`` per coefficient, the inverse of :func:`normalize_mcep`."""
    mean, std = _mcep_moments(mcep, stats)
    return mcep * std + mean


def convert_log_f0(
    log_f0: torch.Tensor, voiced: torch.Tensor, source: SpeakerStats, target: SpeakerStats
) -> torch.Tensor:
    """The log-Gaussian normalised F0 transform (Liu et al. 2007), in the log domain.

    ``F0_t = exp((log F0_s - mu_s) / sigma_s * sigma_t + mu_t)`` is returned as its natural
    log, ``(log_f0 - mu_s) / sigma_s * sigma_t + mu_t``, on frames whose ``voiced`` flag is
    above 0.5, and 0 elsewhere: the convention of the WORLD front-end's log-F0 channel, so the
    result goes straight back into a feature tensor. ``log_f0`` and ``voiced`` have the same
    shape, e.g. (1, N) or (B, 1, N); so does the result. A ``source`` whose ``log_f0_std`` is
    the floor (a single voiced training frame) stretches every other F0 without bound: such
    statistics are too few to convert with.
    """
    if log_f0.shape != voiced.shape:
        raise DataError(f"convert_log_f0: log_f0 {tuple(log_f0.shape)} and voiced {tuple(voiced.shape)} differ in shape")
    scale = target.log_f0_std / source.log_f0_std
    converted = (log_f0 - source.log_f0_mean) * scale + target.log_f0_mean
    return torch.where(voiced > 0.5, converted, torch.zeros_like(log_f0))


def statistics_baseline(
    world_features: torch.Tensor, source: SpeakerStats, target: SpeakerStats, front_end: WorldFeatures
) -> torch.Tensor:
    """Voice conversion with no learning: the statistics baseline.

    ``world_features`` (C, N) or (B, C, N) from ``front_end``: the mel-cepstrum is normalised
    with ``source``'s statistics and denormalised with ``target``'s (per-coefficient mean and
    variance matching), log F0 goes through :func:`convert_log_f0`, the voiced flag and the
    coded aperiodicity are copied. The result has the input's layout, shape and dtype, so
    ``front_end.inverse`` synthesises it.
    """
    parts = front_end.split(world_features)
    mcep = denormalize_mcep(normalize_mcep(parts.mcep, source), target)
    log_f0 = convert_log_f0(parts.log_f0, parts.voiced, source, target)
    return torch.cat([log_f0, parts.voiced, mcep, parts.coded_ap], dim=-2)
