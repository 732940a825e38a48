"""What happens to a bad input file: fail at the first one, or skip it and say so.

Every problem with one file (unreadable, empty, non-finite samples, too short, a sample
rate that cannot be used, a missing transcript, a malformed list line) is a
:class:`BadFile`, a :class:`~speechgan.errors.DataError` whose message begins with the
file's path. An :class:`ErrorPolicy` decides what to do with it: ``on_error="fail"`` (the
default) raises it, ``"skip"`` records ``(path, reason)`` in a :class:`SkipReport` whose
:meth:`~SkipReport.summary` lists what was left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar, get_args

from ..errors import ConfigError, DataError

__all__ = ["OnError", "BadFile", "SkipReport", "ErrorPolicy"]

OnError = Literal["fail", "skip"]
logger = logging.getLogger(__name__)
T = TypeVar("T")


class BadFile(DataError):
    """One unusable input file (or list line); the message is ``"<path>: <reason>"``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # type: ignore[override]  # pickles across worker processes
        return (type(self), (self.path, self.reason))


@dataclass
class SkipReport:
    """The files an ``on_error="skip"`` policy left out, with the reason for each."""

    entries: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str | Path, reason: str) -> None:
        self.entries.append((str(path), reason))

    @property
    def count(self) -> int:
        return len(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.entries]

    def summary(self) -> str:
        """One line per skipped file, under a header with the count."""
        if not self.entries:
            return "no files skipped"
        noun = "file" if len(self.entries) == 1 else "files"
        lines = [f"skipped {len(self.entries)} {noun} (on_error='skip'):"]
        lines += [f"  {path}: {reason}" for path, reason in self.entries]
        return "\n".join(lines)


@dataclass
class ErrorPolicy:
    """Raise a :class:`BadFile` (``"fail"``) or record it in :attr:`report` (``"skip"``)."""

    on_error: OnError = "fail"
    report: SkipReport = field(default_factory=SkipReport)

    def __post_init__(self) -> None:
        if self.on_error not in get_args(OnError):
            raise ConfigError(f"on_error: must be 'fail' or 'skip', got {self.on_error!r}")

    def handle(self, error: BadFile) -> None:
        if self.on_error == "fail":
            raise error
        self.report.add(error.path, error.reason)

    def lost(self, error: BadFile, *, substitute: str = "item") -> None:
        """A file that passed the scan but fails to load now: raise (``"fail"``), or warn once and record it.

        The warning and the report are per process: each DataLoader worker (a new one every
        epoch) warns in its own log, and only with ``num_workers=0`` is the file counted in
        the report of the dataset the trainer holds.
        """
        if error.path in self.report.paths:  # warned already
            return
        self.handle(error)  # raises under on_error="fail"
        logger.warning("%s; on_error='skip': the next %s is used in its place", error, substitute)

    def first_that_loads(self, index: int, count: int, load: Callable[[int], T], *, unit: str = "file",
                         substitute: str = "item") -> T:
        """``load(index)``; a :class:`BadFile` goes to :meth:`lost`, and under ``"skip"`` the next that
        loads takes its place (``index + 1``, ``index + 2``, ... wrapping round at ``count``), so the
        substitute depends only on the index and the files: the same in every worker and after a resume.
        """
        for offset in range(count):
            try:
                return load((index + offset) % count)
            except BadFile as error:
                self.lost(error, substitute=substitute)
        raise DataError(f"no {unit} of the dataset loads any more; {self.report.summary()}")

    def attempt(self, fn: Callable[..., T], *args: object) -> T | None:
        """``fn(*args)``, or ``None`` when it raised a :class:`BadFile` that is skipped."""
        try:
            return fn(*args)
        except BadFile as error:
            self.handle(error)
            return None
