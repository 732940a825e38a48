"""Named components by kind, with the plugin that provided each.

A plugin adds components through the ``register`` callback it receives in a
``speechgan_register_<kind>s`` hook (the ``llm`` pattern). The registry checks names,
records provider and version, and turns a bad name into an error that lists the close
matches and everything available of that kind.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import DuplicateComponentError, UnknownComponentError

__all__ = ["KINDS", "PLURALS", "Component", "ComponentRef", "Registry"]

#: Component kinds, in the order ``speechgan plugins`` lists them, with their plural.
#: The hook for kind ``k`` is ``speechgan_register_<plural>``.
PLURALS: dict[str, str] = {
    "generator": "generators",
    "discriminator": "discriminators",
    "feature": "features",
    "loss": "losses",
    "objective": "objectives",
    "dataset": "datasets",
    "metric": "metrics",
    "callback": "callbacks",
}
KINDS: tuple[str, ...] = tuple(PLURALS)

_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*$")


def _first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0].strip() if doc.strip() else ""


@dataclass(frozen=True)
class ComponentRef:
    """Marks a factory parameter whose config value names another registered component.

    ``criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "hinge"`` accepts
    ``hinge`` or ``{name: hinge, args: {...}}`` in a config; the name and args are
    validated at load time and the factory receives the built component.
    """

    kind: str


@dataclass(frozen=True)
class Component:
    """One registered component: a factory (class or function) and who provided it."""

    kind: str
    name: str
    factory: Callable[..., Any]
    description: str
    plugin: str
    distribution: str | None = None
    version: str | None = None

    @property
    def provider(self) -> str:
        """``plugin (distribution version)``, as messages show it."""
        if self.distribution:
            return f"{self.plugin} ({self.distribution} {self.version or '?'})"
        return self.plugin

    def build(self, **kwargs: Any) -> Any:
        return self.factory(**kwargs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "version": self.version,
            "factory": f"{getattr(self.factory, '__module__', '?')}.{getattr(self.factory, '__qualname__', '?')}",
        }


@dataclass
class Registry:
    """Components by kind and name. Built by the plugin manager; read by config and trainer."""

    _by_kind: dict[str, dict[str, Component]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )
    # (kind, name) -> every provider that registered it, once a name is contested
    _conflicts: dict[tuple[str, str], list[Component]] = field(default_factory=dict)

    def add(
        self,
        kind: str,
        name: str,
        factory: Callable[..., Any],
        *,
        description: str | None = None,
        plugin: str = "<direct>",
        distribution: str | None = None,
        version: str | None = None,
    ) -> Component:
        """Add one component. Raises ``DuplicateComponentError`` naming both providers."""
        if kind not in self._by_kind:
            raise ValueError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"invalid {kind} name {name!r} from plugin {plugin!r}: use lower case letters, "
                "digits, '_', '-' or '.', starting with a letter"
            )
        if not callable(factory):
            raise TypeError(f"{kind} {name!r} from plugin {plugin!r}: factory {factory!r} is not callable")
        component = Component(
            kind=kind,
            name=name,
            factory=factory,
            description=description or _first_doc_line(factory),
            plugin=plugin,
            distribution=distribution,
            version=version,
        )
        existing = self._by_kind[kind].get(name) or (
            self._conflicts[(kind, name)][0] if (kind, name) in self._conflicts else None
        )
        if existing is not None:
            # Neither provider wins: using the name is an error until one plugin goes.
            self._by_kind[kind].pop(name, None)
            providers = self._conflicts.setdefault((kind, name), [existing])
            providers.append(component)
            raise DuplicateComponentError(self._duplicate_message(kind, name))
        self._by_kind[kind][name] = component
        return component

    def _duplicate_message(self, kind: str, name: str) -> str:
        providers = " and ".join(c.provider for c in self._conflicts[(kind, name)])
        return (
            f"{kind} {name!r} is registered by two plugins: {providers}. "
            "Uninstall or disable one of them (SPEECHGAN_PLUGINS limits which plugins load)."
        )

    def get(self, kind: str, name: str) -> Component:
        """The component ``name`` of ``kind``, or an error listing close matches."""
        if (kind, name) in self._conflicts:
            raise DuplicateComponentError(self._duplicate_message(kind, name))
        try:
            return self._by_kind[kind][name]
        except KeyError:
            pass
        if kind not in self._by_kind:
            raise UnknownComponentError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")
        available = self.names(kind)
        close = difflib.get_close_matches(str(name), available, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(available) if available else "none (is the plugin that provides it installed?)"
        raise UnknownComponentError(f"unknown {kind} {name!r}.{hint} Available {PLURALS[kind]}: {listing}")

    def build(self, kind: str, name: str, /, **kwargs: Any) -> Any:
        return self.get(kind, name).build(**kwargs)

    def names(self, kind: str) -> list[str]:
        return sorted(self._by_kind[kind])

    def __iter__(self) -> Iterator[Component]:
        for kind in KINDS:
            for name in self.names(kind):
                yield self._by_kind[kind][name]

    def __contains__(self, key: tuple[str, str]) -> bool:
        kind, name = key
        return name in self._by_kind.get(kind, {})
