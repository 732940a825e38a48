"""The plugin manager: hookspecs -> entry points -> registry.

Every plugin, the built-in ones included, is found through the ``speechgan`` entry-point
group. A plugin that fails to import or raises in a hook is reported by name and skipped,
so one broken package never takes the toolkit down; strict mode makes that fatal.

Environment:

* ``SPEECHGAN_PLUGINS``: comma-separated entry-point names; only these load. Empty: none.
* ``SPEECHGAN_STRICT_PLUGINS=1``: any plugin failure is an error.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from . import hookspecs
from .errors import PluginError, SpeechganError
from .registry import PLURALS, Registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "ENV_PLUGINS",
    "ENV_STRICT",
    "PluginFailure",
    "SpeechganPluginManager",
    "get_plugin_manager",
]

ENTRY_POINT_GROUP = "speechgan"
ENV_PLUGINS = "SPEECHGAN_PLUGINS"
ENV_STRICT = "SPEECHGAN_STRICT_PLUGINS"


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded, or whose hook raised."""

    plugin: str
    where: str  # "import" or the hook's name
    error: BaseException
    distribution: str | None = None

    @property
    def message(self) -> str:
        origin = f" (from {self.distribution})" if self.distribution else ""
        what = "failed to import" if self.where == "import" else f"raised in {self.where}"
        return f"plugin {self.plugin!r}{origin} {what}: {type(self.error).__name__}: {self.error}"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


class SpeechganPluginManager(pluggy.PluginManager):
    """A pluggy manager that also owns the component registry and the failure report."""

    def __init__(self, *, strict: bool = False) -> None:
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.strict = strict
        self.failures: list[PluginFailure] = []
        # plugin name -> (distribution, version), for the provenance of components
        self.distributions: dict[str, tuple[str | None, str | None]] = {}
        self._registry: Registry | None = None

    # -- loading ------------------------------------------------------------------------

    def _fail(self, failure: PluginFailure) -> None:
        if self.strict:
            raise PluginError(failure.message + f" (strict mode; unset {ENV_STRICT} to skip it)") from failure.error
        self.failures.append(failure)

    def load_entry_points(self, only: Iterable[str] | None = None) -> None:
        """Import and register every plugin of the ``speechgan`` entry-point group.

        ``only`` limits loading to these entry-point names; by default it comes from
        ``SPEECHGAN_PLUGINS`` when that variable is set.
        """
        if only is None and ENV_PLUGINS in os.environ:
            only = [n.strip() for n in os.environ[ENV_PLUGINS].split(",") if n.strip()]
        wanted = None if only is None else set(only)
        seen: set[str] = set()
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if (wanted is not None and ep.name not in wanted) or ep.name in seen:
                continue  # the same distribution can be visible twice on sys.path
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist is not None else None
            version = ep.dist.version if ep.dist is not None else None
            if self.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # any import error of a third-party package
                self._fail(PluginFailure(ep.name, "import", exc, dist))
                continue
            self.register_plugin(plugin, ep.name, distribution=dist, version=version)

    def register_plugin(
        self, plugin: Any, name: str, *, distribution: str | None = None, version: str | None = None
    ) -> None:
        """Register a plugin object under ``name`` (tests and embedding applications)."""
        try:
            self.register(plugin, name=name)
            self._check_known_hooks(plugin)
        except Exception as exc:  # pluggy validation: an unknown hook, bad arguments...
            if self.is_registered(plugin):
                self.unregister(plugin)
            self._fail(PluginFailure(name, "register", exc, distribution))
            return
        self.distributions[name] = (distribution, version)
        self._registry = None  # rebuilt on next access

    def _check_known_hooks(self, plugin: Any) -> None:
        """A hook implementation with no spec is a typo, not a silent no-op."""
        known = [n for n in dir(hookspecs) if n.startswith("speechgan_")]
        for caller in self.get_hookcallers(plugin) or []:
            if caller.spec is None:
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise PluginError(f"unknown hook {caller.name}{hint}")

    # -- calling hooks one plugin at a time ----------------------------------------------

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call every implementation of a hook separately, isolating failures per plugin."""
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):  # registration order
            try:
                impl.function(**{k: v for k, v in kwargs.items() if k in impl.argnames})
            except Exception as exc:
                dist = self.distributions.get(impl.plugin_name, (None, None))[0]
                self._fail(PluginFailure(impl.plugin_name, hook_name, exc, dist))

    @property
    def registry(self) -> Registry:
        """Every component of every loaded plugin, built on first access."""
        if self._registry is None:
            self._registry = self._build_registry()
        return self._registry

    def _build_registry(self) -> Registry:
        registry = Registry()
        for kind, plural in PLURALS.items():
            hook_name = f"speechgan_register_{plural}"
            for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
                plugin = impl.plugin_name
                dist, version = self.distributions.get(plugin, (None, None))
                staged: list[tuple[str, Any, str | None]] = []

                def register(name: str, factory: Any, description: str | None = None) -> None:
                    staged.append((name, factory, description))

                try:
                    impl.function(**{k: register for k in impl.argnames})
                except Exception as exc:
                    self._fail(PluginFailure(plugin, hook_name, exc, dist))
                    continue
                # Only a hook call that finished adds its components.
                for name, factory, description in staged:
                    try:
                        registry.add(
                            kind, name, factory, description=description,
                            plugin=plugin, distribution=dist, version=version,
                        )
                    except (SpeechganError, ValueError, TypeError) as exc:
                        self._fail(PluginFailure(plugin, hook_name, exc, dist))
        return registry


def get_plugin_manager(
    *,
    strict: bool | None = None,
    entry_points: bool = True,
    only: Iterable[str] | None = None,
    plugins: Iterable[tuple[str, Any]] = (),
) -> SpeechganPluginManager:
    """A fresh plugin manager with hookspecs, entry-point plugins, extra ``plugins`` and its registry.

    ``strict`` defaults to ``SPEECHGAN_STRICT_PLUGINS``. ``entry_points=False`` loads no
    installed plugin (tests register inline plugins through ``plugins``).
    """
    pm = SpeechganPluginManager(strict=_env_flag(ENV_STRICT) if strict is None else strict)
    if entry_points:
        pm.load_entry_points(only=only)
    for name, plugin in plugins:
        pm.register_plugin(plugin, name)
    _ = pm.registry  # call the registration hooks now: ``failures`` is complete on return
    return pm


def report_failures(pm: SpeechganPluginManager, stream: Any = None) -> None:
    """Print one warning line per failed plugin (to stderr by default)."""
    stream = stream or sys.stderr
    for failure in pm.failures:
        print(f"speechgan: warning: {failure.message}; skipped", file=stream)
