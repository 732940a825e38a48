"""A run directory -> its trained models: the one path every inference command takes.

:func:`load_run` rebuilds a run from its own ``config.yaml`` and a checkpoint: the
generators (with their averaged weights where the run kept an EMA), the feature
front-end and the objective. It builds no optimizer, discriminator, dataset, data loader,
metric or callback, and reads no training data, so a run directory copied to another
machine without its corpus loads (ParallelWaveGAN's ``decode``, which reads the
``config.yml`` beside the checkpoint, is the model).

The checkpoint's front-end fingerprint must equal the one the config builds: a vocoder
fed mel spectrograms made with other settings (another hop, fmax or mel count) produces
noise, the commonest HiFi-GAN complaint, so the mismatch is refused before any work.

EMA weights: the exponential moving average of the generator's weights, which GANs
evaluate with (Karras et al. 2018, "Progressive growing of GANs"; Yazici et al. 2019, "The
unusual effectiveness of averaging in GAN training"). The trainer keeps one
``torch.optim.swa_utils.AveragedModel`` per generator role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .build import build_models
from .checkpoint import load_checkpoint
from .config import load_config
from .distributed import choose_device
from .errors import TrainingError
from .objective import Objective
from .plugins import get_plugin_manager, report_failures
from .registry import Registry
from .schema import Config

__all__ = ["LoadedRun", "load_run", "generator_weights", "INFERENCE_FIELDS"]

#: what inference reads of a checkpoint (resuming training reads ``checkpoint.TRAINING_FIELDS``)
INFERENCE_FIELDS = ("step", "generators", "ema", "features")


@dataclass
class LoadedRun:
    """A trained run, ready for inference: its modules are in evaluation mode on ``device``."""

    config: Config
    run_dir: Path
    registry: Registry  # the one its components came from: build more of them (datasets, metrics) with it
    generators: nn.ModuleDict
    features: nn.Module | None
    objective: Objective
    device: torch.device
    checkpoint: Path
    step: int
    ema_roles: tuple[str, ...]  # the generator roles that hold their EMA weights

    @property
    def weights(self) -> str:
        """Which weights are loaded, for messages: ``CHECKPOINT (EMA: generator)``."""
        return f"{self.checkpoint} (EMA: {', '.join(self.ema_roles)})" if self.ema_roles else str(self.checkpoint)


def _does_not_fit(checkpoint: Path, why: str) -> TrainingError:
    return TrainingError(
        f"{checkpoint}: does not fit this run: {why}; use a checkpoint that `speechgan train` wrote for this run"
    )


def generator_weights(
    state: dict[str, Any], roles: Sequence[str], *, checkpoint: Path, ema: bool = True
) -> tuple[dict[str, torch.Tensor], tuple[str, ...]]:
    """The generators' state dict of a checkpoint and the roles whose EMA weights it holds.

    With ``ema``, each role's averaged weights replace its live ones where the average was
    updated at least once: an ``AveragedModel`` state (``module.``-prefixed keys and
    ``n_averaged``) still holds the initial weights before its first update (the trainer
    starts averaging at ``trainer.ema.start_step``).
    """
    weights = dict(state["generators"])
    used: list[str] = []
    for role in roles:
        averaged = state["ema"].get(role)
        if not ema or averaged is None:
            continue
        if "n_averaged" not in averaged:
            raise _does_not_fit(checkpoint, f"its 'ema.{role}' state has no 'n_averaged' field")
        if int(averaged["n_averaged"]) == 0:
            continue
        weights = {k: v for k, v in weights.items() if not k.startswith(f"{role}.")}
        weights |= {f"{role}.{k.removeprefix('module.')}": v for k, v in averaged.items() if k.startswith("module.")}
        used.append(role)
    return weights, tuple(used)


def _mismatch(module: nn.Module, weights: dict[str, torch.Tensor]) -> str:
    """How ``weights`` differ from ``module``'s state dict: the first three differences and a count."""
    own = module.state_dict()
    problems = [f"{k} is missing" for k in own if k not in weights]
    problems += [f"{k} is not in the configured model" for k in weights if k not in own]
    problems += [
        f"{k} has shape {tuple(weights[k].shape)}, configured {tuple(v.shape)}"
        for k, v in own.items() if k in weights and weights[k].shape != v.shape
    ]
    return "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")


def _front_end(spec: dict[str, Any] | None, fingerprint: str | None) -> str:
    return "no front-end" if spec is None else f"`features: {spec['name']}` (fingerprint {fingerprint})"


