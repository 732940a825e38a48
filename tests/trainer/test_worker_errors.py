"""A bad file met in a DataLoader worker stops training with its own message (exit 2 in the
CLI), not with the RuntimeError holding the worker's traceback that PyTorch re-raises."""

import pytest
import torch

from speechgan.build import build_components
from speechgan.config import validate_config
from speechgan.data.policy import BadFile
from speechgan.trainer import Trainer

from ..core.test_loader import BreaksAt
from .conftest import BASE, merge


@pytest.mark.parametrize("batched", [False, True])
def test_the_trainer_raises_a_workers_bad_file_with_its_message(kit_registry, tmp_path, batched):
    config = validate_config(merge(BASE, {"data": {"train": {"name": "points"}, "batch_size": 4, "num_workers": 1,
                                                   "shuffle": False}}), kit_registry)
    components = build_components(config, kit_registry)
    components.datasets["train"] = BreaksAt(5, batched)  # item 5 fails to load: the second batch
    trainer = Trainer(components, tmp_path / "run", device=torch.device("cpu"))
    trainer.train_step()
    with pytest.raises(BadFile) as info:
        trainer.train_step()
    assert str(info.value) == "corpus/b.flac: not a readable audio file (Internal psf_fseek() failed.)"
