"""The registered dataset factories: typed signatures, config validation, and each layout built."""

from __future__ import annotations

import inspect
import typing

import numpy as np
import pytest
import soundfile as sf
from audio_test_helpers import RmsFrontEnd

import speechgan_plugins.audio.datasets as plugin
from speechgan.config import check_component_args
from speechgan.data import AudioDataset, UnpairedDataset
from speechgan.errors import ConfigError
from speechgan.features.base import FrontEnd
from speechgan.plugins import get_plugin_manager
from speechgan.schema import ComponentSpec

NAMES = ["audio_folder", "cmu_arctic", "file_list", "ljspeech", "unpaired_speakers", "vcc2018", "vctk"]


@pytest.fixture
def registry():
    return get_plugin_manager(entry_points=False, plugins=[("audio_datasets", plugin)]).registry


def test_every_dataset_is_registered_with_a_description(registry):
    # paired_speech and speech_commands take no front-end, so the signature tests below skip them
    assert registry.names("dataset") == sorted(NAMES + ["paired_speech", "speech_commands"])
    assert registry.get("dataset", "ljspeech").description.startswith("LJSpeech-1.1")
    assert registry.get("dataset", "unpaired_speakers").description.startswith("two unpaired speaker sets")


def test_the_entry_point_names_this_module():
    from importlib.metadata import entry_points

    (entry,) = [ep for ep in entry_points(group="speechgan") if ep.name == "audio_datasets"]
    assert entry.value == "speechgan_plugins.audio.datasets"


@pytest.mark.parametrize("name", NAMES)
def test_signatures_are_typed_keywords_with_an_injectable_front_end(registry, name):
    factory = registry.get("dataset", name).factory
    params = inspect.signature(factory).parameters
    hints = typing.get_type_hints(factory)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.name in hints for p in params.values())
    assert hints["features"] == FrontEnd | None and params["features"].default is None
    for common in ("sample_rate", "segment_length", "pad", "split", "valid_size", "seed", "on_error",
                   "normalize", "trim_db", "cache_dir"):
        assert common in params


def test_config_args_are_validated_against_the_signature(registry):
    factory = registry.get("dataset", "vctk").factory
    spec = ComponentSpec(name="vctk", args={"root": "/data/VCTK", "mic": "mic2", "segment_length": "8192",
                                            "valid_size": 100, "test_size": 0.02, "speakers": ["p225"]})
    values, errors = check_component_args("data.train", "dataset", spec, factory, injectable={"features"})
    assert errors == []
    assert values["segment_length"] == 8192 and values["valid_size"] == 100 and values["test_size"] == 0.02
    bad = ComponentSpec(name="vctk", args={"root": "/d", "mic": "mic3", "pads": "zeros", "features": "x"})
    _, errors = check_component_args("data.train", "dataset", bad, factory, injectable=set())
    assert errors[0].startswith("data.train.args.mic: Input should be 'mic1' or 'mic2'")
    assert errors[1] == ("data.train.args.pads: unknown argument of dataset 'vctk' (did you mean 'pad'?); it accepts: "
                         + ", ".join(n for n in inspect.signature(factory).parameters if n != "features"))
    assert errors[2] == "data.train.args.features: set by speechgan itself from the `features:` section; remove it here"
    missing = ComponentSpec(name="vctk", args={})
    _, errors = check_component_args("data.train", "dataset", missing, factory, injectable=set())
    assert errors == ["data.train.args.root: required argument of dataset 'vctk' is missing"]


def _write(path, n=3200, rate=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.full(n, 0.1, np.float32), rate)


