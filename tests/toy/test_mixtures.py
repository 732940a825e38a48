"""The ring and grid mixtures: PacGAN's modes and sigmas, sampling statistics, reproducibility."""

import math

import pytest
import torch

from speechgan_plugins.toy.mixtures import Grid25, Ring8, grid25_modes, ring8_modes


def test_ring8_modes_are_eight_points_evenly_spaced_on_the_unit_circle():
    modes = ring8_modes()
    assert modes.shape == (8, 2)
    torch.testing.assert_close(modes.norm(dim=1), torch.ones(8))
    angles = torch.atan2(modes[:, 1], modes[:, 0]).remainder(2 * math.pi)
    torch.testing.assert_close(angles, torch.arange(8) * (math.pi / 4), atol=1e-6, rtol=0)


def test_grid25_modes_are_the_grid_minus4_to_4_step_2():
    modes = grid25_modes()
    assert modes.shape == (25, 2)
    expected = {(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(p) for p in modes.tolist()} == expected


@pytest.mark.parametrize(("cls", "sigma", "num_modes"), [(Ring8, 0.01, 8), (Grid25, 0.05, 25)])
def test_samples_are_gaussians_of_the_published_sigma_around_equally_likely_modes(cls, sigma, num_modes):
    data = cls(num_samples=20_000, seed=3)
    assert data.sigma == sigma and len(data) == 20_000
    assert data[0]["x"].shape == (2,) and data[0]["x"].dtype == torch.float32
    nearest = torch.cdist(data.points, data.modes).argmin(dim=1)  # (N,)
    offsets = data.points - data.modes[nearest]  # (N, 2)
    # per-axis mean 0 and standard deviation sigma (standard errors: sigma / 141 and 0.5%)
    torch.testing.assert_close(offsets.mean(dim=0), torch.zeros(2), atol=5 * sigma / 141, rtol=0)
    torch.testing.assert_close(offsets.std(dim=0), torch.full((2,), sigma), rtol=0.03, atol=0)
    counts = torch.bincount(nearest, minlength=num_modes).double()
    expected = 20_000 / num_modes
    assert ((counts - expected).abs() < 5 * math.sqrt(expected)).all(), counts.tolist()


@pytest.mark.parametrize("cls", [Ring8, Grid25])
def test_the_seed_fixes_the_points(cls):
    a, b, c = cls(num_samples=100, seed=7), cls(num_samples=100, seed=7), cls(num_samples=100, seed=8)
    assert torch.equal(a.points, b.points)
    assert not torch.equal(a.points, c.points)


def test_sigma_is_configurable():
    data = Ring8(num_samples=5_000, sigma=0.1, seed=0)
    nearest = torch.cdist(data.points, data.modes).argmin(dim=1)
    std = (data.points - data.modes[nearest]).std(dim=0)
    torch.testing.assert_close(std, torch.full((2,), 0.1), rtol=0.05, atol=0)


def test_the_loader_fetches_whole_batches_in_sampler_order():
    from speechgan.loader import make_loader

    data = Grid25(num_samples=64, seed=0)
    loader, sampler = make_loader(data, batch_size=16, shuffle=True, drop_last=True, num_workers=0, seed=1)
    batches = list(loader)
    assert [b["x"].shape for b in batches] == [(16, 2)] * 4
    torch.testing.assert_close(torch.cat([b["x"] for b in batches]), data.points[sampler.order()], rtol=0, atol=0)
    torch.testing.assert_close(Grid25.collate([data[3], data[5]])["x"], data.points[[3, 5]], rtol=0, atol=0)
