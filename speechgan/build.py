"""Build live components from a validated config.

The only place where config sections become objects: every component gets plain keyword
arguments (its ``args``), references (:class:`~speechgan.registry.ComponentRef`) are built
recursively, and injected arguments (``features``) are passed where a factory asks for
them. A factory that raises is reported with the config path and its provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .config import INJECTED_ARGS, as_spec, component_ref, signature
from .errors import ConfigError, SpeechganError
from .objective import Objective
from .registry import Registry
from .schema import OPTIMIZERS, SCHEDULERS, ComponentSpec, Config, OptimizerSpec, SchedulerSpec

__all__ = ["Components", "build_component", "build_components", "build_optimizer", "build_scheduler"]


def build_component(
    registry: Registry, kind: str, spec: ComponentSpec | dict[str, Any] | str, *,
    path: str, injected: dict[str, Any] | None = None,
) -> Any:
    """Build one component (and the components its arguments reference)."""
    spec = spec if isinstance(spec, ComponentSpec) else as_spec(spec)
    injected = injected or {}
    component = registry.get(kind, spec.name)
    params, hints, _ = signature(component.factory)
    kwargs = dict(spec.args)
    for name, p in params.items():
        ref = component_ref(hints.get(name))
        if ref is not None:
            value = kwargs.get(name, p.default)
            if isinstance(value, (str, dict, ComponentSpec)):
                kwargs[name] = build_component(
                    registry, ref.kind, value, path=f"{path}.args.{name}", injected=injected
                )
        elif name in INJECTED_ARGS and injected.get(name) is not None:
            kwargs[name] = injected[name]
    try:
        return component.build(**kwargs)
    except ConfigError as exc:  # a bad value the factory itself caught: say where it is set
        raise ConfigError(f"{path}: {exc}") from exc
    except SpeechganError:
        raise
    except Exception as exc:
        raise ConfigError(
            f"{path}: building {kind} {spec.name!r} from {component.provider} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


@dataclass
class Components:
    """Everything a run is made of, built from one config."""

    config: Config
    objective: Objective
    generators: nn.ModuleDict
    discriminators: nn.ModuleDict
    features: nn.Module | None
    datasets: dict[str, Any]
    metrics: list[tuple[str, Any]] = field(default_factory=list)  # (config path, metric)
    callbacks: list[Any] = field(default_factory=list)


def _check_hop(config: Config, generators: nn.ModuleDict, features: nn.Module | None) -> None:
    """A generator whose total upsampling differs from the front-end's hop is a config error."""
    hop = getattr(features, "hop_length", None)
    for role, module in generators.items():
        factor = getattr(module, "upsample_factor", None)
        if hop is not None and factor is not None and int(factor) != int(hop):
            raise ConfigError(
                f"generators.{role}: generator {config.generators[role].name!r} upsamples by "
                f"{factor} samples per frame but the front-end `features: {config.features.name}` "  # type: ignore[union-attr]
                f"has hop_length {hop}; make the upsampling rates multiply to the hop size"
            )


def build_components(config: Config, registry: Registry, *, datasets: bool = True) -> Components:
    """Build the objective, modules, front-end, datasets, metrics and callbacks of a run."""
    features = None
    if config.features is not None:
        features = build_component(registry, "feature", config.features, path="features")
    injected = {"features": features}

    def build(kind: str, spec: ComponentSpec, path: str) -> Any:
        return build_component(registry, kind, spec, path=path, injected=injected)

    generators = nn.ModuleDict(
        {role: build("generator", spec, f"generators.{role}") for role, spec in config.generators.items()}
    )
    discriminators = nn.ModuleDict(
        {role: build("discriminator", spec, f"discriminators.{role}") for role, spec in config.discriminators.items()}
    )
    for section, modules in (("generators", generators), ("discriminators", discriminators)):
        for role, module in modules.items():
            if not isinstance(module, nn.Module):
                raise ConfigError(f"{section}.{role}: the factory returned {type(module).__name__}, not an nn.Module")
    _check_hop(config, generators, features)
    objective = build("objective", config.objective, "objective")
    if not isinstance(objective, Objective):
        raise ConfigError(
            f"objective: {config.objective.name!r} built a {type(objective).__name__}, "
            "not a speechgan.objective.Objective"
        )
    data: dict[str, Any] = {}
    if datasets:
        data["train"] = build("dataset", config.data.train, "data.train")
        if config.data.valid is not None:
            data["valid"] = build("dataset", config.data.valid, "data.valid")
    metrics = [
        (f"evaluation.metrics[{i}]", build("metric", spec, f"evaluation.metrics[{i}]"))
        for i, spec in enumerate(config.evaluation.metrics)
    ]
    callbacks = [
        build("callback", spec, f"trainer.callbacks[{i}]") for i, spec in enumerate(config.trainer.callbacks)
    ]
    return Components(config, objective, generators, discriminators, features, data, metrics, callbacks)


def build_optimizer(spec: OptimizerSpec, params: list[nn.Parameter], path: str) -> torch.optim.Optimizer:
    """An optimizer from an :class:`~speechgan.schema.OptimizerSpec` (args checked at load)."""
    try:
        return OPTIMIZERS[spec.name](params, lr=spec.lr, **spec.args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {spec.name}: {exc}") from None


def build_scheduler(spec: SchedulerSpec, optimizer: torch.optim.Optimizer, path: str) -> Any:
    """A per-step learning-rate scheduler from a :class:`~speechgan.schema.SchedulerSpec`."""
    try:
        return SCHEDULERS[spec.name](optimizer, **spec.args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}.scheduler: {spec.name}: {exc}") from None
