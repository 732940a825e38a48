"""Top-k generator updates (Sinha et al. 2020): the schedule, the selection, the gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechgan.errors import ConfigError
from speechgan.losses import NonSaturating, TopK
from speechgan_plugins.objectives.gan import GAN


def test_fraction_decays_geometrically_per_period_down_to_the_floor() -> None:
    top = TopK(gamma=0.9, min_fraction=0.5, decay_steps=100)
    assert top.fraction_at(0) == 1.0 and top.fraction_at(99) == 1.0
    assert top.fraction_at(100) == pytest.approx(0.9)
    assert top.fraction_at(250) == pytest.approx(0.81)
    assert top.fraction_at(10_000) == 0.5  # 0.9^100 is far below the floor
    assert top.k_at(250, 100) == 81 and top.k_at(10_000, 7) == 4 and top.k_at(10_000, 1) == 1
    # the paper's defaults: gamma 0.99, nu 0.5
    default = TopK()
    assert (default.gamma, default.min_fraction) == (0.99, 0.5)
    assert default.fraction_at(68 * default.decay_steps) == pytest.approx(0.99**68)  # 0.505
    assert default.fraction_at(69 * default.decay_steps) == 0.5  # 0.99^69 = 0.4998


def test_keeps_the_best_scored_rows_of_a_tensor_or_a_patch_map() -> None:
    top = TopK(gamma=0.5, min_fraction=0.5, decay_steps=1)
    logits = torch.tensor([[0.1], [3.0], [-2.0], [1.0], [0.5], [-0.7]])
    assert top(logits, 0) is logits  # k = B at step 0: untouched
    kept = top(logits, 5)
    assert sorted(kept.squeeze(1).tolist()) == [0.5, 1.0, 3.0]
    # a (B, 1, T) patch map is ranked by each sample's mean over T
    maps = torch.tensor([[[5.0, -9.0]], [[0.0, 0.0]], [[1.0, 1.0]], [[-1.0, 4.0]]])  # means -2, 0, 1, 1.5
    assert torch.equal(top(maps, 3), maps[[3, 2]])


def test_sub_discriminators_keep_the_same_rows_ranked_by_their_summed_scores() -> None:
    top = TopK(gamma=0.5, min_fraction=0.5, decay_steps=1)
    a = torch.tensor([[2.0], [0.0], [0.0], [1.0]])
    b = torch.tensor([[[-3.0, -3.0]], [[1.0, 1.0]], [[0.5, 0.5]], [[0.0, 0.0]]])  # sums: -1, 1, 0.5, 1
    kept = top([a, b], 1)
    assert isinstance(kept, list) and len(kept) == 2
    assert torch.equal(kept[0], a[[1, 3]]) or torch.equal(kept[0], a[[3, 1]])
    rows = [1, 3] if torch.equal(kept[0], a[[1, 3]]) else [3, 1]
    assert torch.equal(kept[1], b[rows])
    with pytest.raises(ValueError, match=r"TopK: sub-discriminator outputs have different batch sizes \[2, 4\]"):
        top([a, b[:2]], 1)


def test_rejects_bad_args() -> None:
    with pytest.raises(ConfigError, match=r"TopK: gamma must be in \(0, 1\], got 1.5"):
        TopK(gamma=1.5)
    with pytest.raises(ConfigError, match=r"TopK: min_fraction must be in \(0, 1\], got 0.0"):
        TopK(min_fraction=0.0)
    with pytest.raises(ConfigError, match="TopK: decay_steps must be >= 1, got 0"):
        TopK(decay_steps=0)


def test_gan_generator_loss_uses_only_the_top_k_fakes_and_drops_the_others_gradients() -> None:
    torch.manual_seed(0)
    disc = nn.Linear(2, 1)
    objective = GAN(criterion=NonSaturating(), top_k=TopK(gamma=0.5, min_fraction=0.25, decay_steps=10))
    fake = torch.randn(8, 2, requires_grad=True)
    terms = objective.generator_terms(None, {"fake": fake}, g=nn.ModuleDict(), d=nn.ModuleDict({"discriminator": disc}),
                                      step=20, weights={})  # fraction 0.25: 2 of 8
    logits = disc(fake).detach().squeeze(1)
    best = logits.topk(2).indices
    assert terms["g/adv"].item() == pytest.approx(F.softplus(-logits[best]).mean().item(), rel=1e-6)
    terms["g/adv"].backward()
    has_grad = fake.grad.abs().sum(dim=1) > 0
    assert has_grad.nonzero().squeeze(1).sort().values.tolist() == best.sort().values.tolist()
