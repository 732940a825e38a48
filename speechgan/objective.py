"""The contract between the trainer and a GAN family: the training objective.

An objective says what a family computes; the trainer (:mod:`speechgan.trainer`) owns
everything else (optimizers, D/G alternation, freezing, weights, precision, clipping,
accumulation, EMA, logging, checkpoints). One step of training is, as in hifi-gan's
``train.py``::

    state = objective.generate(batch, g=...)                    # fakes, with graph
    terms = objective.discriminator_terms(batch, state, ...)    # on detached fakes
    -> D update (repeated ``d_steps_per_g`` times on fresh batches)
    terms = objective.generator_terms(batch, state, ...)        # D frozen
    -> G update

Loss terms are named ``d/...`` (D step) and ``g/...`` (G step); the class attribute
:attr:`Objective.terms` declares them with their default weights, which a config's
``loss_weights`` overrides. The total is ``sum(weight * term)`` and the same names are
logged. A step may also return ``stats/...`` entries: logged, never weighted.

Batches follow :mod:`speechgan.batches`: an objective declares the keys it reads in
:attr:`Objective.reads`, and a config whose datasets do not yield them is refused at load.
The helpers every family shares (:func:`mean_output`, :func:`d_adv_terms`, :func:`pack`,
:func:`draw_latent`, :func:`waveform_samples`) live here, so that no plugin imports another plugin's module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from .errors import ConfigError
from .losses import AdversarialCriterion, as_output_list

__all__ = [
    "Objective", "Pair", "ImageSample", "AudioSample", "FigureSample", "Batch", "State",
    "mean_output", "d_adv_terms", "check_num_classes", "pack", "draw_latent", "ExportSignature", "spectrogram_figure", "waveform_samples",
]

Batch = dict[str, Any]  # a collated batch as speechgan.batches documents it
State = dict[str, Any]


def mean_output(output: Any) -> torch.Tensor:
    """Mean D output (over sub-discriminators too), detached: logged as ``stats/...``."""
    means = [o.detach().float().mean() for o in as_output_list(output)]
    return means[0] if len(means) == 1 else torch.stack(means).mean()  # one output: no stack op


def d_adv_terms(criterion: AdversarialCriterion, real_out: Any, fake_out: Any) -> dict[str, torch.Tensor]:
    """The D step's adversarial term and what is logged with it, from D's outputs on real and (detached) fake inputs.

    ``d/adv``: the criterion's discriminator loss; ``stats/d_real`` and ``stats/d_fake``: the mean
    outputs (:func:`mean_output`), whose gap shows how well D tells the two apart.
    """
    return {
        "d/adv": criterion.discriminator_loss(real_out, fake_out),
        "stats/d_real": mean_output(real_out),
        "stats/d_fake": mean_output(fake_out),
    }


def check_num_classes(module: nn.Module, *, role: str, num_classes: int, objective: str,
                      unconditional: int | None = None) -> None:
    """A conditional objective and its model must agree on the classes; else a ``ConfigError`` naming both.

    A module without ``num_classes`` counts as ``unconditional`` (None: it never agrees).
    """
    got = getattr(module, "num_classes", unconditional)
    if got != num_classes:
        raise ConfigError(
            f"{role} {type(module).__name__} has num_classes={got} but objective {objective!r} has "
            f"num_classes={num_classes}; give both the same (e.g. ${{objective.args.num_classes}})"
        )


def pack(x: torch.Tensor, k: int) -> torch.Tensor:
    """PacGAN packing (Lin et al. 2018): (B, C, ...) -> (B/k, k*C, ...), consecutive samples together."""
    if k == 1:
        return x
    b = x.shape[0]
    if b % k:
        raise ConfigError(f"objective.args.pack={k} must divide the batch size (got a batch of {b})")
    return x.reshape(b // k, k * x.shape[1], *x.shape[2:])


def draw_latent(g: nn.Module, n: int, device: torch.device) -> torch.Tensor:
    """z of shape (n, g.latent_dim) for a generator that declares ``latent_dim``.

    z ~ N(0, I), or U(-1, 1) per coordinate where the generator sets
    ``latent_distribution = "uniform"`` (WaveGAN, Donahue et al. 2019, as DCGAN's paper did).
    """
    dim = getattr(g, "latent_dim", None)
    if dim is None:
        raise ConfigError(f"this objective needs a generator with a latent_dim attribute; {type(g).__name__} has none")
    distribution = getattr(g, "latent_distribution", "normal")
    if distribution == "normal":
        return torch.randn(n, dim, device=device)
    if distribution == "uniform":
        return torch.rand(n, dim, device=device) * 2.0 - 1.0
    raise ConfigError(
        f"{type(g).__name__}.latent_distribution is {distribution!r}; draw_latent knows 'normal' and 'uniform'"
    )


@dataclass
class Pair:
    """A reference and a generated waveform for paired evaluation (vocoding, conversion)."""

    reference: torch.Tensor  # (T,) CPU float
    generated: torch.Tensor  # (T',) CPU float
    sample_rate: int
    id: str


@dataclass(frozen=True)
class ExportSignature:
    """How a generator is called, for ``speechgan export`` (:mod:`speechgan.export`).

    ``example`` are the inputs it is traced with; ``check`` are inputs of other sizes along
    every dynamic axis, on which the exported file must reproduce eager PyTorch, so that a
    size baked in by tracing is caught. ``dynamic_axes`` maps an input or output name to
    ``{axis: name}`` for the axes that may change (ONNX's ``dynamic_axes``).
    """

    example: tuple[torch.Tensor, ...]
    check: tuple[torch.Tensor, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    dynamic_axes: dict[str, dict[int, str]]


@dataclass
class ImageSample:
    """Images to log: (N, C, H, W) in [0, 1] (or [-1, 1] with ``normalize=True``)."""

    images: torch.Tensor
    normalize: bool = False


@dataclass
class AudioSample:
    """A waveform to log: (T,) in [-1, 1]."""

    wave: torch.Tensor
    sample_rate: int


@dataclass
class FigureSample:
    """A matplotlib figure to log (closed by the logger)."""

    figure: Any


def spectrogram_figure(waves: torch.Tensor, *, sample_rate: int, titles: Sequence[str], n_fft: int = 512) -> Any:
    """A grid of log-magnitude spectrograms (dB) of waveforms ``(N, T)`` or ``(N, 1, T)``, one titled panel each.

    Hann window of ``n_fft`` samples (at most ``T``), hop ``n_fft / 4``; frequency up to
    ``sample_rate / 2`` on the vertical axis, time in seconds across.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    waves = waves.detach().float().cpu().reshape(waves.shape[0], -1)  # (N, T)
    n, length = len(titles), waves.shape[1]
    if n > waves.shape[0]:
        raise ValueError(f"spectrogram_figure: {n} titles for {waves.shape[0]} waveforms")
    n_fft = min(n_fft, length)
    window = torch.hann_window(n_fft)
    magnitude = torch.stft(waves[:n], n_fft, hop_length=max(n_fft // 4, 1), window=window, return_complex=True).abs()
    decibels = 20.0 * torch.log10(magnitude.clamp_min(1e-5))  # (n, n_fft / 2 + 1, frames)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        ax.imshow(decibels[k].numpy(), origin="lower", aspect="auto", cmap="magma",
                  extent=(0.0, length / sample_rate, 0.0, sample_rate / 2))
        ax.set_title(titles[k], fontsize=8)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig


def waveform_samples(waves: torch.Tensor, *, sample_rate: int, names: Sequence[str]) -> dict[str, Any]:
    """What to log of generated waveforms ``(N, 1, T)``: ``{name: AudioSample}`` for the first
    ``len(names)`` of them, and ``spectrograms``, a :class:`FigureSample` of theirs."""
    waves = waves.detach().float().cpu()
    samples: dict[str, Any] = {name: AudioSample(waves[k].reshape(-1), sample_rate) for k, name in enumerate(names)}
    samples["spectrograms"] = FigureSample(spectrogram_figure(waves, sample_rate=sample_rate, titles=names))
    return samples


class Objective(nn.Module):
    """Base class of training objectives (an ``nn.Module`` so its buffers follow the device).

    Class attributes a subclass sets:

    * ``generator_roles`` / ``discriminator_roles``: the names it expects under
      ``generators:`` and ``discriminators:`` in the config; ``None`` accepts any names
      (a vocoder with any set of discriminators). ``optional_discriminator_roles``: roles a
      config may add, all of them or none (CycleGAN-VC2's second-step discriminators).
    * ``terms``: ``{term name: default weight}`` for every loss term it can return.
    * ``reads``: the batch keys it reads (:mod:`speechgan.batches`), checked against the
      datasets' declared batches when the config loads; ``None`` leaves them unchecked.

    Methods receive the modules as ``nn.ModuleDict``s keyed by role (``g``, ``d``), the
    global ``step`` and the current ``weights`` (term -> weight at this step): a term whose
    weight is 0 need not be computed at all.
    """

    generator_roles: ClassVar[tuple[str, ...] | None] = ("generator",)
    discriminator_roles: ClassVar[tuple[str, ...] | None] = ("discriminator",)
    optional_discriminator_roles: ClassVar[tuple[str, ...]] = ()  # all of them or none (CycleGAN-VC2's 2nd step)
    terms: ClassVar[dict[str, float]] = {}
    reads: ClassVar[frozenset[str] | None] = None

    def generate(self, batch: Batch, *, g: nn.ModuleDict, step: int) -> State:
        """Run the generators on a batch; the returned state keeps the graph for the G step."""
        raise NotImplementedError

    def discriminator_terms(
        self, batch: Batch, state: State, *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
        weights: Mapping[str, float],
    ) -> dict[str, torch.Tensor]:
        """``d/...`` loss terms. Fakes in ``state`` must be used detached."""
        raise NotImplementedError

    def generator_terms(
        self, batch: Batch, state: State, *, g: nn.ModuleDict, d: nn.ModuleDict, step: int,
        weights: Mapping[str, float],
    ) -> dict[str, torch.Tensor]:
        """``g/...`` loss terms; the trainer has frozen the discriminators."""
        raise NotImplementedError

    # -- optional: what evaluation and logging can ask for -------------------------------

    def sample(self, *, g: nn.ModuleDict, n: int, device: torch.device) -> torch.Tensor:
        """``n`` unconditional samples (for metrics on generated data)."""
        raise NotImplementedError(f"objective {type(self).__name__} draws no unconditional samples")

    def evaluation_pairs(
        self, *, g: nn.ModuleDict, dataset: Any, device: torch.device, limit: int | None = None
    ) -> Iterator[Pair]:
        """(reference, generated) waveform pairs over a dataset (for speech metrics)."""
        raise NotImplementedError(f"objective {type(self).__name__} makes no evaluation pairs")

    def samples(self, *, g: nn.ModuleDict, batch: Batch, step: int) -> dict[str, Any]:
        """Named :class:`ImageSample` / :class:`AudioSample` / :class:`FigureSample` to log."""
        return {}

    def prepare(self, *, dataset: Any, run_dir: Path) -> None:
        """Learn what this objective needs from the training data, once, before the first step.

        Called on a fresh run only (a resumed run's checkpoint holds the result, in this
        module's ``state_dict``): voice conversion's per-speaker feature statistics. An
        objective may also write a readable copy into ``run_dir``. The default does nothing.
        """

    def conversion_speakers(self) -> dict[str, list[str]]:
        """The speakers :meth:`convert` reads and writes, by side (``{"a": [...], "b": [...]}``)."""
        raise NotImplementedError(f"objective {type(self).__name__} does not convert between speakers")

    def convert(self, features: torch.Tensor, *, g: nn.ModuleDict, source: str, target: str) -> torch.Tensor:
        """Front-end features (C, N) of ``source``'s speech -> features (C, N) of it in ``target``'s voice."""
        raise NotImplementedError(f"objective {type(self).__name__} does not convert between speakers")

    def export_signature(self, role: str, *, features: nn.Module | None, device: torch.device) -> ExportSignature:
        """The inputs, names and dynamic axes of generator ``role``, for ``speechgan export``."""
        raise NotImplementedError(f"objective {type(self).__name__} does not describe its generators' inputs")
