"""Turning converted features into a waveform: WORLD, or a speechgan vocoder run.

Shared by ``speechgan convert`` (:mod:`.convert`) and the ``voice_conversion`` metric
(:mod:`.evaluation`), so that both synthesise, and refuse a mismatched vocoder, alike.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from speechgan.errors import DataError
from speechgan.features import WorldFeatures
from speechgan.inference import load_run
from speechgan.nn import remove_parametrizations

__all__ = ["synthesiser", "peak_limited"]


def peak_limited(wave: np.ndarray) -> np.ndarray:
    """``wave`` scaled down to a peak of 0.99 if it exceeds 1 (WORLD synthesis can overshoot)."""
    peak = float(np.abs(wave).max(initial=0.0))
    return wave * (0.99 / peak) if peak > 1.0 else wave


def _described(features: Any, name: str | None) -> str:
    return f"{name} {dict(getattr(features, 'params', {}))}"


def synthesiser(front_end: Any, *, run_dir: Path, features_name: str | None, vocoder: Path | None,
                registry: Any = None, device: str = "cpu") -> Callable[[torch.Tensor, int], torch.Tensor]:
    """``synthesise(features (C, N), length) -> (length,)`` float64 for a conversion run's features.

    WORLD features are synthesised by WORLD (``vocoder`` must be None). Others (mel
    spectrograms) need ``vocoder``, a vocoder run whose front-end fingerprint equals
    ``front_end``'s: a mismatch is refused before any work, naming both settings.
    """
    if isinstance(front_end, WorldFeatures):
        if vocoder is not None:
            raise DataError(f"--vocoder: {run_dir} converts WORLD features, which WORLD synthesises; "
                            "leave --vocoder out")
        return lambda feats, length: front_end.inverse(feats.double().cpu(), length)
    if vocoder is None:
        raise DataError(f"{run_dir} converts {features_name or 'no'!r} features, which need a vocoder: give --vocoder "
                        "VOCODER_RUN (a speechgan vocoder run trained on the same front-end)")
    run = load_run(vocoder, registry=registry, device=device)
    mine, theirs = getattr(front_end, "fingerprint", None), getattr(run.features, "fingerprint", None)
    if mine is None or mine != theirs:
        vocoder_name = run.config.features.name if run.config.features is not None else None
        raise DataError(
            f"--vocoder {vocoder}: its front-end differs from the conversion run's, so it would turn the converted "
            f"features into noise. {run_dir}: {_described(front_end, features_name)}; "
            f"{vocoder}: {_described(run.features, vocoder_name)}"
        )
    if "generator" not in run.generators:
        raise DataError(f"--vocoder {vocoder}: not a vocoder run (it has no 'generator')")
    generator = run.generators["generator"]
    remove_parametrizations(generator)

    def synthesise(feats: torch.Tensor, length: int) -> torch.Tensor:
        with torch.no_grad():
            audio = generator(feats[None].to(run.device, torch.float32)).reshape(-1).cpu().double()  # (N * hop,)
        return torch.nn.functional.pad(audio[:length], (0, max(0, length - audio.numel())))

    return synthesise
