"""torchaudio, imported once and checked against the installed torch.

torchaudio's wheels carry a compiled extension (``torchaudio/lib/libtorchaudio*.so``) built
against exactly one torch release. A mismatched pair, such as torch 2.11.0 with torchaudio
2.11.1 (what ``torchaudio==2.11.*`` resolves to), fails on ``import torchaudio`` with
``libtorchaudio.so: undefined symbol: torch_exception_get_what_without_backtrace``: a
traceback from deep inside ``torch.ops`` that says nothing about what to do. The package
reaches ``torchaudio.functional`` only through :data:`functional`, so a broken pair is one
:class:`~speechgan.errors.InstallError` that names both versions and the fix.
"""

from __future__ import annotations

import importlib.metadata
import re
from types import ModuleType

import torch

from .errors import InstallError

__all__ = ["functional", "load_functional", "pair_advice"]

# A one-pole IIR filter y[n] = x[n] + 0.5 y[n - 1]: torchaudio runs its feedback loop in the
# compiled op torch.ops.torchaudio._lfilter_core_loop, and its impulse response is 0.5 ** n.
_POLE = 0.5
_IMPULSE_LENGTH = 8


def _installed(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _pinned() -> list[str]:
    """The torch and torchaudio requirements speechgan was installed with, e.g. ``torch==2.11.0``."""
    try:
        requirements = importlib.metadata.requires("speechgan") or []
    except importlib.metadata.PackageNotFoundError:  # a source tree that is not installed
        return []
    return [r.split(";")[0].strip() for r in requirements if re.match(r"(torch|torchaudio)\s*[=<>!~]", r)]


def pair_advice(error: BaseException) -> str:
    """What went wrong when torchaudio failed with ``error``, and how to reinstall the pair."""
    cause = f" (caused by {type(error.__cause__).__name__}: {error.__cause__})" if error.__cause__ else ""
    pinned = _pinned()
    install = " ".join(f'"{r}"' for r in pinned) if pinned else "the torch and torchaudio versions pyproject.toml pins"
    return (
        f"torchaudio {_installed('torchaudio')} does not work with torch {_installed('torch')}: "
        f"{type(error).__name__}: {error}{cause}. torchaudio's compiled extension is built against exactly "
        f"one torch release; reinstall the pair speechgan pins: in a fresh virtual environment, "
        f'`pip install -e ".[dev]"` from the source tree, or in this one, `pip install {install}`'
    )


def load_functional() -> ModuleType:
    """``torchaudio.functional``, after one filter through torchaudio's compiled extension.

    Raises :class:`~speechgan.errors.InstallError` with :func:`pair_advice` when torchaudio
    does not import, its extension is missing, or the compiled filter fails or is wrong.
    """
    try:
        import torchaudio  # loads the compiled extension: where a mismatched pair fails
        if not torchaudio._extension._IS_TORCHAUDIO_EXT_AVAILABLE:
            # without it torchaudio silently falls back to slow Python loops
            raise ImportError("torchaudio's compiled extension (torchaudio/lib/_torchaudio*.so) was not found")
        impulse = torch.zeros(1, _IMPULSE_LENGTH, dtype=torch.float64)
        impulse[0, 0] = 1.0
        response = torchaudio.functional.lfilter(
            impulse, torch.tensor([1.0, -_POLE], dtype=torch.float64), torch.tensor([1.0, 0.0], dtype=torch.float64)
        )  # (1, 8)
        expected = _POLE ** torch.arange(_IMPULSE_LENGTH, dtype=torch.float64)
        if not torch.allclose(response[0], expected):
            raise RuntimeError(f"lfilter's impulse response is {response[0].tolist()}, expected {expected.tolist()}")
    # Any failure here is the installation's, whatever torch raises (OSError from the dynamic
    # loader, RuntimeError or AttributeError from a missing operator).
    except Exception as exc:
        raise InstallError(pair_advice(exc)) from exc
    return torchaudio.functional


functional = load_functional()
