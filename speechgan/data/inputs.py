"""The files a batch command (``vocode``, ``convert``) reads, and where each one's output goes.

A file ``x.flac`` is written as ``x.wav``; a folder ``a`` gives ``a/<its path inside a>.wav``
for every accepted file in it, recursively and sorted, so a tree of recordings comes back as
the same tree. Two inputs that would write the same output are refused, as is a folder with
no accepted file, a file that is not accepted and a path that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import DataError

__all__ = ["input_files"]


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
