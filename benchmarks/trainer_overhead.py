"""Per-step overhead of the trainer against a hand-written PyTorch GAN loop.

Usage::

    python benchmarks/trainer_overhead.py [recipes/toy/ring8.yaml] [--blocks 7] [--steps 200] \
        [--warmup 100] [--threads 1] [--override trainer.log_every=50]

On the toy recipe (MLPs of 3 x 128 units, where per-step overhead shows most) both loops
train the same modules (built twice from the recipe with its seed), with the same
optimizers, learning-rate schedules and generator EMA, on random batches of the same
dataset tensor (a fresh permutation per epoch, as the trainer's sampler draws them), with
the same loss maths: Goodfellow et al. 2014's non-saturating loss on PacGAN-packed
discriminator inputs (Lin et al. 2018). The hand-written loop is the plain one of the
PyTorch DCGAN tutorial and pix2pix: D step on detached fakes, then G step with D's
``requires_grad`` off, the mean D outputs kept each step and read with ``.item()`` every
``log_every`` steps.

The trainer side is :meth:`Trainer.train_step` plus the bookkeeping ``fit`` does per step
(:meth:`Trainer.record`: the running logs, written every ``log_every`` steps to a
disabled tracker, so no file I/O is timed on either side). EMA is applied from the first
step on both sides (``trainer.ema.start_step=0``).

The two loops run interleaved in one process, ``--blocks`` blocks of ``--steps`` steps
each (taking turns at going first), after ``--warmup`` steps of each; printed, by the
wall clock and by the process's CPU time (steadier where other jobs share the cores):
the median milliseconds per step of each, and the ratio trainer / hand-written as the
median of the per-block ratios (and as the ratio of the medians).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from interleaved import Step, interleave, report, time_block

from speechgan.build import Components, build_components, build_optimizer, build_scheduler
from speechgan.config import load_config
from speechgan.errors import ConfigError
from speechgan.losses import NonSaturating
from speechgan.plugins import get_plugin_manager
from speechgan.registry import Registry
from speechgan.schema import Config
from speechgan.tracking import Tracker
from speechgan.trainer import Trainer

def build(config: Config, registry: Registry) -> Components:
    """The recipe's components, initialised from its seed (both loops get equal weights)."""
    torch.manual_seed(config.seed)
    return build_components(config, registry)


def check_recipe(config: Config, components: Components) -> None:
    """The hand-written loop implements one configuration: refuse any other."""
    objective, trainer = components.objective, config.trainer
    plain = (
        config.objective.name == "gan" and isinstance(objective.criterion, NonSaturating)
        and objective.criterion.real_label == 1.0 and objective.noise is None and objective.top_k is None
        and list(components.generators) == ["generator"] and list(components.discriminators) == ["discriminator"]
        and not config.loss_weights and trainer.d_steps_per_g == 1 and trainer.accumulate == 1
        and trainer.grad_clip is None and trainer.precision == "fp32" and trainer.ema is not None
        and all(config.optim[group].scheduler is not None for group in ("generator", "discriminator"))
    )
    if not plain:
        raise ConfigError(
            "benchmarks/trainer_overhead.py compares against a hand-written non-saturating GAN loop: the recipe "
            "must use objective 'gan' (criterion non_saturating, no instance noise or top-k), one generator and "
            "one discriminator, default loss weights, d_steps_per_g=1, accumulate=1, no grad_clip, fp32, an EMA "
            "and a learning-rate scheduler for both optimizers (as recipes/toy/ring8.yaml and grid25.yaml)"
        )


def trainer_loop(config: Config, registry: Registry, run_dir: Path) -> Step:
    trainer = Trainer(build(config, registry), run_dir, device=torch.device("cpu"))
    s = config.trainer
    trainer.tracker = Tracker(run_dir, enabled=False, max_steps=s.max_steps, start_step=0, log_every=s.log_every)

    def step() -> None:
        logs = trainer.train_step()
        trainer.step += 1
        trainer.record(logs)

    return step


def hand_written_loop(config: Config, registry: Registry) -> Step:
    components = build(config, registry)
    g, d = components.generators["generator"], components.discriminators["discriminator"]
    points = components.datasets["train"].points  # (N, 2)
    batch_size, k = config.data.batch_size, components.objective.pack
    opt_g = build_optimizer(config.optim["generator"], list(g.parameters()), "optim.generator")
    opt_d = build_optimizer(config.optim["discriminator"], list(d.parameters()), "optim.discriminator")
    sched_g = build_scheduler(config.optim["generator"].scheduler, opt_g, "optim.generator")
    sched_d = build_scheduler(config.optim["discriminator"].scheduler, opt_d, "optim.discriminator")
    ema = AveragedModel(g, multi_avg_fn=get_ema_multi_avg_fn(config.trainer.ema.decay), use_buffers=True)  # type: ignore[union-attr]
    log_every, history = config.trainer.log_every, []  # the plain loop's log: numbers every log_every steps
    state: dict[str, Any] = {"step": 0, "batches": iter(())}

    def epoch() -> Iterator[torch.Tensor]:
        perm = torch.randperm(len(points))
        return (perm[i : i + batch_size] for i in range(0, len(points) - batch_size + 1, batch_size))

    def step() -> None:
        idx = next(state["batches"], None)
        if idx is None:
            state["batches"] = epoch()
            idx = next(state["batches"])
        real = points[idx]  # (B, 2)
        fake = g(torch.randn(batch_size, g.latent_dim))  # (B, 2)
        # D step on detached fakes; pack k consecutive samples: (B, 2) -> (B/k, 2k)
        real_out = d(real.reshape(batch_size // k, -1))
        fake_out = d(fake.detach().reshape(batch_size // k, -1))
        d_loss = F.binary_cross_entropy_with_logits(real_out, torch.ones_like(real_out)) + F.softplus(fake_out).mean()
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        sched_d.step()
        d_real, d_fake = real_out.detach().mean(), fake_out.detach().mean()
        # G step, D frozen
        for p in d.parameters():
            p.requires_grad_(False)
        g_loss = F.softplus(-d(fake.reshape(batch_size // k, -1))).mean()
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        sched_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        ema.update_parameters(g)
        state["step"] += 1
        if state["step"] % log_every == 0:
            history.append((d_loss.item(), g_loss.item(), d_real.item(), d_fake.item()))

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipe", nargs="?", type=Path, default=Path("recipes/toy/ring8.yaml"))
    parser.add_argument("--blocks", type=int, default=7, help="interleaved timing blocks per loop")
    parser.add_argument("--steps", type=int, default=200, help="steps per block")
    parser.add_argument("--warmup", type=int, default=100, help="untimed steps of each loop first")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--override", action="append", default=[], help="a dotted config override (repeatable)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    registry = get_plugin_manager().registry
    config = load_config(args.recipe, ["trainer.ema.start_step=0", *args.override], registry)
    check_recipe(config, build(config, registry))
    with tempfile.TemporaryDirectory() as tmp:
        loops = {"trainer": trainer_loop(config, registry, Path(tmp)), "hand-written": hand_written_loop(config, registry)}
        for step in loops.values():
            time_block(step, args.warmup)
        times = interleave(loops, blocks=args.blocks, steps=args.steps)
    print(f"{args.recipe}, {torch.get_num_threads()} thread(s), median of {args.blocks} interleaved blocks "
          f"of {args.steps} steps (torch {torch.__version__})")
    report(times, number="6.2f")


if __name__ == "__main__":
    main()
