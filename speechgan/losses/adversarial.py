"""Adversarial criteria: the D and G losses of the common GAN families.

Each criterion turns discriminator outputs into scalar losses to *minimise*:

* ``minimax``: Goodfellow et al. 2014, "Generative Adversarial Nets", Eq. 1. D maximises
  ``log D(x) + log(1 - D(G(z)))``; G minimises ``log(1 - D(G(z)))``.
* ``non_saturating``: the same D; G maximises ``log D(G(z))`` instead (Goodfellow et al.
  2014, Sec. 3), which gives strong gradients early in training.
* ``least_squares``: LSGAN, Mao et al. 2017, "Least Squares Generative Adversarial
  Networks", with HiFi-GAN's (Kong et al. 2020) sum of means.
* ``hinge``: Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018, "Spectral Normalization".
* ``wasserstein``: Arjovsky et al. 2017, "Wasserstein GAN" (the critic's loss; pair it with
  weight clipping or :func:`speechgan.losses.gradient_penalty`).

A discriminator output is a tensor of logits of any shape, or a list/tuple of them when a
model holds several sub-discriminators (HiFi-GAN's multi-period and multi-scale
discriminators, MelGAN's multi-scale one). For a list the loss is the sum over
sub-discriminators of each one's mean-reduced loss, as HiFi-GAN's ``discriminator_loss``
and ``generator_loss`` compute it.

Also here: :class:`InstanceNoise` (Sønderby et al. 2016, "Amortised MAP Inference for Image
Super-resolution"; Arjovsky & Bottou 2017, "Towards Principled Methods for Training GANs"),
Gaussian noise added to D's inputs, real and fake alike, annealed to zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import ConfigError

__all__ = [
    "DiscriminatorOutput",
    "AdversarialCriterion",
    "as_output_list",
    "Minimax",
    "NonSaturating",
    "LeastSquares",
    "Hinge",
    "Wasserstein",
    "InstanceNoise",
]

#: Logits of one discriminator, or of each sub-discriminator.
DiscriminatorOutput = Tensor | Sequence[Tensor]


@runtime_checkable
class AdversarialCriterion(Protocol):
    """What an objective needs from a GAN criterion: a D loss and a G loss to minimise."""

    def discriminator_loss(self, real: DiscriminatorOutput, fake: DiscriminatorOutput) -> Tensor:
        """D's loss from its outputs on real samples and on (detached) fakes."""
        ...

    def generator_loss(self, fake: DiscriminatorOutput) -> Tensor:
        """G's loss from D's outputs on fakes (D frozen, gradients flowing into G)."""
        ...


def as_output_list(output: DiscriminatorOutput, what: str = "discriminator output") -> list[Tensor]:
    """One tensor per sub-discriminator: a tensor becomes a one-element list."""
    if isinstance(output, Tensor):
        return [output]
    outputs = list(output)
    if not outputs or not all(isinstance(o, Tensor) for o in outputs):
        raise TypeError(f"{what} must be a tensor or a non-empty list of tensors, got {output!r:.80}")
    return outputs


def _sum_over_outputs(terms: list[Tensor]) -> Tensor:
    """The sum of per-sub-discriminator terms; a single one as it is (the same number, with
    no stack and sum in the graph: per-step ops count on small models)."""
    return terms[0] if len(terms) == 1 else torch.stack(terms).sum()


