"""Errors meant for people.

Every error a user can cause (a bad config, a missing file, an unknown component, a broken
plugin, bad audio) is a :class:`SpeechganError`. The CLI prints its message, without a
traceback unless ``--debug`` is given, and exits non-zero. Anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "SpeechganError",
    "ConfigError",
    "UnknownComponentError",
    "DuplicateComponentError",
    "PluginError",
    "DataError",
    "TrainingError",
    "InstallError",
]


class SpeechganError(Exception):
    """Base class of the errors a user can act on."""


class ConfigError(SpeechganError):
    """A recipe that cannot be loaded or does not validate; the message names file and key."""


class UnknownComponentError(SpeechganError):
    """A component name that no loaded plugin registered."""


class DuplicateComponentError(SpeechganError):
    """Two plugins registered the same name for the same kind."""


class PluginError(SpeechganError):
    """A plugin failed to import or raised in a hook (fatal only in strict mode)."""


class DataError(SpeechganError):
    """Bad input data: an unreadable, empty, corrupt or otherwise unusable file."""


class TrainingError(SpeechganError):
    """A run that cannot go on (too many non-finite steps, a run directory in the way...)."""


class InstallError(SpeechganError):
    """Installed packages that do not work together (a torch/torchaudio pair built for others)."""


class ExportError(SpeechganError):
    """A generator that cannot be exported, or an exported file that does not match eager PyTorch."""
