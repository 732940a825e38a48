"""Load, include, override and validate recipes.

A recipe is YAML. ``include:`` names base files (relative to the including file) merged
first, in order; the file's own keys override them. Where a file changes a component's
``name``, its ``args`` replace the base's instead of merging into them. Command-line
overrides are dotted (``trainer.max_steps=200``, ``~trainer.ema`` deletes a key) and are
applied last. OmegaConf does the merging and ``${...}`` interpolation; pydantic checks the
structure (:mod:`speechgan.schema`); each component's ``args`` are checked against the
factory's signature. Every error names the file and the dotted path of the bad key.
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import ConfigDict, TypeAdapter, ValidationError

from .contracts import check_batches, check_built, protocol_mismatch
from .errors import ConfigError, SpeechganError
from .registry import ComponentRef, Registry
from .schema import OPTIMIZERS, SCHEDULERS, ComponentSpec, Config

__all__ = [
    "INJECTED_ARGS",
    "load_config",
    "load_yaml",
    "validate_config",
    "component_specs",
    "check_component_args",
    "component_ref",
    "as_spec",
    "signature",
    "config_to_yaml",
]

#: Arguments the trainer passes to a component itself; a config may not set them.
#: ``features`` is the front-end built from the config's ``features:`` section.
INJECTED_ARGS: frozenset[str] = frozenset({"features"})


# -- reading files ------------------------------------------------------------------------


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:  # exc.object is the file's bytes, exc.start the first bad one
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                          f"{exc.start}); save it as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a mapping of sections, got {type(data).__name__}")
    return data


def _replace_renamed_components(base: Any, child: Any) -> None:
    """Where ``child`` names a different component than ``base``, drop the base's args."""
    if not isinstance(base, dict) or not isinstance(child, dict):
        return
    if "name" in child and "name" in base and child["name"] != base["name"]:
        base.pop("args", None)
    for key, value in child.items():
        if key in base:
            _replace_renamed_components(base[key], value)


