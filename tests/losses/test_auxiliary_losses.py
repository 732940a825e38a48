"""Feature matching, cycle-consistency and identity losses against hand-computed values."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from speechgan.losses import (
    FeatureMatchingLoss,
    L1Loss,
    cycle_consistency_loss,
    feature_matching_loss,
    identity_loss,
)


def _maps(requires_grad: bool = False) -> tuple[list[list[torch.Tensor]], list[list[torch.Tensor]]]:
    real = [[torch.ones(2, 3), torch.zeros(4)], [torch.full((2,), 2.0)]]
    fake = [[torch.zeros(2, 3), torch.full((4,), 0.5)], [torch.full((2,), 0.5)]]
    for t in (*real[0], *real[1], *fake[0], *fake[1]):
        t.requires_grad_(requires_grad)
    return real, fake


def test_feature_matching_sums_mean_l1_over_discriminators_and_layers() -> None:
    real, fake = _maps()
    # 1.0 (layer 1 of D1) + 0.5 (layer 2 of D1) + 1.5 (layer 1 of D2)
    assert feature_matching_loss(real, fake).item() == pytest.approx(3.0)
    flat_real, flat_fake = real[0] + real[1], fake[0] + fake[1]
    assert FeatureMatchingLoss()(flat_real, flat_fake).item() == pytest.approx(3.0)


def test_feature_matching_detaches_real_maps() -> None:
    real, fake = _maps(requires_grad=True)
    feature_matching_loss(real, fake).backward()
    assert all(t.grad is None for d in real for t in d)
    # d/df mean|r - f| = -sign(r - f) / n: layer 1 of D1 has 6 elements with r > f
    torch.testing.assert_close(fake[0][0].grad, torch.full((2, 3), -1 / 6))


def test_feature_matching_rejects_mismatched_maps() -> None:
    real, fake = _maps()
    with pytest.raises(ValueError, match="3 real but 2 fake feature maps"):
        feature_matching_loss(real, fake[0])
    with pytest.raises(ValueError, match=r"map 1: shapes \(4,\) and \(5,\) differ"):
        feature_matching_loss(real, [[fake[0][0], torch.zeros(5)], fake[1]])


def test_cycle_and_identity_losses_are_mean_absolute_error() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(2, 80, 16), torch.randn(2, 80, 16)
    expected = F.l1_loss(y, x)
    torch.testing.assert_close(cycle_consistency_loss(x, y), expected)
    torch.testing.assert_close(identity_loss(x, y), expected)
    torch.testing.assert_close(L1Loss()(x, y), expected)
    with pytest.raises(ValueError, match=r"cycle_consistency_loss: shapes \(2, 80, 16\) and \(2, 80\) differ"):
        cycle_consistency_loss(x, y[..., 0])
