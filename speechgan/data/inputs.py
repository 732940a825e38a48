"""The files a batch command (``vocode``, ``convert``, ``enhance``) reads, and where each one's output goes.

A file ``x.flac`` is written as ``x.wav``; a folder ``a`` gives ``a/<its path inside a>.wav``
for every accepted file in it, recursively and sorted, so a tree of recordings comes back as
the same tree. Two inputs that would write the same output are refused, as is a folder with
no accepted file, a file that is not accepted and a path that does not exist.
:func:`checked_inputs` also refuses an output that would overwrite an input and checks every
input before the command writes anything, so a bad one leaves ``--out`` untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import DataError
from .audio_io import AUDIO_EXTENSIONS

__all__ = ["AUDIO_FILES", "checked_inputs", "input_files", "is_audio_file"]

#: what :func:`is_audio_file` accepts, as messages name it
AUDIO_FILES = f"audio file ({', '.join(AUDIO_EXTENSIONS)})"


def is_audio_file(path: Path) -> bool:
    """Whether ``path`` has an audio extension (:data:`~speechgan.data.audio_io.AUDIO_EXTENSIONS`)."""
    return path.suffix.lower() in AUDIO_EXTENSIONS


def input_files(inputs: Sequence[str | Path], *, accept: Callable[[Path], bool], kinds: str) -> list[tuple[Path, Path]]:
    """``(input file, output path relative to --out)`` for each file of ``inputs``.

    ``accept(path)`` says whether a file is an input; ``kinds`` names the accepted files in
    messages ("audio file (.wav, .flac)").
    """
    pairs: list[tuple[Path, Path]] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found = sorted(p for p in item.rglob("*") if p.is_file() and accept(p))
            if not found:
                raise DataError(f"{item}: the folder holds no {kinds}")
            pairs += [(p, Path(item.resolve().name) / p.relative_to(item).with_suffix(".wav")) for p in found]
        elif item.is_file() and accept(item):
            pairs.append((item, Path(item.with_suffix(".wav").name)))
        elif item.exists():
            raise DataError(f"{item}: not an {kinds}; give such files or folders holding them")
        else:
            raise DataError(f"{item}: no such file or folder")
    seen: dict[Path, Path] = {}
    for source, output in pairs:
        if output in seen:
            raise DataError(f"{seen[output]} and {source} would both be written to {output}; rename one of them")
        seen[output] = source
    return pairs


def checked_inputs(
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    *,
    check: Callable[[Path], object],
    accept: Callable[[Path], bool] = is_audio_file,
    kinds: str = AUDIO_FILES,
) -> list[tuple[Path, Path]]:
    """:func:`input_files` for a command that writes into ``out_dir``, checked before it writes anything.

    An input whose output would overwrite an input (``--out`` is the input folder) is refused; then
    ``check(path)`` reads every input (``AudioLoader.probe``, say) and raises on a bad one.
    """
    pairs = input_files(inputs, accept=accept, kinds=kinds)
    out_dir = Path(out_dir)
    sources = {source.resolve() for source, _ in pairs}
    for source, output in pairs:
        if (out_dir / output).resolve() in sources:
            raise DataError(f"{source}: its output {out_dir / output} would overwrite an input; choose another --out")
    for source, _ in pairs:  # a bad input fails here, before anything is written
        check(source)
    return pairs
