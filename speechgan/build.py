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
from .contracts import built_mismatch, hop_mismatch
from .errors import ConfigError, SpeechganError
from .objective import Objective
from .registry import Registry
from .schema import OPTIMIZERS, SCHEDULERS, ComponentSpec, Config, OptimizerSpec, SchedulerSpec

__all__ = [
    "Components", "build_component", "build_components", "build_models", "build_metrics", "build_dataset",
    "data_splits", "build_optimizer", "build_scheduler",
]


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
                where = f"{path}.args.{name}"
                kwargs[name] = built = build_component(registry, ref.kind, value, path=where, injected=injected)
                mismatch = built_mismatch(hints[name], built)
                if mismatch is not None:
                    raise ConfigError(f"{where}: {mismatch}")
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
            name = config.features.name  # type: ignore[union-attr]
            raise ConfigError(hop_mismatch(role, config.generators[role].name, int(factor), name, int(hop)))


def build_models(config: Config, registry: Registry, *, discriminators: bool = True) -> Components:
    """The front-end, generators, discriminators and objective of a run: no data, metrics or callbacks.

    ``discriminators=False`` leaves them out too (inference needs only the generators).
    """
    features = None
    if config.features is not None:
        features = build_component(registry, "feature", config.features, path="features")
    injected = {"features": features}

    def build(kind: str, spec: ComponentSpec, path: str) -> Any:
        return build_component(registry, kind, spec, path=path, injected=injected)

    generators = nn.ModuleDict(
        {role: build("generator", spec, f"generators.{role}") for role, spec in config.generators.items()}
    )
    specs = config.discriminators if discriminators else {}
    judges = nn.ModuleDict(
        {role: build("discriminator", spec, f"discriminators.{role}") for role, spec in specs.items()}
    )
    for section, modules in (("generators", generators), ("discriminators", judges)):
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
    return Components(config, objective, generators, judges, features, datasets={})


def build_metrics(config: Config, registry: Registry, *, features: nn.Module | None) -> list[tuple[str, Any]]:
    """The metrics of ``evaluation.metrics``, each with its config path."""
    metrics = []
    for i, spec in enumerate(config.evaluation.metrics):
        path = f"evaluation.metrics[{i}]"
        metrics.append((path, build_component(registry, "metric", spec, path=path, injected={"features": features})))
    return metrics


def data_splits(config: Config) -> tuple[str, ...]:
    """The data splits a config sets: ``train``, and ``valid`` where ``data.valid`` is given."""
    return ("train",) if config.data.valid is None else ("train", "valid")


def build_dataset(config: Config, registry: Registry, split: str, *, features: nn.Module | None) -> Any:
    """The dataset of ``data.<split>``, with the front-end injected where its factory asks for it."""
    spec = getattr(config.data, split)
    return build_component(registry, "dataset", spec, path=f"data.{split}", injected={"features": features})


def build_components(config: Config, registry: Registry, *, datasets: bool = True) -> Components:
    """Build the objective, modules, front-end, datasets, metrics and callbacks of a run."""
    components = build_models(config, registry)
    features = components.features
    if datasets:
        components.datasets = {s: build_dataset(config, registry, s, features=features) for s in data_splits(config)}
    components.metrics = build_metrics(config, registry, features=features)
    components.callbacks = [
        build_component(registry, "callback", spec, path=f"trainer.callbacks[{i}]", injected={"features": features})
        for i, spec in enumerate(config.trainer.callbacks)
    ]
    return components


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