def _changed_args(trained: dict[str, Any] | None, current: dict[str, Any] | None) -> str:
    """`` (features.args: fmax 8000.0 -> None)``: what differs between two specs of one front-end."""
    if trained is None or current is None or trained["name"] != current["name"]:
        return ""
    old, new = trained.get("args", {}), current.get("args", {})
    keys = sorted(old.keys() | new.keys())
    diff = [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]
    return f" (features.args: {', '.join(diff)})" if diff else ""


def _check_front_end(
    state: dict[str, Any], features: nn.Module | None, config: Config, *, checkpoint: Path, source: str
) -> None:
    """Refuse a checkpoint whose front-end differs from the one the config builds."""
    trained = state["features"]  # None, or {"name", "fingerprint"} as the trainer saved it
    trained_fp = None if trained is None else trained.get("fingerprint")
    current_fp = getattr(features, "fingerprint", None)
    if (trained is None) == (features is None) and trained_fp == current_fp:
        return
    # the checkpoint's own config has the arguments it was trained with
    trained_spec = (state.get("config") or {}).get("features") or trained
    current_spec = None if config.features is None else config.features.model_dump(mode="json")
    raise TrainingError(
        f"{checkpoint} was trained with the front-end {_front_end(trained_spec, trained_fp)}, but {source} builds "
        f"{_front_end(current_spec, current_fp)}{_changed_args(trained_spec, current_spec)}: its generators would "
        "read features they were not trained on. Use the `features:` settings it was trained with (they are in "
        "the checkpoint's config), or train a model for the new ones"
    )


def _registry() -> Registry:
    """The registry of every installed plugin; a plugin that fails to load is reported on stderr."""
    pm = get_plugin_manager()
    report_failures(pm)
    return pm.registry


def load_run(
    run_dir: str | Path,
    *,
    registry: Registry | None = None,
    checkpoint: str | Path | None = None,
    ema: bool = True,
    device: str | torch.device | None = "cpu",
    overrides: Sequence[str] = (),
) -> LoadedRun:
    """Rebuild a trained run from ``RUN_DIR/config.yaml`` (with ``overrides``) and a checkpoint.

    ``checkpoint`` defaults to ``RUN_DIR/checkpoints/last.pt``; ``ema=False`` loads the live
    generator weights instead of the averaged ones; ``device`` is ``cpu``, ``cuda[:N]``,
    ``auto`` or ``None`` for the run's own ``trainer.device``; ``registry`` defaults to the
    one of every installed plugin. The caller's RNG is left as it was (building the modules
    draws initial weights, which the checkpoint then replaces).
    """
    run_dir = Path(run_dir)
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise TrainingError(f"{run_dir} is not a run directory: it has no config.yaml")
    registry = _registry() if registry is None else registry
    config = load_config(config_path, overrides, registry)
    ckpt = Path(checkpoint) if checkpoint is not None else run_dir / "checkpoints" / "last.pt"
    state = load_checkpoint(ckpt, require=INFERENCE_FIELDS)
    with torch.random.fork_rng(devices=[]):
        models = build_models(config, registry, discriminators=False)
    source = f"{config_path}" + (f" with overrides {' '.join(overrides)}" if overrides else "")
    _check_front_end(state, models.features, config, checkpoint=ckpt, source=source)
    weights, ema_roles = generator_weights(state, list(models.generators), checkpoint=ckpt, ema=ema)
    problems = _mismatch(models.generators, weights)
    if problems:
        raise _does_not_fit(ckpt, f"its generator weights differ from the configured generators: {problems}")
    models.generators.load_state_dict(weights)
    if "objective" in state:  # what the objective learned from the training data (Objective.prepare)
        try:
            models.objective.load_state_dict(state["objective"])
        except (RuntimeError, KeyError, ValueError) as exc:
            raise _does_not_fit(ckpt, f"its objective state does not fit objective {config.objective.name!r}: "
                                      f"{str(exc)[:300]}") from None
    if device is None:
        device = config.trainer.device
    target = choose_device(device, 0) if isinstance(device, str) else device
    if models.features is not None:
        models.features.to(target).eval()
    return LoadedRun(
        config=config, run_dir=run_dir, registry=registry, generators=models.generators.to(target).eval(),
        features=models.features, objective=models.objective.to(target).eval(), device=target,
        checkpoint=ckpt, step=int(state["step"]), ema_roles=ema_roles,
    )
