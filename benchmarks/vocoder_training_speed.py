"""Training speed of the HiFi-GAN vocoders: ms per step, and the trainer's overhead over a hand-written step.

Usage::

    python benchmarks/vocoder_training_speed.py [--recipes recipes/vocoder/cpu/hifigan_v1.yaml \
        recipes/vocoder/cpu/hifigan_v3.yaml] [--batch 16] [--segment 8192] [--blocks 3] [--steps 2] \
        [--warmup 3] [--threads 2]

For each recipe, one adversarial training step of HiFi-GAN (Kong et al. 2020, "HiFi-GAN:
Generative Adversarial Networks for Efficient and High Fidelity Speech Synthesis") at
``--batch`` x ``--segment`` samples (the paper's 16 x 8192 by default), timed two ways on
the same modules, built twice from the recipe with its seed:

* the trainer: :meth:`Trainer.train_step` plus the bookkeeping ``fit`` does per step
  (:meth:`Trainer.record`, to a disabled tracker, so no file I/O is timed);
* hand-written: the plain step of the official HiFi-GAN ``train.py``, in plain PyTorch.
  ``y_hat = G(mel)``; the D step: for each discriminator (MPD, MSD) the least-squares loss
  (Mao et al. 2017, "Least Squares Generative Adversarial Networks", summed over
  sub-discriminators as HiFi-GAN sums it) on the real audio and on ``y_hat.detach()``,
  summed, backward, AdamW step (Loshchilov & Hutter 2019, betas 0.8/0.99, weight decay
  0.01); then the G step: 45 x the L1 distance of full-band log-mels (the recipe's loss
  front-end) + for each discriminator its least-squares G loss + 2 x feature matching
  (:func:`speechgan.losses.feature_matching_loss`'s definition), backward, AdamW step. Both
  learning rates decay by ``ExponentialLR``, stepped every step as the trainer steps them.
  Where the official code differs, both sides here do as the trainer does, so that the
  ratio measures the trainer's overhead and not a different amount of work: the official G
  step leaves D's ``requires_grad`` on and runs D on the real audio with gradients (filling
  D's ``.grad``, which the next ``optim_d.zero_grad()`` throws away); here D is frozen and
  its feature maps of the real audio are taken under ``no_grad``.

Both sides read ONE fixed synthetic batch, so no data loading is timed: seeded random-normal
audio ``(B, T) * 0.1`` and its features from the recipe's front-end, cut to ``T / hop``
frames as the audio datasets cut a segment's (the ``FEATURES`` contract of
:mod:`speechgan.batches`). The trainer's ``next_batch`` returns it; its loader is built on
a stand-in dataset of that batch's items, so no corpus has to be on disk. A recipe whose
adversarial terms start late (``cpu/hifigan_v3.yaml`` warms G up on the mel loss alone)
gets every ``start`` moved to 0: the adversarial step is the one timed.

Before timing, the first step of each side (from equal weights) must give the same
``g/total`` and ``d/total``, within 1e-4 relative: that check is what makes "the same
modules and maths" true. It is the first of the ``--warmup`` untimed steps of each side.
In a fresh process the first few steps of each loop also fault in the memory their
activations and optimizer state grow into (system time: at batch 1 x 2048 samples the
second and third steps took up to twice the time of later ones, on both sides), so the
default ``--warmup 3`` keeps them out of the timed blocks.
Then the two loops run interleaved, ``--blocks`` blocks of ``--steps`` steps each, taking
turns at going first (as ``benchmarks/trainer_overhead.py`` does); printed per recipe, by
the wall clock and by the process's CPU time (all threads): the median milliseconds per
step of each and the ratio trainer / hand-written as the median of the per-block ratios;
and at the end a markdown table of the wall-clock figures.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from interleaved import interleave, report

from speechgan.build import Components, build_models
from speechgan.config import load_config
from speechgan.errors import ConfigError
from speechgan.losses import LeastSquares
from speechgan.plugins import get_plugin_manager
from speechgan.registry import Registry
from speechgan.schema import Config, OptimizerSpec, WeightSchedule
from speechgan.tracking import Tracker
from speechgan.trainer import Trainer

#: one training step; returns its (d/total, g/total), detached
Step = Callable[[], tuple[torch.Tensor, torch.Tensor]]
#: HiFi-GAN's loss weights (Kong et al. 2020, Sec. 2.3), the ones the hand-written step hard-codes
HIFIGAN_WEIGHTS = {"d/adv": 1.0, "g/adv": 1.0, "g/fm": 2.0, "g/mel": 45.0, "g/stft": 0.0}
DEFAULT_RECIPES = [Path("recipes/vocoder/cpu/hifigan_v1.yaml"), Path("recipes/vocoder/cpu/hifigan_v3.yaml")]
TOLERANCE = 1e-4  # relative, on step 1's totals


def load(recipe: Path, batch: int, segment: int, registry: Registry) -> tuple[Config, list[str]]:
    """The recipe at ``batch`` x ``segment``, every loss term on from step 0; and the terms whose start moved."""
    overrides = [f"data.batch_size={batch}", f"data.train.args.segment_length={segment}", "data.num_workers=0"]
    config = load_config(recipe, overrides, registry)
    # a warm-up without D (cpu/hifigan_v3.yaml: d/adv, g/adv, g/fm from step 10,000) would time a mel-only step
    late = [t for t, w in config.loss_weights.items() if isinstance(w, WeightSchedule) and w.start > 0]
    if late:
        config = load_config(recipe, overrides + [f"loss_weights.{t}.start=0" for t in late], registry)
    return config, late


def build(config: Config, registry: Registry) -> Components:
    """The recipe's front-end, modules and objective, from its seed (both sides get equal weights)."""
    torch.manual_seed(config.seed)
    return build_models(config, registry)


