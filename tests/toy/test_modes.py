"""The VEEGAN / PacGAN mode-coverage metric on hand-made samples with known answers."""

from types import SimpleNamespace

import pytest
import torch

from speechgan.errors import SpeechganError
from speechgan_plugins.toy.mixtures import Ring8, grid25_modes, ring8_modes
from speechgan_plugins.toy.modes import ModeCoverage, mode_coverage

SIGMA = 0.01


def _around(modes: torch.Tensor, distance: float, per_mode: int) -> torch.Tensor:
    """``per_mode`` points at exactly ``distance`` from each mode, in varied directions."""
    angles = torch.arange(per_mode, dtype=torch.float64) * (2.0 * torch.pi / per_mode)
    ring = distance * torch.stack([angles.cos(), angles.sin()], dim=1)  # (P, 2)
    return (modes.double()[:, None, :] + ring[None]).reshape(-1, 2)  # (M * P, 2)


def test_samples_on_every_mode_capture_all_eight_with_full_quality():
    samples = ring8_modes().repeat(10, 1)  # (80, 2)
    assert mode_coverage(samples, ring8_modes(), SIGMA) == {
        "modes_captured": 8.0, "high_quality_fraction": 1.0, "far_fraction": 0.0, "num_modes": 8.0,
    }


def test_samples_at_four_sigma_are_never_high_quality():
    samples = _around(ring8_modes(), 4 * SIGMA, per_mode=12)
    result = mode_coverage(samples, ring8_modes(), SIGMA)
    assert result["high_quality_fraction"] == 0.0
    assert result["modes_captured"] == 0.0


def test_the_threshold_is_three_sigma_inclusive():
    modes = grid25_modes()
    inside, outside = _around(modes, 2.99 * 0.05, 4), _around(modes, 3.01 * 0.05, 4)
    assert mode_coverage(inside, modes, 0.05)["high_quality_fraction"] == 1.0
    assert mode_coverage(outside, modes, 0.05)["high_quality_fraction"] == 0.0
    assert mode_coverage(outside, modes, 0.05, threshold=4.0)["high_quality_fraction"] == 1.0


def test_only_three_modes_hit_count_as_three_captured():
    modes = ring8_modes()
    good = _around(modes[[0, 3, 5]], 1.5 * SIGMA, per_mode=10)  # (30, 2) high quality
    stray = _around(modes, 10 * SIGMA, per_mode=5)  # (40, 2) near every mode, all low quality
    result = mode_coverage(torch.cat([good, stray]), modes, SIGMA)
    assert result["modes_captured"] == 3.0
    assert result["high_quality_fraction"] == pytest.approx(30 / 70)


def test_a_sample_between_modes_counts_for_the_nearest_and_is_low_quality():
    modes = ring8_modes()
    midpoint = (modes[0] + modes[1])[None] / 2  # (1, 2), 0.38 from both
    result = mode_coverage(torch.cat([midpoint, modes[:1]]), modes, SIGMA)
    assert result == {"modes_captured": 1.0, "high_quality_fraction": 0.5, "far_fraction": 0.5, "num_modes": 8.0}


def test_far_fraction_counts_samples_beyond_twice_the_threshold():
    modes = grid25_modes()
    near, far = _around(modes, 5.99 * 0.05, 2), _around(modes, 6.01 * 0.05, 2)  # 50 each, low quality
    result = mode_coverage(torch.cat([near, far, modes]), modes, 0.05)  # + 25 high quality
    assert result["high_quality_fraction"] == pytest.approx(25 / 125)
    assert result["far_fraction"] == pytest.approx(50 / 125)
    assert mode_coverage(far, modes, 0.05, threshold=4.0)["far_fraction"] == 0.0  # 8 sigma now


def _context(tmp_path, dataset, samples: torch.Tensor) -> SimpleNamespace:
    def output_path(name: str):
        (tmp_path / "eval").mkdir(exist_ok=True)
        return tmp_path / "eval" / name

    return SimpleNamespace(datasets={"train": dataset}, sample=lambda n: samples[:n], output_path=output_path, step=12)


def test_the_metric_component_samples_2500_points_and_saves_a_scatter_plot(tmp_path):
    data = Ring8(num_samples=3_000, seed=0)
    asked = []
    ctx = _context(tmp_path, data, data.points)
    sample = ctx.sample
    ctx.sample = lambda n: asked.append(n) or sample(n)
    result = ModeCoverage()(ctx)
    assert asked == [2500]
    assert result["modes_captured"] == 8.0
    # real data: P(radius <= 3 sigma) = 1 - exp(-4.5) = 0.9889 for a 2-D Gaussian
    assert result["high_quality_fraction"] == pytest.approx(0.9889, abs=0.006)
    assert (tmp_path / "eval" / "scatter_step00000012.png").stat().st_size > 1000


def test_the_metric_needs_a_mixture_dataset(tmp_path):
    ctx = _context(tmp_path, [torch.zeros(2)], torch.zeros(4, 2))
    with pytest.raises(SpeechganError, match=r"^metric mode_coverage needs a 2-D mixture dataset \(ring8, grid25\) as data.train$"):
        ModeCoverage(plot=False)(ctx)
