"""WGAN-GP and R1 penalties against closed forms on linear and quadratic discriminators."""

from __future__ import annotations

import pytest
import torch

from speechgan.losses import GradientPenalty, R1Penalty, gradient_penalty, r1_penalty


def _linear_critic(w: torch.Tensor):
    return lambda x: x.flatten(1) @ w  # (B, ...) -> (B,)


def test_gradient_penalty_of_linear_critic_is_norm_minus_one_squared() -> None:
    torch.manual_seed(0)
    w = torch.randn(6, dtype=torch.float64, requires_grad=True)
    real = torch.randn(4, 2, 3, dtype=torch.float64)
    fake = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    penalty = gradient_penalty(_linear_critic(w), real, fake)
    norm = w.detach().norm().item()
    # grad_x (w . x) = w at every interpolate, whatever eps is drawn
    assert penalty.item() == pytest.approx((norm - 1.0) ** 2, rel=1e-12)
    penalty.backward()
    # create_graph=True: the penalty reaches the critic's weights; d/dw (|w|-1)^2 = 2(|w|-1) w/|w|
    torch.testing.assert_close(w.grad, 2 * (norm - 1.0) * w.detach() / norm)
    assert fake.grad is None  # interpolates are built from detached samples


def test_gradient_penalty_sums_sub_critic_outputs_and_honours_target() -> None:
    torch.manual_seed(1)
    w1, w2 = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    critic = lambda x: [x @ w1, (x @ w2).unsqueeze(1)]  # two sub-critics, different shapes
    real, fake = torch.randn(3, 5, dtype=torch.float64), torch.randn(3, 5, dtype=torch.float64)
    expected = ((w1 + w2).norm().item() - 0.5) ** 2
    assert GradientPenalty(target=0.5)(critic, real, fake).item() == pytest.approx(expected, rel=1e-12)


def test_gradient_penalty_uses_per_sample_gradient_norms() -> None:
    # D(x) = |x|^2 / 2 has grad x; with real == fake the interpolate is x itself
    x = torch.tensor([[3.0, 4.0], [0.0, 0.5]], dtype=torch.float64)
    critic = lambda v: 0.5 * v.pow(2).sum(dim=1)
    expected = ((5.0 - 1.0) ** 2 + (0.5 - 1.0) ** 2) / 2
    assert gradient_penalty(critic, x, x.clone()).item() == pytest.approx(expected, rel=1e-12)


def test_gradient_penalty_has_finite_gradients_where_the_critic_gradient_is_zero() -> None:
    w = torch.zeros(4, requires_grad=True)
    penalty = gradient_penalty(_linear_critic(w), torch.randn(2, 4), torch.randn(2, 4))
    penalty.backward()
    assert penalty.item() == 1.0 and torch.isfinite(w.grad).all()


def test_gradient_penalty_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"real \(2, 3\) and fake \(2, 4\) must have the same shape"):
        gradient_penalty(lambda x: x.sum(1), torch.zeros(2, 3), torch.zeros(2, 4))


def test_r1_of_quadratic_discriminator() -> None:
    # D(x) = sum(a * x^2): grad_x = 2 a x, so R1 = mean_b |2 a x_b|^2
    torch.manual_seed(2)
    a = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 2, 3, dtype=torch.float64).requires_grad_(True)
    logits = (a * x * x).flatten(1).sum(dim=1)  # (B,)
    penalty = R1Penalty()(logits, x)
    x_ = x.detach()
    expected = (2 * a.detach() * x_).flatten(1).pow(2).sum(dim=1).mean()
    torch.testing.assert_close(penalty, expected)
    penalty.backward()
    # reaches D's parameters: d/da mean_b sum 4 a^2 x^2 = mean_b 8 a x^2
    torch.testing.assert_close(a.grad, (8 * a.detach() * x_ * x_).mean(dim=0))


def test_r1_sums_sub_discriminator_outputs() -> None:
    x = torch.tensor([[1.0, 2.0]], requires_grad=True)
    logits = [3.0 * x[:, 0], (x[:, 1] ** 2).unsqueeze(1)]  # grads (3, 0) and (0, 2 x_1 = 4)
    assert r1_penalty(logits, x).item() == pytest.approx(9.0 + 16.0)


def test_r1_needs_inputs_that_require_grad() -> None:
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match=r"real_inputs does not require grad; call real.requires_grad_\(True\)"):
        r1_penalty(x.sum(1), x)
