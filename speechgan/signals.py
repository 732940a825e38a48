"""Graceful stops: SIGINT (Ctrl-C) and SIGTERM (a cluster's preemption) end a run at a step boundary.

While :meth:`~speechgan.trainer.Trainer.fit` trains, the first SIGINT or SIGTERM only
records a request: the trainer finishes the step it is in, writes ``last.pt`` (atomically,
as always) and raises :class:`TrainingInterrupted`, which the CLI turns into a message
(where it saved, the command that resumes) and the shell's exit status for that signal
(128 + number: 130 for SIGINT, 143 for SIGTERM). A second Ctrl-C raises
``KeyboardInterrupt`` at once; the atomic writes keep the last checkpoint intact. Under
``torchrun`` a signal may reach one rank or all, so the ranks agree at every step boundary
(:func:`~speechgan.distributed.max_across_ranks`) and all stop at the same step.

Handlers are installed only while training runs and only in the main thread (the only
one Python delivers signals to); the previous handlers come back afterwards.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

__all__ = ["StopSignals", "TrainingInterrupted"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(Exception):
    """Training stopped on a signal after saving ``checkpoint`` (None on ranks other than 0).

    Not an error: the run is intact and resumes exactly where it stopped.
    """

    def __init__(self, signum: int, *, step: int, max_steps: int, checkpoint: Path | None, world_size: int) -> None:
        self.signum, self.step, self.max_steps = signum, step, max_steps
        self.checkpoint, self.world_size = checkpoint, world_size
        super().__init__(f"stopped by {self.signal_name} after step {step} of {max_steps}")

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The status a shell reports for a process ended by this signal."""
        return 128 + self.signum


class StopSignals:
    """Within ``with``: the first SIGINT / SIGTERM sets :attr:`signum`; a second SIGINT aborts.

    ``announce`` prints one line when the first signal arrives (rank 0 only). A request
    that the trainer never acted on (it came after the last step boundary) is delivered
    again to the previous handler by :meth:`release` (or on leaving the block without an
    exception), so it is not lost.
    """

    def __init__(self, *, announce: bool = True) -> None:
        self.announce = announce
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release(redeliver=kind is None)

    def release(self, *, redeliver: bool = True) -> None:
        """Restore the previous handlers; with ``redeliver``, hand them a signal not acted on."""
        for s, handler in self._previous.items():
            # None: a handler installed from C, which Python cannot restore; the default is closest
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        installed, self._previous = bool(self._previous), {}
        if installed and redeliver and self.signum is not None:
            signal.raise_signal(self.signum)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return  # a repeated SIGTERM: already stopping
        self.signum = signum
        if self.announce:
            # os.write, not print: the handler may run in the middle of a print to stderr
            name = signal.Signals(signum).name
            os.write(2, f"\n{name}: stopping after this step and saving checkpoints/last.pt "
                        "(press Ctrl-C again to abort at once)\n".encode())
