"""The ``speech_commands`` dataset: LABELS items (clip padded or cut to 16,384 samples, word
index), the split lists, word selection, ``limit``, other sample rates, bad files, errors."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_test_helpers import sine
from torch.utils.data import DataLoader

from speechgan.batches import LABELS, declared_batch
from speechgan.config import check_component_args
from speechgan.errors import ConfigError, DataError
from speechgan.schema import ComponentSpec
from speechgan_plugins.audio.datasets import DATASETS
from speechgan_plugins.audio.labelled import DIGITS, SpeechCommands

# speaker -> (split, samples at 16 kHz): shorter than, as long as, and longer than one WaveGAN slice
SPEAKERS = {"a": ("train", 12000), "b": ("valid", 16384), "c": ("test", 20000)}


def write_clip(root: Path, word: str, speaker: str, n: int, rate: int = 16000) -> Path:
    path = root / word / f"{speaker}_nohash_0.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, sine(200.0 + 50 * DIGITS.index(word), n, rate), rate, subtype="PCM_16")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Ten word folders, one clip per word of speakers a (train), b (valid) and c (test)."""
    for word in DIGITS:
        for speaker, (_, n) in SPEAKERS.items():
            write_clip(tmp_path, word, speaker, n)
    for split, name in (("valid", "validation_list.txt"), ("test", "testing_list.txt")):
        held = [s for s, (k, _) in SPEAKERS.items() if k == split]
        (tmp_path / name).write_text("".join(f"{w}/{s}_nohash_0.wav\n" for w in DIGITS for s in held))
    return tmp_path


def read(path: Path) -> np.ndarray:
    return sf.read(path, dtype="float32")[0]


def test_items_are_the_clip_zero_padded_at_the_end_and_the_word_index(root: Path) -> None:
    data = SpeechCommands(str(root))
    assert (len(data), data.words, data.num_classes) == (10, DIGITS, 10)
    for i in range(len(data)):
        item = data[i]
        word = data.utterances[i].text
        assert set(item) == {"x", "label"}
        assert item["x"].shape == (1, 16384) and item["x"].dtype == torch.float32
        assert item["label"].dtype == torch.long and item["label"].shape == ()
        assert int(item["label"]) == DIGITS.index(word)
        np.testing.assert_array_equal(item["x"][0, :12000].numpy(), read(root / word / "a_nohash_0.wav"))
        assert not item["x"][0, 12000:].any()


def test_a_longer_clip_is_cut_at_the_end_and_length_is_configurable(root: Path) -> None:
    item = SpeechCommands(str(root), split="test")[0]  # speaker c: 20,000 samples
    np.testing.assert_array_equal(item["x"][0].numpy(), read(root / "eight" / "c_nohash_0.wav")[:16384])
    assert SpeechCommands(str(root), split="test", length=16000)[0]["x"].shape == (1, 16000)


def test_splits_follow_the_lists_and_share_no_speaker(root: Path) -> None:
    speakers = {split: {u.speaker for u in SpeechCommands(str(root), split=split).utterances}
                for split in ("train", "valid", "test")}  # fmt: skip
    assert speakers == {"train": {"a"}, "valid": {"b"}, "test": {"c"}}


def test_words_choose_the_clips_and_their_labels(root: Path) -> None:
    data = SpeechCommands(str(root), words=("two", "zero"))
    assert (data.words, data.num_classes, len(data)) == (("two", "zero"), 2, 2)
    assert {data.utterances[i].text: int(data[i]["label"]) for i in range(2)} == {"two": 0, "zero": 1}


def test_limit_takes_each_word_in_turn(root: Path) -> None:
    write_clip(root, "zero", "d", 8000)
    write_clip(root, "one", "d", 8000)
    data = SpeechCommands(str(root), limit=11)  # every word once, then the second "zero" before the second "one"
    assert sorted(u.id for u in data.utterances) == sorted([f"{w}/a_nohash_0" for w in DIGITS] + ["zero/d_nohash_0"])
    assert [u.text for u in SpeechCommands(str(root), limit=3).utterances] == ["one", "two", "zero"]


def test_the_summary_counts_clips_per_word_and_speakers(root: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_clip(root, "one", "d", 8000)
    with caplog.at_level(logging.INFO):
        data = SpeechCommands(str(root), words=("zero", "one"))
    assert data.summary == ("speech_commands train: 3 clips of 2 words (zero 1, one 2) by 2 speakers, 16000 Hz, "
                            "padded or cut to 16384 samples")
    assert data.summary in caplog.messages


def test_other_rates_are_resampled_down_and_refused_below(root: Path) -> None:
    high = write_clip(root, "one", "d", 22050, rate=22050)
    data = SpeechCommands(str(root), words=("one",))
    index = [u.path for u in data.utterances].index(high)
    assert not data[index]["x"][0, 16000:].any() and data[index]["x"][0, 15990:16000].any()  # 1 s at 16 kHz
    low = write_clip(root, "two", "d", 8000, rate=8000)
    with pytest.raises(DataError) as exc:
        SpeechCommands(str(root), words=("two",))
    assert str(exc.value).startswith(f"{low}: sample rate 8000 Hz is below the minimum of 16000 Hz")


def test_bad_files_follow_on_error(root: Path) -> None:
    bad = root / "three" / "d_nohash_0.wav"
    bad.write_bytes(b"RIFF not a wav")
    with pytest.raises(DataError, match=f"^{bad}: not a readable audio file"):
        SpeechCommands(str(root))
    data = SpeechCommands(str(root), on_error="skip")
    assert len(data) == 10 and data.skipped.paths == [str(bad)]
    assert data.summary.startswith("speech_commands train: 10 clips of 10 words") and ", 1 skipped," in data.summary


def test_wrong_arguments_name_the_key(root: Path) -> None:
    cases = [
        ({"words": ("zero", "ten")}, "words: 'ten' not in"),
        ({"words": ("one", "one")}, "words: 'one' listed twice"),
        ({"words": ()}, "words: give at least one word"),
        ({"length": 0}, "length: must be a positive number of samples, got 0"),
        ({"limit": 0}, "limit: must be a positive number of clips (or null for all), got 0"),
        ({"split": "dev"}, "split: 'dev' is not one of train, valid, test"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ConfigError) as exc:
            SpeechCommands(str(root), **kwargs)
        assert str(exc.value).startswith(message), str(exc.value)
    with pytest.raises(DataError, match="Speech Commands folder not found"):
        SpeechCommands(str(root / "missing"))


def test_batches_stack_to_b_by_1_by_length(root: Path) -> None:
    batch = next(iter(DataLoader(SpeechCommands(str(root)), batch_size=4)))
    assert batch["x"].shape == (4, 1, 16384) and batch["label"].shape == (4,) and batch["label"].dtype == torch.long


def test_the_registered_dataset_yields_labels_and_validates_its_config() -> None:
    factory = DATASETS["speech_commands"]
    assert factory is SpeechCommands and declared_batch(factory) is LABELS
    spec = ComponentSpec(name="speech_commands", args={"root": "x", "words": ["one", "two"], "split": "dev"})
    values, errors = check_component_args("data.train", "dataset", spec, factory, injectable=set())
    assert values["words"] == ("one", "two")
    assert errors == ["data.train.args.split: Input should be 'train', 'valid' or 'test' (got 'dev')"]
