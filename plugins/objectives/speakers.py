"""What the voice-conversion objectives share: speakers, their statistics, and conversion.

:class:`SpeakerConversion` is mixed into :class:`~.cyclegan.CycleGAN` and
:class:`~.stargan.StarGAN`. It keeps the speakers of each side of the training data
(``sides``) and, under ``speaker_norm``, a :class:`~speechgan.features.SpeakerNormalizer`
with every speaker's statistics, both learned once by :meth:`SpeakerConversion.prepare`
before training, written to ``RUN_DIR/speaker_stats.json`` and carried in the objective's
``state_dict``; :meth:`SpeakerConversion.converted` runs a generator on one utterance of any
length.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan.features import SpeakerNormalizer

__all__ = ["SpeakerConversion"]


class SpeakerConversion:
    """Mixin for an :class:`~speechgan.objective.Objective` that converts between speakers."""

    normalizer: SpeakerNormalizer | None
    sides: dict[str, list[str]]

    def init_speakers(self, *, speaker_norm: bool, features: nn.Module | None) -> None:
        self.normalizer = None
        if speaker_norm:
            try:
                self.normalizer = SpeakerNormalizer(features)  # type: ignore[arg-type]
            except ConfigError as error:
                raise ConfigError(f"objective.args.speaker_norm: {error}") from None
        self.sides = {"a": [], "b": []}  # speaker names per side, set by prepare

    def get_extra_state(self) -> dict[str, Any]:
        return {"sides": self.sides}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.sides = {side: list(state.get("sides", {}).get(side, [])) for side in ("a", "b")}

    def model_input(self, side: dict[str, Any]) -> torch.Tensor:
        """What the models see of one side's batch: its features (B, C, N), normalised per speaker
        (the mel-cepstra of WORLD features) under ``speaker_norm``."""
        if self.normalizer is None:
            return side["features"]
        return self.normalizer.model_input(side["features"], side["speaker"])

    def prepare(self, *, dataset: Any, run_dir: Path) -> None:
        """The speakers of each side; under ``speaker_norm``, their statistics (``RUN_DIR/speaker_stats.json``)."""
        sides = {side: getattr(dataset, side, None) for side in ("a", "b")}
        if any(d is None or not hasattr(d, "utterances") for d in sides.values()):
            return  # not a speech dataset (images): nothing to learn
        self.sides = {side: sorted({u.speaker for u in d.utterances}) for side, d in sides.items()}
        if self.normalizer is None:
            return
        per_speaker: dict[str, list[torch.Tensor]] = {}
        for d in sides.values():
            for i, utt in enumerate(d.utterances):
                per_speaker.setdefault(utt.speaker, []).append(d.utterance_features(i))
        labels = {s: dataset.a.speaker_to_index[s] for s in per_speaker}
        self.normalizer.fit(per_speaker, labels)
        if run_dir is not None:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            stats = {name: s.to_dict() for name, s in self.normalizer.stats.items()}
            (Path(run_dir) / "speaker_stats.json").write_text(json.dumps({"sides": self.sides, "speakers": stats},
                                                                         indent=1) + "\n")

    def conversion_speakers(self) -> dict[str, list[str]]:
        return {side: list(names) for side, names in self.sides.items()}

    def converted(self, features: torch.Tensor, *, source: str, target: str, multiple: int,
                  generator: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        """Features (C, N) of ``source``'s speech in ``target``'s voice by ``generator`` (model input
        (1, D, N') -> output): any N, padded to ``multiple`` frames by repeating the last frame and
        trimmed back."""
        n = features.shape[-1]
        x = features[None]  # (1, C, N)
        if self.normalizer is not None:
            x = self.normalizer.model_input(x, torch.tensor([self.normalizer.label_of(source)]))  # (1, D, N)
        padded = F.pad(x, (0, -n % multiple), mode="replicate") if n % multiple else x
        y = generator(padded)[..., :n]  # (1, D or C, N)
        if self.normalizer is None:
            return y[0]
        return self.normalizer.to_features(y, features[None].to(y.dtype), source=source, target=target)[0]
