"""The installed torch/torchaudio pair works, and a broken pair is one error that says what to do.

torch 2.11.0 with torchaudio 2.11.1 fails on ``import torchaudio`` with ``libtorchaudio.so:
undefined symbol: torch_exception_get_what_without_backtrace``; the failures below are
simulated the same way the dynamic loader fails (``torch.ops.load_library`` raising OSError).
Nothing here imports torchaudio at collection: with a broken pair, the first test fails with
the message that says what to do, not with the loader's traceback.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
import textwrap
from types import ModuleType

import pytest
import torch

from speechgan.errors import InstallError

UNDEFINED_SYMBOL = "undefined symbol: torch_exception_get_what_without_backtrace"


def test_torchaudio_compiled_extension_runs_with_this_torch() -> None:
    """The CI check: a mismatched pair fails here, with the versions and the fix in the message."""
    try:
        checked = importlib.import_module("speechgan._torchaudio")
    except InstallError as exc:
        failure = str(exc)
    else:
        failure = ""
    if failure:  # outside the except block: the message alone, not the loader's traceback
        pytest.fail(failure, pytrace=False)
    import torchaudio.functional.filtering

    assert checked.load_functional() is checked.functional is torchaudio.functional
    # the IIR loop of lfilter ran in libtorchaudio, not in torchaudio's pure-Python fallback
    assert torchaudio.functional.filtering._lfilter_core_loop is torch.ops.torchaudio._lfilter_core_loop


@pytest.fixture
def checked() -> ModuleType:
    """:mod:`speechgan._torchaudio`, imported when a test needs it rather than at collection."""
    return importlib.import_module("speechgan._torchaudio")


@pytest.fixture
def mismatched_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report the broken pair of the issue as installed, and speechgan's pins as declared."""
    installed = {"torch": "2.11.0", "torchaudio": "2.11.1"}
    monkeypatch.setattr(importlib.metadata, "version", lambda name: installed[name])
    monkeypatch.setattr(importlib.metadata, "requires", lambda name: ["torch==2.11.0", "torchaudio==2.11.0", "numpy>=1.26"])


def fix(pins: list[str]) -> str:
    """The advice every InstallError of a broken pair ends with."""
    install = " ".join(f'"{pin}"' for pin in pins)
    return (
        "torchaudio's compiled extension is built against exactly one torch release; reinstall the pair "
        'speechgan pins: in a fresh virtual environment, `pip install -e ".[dev]"` from the source tree, '
        f"or in this one, `pip install {install}`"
    )


FIX = fix(["torch==2.11.0", "torchaudio==2.11.0"])


def _unloadable_op(*args: object, **kwargs: object) -> torch.Tensor:
    raise OSError("Could not load this library: libtorchaudio.abi3.so") from OSError(UNDEFINED_SYMBOL)


def test_a_library_that_does_not_load_names_both_versions_and_the_fix(
    checked: ModuleType, mismatched_versions: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checked.functional, "lfilter", _unloadable_op)
    with pytest.raises(InstallError) as info:
        checked.load_functional()
    assert str(info.value) == (
        "torchaudio 2.11.1 does not work with torch 2.11.0: OSError: Could not load this library: "
        f"libtorchaudio.abi3.so (caused by OSError: {UNDEFINED_SYMBOL}). " + FIX
    )


@pytest.mark.parametrize(
    ("breakage", "what"),
    [
        ("import", "ModuleNotFoundError: import of torchaudio halted; None in sys.modules"),
        ("no_extension", "ImportError: torchaudio's compiled extension (torchaudio/lib/_torchaudio*.so) was not found"),
        ("wrong_result", "RuntimeError: lfilter's impulse response is [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "
                         "expected [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125]"),
    ],
)
def test_every_other_breakage_is_the_same_error(
    checked: ModuleType, mismatched_versions: None, monkeypatch: pytest.MonkeyPatch, breakage: str, what: str
) -> None:
    if breakage == "import":
        monkeypatch.setitem(sys.modules, "torchaudio", None)
    elif breakage == "no_extension":
        monkeypatch.setattr(sys.modules["torchaudio._extension"], "_IS_TORCHAUDIO_EXT_AVAILABLE", False)
    else:
        monkeypatch.setattr(checked.functional, "lfilter", lambda x, a, b: torch.zeros_like(x))
    with pytest.raises(InstallError) as info:
        checked.load_functional()
    assert str(info.value) == f"torchaudio 2.11.1 does not work with torch 2.11.0: {what}. " + FIX


def test_the_package_reports_a_broken_pair_where_it_first_imports_torchaudio() -> None:
    """In a fresh interpreter, the loader fails as it does for a mismatched pair."""
    script = textwrap.dedent(f"""
        import torch

        def load_library(path):
            raise OSError(f"Could not load this library: {{path}}") from OSError({UNDEFINED_SYMBOL!r})

        torch.ops.load_library = load_library
        import speechgan.features
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    installed = importlib.metadata.version("torchaudio"), importlib.metadata.version("torch")
    assert last.startswith(
        f"speechgan.errors.InstallError: torchaudio {installed[0]} does not work with torch {installed[1]}: "
        "OSError: Could not load this library: "
    )
    pins = [r for r in importlib.metadata.requires("speechgan") or [] if r.startswith(("torch==", "torchaudio=="))]
    assert last.endswith(f"_torchaudio.abi3.so (caused by OSError: {UNDEFINED_SYMBOL}). " + fix(pins))
