"""Tiny components for trainer tests, registered as an inline plugin."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset

from typing import Annotated

from speechgan import hookimpl
from speechgan.batches import SAMPLES, BatchSpec
from speechgan.losses import AdversarialCriterion
from speechgan.registry import ComponentRef
from speechgan.features import FrontEnd
from speechgan_plugins.objectives import GAN


class Points(Dataset):
    """Fixed 2-D points (N, 2), as SAMPLES batches {"x": (B, 2)}."""

    yields = SAMPLES

    def __init__(self, n: int = 64, seed: int = 0) -> None:
        self.x = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i]}


class Domains(Dataset):
    """Unpaired domains: A around (1, 1), B around (-1, 2), as their ``features``."""

    yields = BatchSpec.of({"a.features", "b.features"})

    def __init__(self, n: int = 32) -> None:
        g = torch.Generator().manual_seed(1)
        self.a = torch.randn(n, 2, generator=g) * 0.1 + torch.tensor([1.0, 1.0])
        self.b = torch.randn(n, 2, generator=g) * 0.1 + torch.tensor([-1.0, 2.0])

    def __len__(self) -> int:
        return len(self.a)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"a": {"features": self.a[i]}, "b": {"features": self.b[(i * 7) % len(self.b)]}}


class Linear(nn.Module):
    """A linear map (B, i) -> (B, o); latent_dim for the GAN objective."""

    def __init__(self, i: int = 2, o: int = 2) -> None:
        super().__init__()
        self.latent_dim = i
        self.f = nn.Linear(i, o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.f(x)


class Frames(FrontEnd):
    """Log-magnitude of a fixed random projection of hop-sized frames: (B, T) -> (B, 4, T/hop)."""

    def __init__(self, hop: int = 8, channels: int = 4) -> None:
        super().__init__()
        self.sample_rate, self.hop_length = 800, hop
        self.register_buffer("proj", torch.randn(hop, channels, generator=torch.Generator().manual_seed(0)))

    @property
    def params(self) -> dict:
        return {"hop": self.hop_length, "channels": self.proj.shape[1]}

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        frames = wave.reshape(*wave.shape[:-1], -1, self.hop_length)  # (B, N, hop)
        return torch.log((frames @ self.proj).abs() + 1e-5).transpose(-1, -2)  # (B, C, N)


class Waves(Dataset):
    """Sines of random frequency with their features: {"wave": (T,), "features": (C, N)}."""

    yields = BatchSpec.of({"wave", "features", "id"})

    def __init__(self, features: FrontEnd, n: int = 16, length: int = 64) -> None:
        g = torch.Generator().manual_seed(2)
        t = torch.arange(length) / 800
        self.waves = torch.sin(2 * torch.pi * (50 + 100 * torch.rand(n, 1, generator=g)) * t)
        self.feats = features(self.waves)

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"wave": self.waves[i], "features": self.feats[i], "id": f"utt{i}"}


class Upsampler(nn.Module):
    """Features (B, C, N) -> waveform (B, 1, N*hop) by a transposed convolution."""

    def __init__(self, channels: int = 4, hop: int = 8) -> None:
        super().__init__()
        self.upsample_factor = hop
        self.conv = nn.ConvTranspose1d(channels, 1, kernel_size=hop, stride=hop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x))


class WaveDisc(nn.Module):
    """Two sub-discriminators at two scales; returns ([logits], [[maps]])."""

    def __init__(self) -> None:
        super().__init__()
        self.subs = nn.ModuleList([nn.Conv1d(1, 2, 5, padding=2), nn.Conv1d(1, 2, 3, stride=2)])
        self.heads = nn.ModuleList([nn.Conv1d(2, 1, 1), nn.Conv1d(2, 1, 1)])

    def forward(self, x: torch.Tensor):
        logits, maps = [], []
        for sub, head in zip(self.subs, self.heads):
            h = torch.relu(sub(x))
            logits.append(head(h))
            maps.append([h])
        return logits, maps


class Probe(GAN):
    """The GAN objective, recording whether D could learn during each step, with optional NaNs."""

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "non_saturating",
        nan_steps: list[int] = [],  # noqa: B006 - read-only
    ) -> None:
        super().__init__(criterion=criterion)
        self.nan_steps = set(nan_steps)
        self.d_trainable: list[bool] = []
        self.g_step_d_trainable: list[bool] = []

    def discriminator_terms(self, batch, state, *, g, d, step, weights):
        self.d_trainable.append(any(p.requires_grad for p in d.parameters()))
        terms = super().discriminator_terms(batch, state, g=g, d=d, step=step, weights=weights)
        if step in self.nan_steps:
            terms["d/adv"] = terms["d/adv"] * float("nan")
        return terms

    def generator_terms(self, batch, state, *, g, d, step, weights):
        self.g_step_d_trainable.append(any(p.requires_grad for p in d.parameters()))
        return super().generator_terms(batch, state, g=g, d=d, step=step, weights=weights)


class Mapping(GAN):
    """Deterministic: the generator maps each real point (no noise), for exact comparisons."""

    def generate(self, batch, *, g, step):
        return {"fake": g["generator"](batch["x"])}


class PairCount:
    """How many evaluation pairs the objective makes on the train split."""

    def __call__(self, ctx) -> dict:
        return {"pairs": float(sum(1 for _ in ctx.pairs(split="train", limit=3)))}


class Kit:
    @hookimpl
    def speechgan_register_metrics(self, register):
        register("pair_count", PairCount)

    @hookimpl
    def speechgan_register_datasets(self, register):
        register("points", Points)
        register("domains", Domains)
        register("waves", Waves)

    @hookimpl
    def speechgan_register_generators(self, register):
        register("linear", Linear)
        register("upsampler", Upsampler)

    @hookimpl
    def speechgan_register_discriminators(self, register):
        register("linear", Linear)
        register("wave_disc", WaveDisc)

    @hookimpl
    def speechgan_register_features(self, register):
        register("frames", Frames)

    @hookimpl
    def speechgan_register_objectives(self, register):
        register("probe", Probe)
        register("mapping", Mapping)


def assert_same_models(a_dir, b_dir, *, ema: bool = False) -> None:
    """The ``last.pt`` of two run directories hold equal weights (and EMA weights), exactly."""
    from speechgan.checkpoint import load_checkpoint

    a, b = load_checkpoint(a_dir / "checkpoints" / "last.pt"), load_checkpoint(b_dir / "checkpoints" / "last.pt")
    sections = [(s, a[s], b[s]) for s in ("generators", "discriminators")]
    if ema:
        sections.append(("ema.generator", a["ema"]["generator"], b["ema"]["generator"]))
    for section, left, right in sections:
        for name, tensor in left.items():
            assert torch.equal(tensor, right[name]), f"{section}.{name}"