def test_each_layout_builds_a_dataset(registry, tmp_path):
    for spk in ("a", "b"):
        for i in range(5):
            _write(tmp_path / f"folder/{spk}/{i}.wav")
    listing = tmp_path / "list.txt"
    listing.write_text("folder/a/0.wav|hello|x\nfolder/b/1.wav|bye|y\n", encoding="utf-8")
    _write(tmp_path / "LJ/wavs/LJ001-0001.wav", rate=22050)
    (tmp_path / "LJ/metadata.csv").write_text("LJ001-0001|Printing.|Printing.\n", encoding="utf-8")
    _write(tmp_path / "VCTK/wav48_silence_trimmed/p225/p225_001_mic1.flac", rate=48000)
    (tmp_path / "VCTK/txt/p225").mkdir(parents=True)
    (tmp_path / "VCTK/txt/p225/p225_001.txt").write_text("Please call Stella.", encoding="utf-8")
    _write(tmp_path / "ARCTIC/cmu_us_bdl_arctic/wav/arctic_a0001.wav")
    (tmp_path / "ARCTIC/cmu_us_bdl_arctic/etc").mkdir(parents=True)
    (tmp_path / "ARCTIC/cmu_us_bdl_arctic/etc/txt.done.data").write_text('( arctic_a0001 "Author." )\n')
    _write(tmp_path / "vcc/vcc2018_training/VCC2SF1/10001.wav", rate=22050)
    cases = {
        "audio_folder": ({"root": str(tmp_path / "folder")}, 10),
        "file_list": ({"path": str(listing)}, 2),
        "ljspeech": ({"root": str(tmp_path / "LJ")}, 1),
        "vctk": ({"root": str(tmp_path / "VCTK")}, 1),
        "cmu_arctic": ({"root": str(tmp_path / "ARCTIC")}, 1),
        "vcc2018": ({"root": str(tmp_path / "vcc")}, 1),
    }
    for name, (args, n) in cases.items():
        dataset = registry.build("dataset", name, sample_rate=16000, segment_length=1600, **args)
        assert isinstance(dataset, AudioDataset) and len(dataset) == n, name
        assert dataset[0]["wave"].shape == (1600,)


def test_splits_share_speaker_labels_and_do_not_overlap(registry, tmp_path):
    for spk in ("a", "b", "c"):
        for i in range(10):
            _write(tmp_path / f"{spk}/{i}.wav", n=800)
    common = {"root": str(tmp_path), "sample_rate": 16000, "features": RmsFrontEnd(16000, 100),
              "valid_size": 0.2, "test_size": 0.1, "stratify": True}
    train = registry.build("dataset", "audio_folder", split="train", **common)
    valid = registry.build("dataset", "audio_folder", split="valid", speakers=["c", "a"], **common)
    assert (len(train), len(valid)) == (21, 4)
    assert not {u.id for u in train.utterances} & {u.id for u in valid.utterances}
    assert train.speaker_to_index == {"a": 0, "b": 1, "c": 2}
    assert registry.build("dataset", "audio_folder", split="valid", **common).speaker_to_index == train.speaker_to_index
    assert valid.speaker_to_index == {"a": 0, "c": 1}  # labels number the selected speakers
    assert {valid[i]["speaker"] for i in range(len(valid))} == {0, 1}


def test_unpaired_speakers_over_a_layout(registry, tmp_path):
    for spk, n in (("VCC2SF3", 4), ("VCC2TM1", 3), ("VCC2SM1", 2)):
        for i in range(n):
            _write(tmp_path / f"vcc2018_training/{spk}/{10001 + i}.wav", rate=22050)
    dataset = registry.build("dataset", "unpaired_speakers", layout="vcc2018", root=str(tmp_path),
                             speakers_a=["VCC2SF3"], speakers_b=["VCC2TM1"], sample_rate=22050, segment_length=1000)
    assert isinstance(dataset, UnpairedDataset) and (len(dataset.a), len(dataset.b), len(dataset)) == (4, 3, 4)
    assert {u.speaker for u in dataset.b.utterances} == {"VCC2TM1"}
    assert dataset[0]["a"]["wave"].shape == dataset[0]["b"]["wave"].shape == (1000,)
    with pytest.raises(ConfigError, match="speakers_b: VCC2SF3 also in speakers_a"):
        registry.build("dataset", "unpaired_speakers", layout="vcc2018", root=str(tmp_path),
                       speakers_a=["VCC2SF3"], speakers_b=["VCC2SF3"])
    with pytest.raises(ConfigError, match="speakers_a: 'p225' not in the corpus"):
        registry.build("dataset", "unpaired_speakers", layout="vcc2018", root=str(tmp_path),
                       speakers_a=["p225"], speakers_b=["VCC2TM1"])


def test_skip_report_includes_what_the_layout_skipped(registry, tmp_path):
    _write(tmp_path / "VCTK/wav48_silence_trimmed/p225/p225_001_mic1.flac", rate=48000)
    _write(tmp_path / "VCTK/wav48_silence_trimmed/p225/p225_002_mic1.flac", rate=48000)
    (tmp_path / "VCTK/txt/p225").mkdir(parents=True)
    (tmp_path / "VCTK/txt/p225/p225_001.txt").write_text("Please call Stella.", encoding="utf-8")
    dataset = registry.build("dataset", "vctk", root=str(tmp_path / "VCTK"), sample_rate=16000, on_error="skip")
    assert len(dataset) == 1 and dataset.skipped.paths == [str(tmp_path / "VCTK/wav48_silence_trimmed/p225/p225_002_mic1.flac")]
