"""speechgan: a plugin-based toolkit for training GANs on audio and speech.

Plugin authors need only :data:`hookimpl`; everything else is reached through the
registry a plugin manager builds (:func:`speechgan.plugins.get_plugin_manager`).
"""

from importlib.metadata import PackageNotFoundError, version

from .errors import (
    ConfigError,
    DataError,
    DuplicateComponentError,
    InstallError,
    PluginError,
    SpeechganError,
    TrainingError,
    UnknownComponentError,
)
from .hookspecs import hookimpl

try:
    __version__ = version("speechgan")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "hookimpl",
    "SpeechganError",
    "ConfigError",
    "DataError",
    "DuplicateComponentError",
    "InstallError",
    "PluginError",
    "TrainingError",
    "UnknownComponentError",
]
