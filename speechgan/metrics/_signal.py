"""Input checks shared by the metric functions: one waveform in, a clean 1-D array out.

Every metric accepts a NumPy array or a torch tensor holding one mono waveform (shape
``(T,)``, or ``(1, T)`` / ``(1, 1, T)`` as a model returns it). Bad input (empty, several
channels, NaN/inf) is a :class:`~speechgan.errors.DataError` naming the argument.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from ..errors import DataError

Waveform = np.ndarray | torch.Tensor
ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)

__all__ = ["Waveform", "as_numpy_waveform", "as_tensor_waveform", "check_sample_rate", "trim_to_shorter"]


def _check_shape(shape: tuple[int, ...], name: str) -> None:
    if len(shape) == 0 or any(n != 1 for n in shape[:-1]):
        raise DataError(
            f"{name}: expected one mono waveform of shape (T,), got shape {tuple(shape)}; "
            "pass one channel at a time"
        )
    if shape[-1] == 0:
        raise DataError(f"{name}: the waveform is empty (0 samples)")


def as_numpy_waveform(wave: Waveform, name: str) -> np.ndarray:
    """``wave`` as a contiguous float64 array of shape ``(T,)`` (WORLD and SPTK need float64)."""
    if isinstance(wave, torch.Tensor):
        return np.ascontiguousarray(as_tensor_waveform(wave, name).to("cpu", torch.float64).numpy())
    array = np.asarray(wave)
    _check_shape(array.shape, name)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise DataError(f"{name}: expected real-valued samples, got dtype {array.dtype}")
    array = np.ascontiguousarray(array.reshape(-1), dtype=np.float64)
    if not np.isfinite(array).all():
        raise DataError(f"{name}: the waveform contains NaN or infinite samples")
    return array


def as_tensor_waveform(wave: Waveform, name: str) -> torch.Tensor:
    """``wave`` as a 1-D floating tensor ``(T,)``, on its own device (arrays become float64 CPU tensors)."""
    if not isinstance(wave, torch.Tensor):
        return torch.from_numpy(as_numpy_waveform(wave, name))
    _check_shape(tuple(wave.shape), name)
    if wave.is_complex() or wave.dtype == torch.bool:
        raise DataError(f"{name}: expected real-valued samples, got dtype {wave.dtype}")
    tensor = wave.detach().reshape(-1)
    if not tensor.is_floating_point():
        tensor = tensor.double()
    if not torch.isfinite(tensor).all():
        raise DataError(f"{name}: the waveform contains NaN or infinite samples")
    return tensor


def check_sample_rate(sample_rate: int) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise DataError(f"sample_rate must be a positive integer in Hz, got {sample_rate!r}")
    return int(sample_rate)


def trim_to_shorter(ref: ArrayT, gen: ArrayT) -> tuple[ArrayT, ArrayT]:
    """Both signals cut to the length of the shorter one (metrics that compare sample by sample)."""
    n = min(ref.shape[-1], gen.shape[-1])
    return ref[..., :n], gen[..., :n]
