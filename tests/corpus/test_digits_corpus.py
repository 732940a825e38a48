"""The synthetic SC09 corpus: one-second 16 kHz clips with the word centred, split by speaker,
byte-identical on reruns, the default speaker set's size, and the ``corpus digits`` command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from speechgan.data.corpora import speech_commands
from speechgan.errors import ConfigError, DataError
from speechgan_plugins.audio import digits
from speechgan_plugins.audio.digits import (
    ACCENTS,
    DEFAULT_SPEAKERS,
    DIGITS,
    JITTER,
    VARIANTS,
    digit_speaker,
    place_word,
    speaker_split,
    synthesize_digits,
    take_settings,
    word_extent,
)

# one speaker of each split under Speech Commands' rule (checked in the split test)
THREE = ("en-us+m1", "en-us+f2", "en-us+m3")
PEAK_PCM = round(0.9 * 32768)


def tree_hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three speakers (train, valid, test) x ten digits x two takes."""
    out = tmp_path_factory.mktemp("sc09") / "digits"
    synthesize_digits(out, speakers=THREE, takes=2, progress=False)
    return out


# -- clips ------------------------------------------------------------------------------------


def test_clips_are_one_second_of_16_bit_16_khz_mono_at_a_fixed_peak(corpus: Path) -> None:
    files = sorted(corpus.glob("*/*.wav"))
    assert len(files) == 3 * 10 * 2
    assert sorted({f.parent.name for f in files}) == sorted(DIGITS)
    for path in files:
        info = sf.info(path)
        assert (info.samplerate, info.frames, info.channels, info.subtype) == (16000, 16000, 1, "PCM_16")
        pcm = sf.read(path, dtype="int16")[0]
        assert int(np.abs(pcm.astype(np.int32)).max()) == PEAK_PCM  # 0.9 of full scale: nothing clips


def test_the_word_is_centred_on_sample_8000(corpus: Path) -> None:
    for path in sorted(corpus.glob("*/*.wav")):
        x = sf.read(path)[0]
        start, end = word_extent(x, 16000)
        assert abs((start + end) / 2 - 8000) <= 2, path
        # independently: the span of samples above 1 % of the peak is centred too, within 40 ms
        loud = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max())
        assert abs((loud[0] + loud[-1]) / 2 - 8000) < 640, path
        assert 0.1 < (end - start) / 16000 < 0.8  # a spoken digit, not silence or the whole clip


def test_word_extent_of_a_tone_burst_is_the_burst_widened_by_half_the_window() -> None:
    x = np.zeros(16000)
    x[4000:9000] = 0.5 * np.sin(0.3 * np.arange(5000))
    start, end = word_extent(x, 16000)  # 10 ms window: 80 samples each side of a sample
    assert abs(start - (4000 - 80)) <= 2 and abs(end - (9000 + 80)) <= 2
    assert word_extent(0.001 * x, 16000) == (start, end)  # relative to the loudest window: level-free
    with pytest.raises(DataError, match="silent"):
        word_extent(np.zeros(100), 16000)


def test_place_word_puts_the_middle_of_the_extent_at_the_middle_sample() -> None:
    audio = np.arange(1.0, 101.0)  # (100,)
    clip = place_word(audio, 20, 60, length=50)  # the middle, 40, goes to 25: audio[15:65]
    np.testing.assert_array_equal(clip, audio[15:65])
    clip = place_word(audio[:10], 0, 10, length=50)  # short: zeros around it
    assert clip[20:30].tolist() == list(range(1, 11)) and clip[:20].sum() == clip[30:].sum() == 0


def test_a_word_longer_than_one_second_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    long_word = np.tile(np.float32([0.5, -0.5]), 15000)  # 30,000 samples at 22,050 Hz: 1.36 s
    monkeypatch.setattr(digits.espeak, "synthesize", lambda *args, **kwargs: (long_word, 22050))
    with pytest.raises(DataError) as exc:
        synthesize_digits(tmp_path / "x", speakers=["en-us+m1"], takes=1, progress=False)
    assert str(exc.value).startswith("'zero' by speaker en-us-m1 (en-us+m1, rate ")
    # 1.36 s and half a 10 ms RMS window at each end
    assert "lasts 1.37 s, longer than a one-second clip" in str(exc.value)


# -- speakers, takes and splits -------------------------------------------------------------


def test_speaker_specs_get_ids_that_name_accent_and_variant() -> None:
    assert digit_speaker("en-gb-scotland+f3").id == "en-gb-scotland-f3"
    assert digit_speaker("en+Mr serious:pitch=40").id == "en-mr-serious"
    assert digit_speaker("en+m1:id=bob:rate=150").id == "bob"
    pitch = digit_speaker(DEFAULT_SPEAKERS[0]).pitch
    assert DEFAULT_SPEAKERS[0] == f"{ACCENTS[0]}+{VARIANTS[0]}:pitch={pitch}:id=en-f1"


