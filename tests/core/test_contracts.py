"""Load-time contracts between components: batch keys, referenced kinds, the hop size.

Each mismatch is reported by ``speechgan check`` (exit 2) with the key path, before any
component is built for training.
"""

from __future__ import annotations

import pytest

from speechgan.batches import FEATURES, UNPAIRED, BatchSpec, missing_keys
from speechgan.cli import main
from speechgan.config import load_config
from speechgan.errors import ConfigError
from speechgan.plugins import get_plugin_manager

from ..conftest import TINY_GAN, write_yaml

# A third-party plugin: a generator that upsamples frames by prod(rates) samples, and an
# objective that reads waveform and features.
PLUGIN = '''
import math
import torch
from torch import nn
from speechgan import hookimpl
from speechgan.objective import Objective


class Stretch(nn.Module):
    """Frames -> samples by repetition; upsample_factor = prod(rates)."""

    def __init__(self, rates: list[int] = [8, 8, 4], channels: int = 80) -> None:
        super().__init__()
        self.upsample_factor = math.prod(rates)
        self.proj = nn.Conv1d(channels, 1, 1)

    def forward(self, x):
        return self.proj(x).repeat_interleave(self.upsample_factor, dim=-1)


class Judge(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.f = nn.Conv1d(1, 1, 3)

    def forward(self, x):
        return [self.f(x)], [[]]


class ReadsAudio(Objective):
    generator_roles = ("generator",)
    discriminator_roles = None
    terms = {"d/adv": 1.0, "g/adv": 1.0}
    reads = frozenset({"wave", "features"})


@hookimpl
def speechgan_register_generators(register):
    register("stretch", Stretch)


@hookimpl
def speechgan_register_discriminators(register):
    register("judge", Judge)


@hookimpl
def speechgan_register_objectives(register):
    register("reads_audio", ReadsAudio)
'''


@pytest.fixture
def audio_plugin(installed):
    installed("speechgan-contract-kit", "0.1", {"contract_kit": PLUGIN}, {"contract_kit": "contract_kit"})


def _audio_config(tmp_path, **sections):
    config = {
        "objective": {"name": "reads_audio"},
        "generators": {"generator": {"name": "stretch", "args": {"rates": [8, 8, 4]}}},
        "discriminators": {"judge": {"name": "judge"}},
        # the corpus need not exist: contracts are checked before any data is read
        "data": {"train": {"name": "audio_folder", "args": {"root": str(tmp_path / "corpus"), "segment_length": 8192}},
                 "batch_size": 4},
        "optim": {"generator": {"name": "adam", "lr": 2e-4}, "discriminator": {"name": "adam", "lr": 2e-4}},
        "trainer": {"max_steps": 2},
        "features": {"name": "log_mel", "args": {"hop_length": 256, "n_fft": 1024, "win_length": 1024}},
    }
    config.update(sections)
    return write_yaml(tmp_path / "audio.yaml", config)


def _check(path, *overrides) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["check", str(path), *overrides])
    return code, err.getvalue()


# -- batches ----------------------------------------------------------------------------------


def test_batch_spec_resolves_features_and_nests_domains():
    assert FEATURES.resolve(has_features=False) == {"wave", "speaker", "id"}
    assert FEATURES.resolve(has_features=True) == {"wave", "speaker", "id", "features"}
    assert UNPAIRED.resolve(has_features=True) >= {"a.features", "b.wave", "b.id"}
    assert "a.features" not in UNPAIRED.resolve(has_features=False)
    assert missing_keys({"x", "wave"}, BatchSpec.of({"wave"}), has_features=False) == ["x"]


def test_an_objective_reading_what_the_dataset_lacks_is_refused_at_load(tmp_path):
    # the unconditional GAN reads "x"; a speech corpus yields wave, speaker, id
    config = dict(TINY_GAN, data={"train": {"name": "audio_folder", "args": {"root": str(tmp_path)}}, "batch_size": 4})
    code, err = _check(write_yaml(tmp_path / "c.yaml", config))
    assert code == 2
    assert (
        "  data.train: dataset 'audio_folder' yields batches with keys id, speaker, wave; "
        "objective 'gan' reads 'x', which they lack\n"
    ) in err


