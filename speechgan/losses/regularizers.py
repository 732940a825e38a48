"""Gradient penalties on the discriminator (critic).

* :func:`gradient_penalty`: WGAN-GP, Gulrajani et al. 2017, "Improved Training of
  Wasserstein GANs", Eq. 3: ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` at random interpolates
  ``x_hat = eps * x + (1 - eps) * G(z)``, ``eps ~ U[0, 1]`` per sample. The paper's
  defaults (Algorithm 1): lambda = 10, n_critic = 5, Adam(lr=1e-4, betas=(0, 0.9)).
* :func:`r1_penalty`: Mescheder et al. 2018, "Which Training Methods for GANs do actually
  Converge?" (ICML 2018): ``R1 = gamma / 2 * E_x[||grad_x D(x)||^2]`` on real data only; the
  paper uses gamma = 10 for most of its experiments.

Neither function holds its weight: lambda (WGAN-GP) or gamma / 2 (R1) is the loss weight
in the config, so one knob scales each term. Both differentiate with
``create_graph=True`` so the penalty backpropagates into the discriminator's parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .adversarial import DiscriminatorOutput, as_output_list

__all__ = ["Critic", "gradient_penalty", "r1_penalty", "GradientPenalty", "R1Penalty"]

#: A critic (discriminator) as the penalties call it: inputs to logits.
Critic = Callable[[Tensor], DiscriminatorOutput]


def _summed(output: DiscriminatorOutput) -> Tensor:
    """All logits of all sub-discriminators summed to one scalar, whose gradient wrt the
    input is the sum of the per-sample gradients (samples do not interact in D)."""
    return torch.stack([o.sum() for o in as_output_list(output)]).sum()


def _input_gradients(output: DiscriminatorOutput, inputs: Tensor) -> Tensor:
    """Gradient of the summed output wrt ``inputs``, one flat row per sample, kept in the graph."""
    (grad,) = torch.autograd.grad(_summed(output), inputs, create_graph=True)
    return grad.flatten(1)  # (B, N)


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, target: float = 1.0) -> Tensor:
    """WGAN-GP's penalty ``mean_b (||grad D(x_hat_b)||_2 - target)^2`` (without lambda).

    ``critic`` is a callable (the critic module) returning a tensor or a list of tensors
    (sub-discriminators, whose outputs are summed). ``real`` and ``fake`` are batches of the
    same shape ``(B, ...)``; both are detached, and one ``eps ~ U[0, 1]`` is drawn per sample.
    ``target`` is the norm the gradient is pulled to: 1 in the paper. The critic must treat
    samples independently (no batch norm: the paper uses layer norm instead), or the
    per-sample gradients mix.
    """
    if real.shape != fake.shape:
        raise ValueError(f"gradient_penalty: real {tuple(real.shape)} and fake {tuple(fake.shape)} must have the same shape")
    eps = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device, dtype=real.dtype)  # (B, 1, ..., 1)
    x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
    # vector_norm's backward is 0, not NaN, where a gradient is exactly zero
    norms = torch.linalg.vector_norm(_input_gradients(critic(x_hat), x_hat), dim=1)  # (B,)
    return (norms - target).pow(2).mean()


def r1_penalty(real_logits: DiscriminatorOutput, real_inputs: Tensor) -> Tensor:
    """R1's ``mean_b ||grad_x D(x_b)||_2^2`` on real data (without gamma / 2).

    ``real_inputs`` is the real batch ``(B, ...)`` D was run on, and must have been set to
    require grad before that forward pass (``x.requires_grad_(True)``); ``real_logits`` are
    D's outputs on it (a tensor or a list of tensors, summed).
    """
    if not real_inputs.requires_grad:
        raise ValueError(
            "r1_penalty: real_inputs does not require grad; call real.requires_grad_(True) "
            "before running the discriminator on it"
        )
    return _input_gradients(real_logits, real_inputs).pow(2).sum(dim=1).mean()


class GradientPenalty:
    """WGAN-GP gradient penalty (Gulrajani et al. 2017); weight it with lambda = 10 in the config.

    ``penalty(critic, real, fake)`` calls :func:`gradient_penalty`.
    """

    def __init__(self, target: float = 1.0) -> None:
        self.target = target

    def __call__(self, critic: Critic, real: Tensor, fake: Tensor) -> Tensor:
        return gradient_penalty(critic, real, fake, target=self.target)

    def __repr__(self) -> str:
        return f"GradientPenalty(target={self.target!r})"


class R1Penalty:
    """R1 penalty on real data (Mescheder et al. 2018); weight it with gamma / 2 (gamma = 10) in the config.

    ``penalty(real_logits, real_inputs)`` calls :func:`r1_penalty`.
    """

    def __call__(self, real_logits: DiscriminatorOutput, real_inputs: Tensor) -> Tensor:
        return r1_penalty(real_logits, real_inputs)

    def __repr__(self) -> str:
        return "R1Penalty()"
