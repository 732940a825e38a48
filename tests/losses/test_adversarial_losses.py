"""Adversarial criteria against closed forms, and Goodfellow et al. 2014's optimal D."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.spatial.distance import jensenshannon

from speechgan.errors import ConfigError
from speechgan.losses import (
    AdversarialCriterion,
    Hinge,
    InstanceNoise,
    LeastSquares,
    Minimax,
    NonSaturating,
    Wasserstein,
)

REAL = [[0.5, -1.0], [2.0, 0.0]]
FAKE = [[-0.3, 1.5], [0.2, -2.0]]


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _mean(fn, rows) -> float:
    values = [fn(v) for row in rows for v in row]
    return sum(values) / len(values)


# (criterion, D loss reference, G loss reference), written element by element with math
CASES = [
    (
        Minimax(),
        lambda r, f: _mean(lambda v: -math.log(_sig(v)), r) + _mean(lambda v: -math.log(1 - _sig(v)), f),
        lambda f: _mean(lambda v: math.log(1 - _sig(v)), f),
    ),
    (
        NonSaturating(),
        lambda r, f: _mean(lambda v: -math.log(_sig(v)), r) + _mean(lambda v: -math.log(1 - _sig(v)), f),
        lambda f: _mean(lambda v: -math.log(_sig(v)), f),
    ),
    (
        LeastSquares(),
        lambda r, f: _mean(lambda v: (v - 1) ** 2, r) + _mean(lambda v: v**2, f),
        lambda f: _mean(lambda v: (v - 1) ** 2, f),
    ),
    (
        LeastSquares(a=-1.0, b=1.0, c=0.0),
        lambda r, f: _mean(lambda v: (v - 1) ** 2, r) + _mean(lambda v: (v + 1) ** 2, f),
        lambda f: _mean(lambda v: v**2, f),
    ),
    (
        Hinge(),
        lambda r, f: _mean(lambda v: max(0.0, 1 - v), r) + _mean(lambda v: max(0.0, 1 + v), f),
        lambda f: -_mean(lambda v: v, f),
    ),
    (
        Wasserstein(),
        lambda r, f: _mean(lambda v: v, f) - _mean(lambda v: v, r),
        lambda f: -_mean(lambda v: v, f),
    ),
]
IDS = ["minimax", "non_saturating", "least_squares", "least_squares_a-1_c0", "hinge", "wasserstein"]


@pytest.mark.parametrize(("criterion", "d_ref", "g_ref"), CASES, ids=IDS)
def test_criterion_matches_closed_form(criterion, d_ref, g_ref) -> None:
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    d_loss = criterion.discriminator_loss(real, fake)
    g_loss = criterion.generator_loss(fake)
    assert d_loss.shape == () and g_loss.shape == ()
    assert d_loss.item() == pytest.approx(d_ref(REAL, FAKE), rel=1e-6)
    assert g_loss.item() == pytest.approx(g_ref(FAKE), rel=1e-6)
    assert isinstance(criterion, AdversarialCriterion)


@pytest.mark.parametrize(("criterion", "d_ref", "g_ref"), CASES, ids=IDS)
def test_list_of_sub_discriminators_sums_each_mean(criterion, d_ref, g_ref) -> None:
    # two sub-discriminators with different output shapes, as HiFi-GAN's MPD + MSD
    torch.manual_seed(0)
    reals = [torch.randn(2, 1, 7), torch.randn(2, 1, 3, 4)]
    fakes = [torch.randn(2, 1, 7), torch.randn(2, 1, 3, 4)]
    d_sum = sum(criterion.discriminator_loss(r, f) for r, f in zip(reals, fakes))
    g_sum = sum(criterion.generator_loss(f) for f in fakes)
    torch.testing.assert_close(criterion.discriminator_loss(reals, fakes), d_sum)
    torch.testing.assert_close(criterion.generator_loss(tuple(fakes)), g_sum)
    # and against the closed form on each sub-discriminator
    expected_g = sum(g_ref(f.flatten().view(1, -1).tolist()) for f in fakes)
    assert criterion.generator_loss(fakes).item() == pytest.approx(expected_g, rel=1e-5)


def test_mismatched_sub_discriminator_counts_are_an_error() -> None:
    with pytest.raises(ValueError, match="2 real but 1 fake discriminator outputs"):
        Hinge().discriminator_loss([torch.zeros(2), torch.zeros(2)], [torch.zeros(2)])
    with pytest.raises(TypeError, match="must be a tensor or a non-empty list of tensors"):
        Hinge().generator_loss([])


def test_one_sided_label_smoothing_targets_real_only() -> None:
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    smooth = NonSaturating(real_label=0.9)
    # BCE against 0.9 on the real logits; fakes keep target 0
    expected = _mean(lambda v: -(0.9 * math.log(_sig(v)) + 0.1 * math.log(1 - _sig(v))), REAL) + _mean(
        lambda v: -math.log(1 - _sig(v)), FAKE
    )
    assert smooth.discriminator_loss(real, fake).item() == pytest.approx(expected, rel=1e-6)
    # G's loss does not change
    torch.testing.assert_close(smooth.generator_loss(fake), NonSaturating().generator_loss(fake))
    torch.testing.assert_close(Minimax(real_label=0.9).generator_loss(fake), Minimax().generator_loss(fake))


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.1])
def test_real_label_out_of_range_is_a_config_error(bad: float) -> None:
    with pytest.raises(ConfigError, match=rf"Minimax: real_label must be in \(0, 1\], got {bad}"):
        Minimax(real_label=bad)


def test_least_squares_needs_distinct_targets() -> None:
    with pytest.raises(ConfigError, match="the fake target a and the real target b must differ"):
        LeastSquares(a=1.0, b=1.0)


@pytest.mark.parametrize("criterion", [Minimax(), NonSaturating(), Minimax(real_label=0.9)], ids=repr)
@pytest.mark.parametrize("scale", [100.0, 1000.0])
def test_bce_criteria_are_stable_at_extreme_logits(criterion, scale: float) -> None:
    # sigmoid then log would give log(0) = -inf here (float32 sigmoid(-1000) == 0)
    real = torch.tensor([scale, -scale], requires_grad=True)
    fake = torch.tensor([scale, -scale], requires_grad=True)
    d_loss = criterion.discriminator_loss(real, fake)
    g_loss = criterion.generator_loss(fake)
    (d_loss + g_loss).backward()
    assert torch.isfinite(d_loss) and torch.isfinite(g_loss)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()
    # in each term one logit is wrong by `scale` (softplus(scale) = scale), one right (~0)
    if criterion.real_label == 1.0:
        assert d_loss.item() == pytest.approx(scale / 2 + scale / 2, rel=1e-6)


def test_confident_correct_discriminator_has_zero_minimax_loss() -> None:
    loss = Minimax().discriminator_loss(torch.full((3,), 100.0), torch.full((3,), -100.0))
    assert 0.0 <= loss.item() < 1e-30


def test_minimax_loss_is_log4_when_distributions_match() -> None:
    # p_data == p_g: D* = 1/2 everywhere (logit 0), V(D*, G) = -log 4 (Goodfellow et al. Thm. 1)
    zeros = torch.zeros(5, 3, dtype=torch.float64)
    assert Minimax().discriminator_loss(zeros, zeros).item() == pytest.approx(math.log(4.0), rel=1e-7)


def test_minimax_loss_at_optimal_d_is_log4_minus_2_jsd() -> None:
    # Discrete p_data, p_g on 3 points, as samples in exact proportions (4 each).
    p_data, p_g = [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]
    logit = [math.log(p / q) for p, q in zip(p_data, p_g)]  # D* = p/(p+q), logit(D*) = log(p/q)
    real = torch.tensor([logit[0], logit[0], logit[1], logit[2]], dtype=torch.float64)
    fake = torch.tensor([logit[0], logit[1], logit[2], logit[2]], dtype=torch.float64)
    jsd = jensenshannon(p_data, p_g) ** 2  # scipy returns the square root, in nats
    loss = Minimax().discriminator_loss(real, fake).item()
    assert -loss == pytest.approx(-math.log(4.0) + 2 * jsd, rel=1e-12)


def test_minimax_discriminator_converges_to_optimal_d() -> None:
    # Goodfellow et al. 2014, Prop. 1: D*(x) = p_data(x) / (p_data(x) + p_g(x)).
    # p_data = N(0, 1), p_g = N(1, 1); D is logistic on features (1, x, x^2), fitted by
    # Newton's method on the minimax D loss (convex in w).
    gen = torch.Generator().manual_seed(0)
    n = 10_000
    x_real = torch.randn(n, generator=gen, dtype=torch.float64)
    x_fake = torch.randn(n, generator=gen, dtype=torch.float64) + 1.0

    def d(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return w[0] + w[1] * x + w[2] * x * x  # logits

    def grad_and_hessian(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        w = w.detach().requires_grad_(True)
        loss = Minimax().discriminator_loss(d(w, x_real), d(w, x_fake))
        (grad,) = torch.autograd.grad(loss, w, create_graph=True)
        hessian = torch.stack([torch.autograd.grad(g, w, retain_graph=True)[0] for g in grad])
        return grad.detach(), hessian

    w = torch.zeros(3, dtype=torch.float64)
    for _ in range(10):
        grad, hessian = grad_and_hessian(w)
        w = w - torch.linalg.solve(hessian, grad)
    assert grad_and_hessian(w)[0].abs().max().item() < 1e-10  # converged

    xs = torch.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], dtype=torch.float64)
    p_data = torch.exp(-0.5 * xs**2)
    p_g = torch.exp(-0.5 * (xs - 1.0) ** 2)  # same normalising constant
    d_star = p_data / (p_data + p_g)
    fitted = torch.sigmoid(d(w, xs)).detach()
    assert (fitted - d_star).abs().max().item() < 0.05, (fitted, d_star)


def test_instance_noise_std_anneals_linearly() -> None:
    torch.manual_seed(0)
    noise = InstanceNoise(sigma=0.5, anneal_steps=100)
    x = torch.zeros(200_000)
    for step, expected in [(0, 0.5), (50, 0.25), (99, 0.005)]:
        assert (noise(x, step) - x).std().item() == pytest.approx(expected, rel=0.02)
    assert noise(x, 100) is x and noise(x, 5_000) is x  # annealed away: input untouched


def test_instance_noise_constant_and_zero() -> None:
    torch.manual_seed(0)
    x = torch.zeros(200_000)
    assert InstanceNoise(sigma=0.2)(x, 10**6).std().item() == pytest.approx(0.2, rel=0.02)
    assert InstanceNoise(sigma=0.0)(x, 0) is x
    assert InstanceNoise().sigma_at(7) == 0.1


def test_instance_noise_rejects_bad_args() -> None:
    with pytest.raises(ConfigError, match="InstanceNoise: sigma must be >= 0, got -1.0"):
        InstanceNoise(sigma=-1.0)
    with pytest.raises(ConfigError, match="anneal_steps must be a positive number of steps, got 0"):
        InstanceNoise(anneal_steps=0)
