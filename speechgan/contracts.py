"""Load-time checks between components: batch keys, referenced kinds, and the hop size.

Each check runs when a config is loaded (``speechgan check`` as well as ``train``), so a
mismatch between two components is a config error with the key path, never a shape or
attribute error minutes into training:

* :func:`check_batches`: the keys an objective ``reads`` must be in what the configured
  datasets ``yield`` (:mod:`speechgan.batches`).
* :func:`protocol_mismatch`: a component referenced by name from a factory argument
  (``criterion: Annotated[AdversarialCriterion, ComponentRef("loss")]``) must build an
  object of that argument's type: the ``loss`` kind holds criteria, penalties, instance
  noise and top-k alike, so the kind alone does not say which fits.
* :func:`check_built`: a generator that turns frames into samples (an ``upsample_factor``
  attribute) must upsample by the front-end's ``hop_length``, and the objective's own
  checks of its arguments (against the front-end, say) must pass. Generators are built on
  PyTorch's ``meta`` device (shapes only: no memory, no initialisation), so the check
  costs next to nothing even for large generators; the objective, small, is built as is.
"""

from __future__ import annotations

import contextlib
import inspect
import types
import typing
from typing import Any, Union

import torch

from .batches import declared_batch, missing_keys
from .errors import SpeechganError
from .registry import Registry
from .schema import Config

__all__ = ["check_batches", "expected_types", "protocol_mismatch", "built_mismatch", "check_built", "hop_mismatch"]


def check_batches(config: Config, registry: Registry) -> list[str]:
    """Error lines for every dataset whose batches lack a key the objective reads."""
    objective = registry.get("objective", config.objective.name).factory
    reads = getattr(objective, "reads", None)
    if not reads:
        return []
    has_features = config.features is not None
    errors = []
    for split in ("train", "valid"):
        spec = getattr(config.data, split)
        if spec is None:
            continue
        declared = declared_batch(registry.get("dataset", spec.name).factory)
        if declared is None:  # a dataset that declares nothing is not checked
            continue
        missing = missing_keys(reads, declared, has_features=has_features)
        if not missing:
            continue
        have = sorted(declared.resolve(has_features=has_features))
        line = (
            f"data.{split}: dataset {spec.name!r} yields batches with keys {', '.join(have)}; objective "
            f"{config.objective.name!r} reads {', '.join(repr(k) for k in missing)}, which they lack"
        )
        if not has_features and set(missing) <= declared.resolve(has_features=True):
            line += " (add a `features:` section: the dataset then yields the front-end's output as `features`)"
        errors.append(line)
    return errors


def expected_types(annotation: Any) -> tuple[type, ...]:
    """The classes an argument annotation accepts (``X``, ``X | None``, ``Annotated[X, ...]``)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return tuple(t for a in typing.get_args(annotation) if a is not type(None) for t in expected_types(a))
    return (annotation,) if isinstance(annotation, type) else ()


def _built_type(factory: Any) -> type | None:
    """The class a factory builds: the class itself, or a function's return annotation."""
    if inspect.isclass(factory):
        return factory
    try:
        hint = typing.get_type_hints(factory).get("return")
    except Exception:
        return None
    return hint if isinstance(hint, type) else None


def _fits(check: Any, obj: Any, expected: type) -> bool:
    """``check(obj, expected)`` (``issubclass`` or ``isinstance``); a runtime-checkable
    protocol of methods checks the members, one that cannot be checked is accepted."""
    try:
        return check(obj, expected)
    except TypeError:
        return True


def _mismatch(annotation: Any, obj: Any, check: Any, what: str) -> str | None:
    expected = expected_types(annotation)
    if not expected or any(_fits(check, obj, e) for e in expected):
        return None
    wanted = " or ".join(e.__name__ for e in expected)
    return f"{what}, and this argument takes {wanted}"


def protocol_mismatch(annotation: Any, factory: Any) -> str | None:
    """Why the component ``factory`` builds does not fit ``annotation``, or ``None`` if it does.

    A factory whose result type is unknown (a function without a return annotation) is
    accepted here and checked when it is built (:func:`built_mismatch`).
    """
    built = _built_type(factory)
    return None if built is None else _mismatch(annotation, built, issubclass, f"it builds {built.__name__}")


def built_mismatch(annotation: Any, value: Any) -> str | None:
    """Why a built component ``value`` does not fit ``annotation``, or ``None`` if it does."""
    return _mismatch(annotation, value, isinstance, f"built {type(value).__name__}")


def hop_mismatch(role: str, generator_name: str, factor: int, features_name: str, hop: int) -> str:
    return (
        f"generators.{role}: generator {generator_name!r} upsamples by {factor} samples per frame but "
        f"the front-end `features: {features_name}` has hop_length {hop}; make the upsampling rates "
        "multiply to the hop size (or set the front-end's hop_length)"
    )


def _build_to_check(
    registry: Registry, kind: str, spec: Any, path: str, features: Any, errors: list[str], *, meta: bool
) -> Any:
    """Build a component (on the meta device with ``meta``); its own argument checks go to ``errors``."""
    from .build import build_component  # build imports config, which imports this module

    try:
        with torch.device("meta") if meta else contextlib.nullcontext():
            return build_component(registry, kind, spec, path=path, injected={"features": features})
    except SpeechganError as exc:
        if exc.__cause__ is None or isinstance(exc.__cause__, SpeechganError):
            errors.append(str(exc))  # the factory refused its arguments
        return None  # else it cannot be built here: checked when built for training


def check_built(config: Config, registry: Registry) -> list[str]:
    """Error lines for generators whose upsampling differs from the front-end's hop, and for
    the objective's own checks of its arguments (a loss front-end at another sample rate
    than the input's...): generators are built on the meta device, the objective as is."""
    from .build import build_component

    features = None
    if config.features is not None:
        try:
            features = build_component(registry, "feature", config.features, path="features")
        except SpeechganError as exc:
            return [str(exc)]
    errors: list[str] = []
    hop = getattr(features, "hop_length", None)
    for role, spec in config.generators.items() if features is not None else ():
        module = _build_to_check(registry, "generator", spec, f"generators.{role}", features, errors, meta=True)
        factor = getattr(module, "upsample_factor", None)
        if hop is not None and factor is not None and int(factor) != int(hop):
            errors.append(hop_mismatch(role, spec.name, int(factor), config.features.name, int(hop)))
    # the objective is small (losses, front-ends that compute their filter banks): built as is
    _build_to_check(registry, "objective", config.objective, "objective", features, errors, meta=False)
    return errors
