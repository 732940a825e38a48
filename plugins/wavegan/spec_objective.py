"""The ``specgan`` objective: WGAN-GP on normalised log-magnitude spectrograms of audio clips.

SpecGAN (Donahue, McAuley & Puckette, ICLR 2019, "Adversarial Audio Synthesis", section 3.3)
turns each real clip ``x`` (B, 1, 16384) into a 128 x 128 spectrogram normalised per frequency
bin with training-set statistics (:class:`~.specgan.SpecGANSpectrogram`), and trains a DCGAN-like
pair on them as WaveGAN is trained: WGAN-GP (Gulrajani et al. 2017) with lambda = 10 (the
default weight of ``d/gp``), 5 critic steps per generator step, Adam lr 1e-4 and betas
(0.5, 0.9), batch 64 (those are the recipe's). Terms: ``d/adv``, ``d/gp``, ``g/adv``, as the
``gan`` objective names them.

The statistics are learned once by :meth:`SpecGAN.prepare` (over up to ``stats_clips`` training
clips, evenly spaced through the dataset; the reference code uses all of them), kept in the
objective's ``state_dict`` (so checkpoints and ``load_run`` carry them) and written to
``RUN_DIR/specgan_stats.json``. :meth:`SpecGAN.sample` returns waveforms (n, 1, 16384) in
[-1, 1], de-normalised and inverted by Griffin-Lim, so metrics and ``speechgan generate``
treat SpecGAN and WaveGAN alike; :meth:`SpecGAN.sample_spectrogram` returns the generator's
normalised spectrograms.

Conditional (not in the paper): with ``num_classes`` > 0 the objective also reads ``label``
(a ``LABELS`` batch, e.g. the digit of SC09) and runs G and D on labels; the fakes of a step
take the real batch's labels, so the gradient penalty interpolates between a real and a fake
spectrogram of the same class. ``sample`` then draws balanced labels ``arange(n) %
num_classes``, and ``sample_conditional(g=, labels=, device=)`` the classes asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import torch
from torch import nn

from speechgan.batches import SAMPLES
from speechgan.errors import ConfigError, DataError
from speechgan.losses import AdversarialCriterion, gradient_penalty
from speechgan.objective import AudioSample, ImageSample, Objective, check_num_classes, d_adv_terms, draw_latent
from speechgan.registry import ComponentRef

from .specgan import SpecGANSpectrogram

__all__ = ["SpecGAN"]


class SpecGAN(Objective):
    """SpecGAN: G's spectrograms against real clips' normalised spectrograms (Donahue et al. 2019)."""

    generator_roles = ("generator",)
    discriminator_roles = ("discriminator",)
    terms = {"d/adv": 1.0, "d/gp": 10.0, "g/adv": 1.0}
    reads = SAMPLES.keys  # {"x": (B, 1, clip_length)}

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "wasserstein",  # type: ignore[assignment]
        sample_rate: int = 16000,
        clip_length: int = 16384,
        stats_clips: int = 10000,
        griffin_lim_iters: int = 16,
        griffin_lim_momentum: float = 0.0,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        if stats_clips < 1:
            raise ConfigError(f"objective.args.stats_clips must be >= 1, got {stats_clips}")
        if num_classes < 0:
            raise ConfigError(f"objective.args.num_classes must be >= 0 (0: unconditional), got {num_classes}")
        self.criterion, self.sample_rate, self.stats_clips = criterion, sample_rate, stats_clips
        self.num_classes = num_classes
        try:
            self.spectrogram = SpecGANSpectrogram(
                sample_rate=sample_rate, clip_length=clip_length, griffin_lim_iters=griffin_lim_iters,
                griffin_lim_momentum=griffin_lim_momentum,
            )
        except ConfigError as error:
            raise ConfigError(f"objective.args: {error}") from None

    # -- statistics -------------------------------------------------------------------------

    def _stats_batches(self, dataset: Any, batch_size: int = 64) -> Iterator[torch.Tensor]:
        """Clips (b, 1, T) of up to ``stats_clips`` items evenly spaced through ``dataset``."""
        total = len(dataset)
        if total == 0:
            raise DataError("objective 'specgan': the training dataset is empty; nothing to compute statistics from")
        if total <= self.stats_clips:
            indices = list(range(total))
        else:
            indices = sorted(set(torch.linspace(0, total - 1, self.stats_clips).round().long().tolist()))
        for start in range(0, len(indices), batch_size):
            items = [dataset[i] for i in indices[start : start + batch_size]]
            if not all(isinstance(item, Mapping) and "x" in item for item in items):
                raise DataError("objective 'specgan' reads items with an `x` clip (1, T); the training dataset's "
                                "items have no `x`")
            yield torch.stack([torch.as_tensor(item["x"]) for item in items])

    def prepare(self, *, dataset: Any, run_dir: Path | None) -> None:
        """Per-bin log-magnitude statistics of the training clips (``RUN_DIR/specgan_stats.json``)."""
        stats = self.spectrogram.fit(self._stats_batches(dataset))
        if run_dir is not None:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            readable = {"frames": stats.frames, "mean": stats.mean.tolist(), "std": stats.std.tolist()}
            (Path(run_dir) / "specgan_stats.json").write_text(json.dumps(readable, indent=1) + "\n")

    # -- sampling ---------------------------------------------------------------------------

    def _generator(self, g: nn.ModuleDict) -> nn.Module:
        gen = g["generator"]
        check_num_classes(gen, role="generator", num_classes=self.num_classes, objective="specgan", unconditional=0)
        return gen

    def _labels(self, n: int, device: torch.device) -> torch.Tensor | None:
        """Balanced labels ``arange(n) % num_classes`` (n,), or None when unconditional."""
        return torch.arange(n, device=device) % self.num_classes if self.num_classes else None

    def sample_spectrogram(self, *, g: nn.ModuleDict, n: int, device: torch.device,
                           labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` normalised spectrograms (n, 1, 128, 128) in [-1, 1] (of classes ``labels`` (n,), if conditional)."""
        gen = self._generator(g)
        z = draw_latent(gen, n, device)
        return gen(z) if labels is None else gen(z, labels.to(device))

    def sample_conditional(self, *, g: nn.ModuleDict, labels: torch.Tensor, device: torch.device) -> torch.Tensor:
        """Waveforms (n, 1, clip_length) in [-1, 1] of the classes ``labels`` (n,)."""
        if not self.num_classes:
            raise ConfigError("objective 'specgan' is unconditional (num_classes: 0); it draws no samples by class")
        spec = self.sample_spectrogram(g=g, n=labels.shape[0], device=device, labels=labels)
        return self.spectrogram.inverse(spec)

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        """``n`` waveforms (n, 1, clip_length) in [-1, 1]: spectrograms inverted by Griffin-Lim."""
        labels = self._labels(n, device)
        return self.spectrogram.inverse(self.sample_spectrogram(g=g, n=n, device=device, labels=labels))

    def samples(self, *, g: nn.ModuleDict, batch: Any, step: int) -> dict[str, Any]:
        real = batch["x"]
        n = min(64, real.shape[0])
        fake = self.sample_spectrogram(g=g, n=n, device=real.device, labels=self._labels(n, real.device)).detach()
        wave = self.spectrogram.inverse(fake[:1])[0, 0].float().cpu()
        # images with low frequencies at the bottom
        return {
            "fake": ImageSample(fake.float().cpu().flip(-2), normalize=True),
            "real": ImageSample(self.spectrogram(real[:64]).float().cpu().flip(-2), normalize=True),
            "fake_audio": AudioSample(wave, self.sample_rate),
        }

    # -- training ---------------------------------------------------------------------------

    def _batch_labels(self, batch: Any) -> torch.Tensor | None:
        """The batch's ``label`` (B,) when conditional, else None."""
        if not self.num_classes:
            return None
        if "label" not in batch:
            raise DataError(f"objective 'specgan' with num_classes={self.num_classes} reads `label` next to `x`; the "
                            "training batches have none: use a labelled dataset, or set num_classes: 0")
        return batch["label"]

    def _judge(self, d: nn.ModuleDict, x: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        disc = d["discriminator"]
        return disc(x) if labels is None else disc(x, labels)

    def generate(self, batch: Any, *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        real, labels = batch["x"], self._batch_labels(batch)
        return {"fake": self.sample_spectrogram(g=g, n=real.shape[0], device=real.device, labels=labels),
                "labels": labels}

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        fake, labels = state["fake"].detach(), state["labels"]
        real = self.spectrogram(batch["x"]).to(fake.dtype)  # (B, 1, 128, 128)
        real_out, fake_out = self._judge(d, real, labels), self._judge(d, fake, labels)
        terms = d_adv_terms(self.criterion, real_out, fake_out)
        if weights.get("d/gp", 0.0):
            terms["d/gp"] = gradient_penalty(lambda x: self._judge(d, x, labels), real, fake)
        return terms

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        return {"g/adv": self.criterion.generator_loss(self._judge(d, state["fake"], state["labels"]))}
