"""Speaker similarity: cosine similarity of speaker embeddings (the GE2E encoder).

The embeddings come from the GE2E speaker encoder (Wan, Wang, Papir & Lopez Moreno 2018,
"Generalized end-to-end loss for speaker verification", ICASSP) of the ``resemblyzer``
package, whose wheel ships the pretrained weights (a 3-layer LSTM on 40-channel log-mel
frames, 256-dimensional L2-normalised output): it runs on the CPU with no download.
``resemblyzer.preprocess_wav`` resamples to 16 kHz, normalises the volume and trims long
silences (webrtcvad) before the utterance embedding (the mean of its 1.6 s partial
embeddings, renormalised).

A voice-conversion evaluation compares a converted utterance's embedding with the centroid
(the renormalised mean) of the target speaker's and of the source speaker's recordings:
the converted speech should be closer to the target (:func:`speaker_similarity`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import DataError, InstallError
from ._signal import Waveform, as_numpy_waveform, check_sample_rate

__all__ = ["speaker_embedding", "centroid", "cosine_similarity", "EMBEDDING_SIZE"]

EMBEDDING_SIZE = 256
#: resemblyzer needs at least one 1.6 s window at its partial-utterance rate; shorter
#: speech (after silence trimming) is padded by it, but under 0.3 s there is no speaker to embed
_MIN_SECONDS = 0.3


@functools.cache
def _encoder() -> Any:
    """resemblyzer's pretrained GE2E ``VoiceEncoder`` on the CPU, loaded once."""
    try:
        from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise InstallError(f"speaker similarity needs the resemblyzer package ({exc}); "
                           "install it with: pip install 'resemblyzer>=0.1.4'") from None
    return VoiceEncoder(device="cpu", verbose=False)


def speaker_embedding(wave: Waveform, sample_rate: int) -> np.ndarray:
    """The GE2E embedding (256,) of one utterance, float64, unit L2 norm.

    ``wave``: (T,) samples in [-1, 1] at ``sample_rate`` (resampled to 16 kHz). Raises
    :class:`DataError` for speech shorter than 0.3 s after silence trimming.
    """
    from resemblyzer import preprocess_wav

    x = as_numpy_waveform(wave, "wave")
    sr = check_sample_rate(sample_rate)
    # resemblyzer's volume normalisation divides by the RMS: digital silence would become NaN
    trimmed = preprocess_wav(x.astype(np.float32), source_sr=sr) if np.any(x) else np.zeros(0, np.float32)
    if trimmed.shape[0] < _MIN_SECONDS * 16000:
        raise DataError(f"speaker embedding: {trimmed.shape[0] / 16000:.2f} s of speech after trimming silences, "
                        f"need at least {_MIN_SECONDS} s")
    return np.asarray(_encoder().embed_utterance(trimmed), dtype=np.float64)


def centroid(embeddings: Iterable[np.ndarray]) -> np.ndarray:
    """The speaker centroid: the mean of unit embeddings, renormalised to unit length (GE2E's)."""
    rows = [np.asarray(e, dtype=np.float64) for e in embeddings]
    if not rows:  # np.stack would raise its own ValueError
        raise DataError("centroid: expected one or more embeddings (K, D), got none")
    stacked = np.stack(rows)
    if stacked.ndim != 2:
        raise DataError(f"centroid: expected one or more embeddings (K, D), got shape {stacked.shape}")
    mean = stacked.mean(axis=0)
    return mean / np.linalg.norm(mean)


def cosine_similarity(x: np.ndarray, y: np.ndarray) -> float:
    """``x . y / (|x| |y|)`` of two vectors, in [-1, 1]."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise DataError(f"cosine_similarity: expected two vectors of one length, got shapes {x.shape} and {y.shape}")
    # clipped: rounding puts a vector against itself (or its own centroid) at 1 + 2e-16
    return float(np.clip(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)), -1.0, 1.0))