def test_takes_vary_pitch_range_and_rate_within_the_jitter_and_follow_the_seed() -> None:
    speaker = digit_speaker("en-us+m1:pitch=50:rate=175")
    settings = [take_settings(speaker, word, take) for word in DIGITS for take in range(5)]
    for name, base in (("pitch", 50), ("pitch_range", 50), ("rate", 175)):
        values = [s[name] for s in settings]
        assert max(abs(v - base) for v in values) <= JITTER[name] and len(set(values)) > 5
    assert take_settings(speaker, "one", 0) == take_settings(speaker, "one", 0)
    assert take_settings(speaker, "one", 0, seed=1) != take_settings(speaker, "one", 0)


def test_the_split_is_speech_commands_rule_on_the_speaker_name() -> None:
    assert [speaker_split(digit_speaker(s).id) for s in THREE] == ["train", "valid", "test"]
    counts = Counter(speaker_split(f"speaker{i}") for i in range(20000))
    assert abs(counts["valid"] / 20000 - 0.10) < 0.01 and abs(counts["test"] / 20000 - 0.10) < 0.01
    assert speaker_split("speaker1", valid_percent=0, test_percent=0) == "train"


def test_splits_are_disjoint_by_speaker_and_match_the_lists(corpus: Path) -> None:
    speakers = {}
    for split in ("train", "valid", "test"):
        utterances = speech_commands(corpus, split)
        speakers[split] = {u.speaker for u in utterances}
        assert len(utterances) == 20  # one speaker x 10 words x 2 takes
    assert speakers == {"train": {"en-us-m1"}, "valid": {"en-us-f2"}, "test": {"en-us-m3"}}
    listed = (corpus / "validation_list.txt").read_text().splitlines()
    assert listed == sorted(f"{w}/en-us-f2_nohash_{t}.wav" for w in DIGITS for t in (0, 1))
    manifest = json.loads((corpus / "corpus.json").read_text())
    assert manifest["splits"] == {s: {"speakers": 1, "clips": 20} for s in ("train", "valid", "test")}
    assert manifest["engine_version"] and manifest["sample_rate"] == 16000
    assert {s["id"]: s["split"] for s in manifest["speakers"]} == {
        "en-us-f2": "valid", "en-us-m1": "train", "en-us-m3": "test"}  # fmt: skip
    readme = (corpus / "README.md").read_text()
    assert "Splits: train 1 speakers / 20 clips, valid 1 speakers / 20 clips, test 1 speakers / 20 clips." in readme


def test_the_default_speakers_give_over_2000_training_clips() -> None:
    speakers = [digit_speaker(s) for s in DEFAULT_SPEAKERS]
    assert len(speakers) == len({s.id for s in speakers}) == len(ACCENTS) * len(VARIANTS) == 196
    for speaker in speakers:
        speaker.check()  # every voice, variant and pitch exists in the engine
        assert 38 <= speaker.pitch <= 62
    per_split = Counter(speaker_split(s.id) for s in speakers)
    assert per_split == {"train": 159, "valid": 18, "test": 19}
    assert per_split["train"] * 2 * len(DIGITS) == 3180  # two takes (the default) of ten digits


def test_bad_speakers_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="speaker id\\(s\\) en-us-m1 used twice"):
        synthesize_digits(tmp_path / "a", speakers=["en-us+m1", "en-us+m1:pitch=30"], progress=False)
    with pytest.raises(ConfigError, match="unknown eSpeak NG voice variant 'm99'"):
        synthesize_digits(tmp_path / "b", speakers=["en-us+m99"], progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# -- reproducibility and the command --------------------------------------------------------


def test_a_rerun_in_another_process_writes_the_same_bytes(corpus: Path, tmp_path: Path) -> None:
    code = (
        "from speechgan_plugins.audio.digits import synthesize_digits; "
        f"synthesize_digits({str(tmp_path / 'again')!r}, speakers={THREE!r}, takes=2, progress=False)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    first = tree_hashes(corpus)
    assert len(first) == 60 + 4  # clips, two lists, corpus.json, README.md
    assert tree_hashes(tmp_path / "again") == first


def test_corpus_digits_writes_and_refuses_a_non_empty_directory(cli: click.Group, tmp_path: Path) -> None:
    out = tmp_path / "sc09"
    args = ["corpus", "digits", "--out", str(out), "--speakers", "en-us+m1,en+f1:pitch=60", "--takes", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert f"wrote 20 one-second clips (train 2 speakers / 20 clips, valid 0 speakers / 0 clips, test 0 speakers " \
           f"/ 0 clips) to {out} in " in result.output
    assert sorted(p.name for p in (out / "five").iterdir()) == ["en-f1_nohash_0.wav", "en-us-m1_nohash_0.wav"]
    assert (out / "validation_list.txt").read_text() == ""

    stale = out / "five" / "gone_nohash_0.wav"
    stale.write_bytes(b"x")
    result = CliRunner().invoke(cli, args)
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception).startswith(f"output directory {out} is not empty; choose another one or pass "
                                            "--overwrite")
    assert stale.exists()
    result = CliRunner().invoke(cli, [*args, "--overwrite", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and json.loads((out / "corpus.json").read_text())["seed"] == 3
