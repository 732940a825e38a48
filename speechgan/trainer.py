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
from contextlib import closing, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .build import Components, build_optimizer, build_scheduler
from .callbacks import EVENTS
from .checkpoint import (
    TRAINING_FIELDS, assert_finite, load_checkpoint, load_optimizer_state, load_scheduler_state, rng_state,
    save_checkpoint, set_rng_state,
)
from .distributed import (
    DistInfo, average_gradients, barrier, broadcast_module, gather_objects, max_across_ranks,
    weights_fingerprint,
)
from .errors import TrainingError
from .evaluate import EvaluationContext, run_metrics, write_metrics
from .loader import WorkerError, make_loader, to_device
from .signals import StopSignals, TrainingInterrupted
from .tracking import Tracker, as_float

__all__ = ["Trainer"]

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def _sum(tensors: list[torch.Tensor], device: torch.device) -> torch.Tensor:
    """``t0 + t1 + ...`` in order (the number a running total from zero gives); 0 for none."""
    if not tensors:
        return torch.zeros((), device=device)
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total


def _as_float(t: torch.Tensor) -> torch.Tensor:
    """``t.float()``, without the dispatch when it is float32 already (most terms, every step)."""
    return t if t.dtype == torch.float32 else t.float()


def _grad_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """The global L2 norm of gradients: the norm of the per-tensor norms, as
    ``clip_grad_norm_`` computes it on the CPU, without its grouping by device and dtype
    (~20 us instead of ~32 us for the 8 tensors of a toy MLP); 0 without any."""
    if not grads:
        return torch.zeros(())
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))


