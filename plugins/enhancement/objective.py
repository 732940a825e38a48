"""SEGAN's training objective and its enhancement of whole utterances.

Pascual, Bonafonte & Serrà 2017, "SEGAN: Speech Enhancement Generative Adversarial Network"
(Interspeech), section 3, with the reference code's choices (santi-pdp/segan ``model.py``;
santi-pdp/segan_pytorch ``segan/models/model.py``). Batches are ``PAIRED``
(:mod:`speechgan.batches`): ``noisy`` and ``clean`` (B, T) time-aligned segments. The
discriminator judges pairs [clean ; noisy] (real) and [G(noisy) ; noisy] (fake). Terms:

* ``d/adv``, ``g/adv``: the adversarial criterion, least squares by default (LSGAN, Mao et
  al. 2017): D pushes real pairs to 1 and fake pairs to 0, G its fakes to 1. Like the
  reference code, each is a plain mean of squares (no factor 1/2);
* ``g/l1``: ``mean |G(noisy) - clean|``, weight 100 (the reference code's
  ``init_l1_weight``), computed in the pre-emphasised domain in which G works, as both
  references compute it.
* ``g/stft``: Parallel WaveGAN's multi-resolution STFT loss (spectral convergence + log
  magnitude, :class:`speechgan.losses.MultiResolutionSTFTLoss`) between G(noisy) and clean,
  in the same pre-emphasised domain. Not in SEGAN: weight 0 by default (the paper's
  objective); at weight 1 on the CPU recipe it did not help (recipes/enhancement/README.md).

**Pre-emphasis** ``y[n] = x[n] - 0.95 x[n - 1]`` (``y[0] = x[0]``) is applied here, to both
signals of each batch, rather than by the dataset: it defines the domain the generator
works in, so the objective that trains G is also what :meth:`SEGAN.enhance` uses to undo it
(de-emphasis), and a ``PAIRED`` dataset stays a plain pair of waveforms that any
enhancement model can read. The reference code pre-emphasises each 16,384-sample training
segment the same way.

**Enhancing an utterance** (:meth:`SEGAN.enhance`): pre-emphasis of the whole utterance,
windows of ``window_length`` samples (the training segment) every half window, zero-padded
by half a window in front and to a whole number of hops behind, each enhanced by G,
weighted by a periodic Hann window (whose half-overlapping copies sum to exactly 1) and
overlap-added, the padding cut off, then de-emphasis. De-emphasis multiplies a constant by
1 / (1 - 0.95) = 20, so a small offset in G's output becomes a large one in the waveform (a
generator trained 10,000 steps at CPU scale left two thirds of its error energy below 100 Hz);
``highpass_hz`` > 0 then applies a first-order DC-blocking high-pass,
``y[n] = x[n] - x[n - 1] + r y[n - 1]`` with ``r = exp(-2 pi highpass_hz / sample_rate)``. Off
by default, as in the references. The reference code instead
concatenates non-overlapping windows (the last one zero-padded), whose edges can click.
The latent z: the TensorFlow code draws a fresh N(0, I) z for every window; segan_pytorch
reuses the first z its generator drew. Here one z ~ N(0, I) from a generator seeded with
``seed`` serves every window, so the same input gives the same output
(``inference_latent: zeros`` uses z = 0 instead).

Training itself (RMSprop with learning rate 0.0002 for both networks, the reference code's
default; batches of 400 segments of 16,384 samples, about 1 s at 16 kHz, in the paper) is
the recipe's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from speechgan.batches import PAIRED
from speechgan.errors import ConfigError, DataError
from speechgan.losses import AdversarialCriterion, MultiResolutionSTFTLoss
from speechgan.objective import AudioSample, Objective, Pair, d_adv_terms
from speechgan.registry import ComponentRef

__all__ = ["SEGAN", "preemphasis", "deemphasis"]

#: Samples per block of :func:`deemphasis`'s closed form (a (block, block) matrix product per block).
_DEEMPHASIS_BLOCK = 512


def preemphasis(x: torch.Tensor, coefficient: float) -> torch.Tensor:
    """``y[n] = x[n] - a x[n - 1]`` along the last axis, ``y[0] = x[0]`` (the reference code's ``pre_emph``)."""
    if coefficient == 0.0:
        return x
    return torch.cat([x[..., :1], x[..., 1:] - coefficient * x[..., :-1]], dim=-1)


def deemphasis(y: torch.Tensor, coefficient: float) -> torch.Tensor:
    """The inverse of :func:`preemphasis`: ``x[n] = y[n] + a x[n - 1]``, ``x[0] = y[0]``, along the last axis.

    The one-pole recursion is computed exactly, in float64, a block of L samples at a time:
    ``x[s + i] = sum_{k <= i} a^(i - k) y[s + k] + a^(i + 1) x[s - 1]``.
    """
    if coefficient == 0.0:
        return y
    length = y.shape[-1]
    rows = y.reshape(-1, length).double()  # (R, T)
    steps = torch.arange(_DEEMPHASIS_BLOCK, dtype=torch.float64, device=y.device)  # (L,)
    lag = steps[:, None] - steps[None, :]  # (L, L): i - k
    decay = torch.where(lag >= 0, coefficient ** lag.clamp(min=0), torch.zeros_like(lag))  # a^(i-k) for k <= i
    carry_gain = coefficient ** (steps + 1)  # (L,): a^(i+1)
    carry = rows.new_zeros(rows.shape[0])  # x[s - 1] for each row
    blocks = []
    for start in range(0, length, _DEEMPHASIS_BLOCK):
        block = rows[:, start:start + _DEEMPHASIS_BLOCK]  # (R, l)
        n = block.shape[1]
        x = block @ decay[:n, :n].T + carry[:, None] * carry_gain[:n]  # (R, l)
        carry = x[:, -1]
        blocks.append(x)
    return torch.cat(blocks, dim=-1).to(y.dtype).reshape(y.shape)


class SEGAN(Objective):
    """Speech enhancement GAN: least-squares adversarial loss on (enhanced, noisy) pairs + L1 (Pascual et al. 2017)."""

    generator_roles = ("generator",)
    discriminator_roles = ("discriminator",)
    terms = {"d/adv": 1.0, "g/adv": 1.0, "g/l1": 100.0, "g/stft": 0.0}
    reads = PAIRED.keys  # {"noisy", "clean"}: (B, T) each

    def __init__(
        self,
        criterion: Annotated[AdversarialCriterion, ComponentRef("loss")] = "least_squares",  # type: ignore[assignment]
        preemphasis: float = 0.95,
        sample_rate: int = 16000,
        window_length: int = 16384,
        inference_latent: Literal["normal", "zeros"] = "normal",
        seed: int = 0,
        window_batch: int = 8,
        stft_loss: Annotated[MultiResolutionSTFTLoss, ComponentRef("loss")] = "multi_resolution_stft",  # type: ignore[assignment]
        highpass_hz: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= preemphasis < 1.0:
            raise ConfigError(f"objective.args.preemphasis must be in [0, 1) (the paper uses 0.95; 0 turns it off), "
                              f"got {preemphasis}")
        if window_length < 2 or window_length % 2:
            raise ConfigError(f"objective.args.window_length must be a positive even number of samples (the "
                              f"training segment_length, 16384 in the paper), got {window_length}")
        if inference_latent not in ("normal", "zeros"):
            raise ConfigError(f"objective.args.inference_latent must be 'normal' or 'zeros', got {inference_latent!r}")
        if sample_rate < 1 or window_batch < 1:
            raise ConfigError(f"objective.args: sample_rate and window_batch must be positive, got {sample_rate} "
                              f"and {window_batch}")
        if not 0.0 <= highpass_hz < sample_rate / 2:
            raise ConfigError(f"objective.args.highpass_hz must be in [0, sample_rate / 2) (0 turns the DC blocker "
                              f"off), got {highpass_hz}")
        self.highpass_hz = highpass_hz
        self.criterion, self.preemphasis, self.sample_rate = criterion, preemphasis, sample_rate
        self.window_length, self.inference_latent, self.seed = window_length, inference_latent, seed
        self.window_batch, self.stft_loss = window_batch, stft_loss

    def generate(self, batch: dict[str, Any], *, g: nn.ModuleDict, step: int) -> dict[str, Any]:
        noisy = preemphasis(batch["noisy"], self.preemphasis).unsqueeze(1)  # (B, 1, T)
        clean = preemphasis(batch["clean"], self.preemphasis).unsqueeze(1)  # (B, 1, T)
        if noisy.shape != clean.shape:
            raise DataError(f"SEGAN: noisy {tuple(batch['noisy'].shape)} and clean {tuple(batch['clean'].shape)} "
                            "batches differ in shape; a PAIRED dataset yields time-aligned pairs")
        return {"noisy": noisy, "clean": clean, "fake": g["generator"](noisy)}  # fake: (B, 1, T)

    def discriminator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                            weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        disc, noisy = d["discriminator"], state["noisy"]
        real_out = disc(torch.cat([state["clean"], noisy], dim=1))  # (B, 2, T) -> (B, 1)
        fake_out = disc(torch.cat([state["fake"].detach(), noisy], dim=1))
        return d_adv_terms(self.criterion, real_out, fake_out)

    def generator_terms(self, batch: Any, state: dict[str, Any], *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
                        weights: Mapping[str, float]) -> dict[str, torch.Tensor]:
        fake = state["fake"]  # (B, 1, T), pre-emphasised
        terms: dict[str, torch.Tensor] = {}
        if weights.get("g/l1", 0.0):
            terms["g/l1"] = F.l1_loss(fake, state["clean"])
        if weights.get("g/stft", 0.0):
            terms.update(self.stft_loss.terms(fake, state["clean"]))
        if weights.get("g/adv", 0.0):
            terms["g/adv"] = self.criterion.generator_loss(d["discriminator"](torch.cat([fake, state["noisy"]], dim=1)))
        return terms

    @torch.no_grad()
    def enhance(self, noisy: torch.Tensor, *, g: nn.ModuleDict) -> torch.Tensor:
        """Enhance whole utterances: ``noisy`` (T,) or (B, T) of any length -> the same shape (module docstring)."""
        generator = g["generator"]
        if noisy.dim() not in (1, 2) or not noisy.is_floating_point() or noisy.shape[-1] == 0:
            raise DataError(f"SEGAN.enhance: expected a float waveform (T,) or (B, T), got {noisy.dtype} "
                            f"{tuple(noisy.shape)}")
        multiple = int(getattr(generator, "frame_multiple", 1))
        if self.window_length % multiple:
            raise ConfigError(f"objective.args.window_length {self.window_length} is not a multiple of "
                              f"{multiple}, the lengths the generator reads; use the training segment_length")
        x = preemphasis(noisy.reshape(-1, noisy.shape[-1]), self.preemphasis)  # (B, T)
        b, t = x.shape
        window, hop = self.window_length, self.window_length // 2
        # hop zeros in front, and behind up to a whole number of hops such that every sample of
        # the utterance lies under exactly two windows
        count = math.ceil(t / hop) + 1
        padded = F.pad(x, (hop, (count + 1) * hop - hop - t))  # (B, (count + 1) hop)
        frames = padded.unfold(-1, window, hop).reshape(b * count, 1, window)  # (B count, 1, W)
        latent = self._latent(generator, window, x)  # (1, C_z, W / 2^L) or None
        outputs = [  # (n, 1, W) each
            generator(chunk) if latent is None else generator(chunk, latent.expand(chunk.shape[0], -1, -1))
            for chunk in frames.split(self.window_batch)
        ]
        taper = torch.hann_window(window, periodic=True, dtype=x.dtype, device=x.device)  # sums to 1 at half overlap
        enhanced = torch.cat(outputs).reshape(b, count, window) * taper  # (B, count, W)
        joined = F.fold(enhanced.transpose(1, 2), output_size=(1, padded.shape[-1]), kernel_size=(1, window),
                        stride=(1, hop))  # overlap-add: (B, 1, 1, (count + 1) hop)
        out = deemphasis(joined.reshape(b, -1)[:, hop:hop + t], self.preemphasis)  # (B, T)
        if self.highpass_hz:  # DC blocker: differencing, then the one-pole recursion with pole r
            pole = math.exp(-2.0 * math.pi * self.highpass_hz / self.sample_rate)
            out = deemphasis(preemphasis(out, 1.0), pole)
        return out.reshape(noisy.shape)

    def _latent(self, generator: nn.Module, window: int, like: torch.Tensor) -> torch.Tensor | None:
        """The z all windows share: (1, latent_channels, window / frame_multiple); None if G has no latent."""
        channels = getattr(generator, "latent_channels", None)
        if channels is None:
            return None
        shape = (1, int(channels), window // int(generator.frame_multiple))
        if self.inference_latent == "zeros":
            return like.new_zeros(shape)
        drawn = torch.randn(shape, generator=torch.Generator().manual_seed(self.seed))  # the caller's RNG untouched
        return drawn.to(device=like.device, dtype=like.dtype)

    def samples(self, *, g: nn.ModuleDict, batch: Any, step: int) -> dict[str, Any]:
        noisy, clean = batch["noisy"][0], batch["clean"][0]  # (T,) each
        return {
            "enhanced": AudioSample(self.enhance(noisy, g=g).float().cpu(), self.sample_rate),
            "noisy": AudioSample(noisy.float().cpu(), self.sample_rate),
            "clean": AudioSample(clean.float().cpu(), self.sample_rate),
        }

    def evaluation_pairs(self, *, g: nn.ModuleDict, dataset: Any, device: torch.device,
                         limit: int | None = None) -> Iterator[Pair]:
        """(clean, enhanced) pairs of whole utterances, for speech metrics."""
        for i in range(len(dataset) if limit is None else min(limit, len(dataset))):
            item = dataset[i]
            enhanced = self.enhance(item["noisy"].reshape(-1).to(device), g=g)
            yield Pair(reference=item["clean"].reshape(-1).float().cpu(), generated=enhanced.float().cpu(),
                       sample_rate=self.sample_rate, id=str(item.get("id", i)))