def _plain_adamw(spec: OptimizerSpec) -> bool:
    return (spec.name == "adamw" and set(spec.args) <= {"betas", "weight_decay"} and spec.scheduler is not None
            and spec.scheduler.name == "exponential" and set(spec.scheduler.args) == {"gamma"})


def check_recipe(config: Config, components: Components) -> None:
    """The hand-written step implements HiFi-GAN's configuration only: refuse any other."""
    criterion, s = components.objective.criterion, config.trainer
    weights = {t: config.weight(t, 0, w) for t, w in components.objective.terms.items()}
    constant = all(not isinstance(w, WeightSchedule) or (w.start == 0 and w.stop is None)
                   for w in config.loss_weights.values())
    plain = (
        config.objective.name == "vocoder" and isinstance(criterion, LeastSquares)
        and (criterion.a, criterion.b, criterion.c) == (0.0, 1.0, 1.0)
        and weights == HIFIGAN_WEIGHTS and constant
        and list(components.generators) == ["generator"] and len(components.discriminators) > 0
        and s.d_steps_per_g == 1 and s.accumulate == 1 and s.grad_clip is None and s.precision == "fp32"
        and s.ema is None and all(_plain_adamw(config.optim[k]) for k in ("generator", "discriminator"))
    )
    if not plain:
        raise ConfigError(
            "benchmarks/vocoder_training_speed.py compares against a hand-written HiFi-GAN step: the recipe must "
            "use objective 'vocoder' with criterion least_squares (a=0, b=1, c=1), loss weights d/adv 1, g/adv 1, "
            "g/fm 2, g/mel 45, g/stft 0 (no stop), one generator and any discriminators, d_steps_per_g=1, "
            "accumulate=1, no grad_clip, fp32, no EMA, and adamw (betas, weight_decay) with an exponential "
            "scheduler for both optimizers (as recipes/vocoder/hifigan_v*.yaml and cpu/hifigan_v*.yaml)"
        )


