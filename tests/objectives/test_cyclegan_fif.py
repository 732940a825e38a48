"""MaskCycleGAN-VC's filling in frames (FIF) in the cyclegan objective (Kaneko et al. 2021).

The mask is ones with one run of 0..max zeros per item; only the first conversion of each
domain reads it (the cycle and identity passes see the whole input, as in the public
MaskCycleGAN-VC training script), and generators that read no mask are refused by name.
"""

import pytest
import torch
from torch import nn

from speechgan.errors import ConfigError
from speechgan_plugins.losses import LeastSquares
from speechgan_plugins.objectives.cyclegan import CycleGAN, temporal_mask
from speechgan_plugins.voice_conversion import maskcyclegan_vc_generator


@pytest.mark.parametrize("max_frames", [0, 1, 25, 100])
def test_temporal_mask_hides_one_run_of_at_most_max_frames(max_frames):
    torch.manual_seed(0)
    mask = temporal_mask(torch.zeros(64, 80, 32), max_frames)  # (64, 1, 32)
    assert mask.shape == (64, 1, 32) and set(mask.unique().tolist()) <= {0.0, 1.0}
    hidden = (mask[:, 0] == 0).int()  # (64, 32)
    assert int(hidden.sum(-1).max()) <= min(max_frames, 32)
    runs = (hidden[:, 1:] - hidden[:, :-1] == 1).sum(-1) + hidden[:, 0]  # starts of zero runs per item
    assert int(runs.max()) <= 1
    if max_frames >= 25:  # the lengths are drawn, not fixed: some items hide a long run, some little
        assert int(hidden.sum(-1).max()) >= 15 and int(hidden.sum(-1).min()) <= 5


class Recording(nn.Module):
    """An identity generator that records the masks it is given."""

    masked = True
    frame_multiple = 1

    def __init__(self) -> None:
        super().__init__()
        self.masks: list[torch.Tensor | None] = []

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        self.masks.append(mask)
        return x


def batch() -> dict:
    return {side: {"features": torch.randn(2, 8, 16), "speaker": torch.tensor([0, 0])} for side in ("a", "b")}


def test_only_the_first_conversion_reads_a_mask():
    g = nn.ModuleDict({"a2b": Recording(), "b2a": Recording()})
    CycleGAN(criterion=LeastSquares(), fif_max_frames=25).generate(batch(), g=g, step=0)
    for role in ("a2b", "b2a"):  # [first conversion, cycle pass]
        first, cycle = g[role].masks
        assert first.shape == (2, 1, 16) and cycle is None
    plain = nn.ModuleDict({"a2b": Recording(), "b2a": Recording()})
    CycleGAN(criterion=LeastSquares()).generate(batch(), g=plain, step=0)
    assert plain["a2b"].masks == [None, None]


def test_the_maskcyclegan_generator_trains_with_fif():
    g = nn.ModuleDict({"a2b": maskcyclegan_vc_generator(n_features=8), "b2a": maskcyclegan_vc_generator(n_features=8)})
    state = CycleGAN(criterion=LeastSquares(), fif_max_frames=4).generate(batch(), g=g, step=0)
    assert state["fake_b"].shape == state["cycle_a"].shape == (2, 8, 16)


def test_fif_needs_generators_that_read_a_mask_and_a_frame_count():
    class Plain(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(ConfigError) as error:
        CycleGAN(criterion=LeastSquares(), fif_max_frames=25).generate(
            batch(), g=nn.ModuleDict({"a2b": Plain(), "b2a": Plain()}), step=0)
    assert str(error.value) == ("objective.args.fif_max_frames: filling in frames feeds a mask to the generators, "
                                "but generators.a2b (Plain) reads none; use maskcyclegan_vc")
    for bad in (-1, 2.5, True):
        with pytest.raises(ConfigError) as error:
            CycleGAN(criterion=LeastSquares(), fif_max_frames=bad)
        assert str(error.value) == ("objective.args.fif_max_frames: must be 0 (off) or a positive number of "
                                    f"frames, got {bad!r}")