def load_yaml(path: str | Path, _stack: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A recipe file with its includes merged, as a plain dict (interpolations unresolved)."""
    path = Path(path)
    real = path.resolve()
    if real in _stack:
        chain = " -> ".join(str(p) for p in (*_stack, real))
        raise ConfigError(f"include cycle: {chain}")
    data = _read_yaml(path)
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list) or not all(isinstance(i, str) for i in includes):
        raise ConfigError(f"{path}: include: must be a file name or a list of file names")
    merged: dict[str, Any] = {}
    for inc in includes:
        target = path.parent / inc
        if not target.exists():  # name the including file too: the fix goes there
            raise ConfigError(f"{path}: include: {inc}: file not found (looked for {target.resolve()})")
        base = load_yaml(target, (*_stack, real))
        _replace_renamed_components(merged, base)
        merged = OmegaConf.to_container(OmegaConf.merge(merged, base))  # type: ignore[assignment]
    _replace_renamed_components(merged, data)
    return OmegaConf.to_container(OmegaConf.merge(merged, data))  # type: ignore[return-value]


def _apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    cfg = OmegaConf.create(data)
    for item in overrides:
        if item.startswith("~"):
            _delete(cfg, item[1:], item)
            continue
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like key.path=value (or ~key.path to delete)")
        key, value = item.split("=", 1)
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {item!r}: bad key {key!r}")
        try:
            parsed = yaml.safe_load(value) if value != "" else ""
        except yaml.YAMLError:
            parsed = value
        node = OmegaConf.select(cfg, key.rsplit(".", 1)[0]) if "." in key else cfg
        if "." in key and node is not None and not isinstance(node, DictConfig):
            raise ConfigError(f"override {item!r}: {key.rsplit('.', 1)[0]} is not a section")
        if isinstance(parsed, dict) and "name" in parsed:
            current = OmegaConf.select(cfg, key)
            if isinstance(current, DictConfig) and current.get("name") != parsed["name"]:
                OmegaConf.update(cfg, key, parsed, merge=False)
                continue
        OmegaConf.update(cfg, key, parsed, merge=True, force_add=True)
    return OmegaConf.to_container(cfg)  # type: ignore[return-value]


def _delete(cfg: DictConfig, key: str, item: str) -> None:
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(cfg, parent_key) if parent_key else cfg
    if not isinstance(parent, DictConfig) or leaf not in parent:
        raise ConfigError(f"override {item!r}: there is no key {key!r} to delete")
    del parent[leaf]


# -- validation ---------------------------------------------------------------------------


def _fmt_loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def component_specs(config: Config) -> Iterator[tuple[str, str, ComponentSpec]]:
    """Every component the config names: ``(dotted path, kind, spec)``."""
    yield "objective", "objective", config.objective
    for role, spec in config.generators.items():
        yield f"generators.{role}", "generator", spec
    for role, spec in config.discriminators.items():
        yield f"discriminators.{role}", "discriminator", spec
    if config.features is not None:
        yield "features", "feature", config.features
    yield "data.train", "dataset", config.data.train
    if config.data.valid is not None:
        yield "data.valid", "dataset", config.data.valid
    for i, spec in enumerate(config.evaluation.metrics):
        yield f"evaluation.metrics[{i}]", "metric", spec
    for i, spec in enumerate(config.trainer.callbacks):
        yield f"trainer.callbacks[{i}]", "callback", spec


@lru_cache(maxsize=512)
def _adapter(annotation: Any) -> TypeAdapter[Any] | None:
    try:
        return TypeAdapter(annotation, config=ConfigDict(arbitrary_types_allowed=True))
    except Exception:  # an annotation pydantic cannot check (a Protocol, say): accept as is
        try:
            return TypeAdapter(annotation)
        except Exception:
            return None


def signature(factory: Callable[..., Any]) -> tuple[dict[str, inspect.Parameter], dict[str, Any], bool]:
    """Keyword parameters, their resolved type hints, and whether ``**kwargs`` is accepted."""
    target = factory.__init__ if inspect.isclass(factory) else factory  # type: ignore[misc]
    sig = inspect.signature(factory)
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:  # unresolvable forward references: check names, not types
        hints = {}
    params: dict[str, inspect.Parameter] = {}
    var_kw = False
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            params[p.name] = p
    return params, hints, var_kw


def component_ref(annotation: Any) -> ComponentRef | None:
    """The :class:`ComponentRef` in an ``Annotated[...]`` hint, if any."""
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, ComponentRef):
            return meta
    return None


def as_spec(value: Any) -> ComponentSpec:
    """A component reference as written in a config: a name or ``{name, args}``."""
    return ComponentSpec(name=value) if isinstance(value, str) else ComponentSpec.model_validate(value)


def _accepts_none(annotation: Any) -> bool:
    """``Annotated[X | None, ...]``: ``null`` in a config leaves the optional component out."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return type(None) in typing.get_args(annotation)


def _check_ref(
    where: str, ref: ComponentRef, annotation: Any, value: Any, registry: Registry | None, injectable: set[str]
) -> tuple[Any, list[str]]:
    if value is None and _accepts_none(annotation):
        return None, []
    try:
        sub = as_spec(value)
    except ValidationError:
        return value, [f"{where}: expected a {ref.kind} name or {{name: ..., args: {{...}}}}, got {value!r}"]
    if registry is None:
        return sub.model_dump(), []
    try:
        component = registry.get(ref.kind, sub.name)
    except SpeechganError as exc:
        return value, [f"{where}: {exc}"]
    mismatch = protocol_mismatch(annotation, component.factory)
    if mismatch is not None:
        fitting = [n for n in registry.names(ref.kind) if protocol_mismatch(annotation, registry.get(ref.kind, n).factory) is None]
        return value, [f"{where}: {ref.kind} {sub.name!r} does not fit here: {mismatch} ({', '.join(fitting) or 'none registered'})"]
    args, errors = check_component_args(where, ref.kind, sub, component.factory, injectable=injectable, registry=registry)
    return {"name": sub.name, "args": args}, errors


def check_component_args(
    path: str,
    kind: str,
    spec: ComponentSpec,
    factory: Callable[..., Any],
    *,
    injectable: set[str],
    registry: Registry | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Check ``spec.args`` against ``factory``'s signature.

    Returns the validated (type-coerced) arguments and a list of error lines; ``injectable``
    holds the injected arguments the trainer can supply for this config. Arguments marked
    with :class:`ComponentRef` are checked against ``registry``, recursively.
    """
    params, hints, var_kw = signature(factory)
    errors: list[str] = []
    values: dict[str, Any] = {}
    accepted = [n for n in params if n not in INJECTED_ARGS]
    for key, value in spec.args.items():
        where = f"{path}.args.{key}"
        if key in INJECTED_ARGS:
            errors.append(f"{where}: set by speechgan itself from the `{key}:` section; remove it here")
            continue
        if key not in params:
            if var_kw:
                values[key] = value
                continue
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listing = ", ".join(accepted) or "none"
            errors.append(f"{where}: unknown argument of {kind} {spec.name!r}{hint}; it accepts: {listing}")
            continue
        ref = component_ref(hints.get(key))
        if ref is not None:
            values[key], ref_errors = _check_ref(where, ref, hints.get(key), value, registry, injectable)
            errors.extend(ref_errors)
            continue
        adapter = _adapter(hints.get(key, Any))
        if adapter is None:
            values[key] = value
            continue
        try:
            values[key] = adapter.validate_python(value)
        except ValidationError as exc:
            for err in exc.errors():
                sub = _fmt_loc(err["loc"])
                sub = f".{sub}" if err["loc"] and not sub.startswith("[") else (sub if err["loc"] else "")
                errors.append(f"{where}{sub}: {err['msg']} (got {value!r})")
    for name, p in params.items():
        ref = component_ref(hints.get(name))
        if ref is not None and name not in spec.args and isinstance(p.default, str):
            # a default that names a component must exist too
            _, ref_errors = _check_ref(f"{path}.args.{name} (default)", ref, hints.get(name), p.default, registry, injectable)
            errors.extend(ref_errors)
        if p.default is not inspect.Parameter.empty or name in spec.args:
            continue
        if name in INJECTED_ARGS:
            if name not in injectable:
                errors.append(f"{path}: {kind} {spec.name!r} needs a `{name}:` section in the config")
            continue
        errors.append(f"{path}.args.{name}: required argument of {kind} {spec.name!r} is missing")
    return values, errors


def _check_objective(config: Config, factory: Callable[..., Any]) -> list[str]:
    """Roles and loss-term names the objective declares (see speechgan.objective)."""
    errors: list[str] = []
    for section, attr in (("generators", "generator_roles"), ("discriminators", "discriminator_roles")):
        roles = getattr(factory, attr, None)
        given = set(getattr(config, section))
        if roles is None:  # any names, at least one... unless the objective has none of them
            continue
        optional = tuple(getattr(factory, f"optional_{attr}", ()))
        some = [r for r in optional if r in given]
        if some and len(some) < len(optional):
            absent = [r for r in optional if r not in given]
            errors.append(f"{section}.{absent[0]}: objective {config.objective.name!r} takes its optional roles "
                          f"{', '.join(optional)} together, all or none; {', '.join(some)} given without "
                          f"{', '.join(absent)}")
        missing, extra = [r for r in roles if r not in given], sorted(given - set(roles) - set(optional))
        for r in missing:
            errors.append(f"{section}.{r}: objective {config.objective.name!r} needs this role ({section}: {', '.join(roles) or 'none'})")
        for r in extra:
            also = f" (optional: {', '.join(optional)})" if optional else ""
            errors.append(f"{section}.{r}: objective {config.objective.name!r} has no such role; its {section}: {', '.join(roles) or 'none'}{also}")
    terms = getattr(factory, "terms", None)
    if terms is not None:
        for key in config.loss_weights:
            if key not in terms:
                close = difflib.get_close_matches(key, list(terms), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append(f"loss_weights.{key}: objective {config.objective.name!r} has no loss term {key!r}{hint}; its terms: {', '.join(terms)}")
    return errors


def validate_config(data: dict[str, Any], registry: Registry | None, *, source: str = "<config>") -> Config:
    """Validate a merged config dict; with a registry, also every component and its args."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_fmt_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(_report(source, lines)) from None
    if registry is None:
        return config
    errors: list[str] = []
    injectable = {"features"} if config.features is not None else set()
    for path, kind, spec in component_specs(config):
        try:
            component = registry.get(kind, spec.name)
        except SpeechganError as exc:
            errors.append(f"{path}.name: {exc}")
            continue
        values, arg_errors = check_component_args(
            path, kind, spec, component.factory, injectable=injectable, registry=registry
        )
        errors.extend(arg_errors)
        spec.args = values
        if kind == "objective":
            errors.extend(_check_objective(config, component.factory))
    errors.extend(_check_optimizers(config))
    if not errors:  # checks between components, once each one is valid on its own
        errors.extend(check_batches(config, registry) + check_built(config, registry))
    if errors:
        raise ConfigError(_report(source, errors))
    return config


def _check_torch_args(path: str, cls: type, args: dict[str, Any], skip: set[str]) -> list[str]:
    accepted = sorted(set(inspect.signature(cls).parameters) - skip)
    return [
        f"{path}.{key}: not an argument of {cls.__name__}; it accepts: {', '.join(accepted)}"
        for key in args
        if key not in accepted
    ]


def _check_optimizers(config: Config) -> list[str]:
    errors: list[str] = []
    for group, spec in config.optim.items():
        errors += _check_torch_args(f"optim.{group}.args", OPTIMIZERS[spec.name], spec.args, {"params", "lr"})
        if spec.scheduler is not None:
            cls = SCHEDULERS[spec.scheduler.name]
            errors += _check_torch_args(f"optim.{group}.scheduler.args", cls, spec.scheduler.args, {"optimizer"})
    return errors


def _report(source: str, lines: list[str]) -> str:
    head = f"{source}: invalid config" + (f" ({len(lines)} errors)" if len(lines) > 1 else "")
    return head + "\n" + "\n".join(f"  {line}" for line in lines)


def load_config(
    path: str | Path, overrides: Sequence[str] = (), registry: Registry | None = None
) -> Config:
    """Load a recipe, apply includes and overrides, resolve interpolations, validate."""
    data = load_yaml(path)
    data = _apply_overrides(data, overrides)
    try:
        resolved = OmegaConf.to_container(OmegaConf.create(data), resolve=True)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        raise ConfigError(f"{path}: {key + ': ' if key else ''}{exc.msg if hasattr(exc, 'msg') else exc}") from None
    return validate_config(resolved, registry, source=str(path))  # type: ignore[arg-type]


def config_to_yaml(config: Config) -> str:
    """The fully resolved config, loadable again as a recipe."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
