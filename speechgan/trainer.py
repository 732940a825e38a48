"""The adversarial trainer: one loop for every GAN family an objective describes.

Per step (hifi-gan ``train.py``; Goodfellow et al. 2014, Algorithm 1, with k =
``d_steps_per_g`` discriminator steps per generator step):

1. ``d_steps_per_g`` times: fresh batch(es), ``objective.generate``, D terms on the
   detached fakes, weighted total, backward, D update;
2. discriminators frozen, G terms on the last fakes (the graph is kept when no
   accumulation is used), backward, G update, EMA update.

The trainer owns optimizers and schedulers per module group, loss weights, gradient
clipping and accumulation, mixed precision, gradient averaging across ranks, the
non-finite guard, logging, evaluation and checkpoints; the objective owns the maths.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .build import Components, build_optimizer, build_scheduler
from .callbacks import EVENTS
from .checkpoint import assert_finite, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from .distributed import DistInfo, average_gradients, broadcast_module, gather_strings, weights_fingerprint
from .errors import TrainingError
from .evaluate import EvaluationContext, run_metrics, write_metrics
from .loader import make_loader, to_device
from .tracking import Tracker, as_float

__all__ = ["Trainer"]

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Trainer:
    """Trains the modules of a :class:`~speechgan.build.Components` into ``run_dir``."""

    def __init__(self, components: Components, run_dir: Path, *, device: torch.device, dist: DistInfo = DistInfo()) -> None:
        self.c, self.config, self.settings = components, components.config, components.config.trainer
        self.run_dir, self.device, self.dist = Path(run_dir), device, dist
        self.objective = components.objective.to(device)
        self.g = components.generators.to(device)
        self.d = components.discriminators.to(device)
        if components.features is not None:
            components.features.to(device)
        if dist.enabled:
            for module in (self.g, self.d):
                broadcast_module(module)
        self.groups: dict[str, nn.ModuleDict] = {"generator": self.g}
        if len(self.d):
            self.groups["discriminator"] = self.d
        self.params = {k: [p for p in m.parameters() if p.requires_grad] for k, m in self.groups.items()}
        self.optimizers = {k: build_optimizer(self.config.optim[k], self.params[k], f"optim.{k}") for k in self.groups}
        self.schedulers = {
            k: build_scheduler(self.config.optim[k].scheduler, opt, f"optim.{k}")
            for k, opt in self.optimizers.items()
            if self.config.optim[k].scheduler is not None
        }
        fp16 = self.settings.precision == "fp16"
        self.scalers = {k: torch.amp.GradScaler(device.type) for k in self.groups} if fp16 else {}
        ema = self.settings.ema
        self.ema = (
            {r: AveragedModel(m, multi_avg_fn=get_ema_multi_avg_fn(ema.decay), use_buffers=True) for r, m in self.g.items()}
            if ema is not None else {}
        )
        data = self.config.data
        self.loader, self.sampler = make_loader(
            components.datasets["train"], batch_size=data.batch_size, shuffle=data.shuffle,
            drop_last=data.drop_last, num_workers=data.num_workers, seed=self.config.seed,
            rank=dist.rank, world_size=dist.world_size,
        )
        if len(self.loader) == 0:
            n = len(components.datasets["train"])
            raise TrainingError(
                f"data.train holds {n} items: not one batch of data.batch_size={data.batch_size}"
                + (f" per rank ({dist.world_size} ranks)" if dist.enabled else "")
            )
        self.step = self.epoch = self.batch_in_epoch = self.nonfinite_steps = 0
        self._iter: Iterator[Any] | None = None
        self.last_batch: Any = None
        self.tracker: Tracker | None = None

    # -- data --------------------------------------------------------------------------

    def next_batch(self) -> Any:
        while True:
            if self._iter is None:
                self.sampler.set_epoch(self.epoch, self.batch_in_epoch * self.config.data.batch_size)
                set_epoch = getattr(self.loader.dataset, "set_epoch", None)
                if set_epoch is not None:  # datasets with random crops draw new ones each epoch
                    set_epoch(self.epoch)
                self.loader.generator.manual_seed(self.config.seed * 7_919 + self.epoch)  # type: ignore[union-attr]
                self._iter = iter(self.loader)
            try:
                batch = next(self._iter)
            except StopIteration:
                self.epoch, self.batch_in_epoch, self._iter = self.epoch + 1, 0, None
                continue
            self.batch_in_epoch += 1
            return to_device(batch, self.device)

    # -- one step ----------------------------------------------------------------------

    def _autocast(self) -> Any:
        dtype = _DTYPES.get(self.settings.precision)
        return torch.autocast(self.device.type, dtype=dtype) if dtype is not None else nullcontext()

    def weights(self) -> dict[str, float]:
        return {t: self.config.weight(t, self.step, w) for t, w in self.objective.terms.items()}

    def _total(
        self, terms: dict[str, torch.Tensor], weights: dict[str, float], logs: dict[str, list[torch.Tensor]], prefix: str
    ) -> torch.Tensor:
        """sum(weight x term); every term and the total go to ``logs``."""
        total = torch.zeros((), device=self.device)
        for name, value in terms.items():
            if name.startswith("stats/"):
                logs[name].append(value.detach().float())
                continue
            if name not in weights:
                raise TrainingError(
                    f"objective {self.config.objective.name!r} returned loss term {name!r}, which it does "
                    f"not declare; declared terms: {', '.join(weights)}"
                )
            logs[name].append(value.detach().float())
            if weights[name] != 0.0:
                total = total + weights[name] * value.float()
        logs[f"{prefix}/total"].append(total.detach())
        return total

    def _update(self, group: str, total: torch.Tensor, logs: dict[str, list[torch.Tensor]]) -> bool:
        """Average, unscale, clip and apply the gradients of one module group."""
        params, optimizer, scaler = self.params[group], self.optimizers[group], self.scalers.get(group)
        if self.dist.enabled:
            average_gradients(params, self.dist.world_size)
        if scaler is not None:
            scaler.unscale_(optimizer)
        max_norm = self.settings.grad_clip or math.inf
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm) if params else torch.zeros(())
        logs[f"grad_norm/{group}"].append(norm.detach().float())
        # the scaler skips steps with inf/nan gradients itself; the guard still checks the loss
        finite = bool(torch.isfinite(total)) and (scaler is not None or bool(torch.isfinite(norm)))
        if not finite:
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.update()
            self.nonfinite_steps += 1
            logs["nonfinite_steps"] = [torch.tensor(float(self.nonfinite_steps))]
            if self.nonfinite_steps > self.settings.max_nonfinite_steps:
                raise TrainingError(
                    f"{self.nonfinite_steps} steps had a non-finite loss or gradient (last: {group} "
                    f"step at {self.step}), more than trainer.max_nonfinite_steps="
                    f"{self.settings.max_nonfinite_steps}; stopping. Lower the learning rate, clip "
                    "gradients (trainer.grad_clip) or check the data. The last checkpoint is intact."
                )
            return False
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if group in self.schedulers:
            self.schedulers[group].step()
        return True

    def _backward(self, group: str, loss: torch.Tensor) -> None:
        scaler = self.scalers.get(group)
        (scaler.scale(loss) if scaler is not None else loss).backward()

    @contextmanager
    def _frozen(self, modules: nn.Module) -> Iterator[None]:
        flags = [(p, p.requires_grad) for p in modules.parameters()]
        for p, _ in flags:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator update (and its discriminator updates); the mean of each logged value."""
        weights = self.weights()
        logs: dict[str, list[torch.Tensor]] = defaultdict(list)
        accumulate, rounds = self.settings.accumulate, self.settings.d_steps_per_g if len(self.d) else 0
        kw = {"g": self.g, "step": self.step}
        micro: list[Any] = []
        kept: list[Any] = []  # fakes with their graph, reused by the G step
        for r in range(rounds):
            keep = r == rounds - 1 and accumulate == 1
            micro, kept = [self.next_batch() for _ in range(accumulate)], []
            loss = torch.zeros((), device=self.device)
            for batch in micro:
                with self._autocast(), torch.set_grad_enabled(keep):
                    state = self.objective.generate(batch, **kw)
                with self._autocast():
                    terms = self.objective.discriminator_terms(batch, state, d=self.d, weights=weights, **kw)
                total = self._total(terms, weights, logs, "d") / accumulate
                self._backward("discriminator", total)
                loss = loss + total.detach()
                if keep:
                    kept.append(state)
            self._update("discriminator", loss, logs)
        if not micro:
            micro = [self.next_batch() for _ in range(accumulate)]
        loss = torch.zeros((), device=self.device)
        with self._frozen(self.d):
            for i, batch in enumerate(micro):
                with self._autocast():
                    state = kept[i] if kept else self.objective.generate(batch, **kw)
                    terms = self.objective.generator_terms(batch, state, d=self.d, weights=weights, **kw)
                total = self._total(terms, weights, logs, "g") / accumulate
                self._backward("generator", total)
                loss = loss + total.detach()
        if self._update("generator", loss, logs) and self.ema and self.step >= self.settings.ema.start_step:  # type: ignore[union-attr]
            for role, averaged in self.ema.items():
                averaged.update_parameters(self.g[role])
        self.last_batch = micro[-1]
        return {k: torch.stack(v).mean() for k, v in logs.items()}

    # -- the loop ----------------------------------------------------------------------

    def _callbacks(self, event: str, *args: Any) -> None:
        assert event in EVENTS
        for cb in self.c.callbacks:
            method = getattr(cb, event, None)
            if method is not None:
                method(self, *args)

    def eval_generators(self) -> nn.ModuleDict:
        """EMA weights where the run keeps them (once averaged at least once), else the live ones."""
        if self.ema and all(int(m.n_averaged) > 0 for m in self.ema.values()):
            return nn.ModuleDict({r: self.ema[r].module for r in self.ema})
        return self.g

    def evaluate(self) -> dict[str, float]:
        if not self.c.metrics:
            return {}
        ctx = EvaluationContext(
            config=self.config, run_dir=self.run_dir, objective=self.objective,
            generators=self.eval_generators(), discriminators=self.d, datasets=self.c.datasets,
            features=self.c.features, device=self.device, seed=self.config.seed, step=self.step,
        )
        results = run_metrics(ctx, self.c.metrics) if self.dist.is_main else {}
        if self.dist.is_main:
            write_metrics(self.run_dir, results, self.step)
            if self.tracker is not None:
                self.tracker.scalars(self.step, {f"eval/{k}": v for k, v in results.items()})
                self.tracker.message(f"step {self.step} | eval | " + " ".join(f"{k}={v:.4g}" for k, v in results.items()))
        self._callbacks("on_evaluate", self.step, results)
        return results

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "nonfinite_steps": self.nonfinite_steps,
            "generators": self.g.state_dict(), "discriminators": self.d.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "ema": {r: m.state_dict() for r, m in self.ema.items()},
            "rng": rng_state(),
            "config": self.config.model_dump(mode="json"),
            "features": None if self.c.features is None else {
                "name": self.config.features.name,  # type: ignore[union-attr]
                "fingerprint": getattr(self.c.features, "fingerprint", None),
            },
        }

    def load_state_dict(self, state: dict[str, Any], source: Path) -> None:
        try:
            self.g.load_state_dict(state["generators"])
            self.d.load_state_dict(state["discriminators"])
            for k, o in self.optimizers.items():
                o.load_state_dict(state["optimizers"][k])
            for k, s in self.schedulers.items():
                s.load_state_dict(state["schedulers"][k])
            for k, s in self.scalers.items():
                s.load_state_dict(state["scalers"][k])
            for r, m in self.ema.items():
                m.load_state_dict(state["ema"][r])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise TrainingError(f"{source}: does not fit the configured modules ({type(exc).__name__}: {str(exc)[:300]})") from None
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch, self.nonfinite_steps = state["batch_in_epoch"], state["nonfinite_steps"]
        set_rng_state(state["rng"])

    def save(self) -> Path | None:
        """``checkpoints/last.pt`` plus a periodic copy; never with non-finite weights."""
        assert_finite({"generators": self.g, "discriminators": self.d})
        fingerprints = gather_strings(weights_fingerprint(nn.ModuleList([self.g, self.d])), self.dist)
        if not self.dist.is_main:
            return None
        state = self.state_dict() | {"replica_fingerprints": fingerprints}
        folder = self.run_dir / "checkpoints"
        path = save_checkpoint(state, folder / "last.pt")
        if self.settings.checkpoint_every and self.step % self.settings.checkpoint_every == 0:
            save_checkpoint(state, folder / f"step_{self.step:08d}.pt")
            self._prune(folder)
        self._callbacks("on_checkpoint", self.step, path)
        return path

    def _prune(self, folder: Path) -> None:
        keep = self.settings.keep_checkpoints
        if keep is None:
            return
        for old in sorted(folder.glob("step_*.pt"))[:-keep]:
            old.unlink()

    def fit(self) -> dict[str, float]:
        s = self.settings
        self.tracker = Tracker(self.run_dir, enabled=self.dist.is_main, max_steps=s.max_steps,
                               start_step=self.step, log_every=s.log_every)
        self._callbacks("on_train_start")
        metrics: dict[str, float] = {}
        pending: dict[str, list[torch.Tensor]] = defaultdict(list)
        try:
            while self.step < s.max_steps:
                logs = self.train_step()
                self.step += 1
                for k, v in logs.items():
                    pending[k].append(v)
                self._callbacks("on_step_end", self.step, logs)
                if self.step % s.log_every == 0 or self.step == s.max_steps:
                    values = {k: as_float(torch.stack(v).mean()) for k, v in pending.items()}
                    values |= {f"lr/{k}": o.param_groups[0]["lr"] for k, o in self.optimizers.items()}
                    self.tracker.scalars(self.step, values)
                    self.tracker.progress(self.step, values)
                    pending.clear()
                if s.sample_every and self.step % s.sample_every == 0 and self.dist.is_main:
                    with torch.no_grad():
                        samples = self.objective.samples(g=self.eval_generators(), batch=self.last_batch, step=self.step)
                    self.tracker.samples(self.step, samples)
                if self.config.evaluation.every and self.step % self.config.evaluation.every == 0 and self.step < s.max_steps:
                    metrics = self.evaluate()
                if s.checkpoint_every and self.step % s.checkpoint_every == 0:
                    self.save()
            if not (s.checkpoint_every and self.step % s.checkpoint_every == 0):
                self.save()
            metrics = self.evaluate() or metrics
            self._callbacks("on_train_end")
        finally:
            self.tracker.close()
        return metrics

    def resume(self, path: Path) -> None:
        self.load_state_dict(load_checkpoint(path, map_location=self.device), path)