def _all_finite(grads: list[torch.Tensor]) -> bool:
    """Whether no gradient holds an inf or a NaN, in one fused pass over them all.

    This is ``GradScaler``'s own check (``torch._amp_foreach_non_finite_check_and_unscale_``)
    with a scale of 1, which leaves the gradients as they are: 4 tensor ops where a norm
    takes one per tensor and 3 more. All tensors are on one device, as the trainer's are.
    """
    if not grads:
        return True
    found = torch.zeros((), device=grads[0].device)
    torch._amp_foreach_non_finite_check_and_unscale_(grads, found, torch.ones((), device=grads[0].device))
    return not found.item()


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
        # logged values of the steps since the last logged row (checkpointed: a resumed run's
        # first row averages the same steps as an uninterrupted run's)
        self.pending: dict[str, list[torch.Tensor]] = defaultdict(list)
        self.resume_notes: list[str] = []  # what a resume changed, shown when training starts

    # -- data --------------------------------------------------------------------------

    def next_batch(self) -> Any:
        while True:
            if self._iter is None:
                self.sampler.set_epoch(self.epoch, self.batch_in_epoch)
                set_epoch = getattr(self.c.datasets["train"], "set_epoch", None)
                if set_epoch is not None:  # datasets with random crops draw new ones each epoch
                    set_epoch(self.epoch)
                self.loader.generator.manual_seed(self.config.seed * 7_919 + self.epoch)  # type: ignore[union-attr]
                self._iter = iter(self.loader)
            try:
                batch = next(self._iter)
            except StopIteration:
                self.epoch, self.batch_in_epoch, self._iter = self.epoch + 1, 0, None
                continue
            if isinstance(batch, WorkerError):  # a bad file met in a DataLoader worker
                batch.raise_it()
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
        """sum(weight x term) / accumulate, one micro-batch's share; every term and the total go to ``logs``.

        A term of weight 1 enters as it is and one of weight 0 not at all, so a one-term
        total is the term itself: the same number as ``0 + 1 x term``, without the tiny ops
        (and their backward nodes) that add up on a small model.
        """
        weighted: list[torch.Tensor] = []
        for name, value in terms.items():
            logs[name].append(_as_float(value.detach()))
            if name.startswith("stats/"):
                continue
            if name not in weights:
                raise TrainingError(
                    f"objective {self.config.objective.name!r} returned loss term {name!r}, which it does "
                    f"not declare; declared terms: {', '.join(weights)}"
                )
            weight = weights[name]
            if weight != 0.0:
                weighted.append(_as_float(value) if weight == 1.0 else weight * _as_float(value))
        total = _sum(weighted, self.device)
        logs[f"{prefix}/total"].append(total.detach())
        accumulate = self.settings.accumulate
        return total / accumulate if accumulate > 1 else total

    def _update(self, group: str, total: torch.Tensor, logs: dict[str, list[torch.Tensor]], *, log_norm: bool) -> bool:
        """Average, unscale, check, clip and apply the gradients of one module group; False: skipped.

        The gradient norm (before clipping) is computed where it is clipped or logged
        (``log_norm``: this step writes a row of logs), not on every step.
        """
        params, optimizer, scaler = self.params[group], self.optimizers[group], self.scalers.get(group)
        if all(p.grad is None for p in params):
            # no weighted term reached this group (its weights are scheduled to 0, as Parallel
            # WaveGAN holds D back at first): no update, and its LR schedule waits too
            return False
        if self.dist.enabled:  # the loss too: one rank's non-finite loss skips the update on all
            total = average_gradients(params, self.dist.world_size, total)
        if scaler is not None:
            scaler.unscale_(optimizer)
        grads = [p.grad for p in params if p.grad is not None]
        # the scaler skips steps with inf/nan gradients itself; the guard still checks the loss.
        # math.isfinite of .item(): the same one sync as bool(torch.isfinite()), without its 4 ops
        finite = math.isfinite(total.item()) and (scaler is not None or _all_finite(grads))
        clip = self.settings.grad_clip
        if log_norm or clip:
            norm = _grad_norm(grads)
            if log_norm:
                logs[f"grad_norm/{group}"].append(norm)
            if clip and finite:
                torch.nn.utils.clip_grads_with_norm_(params, clip, norm)
        if not finite:
            optimizer.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.update()
            self._count_nonfinite(group, logs)
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

    def _count_nonfinite(self, group: str, logs: dict[str, list[torch.Tensor]]) -> None:
        """Count a step with a skipped update, once however many of its D and G updates were
        skipped (``logs`` holds ``nonfinite_steps`` once counted); stop past the limit."""
        if "nonfinite_steps" in logs:
            return
        self.nonfinite_steps += 1
        logs["nonfinite_steps"] = [torch.tensor(float(self.nonfinite_steps))]
        if self.nonfinite_steps > self.settings.max_nonfinite_steps:
            raise TrainingError(
                f"{self.nonfinite_steps} steps had a non-finite loss or gradient (last: {group} "
                f"step at {self.step}), more than trainer.max_nonfinite_steps="
                f"{self.settings.max_nonfinite_steps}; stopping. Lower the learning rate, clip "
                "gradients (trainer.grad_clip) or check the data. The last checkpoint is intact."
            )

    def _backward(self, group: str, loss: torch.Tensor) -> None:
        if not loss.requires_grad:  # every term of this group weighted 0 at this step
            return
        scaler = self.scalers.get(group)
        (scaler.scale(loss) if scaler is not None else loss).backward()

    @contextmanager
    def _frozen(self, params: list[nn.Parameter]) -> Iterator[None]:
        """``params`` without gradients inside the block (a precomputed list: no module walk)."""
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)

    def train_step(self) -> dict[str, torch.Tensor]:
        """One generator update (and its discriminator updates); the mean of each logged value."""
        weights = self.weights()
        logs: dict[str, list[torch.Tensor]] = defaultdict(list)
        accumulate, rounds = self.settings.accumulate, self.settings.d_steps_per_g if len(self.d) else 0
        if rounds and not any(w for t, w in weights.items() if t.startswith("d/")):
            # every D term is scheduled to 0 at this step (a generator warm-up, as Parallel
            # WaveGAN's recipe holds D back): no D round, so no wasted D forward passes
            rounds = 0
        kw = {"g": self.g, "step": self.step}
        log_norm = self._writes_logs(self.step + 1)  # gradient norms only where they are logged
        micro: list[Any] = []
        kept: list[Any] = []  # fakes with their graph, reused by the G step
        for r in range(rounds):
            keep = r == rounds - 1 and accumulate == 1
            micro, kept, totals = [self.next_batch() for _ in range(accumulate)], [], []
            for batch in micro:
                with self._autocast(), torch.set_grad_enabled(keep):
                    state = self.objective.generate(batch, **kw)
                with self._autocast():
                    terms = self.objective.discriminator_terms(batch, state, d=self.d, weights=weights, **kw)
                total = self._total(terms, weights, logs, "d")
                self._backward("discriminator", total)
                totals.append(total.detach())
                if keep:
                    kept.append(state)
            self._update("discriminator", _sum(totals, self.device), logs, log_norm=log_norm)
        if not micro:
            micro = [self.next_batch() for _ in range(accumulate)]
        totals = []
        with self._frozen(self.params.get("discriminator", [])):
            for i, batch in enumerate(micro):
                with self._autocast():
                    state = kept[i] if kept else self.objective.generate(batch, **kw)
                    terms = self.objective.generator_terms(batch, state, d=self.d, weights=weights, **kw)
                total = self._total(terms, weights, logs, "g")
                self._backward("generator", total)
                totals.append(total.detach())
        updated = self._update("generator", _sum(totals, self.device), logs, log_norm=log_norm)
        if updated and self.ema and self.step >= self.settings.ema.start_step:  # type: ignore[union-attr]
            for role, averaged in self.ema.items():
                averaged.update_parameters(self.g[role])
        self.last_batch = micro[-1]
        # a value logged once this step is its own mean: no stack and mean per name
        return {k: v[0] if len(v) == 1 else torch.stack(v).mean() for k, v in logs.items()}

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
            generators=self.eval_generators(), datasets=self.c.datasets,
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
        """The training state of this rank; :meth:`save` adds every rank's RNG state."""
        return {
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "nonfinite_steps": self.nonfinite_steps,
            "generators": self.g.state_dict(), "discriminators": self.d.state_dict(),
            "objective": self.objective.state_dict(),  # what it learned from the data (Objective.prepare)
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "ema": {r: m.state_dict() for r, m in self.ema.items()},
            "pending": {k: torch.stack(v) for k, v in self.pending.items()},  # name -> (steps,)
            "config": self.config.model_dump(mode="json"),
            "features": None if self.c.features is None else {
                "name": self.config.features.name,  # type: ignore[union-attr]
                "fingerprint": getattr(self.c.features, "fingerprint", None),
            },
        }

    def load_state_dict(self, state: dict[str, Any], source: Path) -> None:
        """Continue from ``state`` (read from ``source``) on a trainer that has not trained yet.

        Weights, optimizer moments, grad scalers, EMA, counters and this rank's RNG state
        come from the checkpoint; optimizer hyper-parameters and learning-rate schedules
        from the config (:meth:`_load_optimizer`).
        """
        try:
            self.g.load_state_dict(state["generators"])
            self.d.load_state_dict(state["discriminators"])
            if "objective" in state:  # checkpoints written before objectives had a state hold none
                self.objective.load_state_dict(state["objective"])
            for k in self.optimizers:
                self._load_optimizer(k, state, source)
            for k, s in self.scalers.items():
                s.load_state_dict(state["scalers"][k])
            for r, m in self.ema.items():
                m.load_state_dict(state["ema"][r])
            self._load_rng(state["rng"], source)
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            raise TrainingError(f"{source}: does not fit the configured modules ({type(exc).__name__}: {str(exc)[:300]})") from None
        self.step, self.epoch = state["step"], state["epoch"]
        self.batch_in_epoch, self.nonfinite_steps = state["batch_in_epoch"], state["nonfinite_steps"]
        self.pending.clear()
        self.pending.update({k: list(v.unbind()) for k, v in state.get("pending", {}).items()})

    def _load_optimizer(self, group: str, state: dict[str, Any], source: Path) -> None:
        """Moments and schedule progress from the checkpoint; hyper-parameters from the config."""
        trained, configured = state["config"]["optim"][group]["name"], self.config.optim[group].name
        if trained != configured:  # another optimizer's moments (Adam's exp_avg for SGD's momentum)
            raise TrainingError(
                f"{source}: does not fit optim.{group}: it was trained with optimizer {trained} for {group!r}, "
                f"the config says {configured}. Resume with optim.{group}.name={trained}, or train into "
                "another --out to change the optimizer"
            )
        optimizer = self.optimizers[group]
        load_optimizer_state(optimizer, state["optimizers"][group])
        if group not in self.schedulers:
            return
        saved = state["schedulers"][group]
        changed = load_scheduler_state(self.schedulers[group], saved)
        if changed:
            diff = ", ".join(f"{k} {old} -> {new}" for k, (old, new) in changed.items())
            self.resume_notes.append(
                f"optim.{group}.scheduler differs from the checkpoint's ({diff}): the learning rate follows "
                f"the config, {optimizer.param_groups[0]['lr']:.4g} after {saved['last_epoch']} updates"
            )

    def _load_rng(self, states: list[dict[str, Any]] | dict[str, Any], source: Path) -> None:
        """This rank's RNG state; the run must have as many ranks as the one that saved it."""
        # checkpoints written before per-rank RNG states hold one dict
        states = states if isinstance(states, list) else [states]
        if len(states) != self.dist.world_size:
            raise TrainingError(
                f"{source}: does not fit this run: it was written by {len(states)} process(es), this run has "
                f"{self.dist.world_size}; each rank's data share and noise depend on the number, so resume "
                f"with {len(states)} (torchrun --nproc_per_node={len(states)}), or train into another --out"
            )
        set_rng_state(states[self.dist.rank])

    def save(self) -> Path | None:
        """``checkpoints/last.pt`` plus a periodic copy; never with non-finite weights."""
        assert_finite({"generators": self.g, "discriminators": self.d})
        # every rank's weight fingerprint (replicas must agree) and RNG state (each draws its own noise)
        replicas = gather_objects((weights_fingerprint(nn.ModuleList([self.g, self.d])), rng_state()), self.dist)
        if not self.dist.is_main:
            return None
        state = self.state_dict() | {"rng": [r for _, r in replicas], "replica_fingerprints": [f for f, _ in replicas]}
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

    def _writes_logs(self, step: int) -> bool:
        """Whether the step that ends with ``self.step == step`` writes a row of logs."""
        return step % self.settings.log_every == 0 or step == self.settings.max_steps

    def record(self, logs: dict[str, torch.Tensor]) -> None:
        """Keep one step's logs in ``pending``; every ``log_every`` steps (and at the last)
        write the mean of each value since the last write, with the learning rates.

        Loss terms and stats are means over those steps; gradient norms, computed on the
        written step only (:meth:`_update`), are that step's."""
        for k, v in logs.items():
            self.pending[k].append(v)
        if self._writes_logs(self.step):
            values = {k: as_float(torch.stack(v).mean()) for k, v in self.pending.items()}
            values |= {f"lr/{k}": o.param_groups[0]["lr"] for k, o in self.optimizers.items()}
            self.tracker.scalars(self.step, values)  # type: ignore[union-attr]
            self.tracker.progress(self.step, values)  # type: ignore[union-attr]
            self.pending.clear()

    def fit(self) -> dict[str, float]:
        """Train up to ``trainer.max_steps``; the final metrics.

        SIGINT / SIGTERM: the step in progress finishes, ``last.pt`` is written and
        :class:`~speechgan.signals.TrainingInterrupted` is raised (:mod:`speechgan.signals`).
        """
        s = self.settings
        self.tracker = Tracker(self.run_dir, enabled=self.dist.is_main, max_steps=s.max_steps,
                               start_step=self.step, log_every=s.log_every)
        for note in self.resume_notes:
            self.tracker.message(note)
        for split, dataset in self.c.datasets.items():  # what each split holds, where a dataset can say it
            summary = getattr(dataset, "summary", None)
            if isinstance(summary, str):
                self.tracker.message(f"data.{split}: {summary}")
        self._callbacks("on_train_start")
        metrics: dict[str, float] = {}
        with closing(self.tracker), StopSignals(announce=self.dist.is_main) as stop:
            while self.step < s.max_steps:
                logs = self.train_step()
                self.step += 1
                self._callbacks("on_step_end", self.step, logs)
                self.record(logs)
                if s.sample_every and self.step % s.sample_every == 0 and self.dist.is_main:
                    with torch.no_grad():
                        samples = self.objective.samples(g=self.eval_generators(), batch=self.last_batch, step=self.step)
                    self.tracker.samples(self.step, samples)
                if self.config.evaluation.every and self.step % self.config.evaluation.every == 0 and self.step < s.max_steps:
                    metrics = self.evaluate()
                if s.checkpoint_every and self.step % s.checkpoint_every == 0:
                    self.save()
                self._stop_if_asked(stop)
            self._save_unless_saved()
            stop.release()  # evaluating is not a training step: a signal now interrupts it as usual
            metrics = self.evaluate() or metrics
            self._callbacks("on_train_end")
        return metrics

    def _save_unless_saved(self) -> Path | None:
        """``last.pt`` at this step, unless the periodic checkpoint of this step wrote it."""
        every = self.settings.checkpoint_every
        if not (every and self.step % every == 0):
            return self.save()
        return self.run_dir / "checkpoints" / "last.pt" if self.dist.is_main else None

    def _stop_if_asked(self, stop: StopSignals) -> None:
        """At a step boundary: save and stop if any rank was sent SIGINT or SIGTERM.

        Every rank takes part (one all-reduce of one number when distributed), so all stop
        at the same step, and the checkpoint, which gathers every rank, is written once.
        """
        signum = max_across_ranks(stop.signum or 0, self.dist, self.device)
        if signum:
            path = self._save_unless_saved()
            # no rank exits before rank 0 has written: torchrun stops the others when one exits
            barrier(self.dist)
            raise TrainingInterrupted(
                signum, step=self.step, max_steps=self.settings.max_steps, checkpoint=path,
                world_size=self.dist.world_size,
            )

    def resume(self, path: Path) -> None:
        """Continue the run whose checkpoint is ``path`` (see :meth:`load_state_dict`)."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device, require=TRAINING_FIELDS), path)