class _PerOutputCriterion:
    """Sums per-sub-discriminator terms; subclasses define the terms on one tensor."""

    def _real_term(self, real: Tensor) -> Tensor:  # D's loss on real logits, mean-reduced
        raise NotImplementedError

    def _fake_term(self, fake: Tensor) -> Tensor:  # D's loss on fake logits, mean-reduced
        raise NotImplementedError

    def _generator_term(self, fake: Tensor) -> Tensor:  # G's loss on fake logits, mean-reduced
        raise NotImplementedError

    def discriminator_loss(self, real: DiscriminatorOutput, fake: DiscriminatorOutput) -> Tensor:
        reals = as_output_list(real, "real discriminator output")
        fakes = as_output_list(fake, "fake discriminator output")
        if len(reals) != len(fakes):
            raise ValueError(
                f"{type(self).__name__}: {len(reals)} real but {len(fakes)} fake discriminator "
                "outputs; pass the outputs of the same sub-discriminators for both"
            )
        return _sum_over_outputs([self._real_term(r) + self._fake_term(f) for r, f in zip(reals, fakes)])

    def generator_loss(self, fake: DiscriminatorOutput) -> Tensor:
        fakes = as_output_list(fake, "fake discriminator output")
        return _sum_over_outputs([self._generator_term(f) for f in fakes])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Minimax(_PerOutputCriterion):
    """The minimax GAN loss of Goodfellow et al. 2014 (saturating G loss).

    D minimises ``BCE(D(x), real_label) + BCE(D(G(z)), 0)``, i.e. ``-log D(x) -
    log(1 - D(G(z)))`` when ``real_label`` is 1; G minimises ``log(1 - D(G(z)))`` =
    ``-softplus(D(G(z)))`` on logits. Everything is computed from logits with softplus /
    ``binary_cross_entropy_with_logits``, which stay finite where ``log(sigmoid(.))``
    underflows. With ``real_label`` < 1 only the real target is smoothed: one-sided label
    smoothing (Salimans et al. 2016, "Improved Techniques for Training GANs", uses 0.9).
    """

    def __init__(self, real_label: float = 1.0) -> None:
        if not 0.0 < real_label <= 1.0:
            raise ConfigError(
                f"{type(self).__name__}: real_label must be in (0, 1], got {real_label}; "
                "one-sided label smoothing uses e.g. 0.9, no smoothing 1.0"
            )
        self.real_label = real_label

    def _real_term(self, real: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(real, torch.full_like(real, self.real_label))

    def _fake_term(self, fake: Tensor) -> Tensor:
        return F.softplus(fake).mean()  # -log(1 - sigmoid(f))

    def _generator_term(self, fake: Tensor) -> Tensor:
        return -F.softplus(fake).mean()  # log(1 - sigmoid(f))


class NonSaturating(Minimax):
    """Goodfellow et al. 2014's non-saturating GAN loss: D as minimax, G minimises ``-log D(G(z))``.

    ``real_label`` < 1 is one-sided label smoothing of D's real target (Salimans et al. 2016).
    """

    def _generator_term(self, fake: Tensor) -> Tensor:
        return F.softplus(-fake).mean()  # -log(sigmoid(f))


class LeastSquares(_PerOutputCriterion):
    """LSGAN (Mao et al. 2017): D minimises ``mean((D(x)-b)^2) + mean((D(G(z))-a)^2)``, G ``mean((D(G(z))-c)^2)``.

    ``a``/``b`` are D's targets for fake/real and ``c`` the value G wants D to output; the
    defaults 0/1/1 are one of Mao et al.'s settings and HiFi-GAN's choice (Mao et al. also study
    a=-1, b=1, c=0). Mao et al. put a factor 1/2 before each objective; like HiFi-GAN this
    class leaves it out: it is absorbed into the loss weight of the config.
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        if a == b:
            raise ConfigError(f"LeastSquares: the fake target a and the real target b must differ, both are {a}")
        self.a, self.b, self.c = a, b, c

    def _real_term(self, real: Tensor) -> Tensor:
        return (real - self.b).pow(2).mean()

    def _fake_term(self, fake: Tensor) -> Tensor:
        return (fake - self.a).pow(2).mean()

    def _generator_term(self, fake: Tensor) -> Tensor:
        return (fake - self.c).pow(2).mean()


class Hinge(_PerOutputCriterion):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018): D ``mean(relu(1-D(x))) + mean(relu(1+D(G(z))))``, G ``-mean(D(G(z)))``."""

    def _real_term(self, real: Tensor) -> Tensor:
        return F.relu(1.0 - real).mean()

    def _fake_term(self, fake: Tensor) -> Tensor:
        return F.relu(1.0 + fake).mean()

    def _generator_term(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class Wasserstein(_PerOutputCriterion):
    """WGAN (Arjovsky et al. 2017): the critic minimises ``mean(D(G(z))) - mean(D(x))``, G ``-mean(D(G(z)))``.

    The critic must be kept (about) 1-Lipschitz: add ``gradient_penalty`` (WGAN-GP,
    Gulrajani et al. 2017: weight 10, 5 critic steps per G step, Adam lr 1e-4 with
    betas (0, 0.9)) or clip the critic's weights as the original WGAN does.
    """

    def _real_term(self, real: Tensor) -> Tensor:
        return -real.mean()

    def _fake_term(self, fake: Tensor) -> Tensor:
        return fake.mean()

    def _generator_term(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class InstanceNoise:
    """Instance noise: Gaussian noise on D's inputs with std ``sigma`` annealed linearly to 0.

    Sønderby et al. 2016 and Arjovsky & Bottou 2017 add noise to real and fake samples so
    that the two distributions overlap and D's gradients stay informative. The std at
    ``step`` is ``sigma * max(0, 1 - step / anneal_steps)``, constant ``sigma`` when
    ``anneal_steps`` is None. Call it on real and fake inputs alike: ``noise(x, step)``.
    """

    def __init__(self, sigma: float = 0.1, anneal_steps: int | None = None) -> None:
        if sigma < 0:
            raise ConfigError(f"InstanceNoise: sigma must be >= 0, got {sigma}")
        if anneal_steps is not None and anneal_steps <= 0:
            raise ConfigError(
                f"InstanceNoise: anneal_steps must be a positive number of steps, got {anneal_steps}; "
                "leave it out (null) for constant noise"
            )
        self.sigma = sigma
        self.anneal_steps = anneal_steps

    def sigma_at(self, step: int) -> float:
        """The noise std at training step ``step``."""
        if step < 0:
            raise ValueError(f"InstanceNoise: step must be >= 0, got {step}")
        if self.anneal_steps is None:
            return self.sigma
        return self.sigma * max(0.0, 1.0 - step / self.anneal_steps)

    def __call__(self, x: Tensor, step: int) -> Tensor:
        sigma = self.sigma_at(step)
        if sigma == 0.0:
            return x
        return x + sigma * torch.randn_like(x)

    def __repr__(self) -> str:
        return f"InstanceNoise(sigma={self.sigma!r}, anneal_steps={self.anneal_steps!r})"
