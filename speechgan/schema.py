"""The recipe schema: every section and key a speechgan config may hold.

Pydantic models with ``extra="forbid"``, so an unknown or misspelt key is an error at load
time with its dotted path. Component arguments (``args:``) are checked separately against
the component's own signature (:mod:`speechgan.config`).
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

__all__ = [
    "ComponentSpec",
    "WeightSchedule",
    "SchedulerSpec",
    "OptimizerSpec",
    "EMASpec",
    "DataSection",
    "TrainerSection",
    "EvaluationSection",
    "Config",
    "OPTIMIZERS",
    "SCHEDULERS",
]

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}
SCHEDULERS: dict[str, type[Any]] = {
    "constant": torch.optim.lr_scheduler.ConstantLR,
    "exponential": torch.optim.lr_scheduler.ExponentialLR,
    "step": torch.optim.lr_scheduler.StepLR,
    "multistep": torch.optim.lr_scheduler.MultiStepLR,
    "cosine": torch.optim.lr_scheduler.CosineAnnealingLR,
    "linear": torch.optim.lr_scheduler.LinearLR,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ComponentSpec(_Strict):
    """A registered component by name, with the keyword arguments its factory takes."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class WeightSchedule(_Strict):
    """A loss weight that applies from step ``start`` up to (not including) ``stop``.

    CycleGAN-VC uses the identity loss for the first 10^4 iterations only:
    ``{value: 5.0, stop: 10000}``.
    """

    value: float
    start: NonNegativeInt = 0
    stop: PositiveInt | None = None

    def at(self, step: int) -> float:
        active = step >= self.start and (self.stop is None or step < self.stop)
        return self.value if active else 0.0


class SchedulerSpec(_Strict):
    """A learning-rate schedule stepped once per optimizer step."""

    name: Literal["constant", "exponential", "step", "multistep", "cosine", "linear"]
    args: dict[str, Any] = Field(default_factory=dict)


class OptimizerSpec(_Strict):
    """One optimizer for a module group (all generators, or all discriminators)."""

    name: Literal["adam", "adamw", "sgd", "rmsprop"] = "adam"
    lr: PositiveFloat
    args: dict[str, Any] = Field(default_factory=dict)  # betas, eps, weight_decay, momentum...
    scheduler: SchedulerSpec | None = None


class EMASpec(_Strict):
    """Exponential moving average of the generator weights, used for evaluation."""

    decay: float = Field(0.999, gt=0.0, lt=1.0)
    start_step: NonNegativeInt = 0


class DataSection(_Strict):
    train: ComponentSpec
    valid: ComponentSpec | None = None
    batch_size: PositiveInt = 16
    num_workers: NonNegativeInt = 0
    shuffle: bool = True
    drop_last: bool = True


class TrainerSection(_Strict):
    max_steps: PositiveInt
    d_steps_per_g: PositiveInt = 1  # critic steps per generator step (5 for WGAN-GP)
    accumulate: PositiveInt = 1  # micro-batches per optimizer step
    grad_clip: PositiveFloat | None = None  # max global L2 norm per module group
    ema: EMASpec | None = None
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    deterministic: bool = False
    log_every: PositiveInt = 50
    checkpoint_every: PositiveInt | None = 1000
    keep_checkpoints: PositiveInt | None = None  # periodic ones kept besides last.pt
    sample_every: PositiveInt | None = None
    max_nonfinite_steps: PositiveInt = 20
    callbacks: list[ComponentSpec] = Field(default_factory=list)


class EvaluationSection(_Strict):
    every: PositiveInt | None = None  # also evaluated once at the end of training
    metrics: list[ComponentSpec] = Field(default_factory=list)


class Config(_Strict):
    """A whole recipe. ``include:`` is resolved before this model sees it."""

    description: str = ""
    seed: int = 0
    objective: ComponentSpec
    generators: dict[str, ComponentSpec]
    discriminators: dict[str, ComponentSpec] = Field(default_factory=dict)
    features: ComponentSpec | None = None
    loss_weights: dict[str, float | WeightSchedule] = Field(default_factory=dict)
    data: DataSection
    optim: dict[Literal["generator", "discriminator"], OptimizerSpec]
    trainer: TrainerSection
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    @model_validator(mode="after")
    def _optimizers_cover_modules(self) -> "Config":
        if "generator" not in self.optim:
            raise ValueError("optim.generator is required")
        if self.discriminators and "discriminator" not in self.optim:
            raise ValueError("optim.discriminator is required when discriminators are configured")
        return self

    def weight(self, term: str, step: int, default: float) -> float:
        """The weight of loss term ``term`` at ``step`` (config value, else ``default``)."""
        w = self.loss_weights.get(term)
        if w is None:
            return default
        return w.at(step) if isinstance(w, WeightSchedule) else float(w)