def test_the_unpaired_objective_on_a_single_corpus_names_both_missing_keys(tmp_path):
    config = {
        "objective": {"name": "cyclegan"},
        "generators": {r: {"name": "mlp", "args": {"latent_dim": 2, "output_dim": 2}} for r in ("a2b", "b2a")},
        "discriminators": {r: {"name": "mlp", "args": {"input_dim": 2}} for r in ("a", "b")},
        "features": {"name": "log_mel"},
        "data": {"train": {"name": "ljspeech", "args": {"root": str(tmp_path)}}, "batch_size": 4},
        "optim": {"generator": {"name": "adam", "lr": 2e-4}, "discriminator": {"name": "adam", "lr": 2e-4}},
        "trainer": {"max_steps": 2},
    }
    with pytest.raises(ConfigError) as exc:
        load_config(write_yaml(tmp_path / "c.yaml", config), registry=get_plugin_manager().registry)
    assert (
        "data.train: dataset 'ljspeech' yields batches with keys features, id, speaker, wave; "
        "objective 'cyclegan' reads 'a.features', 'b.features', which they lack"
    ) in str(exc.value)


def test_missing_features_say_to_add_a_features_section(tmp_path, audio_plugin):
    code, err = _check(_audio_config(tmp_path, features=None))
    assert code == 2
    assert (
        "  data.train: dataset 'audio_folder' yields batches with keys id, speaker, wave; objective "
        "'reads_audio' reads 'features', which they lack (add a `features:` section: the dataset then "
        "yields the front-end's output as `features`)\n"
    ) in err


def test_matching_contracts_pass_check_without_any_data(tmp_path, audio_plugin):
    assert _check(_audio_config(tmp_path)) == (0, "")
    assert not (tmp_path / "corpus").exists()


# -- references of the wrong kind ---------------------------------------------------------


def test_a_loss_that_is_not_a_criterion_is_refused_at_load():
    code, err = _check("recipes/toy/ring8.yaml", "objective.args.criterion=instance_noise")
    assert code == 2
    assert err == (
        "speechgan: error: recipes/toy/ring8.yaml: invalid config\n"
        "  objective.args.criterion: loss 'instance_noise' does not fit here: it builds InstanceNoise, "
        "and this argument takes AdversarialCriterion (hinge, least_squares, minimax, non_saturating, wasserstein)\n"
        "(run with --debug for the traceback)\n"
    )


def test_an_optional_reference_checks_its_type_too():
    code, err = _check("recipes/toy/ring8.yaml", "objective.args.top_k=hinge")
    assert code == 2
    assert "objective.args.top_k: loss 'hinge' does not fit here: it builds Hinge, and this argument takes TopK (top_k)" in err


# -- hop size --------------------------------------------------------------------------------


def test_a_hop_mismatch_is_refused_at_load_with_the_key_path(tmp_path, audio_plugin):
    code, err = _check(_audio_config(tmp_path), "generators.generator.args.rates=[8,8,2]")
    assert code == 2
    assert (
        "  generators.generator: generator 'stretch' upsamples by 128 samples per frame but the front-end "
        "`features: log_mel` has hop_length 256; make the upsampling rates multiply to the hop size "
        "(or set the front-end's hop_length)\n"
    ) in err
    assert _check(_audio_config(tmp_path), "generators.generator.args.rates=[8,8,2]", "features.args.hop_length=128") == (0, "")


def test_the_hop_check_builds_the_generator_on_the_meta_device(tmp_path, audio_plugin, monkeypatch):
    import torch

    devices = []
    real = torch.nn.Conv1d.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        devices.append(self.weight.device.type)

    monkeypatch.setattr(torch.nn.Conv1d, "__init__", spy)
    load_config(_audio_config(tmp_path), registry=get_plugin_manager().registry)
    assert devices == ["meta"]
