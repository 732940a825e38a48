"""The speech dataset factories' arguments are written in their source: typed fields that
config validation reads, the same for every layout, and each layout's own ones."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

from speechgan.batches import FEATURES, LABELS, PAIRED, UNPAIRED, declared_batch
from speechgan.data import LAYOUTS
from speechgan.data.corpora import PAIRED_LAYOUTS
from speechgan_plugins.audio.datasets import DATASETS, SpeechDatasetArgs, UnpairedSpeakers
from speechgan_plugins.audio.paired import PairedSpeech

COMMON = [f.name for f in dataclasses.fields(SpeechDatasetArgs)]


def test_every_layout_has_a_dataset_and_the_unpaired_layouts_are_the_same_names():
    assert set(DATASETS) == set(LAYOUTS) | {"unpaired_speakers", "paired_speech"}
    layout = typing.get_type_hints(UnpairedSpeakers)["layout"]
    # speech_commands clips are one word each, labelled by the word: a LABELS dataset, not a speaker corpus
    assert set(typing.get_args(layout)) == set(LAYOUTS) - {"speech_commands"}


@pytest.mark.parametrize("name", sorted(set(LAYOUTS) - {"speech_commands"}))
def test_a_layout_dataset_takes_its_layouts_arguments_then_the_common_ones(name):
    params = inspect.signature(DATASETS[name]).parameters
    own = [p for p in inspect.signature(LAYOUTS[name]).parameters if p != "policy"]
    assert set(params) == set(COMMON) | {"speakers"} | set(own)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    hints = typing.get_type_hints(DATASETS[name].__init__)
    assert hints["segment_length"] == int | None and hints["sample_rate"] is int
    assert params["sample_rate"].default == 22050 and params["on_error"].default == "fail"
    assert declared_batch(DATASETS[name]) is FEATURES


def test_the_speech_commands_dataset_takes_its_layouts_arguments_and_yields_labels():
    params = inspect.signature(DATASETS["speech_commands"]).parameters
    own = [p for p in inspect.signature(LAYOUTS["speech_commands"]).parameters if p != "policy"]
    assert set(params) == set(own) | {"length", "sample_rate", "limit", "on_error"}
    assert params["length"].default == 16384 and params["sample_rate"].default == 16000
    assert declared_batch(DATASETS["speech_commands"]) is LABELS


def test_the_unpaired_dataset_declares_two_domains():
    params = inspect.signature(UnpairedSpeakers).parameters
    own = {"layout", "root", "speakers_a", "speakers_b", "mic", "part", "prompts", "parallel_size"}
    assert own | set(COMMON) == set(params)
    assert params["speakers_a"].default is inspect.Parameter.empty
    assert declared_batch(UnpairedSpeakers) is UNPAIRED


def test_the_paired_dataset_names_the_paired_layouts_and_declares_paired_batches():
    assert DATASETS["paired_speech"] is PairedSpeech
    assert set(typing.get_args(typing.get_type_hints(PairedSpeech)["layout"])) == set(PAIRED_LAYOUTS)
    assert not set(PAIRED_LAYOUTS) & set(LAYOUTS)
    params = inspect.signature(PairedSpeech).parameters
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert params["sample_rate"].default == 16000 and params["segment_length"].default == 16384
    assert declared_batch(PairedSpeech) is PAIRED


def test_a_bad_argument_is_reported_with_its_key_path(registry, tmp_path):
    from speechgan.config import validate_config
    from speechgan.errors import ConfigError

    config = {
        "objective": {"name": "gan"},
        "generators": {"generator": {"name": "mlp", "args": {"latent_dim": 2}}},
        "discriminators": {"discriminator": {"name": "mlp", "args": {"input_dim": 2}}},
        "optim": {"generator": {"name": "adam", "lr": 1e-3}, "discriminator": {"name": "adam", "lr": 1e-3}},
        "trainer": {"max_steps": 1},
    }
    config["data"] = {"train": {"name": "vctk", "args": {"root": str(tmp_path), "mic": "mic3", "sample_rat": 1}},
                      "batch_size": 4}
    with pytest.raises(ConfigError) as exc:
        validate_config(config, registry)
    message = str(exc.value)
    assert "data.train.args.mic: Input should be 'mic1' or 'mic2' (got 'mic3')" in message
    assert "data.train.args.sample_rat: unknown argument of dataset 'vctk' (did you mean 'sample_rate'?)" in message