def synthetic_batch(config: Config, features: nn.Module, batch: int, segment: int) -> dict[str, Any]:
    """A ``FEATURES`` batch of seeded noise: ``wave`` (B, T), ``features`` (B, C, T / hop)."""
    hop = int(features.hop_length)
    if segment % hop:
        raise ConfigError(f"--segment {segment} must be a multiple of the front-end's hop ({hop}), as a segment is")
    noise = torch.Generator().manual_seed(config.seed)  # its own generator: the modules' seeding stays as built
    wave = torch.randn(batch, segment, generator=noise) * 0.1  # (B, T)
    with torch.no_grad():
        feats = features(wave)[..., : segment // hop]  # (B, C, T / hop): the frames a dataset keeps for a segment
    return {"wave": wave, "speaker": torch.zeros(batch, dtype=torch.long), "id": [f"noise_{i}" for i in range(batch)],
            "features": feats}


def trainer_loop(config: Config, registry: Registry, batch: dict[str, Any], run_dir: Path) -> Step:
    components = build(config, registry)
    # the loader is never read (next_batch is replaced): a stand-in of the batch's items, so no corpus is needed
    components.datasets = {"train": [{k: v[i] for k, v in batch.items()} for i in range(len(batch["id"]))]}
    trainer = Trainer(components, run_dir, device=torch.device("cpu"))
    s = config.trainer
    trainer.tracker = Tracker(run_dir, enabled=False, max_steps=s.max_steps, start_step=0, log_every=s.log_every)
    trainer.next_batch = lambda: batch  # type: ignore[method-assign]

    def step() -> tuple[torch.Tensor, torch.Tensor]:
        logs = trainer.train_step()
        trainer.step += 1
        trainer.record(logs)
        return logs["d/total"], logs["g/total"]

    return step


def hand_written_loop(config: Config, registry: Registry, batch: dict[str, Any]) -> Step:
    components = build(config, registry)
    g, discs = components.generators["generator"], list(components.discriminators.values())  # [mpd, msd]
    mel = components.objective.mel  # the loss front-end: full-band log-mel
    d_params = [p for d in discs for p in d.parameters()]

    def adamw(spec: OptimizerSpec, params: list[nn.Parameter]) -> tuple[torch.optim.Optimizer, Any]:
        opt = torch.optim.AdamW(params, spec.lr, betas=tuple(spec.args.get("betas", (0.9, 0.999))),
                                weight_decay=spec.args.get("weight_decay", 0.01))
        gamma = spec.scheduler.args["gamma"]  # type: ignore[union-attr]
        return opt, torch.optim.lr_scheduler.ExponentialLR(opt, gamma=gamma)

    opt_g, sched_g = adamw(config.optim["generator"], list(g.parameters()))
    opt_d, sched_d = adamw(config.optim["discriminator"], d_params)
    wave, x = batch["wave"], batch["features"]  # (B, T), (B, C, T / hop)
    y = wave.unsqueeze(1)  # (B, 1, T), the discriminators' input
    log_every, history = config.trainer.log_every, []  # the plain loop's log: numbers every log_every steps
    state = {"step": 0}

    def step() -> tuple[torch.Tensor, torch.Tensor]:
        y_hat = g(x)  # (B, 1, T): T is a multiple of the hop, so no crop
        # D step on the detached fake
        loss_d = torch.zeros(())
        for d in discs:
            real_logits, _ = d(y)  # lists over sub-discriminators
            fake_logits, _ = d(y_hat.detach())
            for r, f in zip(real_logits, fake_logits):
                loss_d = loss_d + (r - 1).pow(2).mean() + f.pow(2).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        sched_d.step()
        # G step, D frozen
        for p in d_params:
            p.requires_grad_(False)
        loss_adv, loss_fm = torch.zeros(()), torch.zeros(())
        for d in discs:
            with torch.no_grad():  # real maps are targets only
                _, real_maps = d(y)
            fake_logits, fake_maps = d(y_hat)
            for f in fake_logits:
                loss_adv = loss_adv + (f - 1).pow(2).mean()
            for r_layers, f_layers in zip(real_maps, fake_maps):  # per sub-discriminator, per layer
                for r, f in zip(r_layers, f_layers):
                    loss_fm = loss_fm + (r - f).abs().mean()
        # the real mel every step, as the objective computes it (the official loader makes it with the batch)
        loss_mel = F.l1_loss(mel(y_hat.squeeze(1)), mel(wave))  # (B, M, N) each
        loss_g = loss_adv + 2.0 * loss_fm + 45.0 * loss_mel
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        sched_g.step()
        for p in d_params:
            p.requires_grad_(True)
        state["step"] += 1
        if state["step"] % log_every == 0:
            history.append((loss_d.item(), loss_g.item(), loss_mel.item()))
        return loss_d.detach(), loss_g.detach()

    return step


def check_losses(loops: dict[str, Step]) -> None:
    """Step 1 of each side, from equal weights: the same d/total and g/total, or stop."""
    totals = {name: [float(t) for t in step()] for name, step in loops.items()}
    (d_t, g_t), (d_h, g_h) = totals["trainer"], totals["hand-written"]
    worst = max(abs(a - b) / max(abs(a), abs(b), 1e-12) for a, b in ((d_t, d_h), (g_t, g_h)))
    print(f"  step 1: trainer d/total {d_t:.6f} g/total {g_t:.6f} | hand-written d/total {d_h:.6f} "
          f"g/total {g_h:.6f} | largest relative difference {worst:.2e}")
    if not worst <= TOLERANCE:
        raise SystemExit(f"the two steps disagree by {worst:.2e} relative (> {TOLERANCE:g}): not the same maths")


def millions(module: nn.Module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e6


def measure(recipe: Path, args: argparse.Namespace, registry: Registry) -> dict[str, Any]:
    config, moved = load(recipe, args.batch, args.segment, registry)
    reference = build(config, registry)
    check_recipe(config, reference)
    batch = synthetic_batch(config, reference.features, args.batch, args.segment)  # type: ignore[arg-type]
    generator = config.generators["generator"].name
    ds = " + ".join(f"{role} {millions(d):.2f}M" for role, d in reference.discriminators.items())
    print(f"{recipe}: {generator} {millions(reference.generators['generator']):.2f}M parameters, discriminators "
          f"{ds}; batch {args.batch} x {args.segment} samples; {torch.get_num_threads()} thread(s), "
          f"torch {torch.__version__}")
    if moved:
        print(f"  loss weights on from step 0 (the recipe starts them later): {', '.join(moved)}")
    del reference
    with tempfile.TemporaryDirectory() as tmp:
        loops = {"trainer": trainer_loop(config, registry, batch, Path(tmp)),
                 "hand-written": hand_written_loop(config, registry, batch)}
        check_losses(loops)  # the first untimed step of each
        for step in loops.values():
            for _ in range(args.warmup - 1):
                step()
        times = interleave(loops, blocks=args.blocks, steps=args.steps)
    print(f"  median of {args.blocks} interleaved blocks of {args.steps} step(s), after {max(args.warmup, 1)} "
          "untimed step(s) of each")
    wall = report(times, number="9.1f")["wall"]
    result: dict[str, Any] = {"recipe": recipe, "generator": generator, "trainer": wall["trainer"],
                              "hand-written": wall["hand-written"], "ratio": wall["ratio"]}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", nargs="+", type=Path, default=DEFAULT_RECIPES)
    parser.add_argument("--batch", type=int, default=16, help="data.batch_size")
    parser.add_argument("--segment", type=int, default=8192, help="samples per item (data.train.args.segment_length)")
    parser.add_argument("--blocks", type=int, default=3, help="interleaved timing blocks per loop")
    parser.add_argument("--steps", type=int, default=2, help="steps per block")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps of each loop (the loss check's is one)")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    registry = get_plugin_manager().registry
    results = [measure(recipe, args, registry) for recipe in args.recipes]
    print(f"\nWall clock, {torch.get_num_threads()} thread(s), torch {torch.__version__}; ratio: median of the "
          "per-block ratios\n")
    print("| recipe | generator | batch x samples | trainer ms/step | hand-written ms/step | ratio |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['recipe']} | {r['generator']} | {args.batch} x {args.segment} | {r['trainer']:.1f} | "
              f"{r['hand-written']:.1f} | {r['ratio']:.3f} |")


if __name__ == "__main__":
    main()
