"""Corpus layouts, each on a miniature of the real folder structure, and splits."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from speechgan.data import (
    Utterance,
    audio_folder,
    cmu_arctic,
    file_list,
    ljspeech,
    select_speakers,
    split_utterances,
    vcc2018,
    vctk,
)
from speechgan.errors import ConfigError, DataError


def test_audio_folder_is_recursive_sorted_and_names_speakers_by_folder(tmp_path, write_sine):
    b = write_sine("corpus/spk_b/x.wav")
    a2 = write_sine("corpus/spk_a/2.flac")
    a1 = write_sine("corpus/spk_a/1.ogg")
    (tmp_path / "corpus/spk_a/notes.txt").write_text("not audio", encoding="utf-8")
    utterances = audio_folder(tmp_path / "corpus")
    assert utterances == [
        Utterance(a1, None, "spk_a", "spk_a/1"),
        Utterance(a2, None, "spk_a", "spk_a/2"),
        Utterance(b, None, "spk_b", "spk_b/x"),
    ]
    assert {u.speaker for u in audio_folder(tmp_path / "corpus", speaker="me")} == {"me"}


def test_audio_folder_errors(tmp_path):
    with pytest.raises(DataError, match=f"^{tmp_path / 'nowhere'}: audio folder not found$"):
        audio_folder(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        audio_folder(tmp_path / "empty")
    assert str(info.value) == f"{tmp_path / 'empty'}: no audio files (.wav, .flac, .ogg) found"


def test_file_list_fields_paths_and_speakers(tmp_path, write_sine):
    a = write_sine("lists/audio/a.wav")
    b = write_sine("lists/audio/b.wav")
    c = write_sine("elsewhere/spk9/c.wav")
    listing = tmp_path / "lists" / "train.txt"
    listing.write_text(f"# comment\naudio/a.wav|Hello there.|alice\n\naudio/b.wav|Bye.\n{c}\n", encoding="utf-8")
    assert file_list(listing) == [
        Utterance(c, None, "spk9", c.with_suffix("").as_posix()),
        Utterance(a, "Hello there.", "alice", "audio/a"),
        Utterance(b, "Bye.", "audio", "audio/b"),
    ]
    assert file_list(listing, speaker="bob")[2].speaker == "bob"  # a given speaker field still wins
    assert file_list(listing, speaker="bob")[1].speaker == "alice"


def test_file_list_malformed_line_names_file_and_line(tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("a.wav|x|spk\na.wav|x|spk|extra\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        file_list(listing)
    assert str(info.value) == (f"{listing}:2: malformed line 'a.wav|x|spk|extra': expected "
                               "path|text|speaker (text and speaker optional)")


def test_ljspeech(tmp_path, write_sine):
    root = tmp_path / "LJSpeech-1.1"
    for uid in ("LJ001-0001", "LJ001-0002"):
        write_sine(f"LJSpeech-1.1/wavs/{uid}.wav", rate=22050)
    (root / "metadata.csv").write_text(
        'LJ001-0002|in being comparatively modern.|in being comparatively modern.\n'
        'LJ001-0001|Printing, in 1450 "the only"|Printing, in fourteen fifty "the only"\n',
        encoding="utf-8",
    )
    utterances = ljspeech(root)
    assert [u.id for u in utterances] == ["LJ001-0001", "LJ001-0002"]
    assert utterances[0] == Utterance(root / "wavs/LJ001-0001.wav", 'Printing, in fourteen fifty "the only"', "LJ", "LJ001-0001")
    assert ljspeech(root, normalized_text=False)[0].text == 'Printing, in 1450 "the only"'
    with pytest.raises(DataError, match="no metadata.csv|LJSpeech metadata.csv not found"):
        ljspeech(tmp_path)


def _vctk_092(tmp_path, write_sine):
    for spk, n in (("p225", 2), ("p226", 1)):
        for i in range(1, n + 1):
            for mic in ("mic1", "mic2"):
                write_sine(f"VCTK/wav48_silence_trimmed/{spk}/{spk}_{i:03d}_{mic}.flac", rate=48000)
            (tmp_path / f"VCTK/txt/{spk}").mkdir(parents=True, exist_ok=True)
            (tmp_path / f"VCTK/txt/{spk}/{spk}_{i:03d}.txt").write_text(f"Text {spk} {i}.\n", encoding="utf-8")
    return tmp_path / "VCTK"


def test_vctk_092_flac_per_microphone(tmp_path, write_sine):
    root = _vctk_092(tmp_path, write_sine)
    utterances = vctk(root)
    assert [(u.id, u.speaker, u.text, u.path.name) for u in utterances] == [
        ("p225_001", "p225", "Text p225 1.", "p225_001_mic1.flac"),
        ("p225_002", "p225", "Text p225 2.", "p225_002_mic1.flac"),
        ("p226_001", "p226", "Text p226 1.", "p226_001_mic1.flac"),
    ]
    assert {u.path.name[-9:] for u in vctk(root, mic="mic2")} == {"mic2.flac"}


def test_vctk_080_wav(tmp_path, write_sine):
    write_sine("VCTK-Corpus/wav48/p225/p225_001.wav", rate=48000)
    (tmp_path / "VCTK-Corpus/txt/p225").mkdir(parents=True)
    (tmp_path / "VCTK-Corpus/txt/p225/p225_001.txt").write_text("Please call Stella.", encoding="utf-8")
    root = tmp_path / "VCTK-Corpus"
    assert vctk(root) == [Utterance(root / "wav48/p225/p225_001.wav", "Please call Stella.", "p225", "p225_001")]
    with pytest.raises(DataError, match="neither wav48_silence_trimmed/"):
        vctk(root / "txt")


def test_vctk_without_text_when_allowed(tmp_path, write_sine):
    root = _vctk_092(tmp_path, write_sine)
    (root / "txt/p226/p226_001.txt").unlink()
    assert [u.text for u in vctk(root, require_text=False)] == ["Text p225 1.", "Text p225 2.", None]


def test_cmu_arctic_one_or_several_speakers(tmp_path, write_sine):
    for spk in ("bdl", "slt"):
        base = tmp_path / "ARCTIC" / f"cmu_us_{spk}_arctic"
        for uid in ("arctic_a0001", "arctic_b0539"):
            write_sine(f"ARCTIC/cmu_us_{spk}_arctic/wav/{uid}.wav")
        (base / "etc").mkdir(parents=True)
        (base / "etc/txt.done.data").write_text(
            '( arctic_a0001 "Author of the danger trail, Philip Steels, etc." )\n'
            '( arctic_b0539 "They were to be gone many days." )\n',
            encoding="utf-8",
        )
    both = cmu_arctic(tmp_path / "ARCTIC")
    assert [u.id for u in both] == ["bdl_arctic_a0001", "bdl_arctic_b0539", "slt_arctic_a0001", "slt_arctic_b0539"]
    assert both[0].text == "Author of the danger trail, Philip Steels, etc."
    assert both[0].path == tmp_path / "ARCTIC/cmu_us_bdl_arctic/wav/arctic_a0001.wav"
    one = cmu_arctic(tmp_path / "ARCTIC" / "cmu_us_slt_arctic")
    assert [(u.speaker, u.text) for u in one] == [
        ("slt", "Author of the danger trail, Philip Steels, etc."), ("slt", "They were to be gone many days.")
    ]
    with pytest.raises(DataError, match="no cmu_us_<speaker>_arctic folder found"):
        cmu_arctic(tmp_path / "ARCTIC" / "cmu_us_slt_arctic" / "etc")


def test_cmu_arctic_parallel_audio_folder_and_hyphenated_speaker(tmp_path, write_sine):
    base = tmp_path / "demo" / "cmu_us_f3-fast_arctic"
    write_sine("demo/cmu_us_f3-fast_arctic/wav/arctic_a0001.wav")
    noisy = write_sine("demo/cmu_us_f3-fast_arctic/wav_noisy_white5/arctic_a0001.wav")
    (base / "etc").mkdir()
    (base / "etc/txt.done.data").write_text('( arctic_a0001 "Author of the danger trail." )\n', encoding="utf-8")
    assert cmu_arctic(tmp_path / "demo", wav_dir="wav_noisy_white5") == [
        Utterance(noisy, "Author of the danger trail.", "f3-fast", "f3-fast_arctic_a0001")
    ]


def test_vcc2018_parts(tmp_path, write_sine):
    for part, spk, uid in (("training", "VCC2SF1", "10001"), ("training", "VCC2TM1", "10001"),
                           ("evaluation", "VCC2SF1", "30001")):
        write_sine(f"vcc2018/vcc2018_{part}/{spk}/{uid}.wav", rate=22050)
    training = vcc2018(tmp_path / "vcc2018")
    assert [(u.id, u.speaker, u.text) for u in training] == [
        ("VCC2SF1_10001", "VCC2SF1", None), ("VCC2TM1_10001", "VCC2TM1", None)
    ]
    assert [u.id for u in vcc2018(tmp_path / "vcc2018", part="evaluation")] == ["VCC2SF1_30001"]
    assert [u.id for u in vcc2018(tmp_path / "vcc2018" / "vcc2018_evaluation")] == ["VCC2SF1_30001"]


def test_select_speakers(tmp_path):
    utterances = [Utterance(Path(f"{s}{i}.wav"), None, s, f"{s}{i}") for s in "abc" for i in range(2)]
    assert [u.id for u in select_speakers(utterances, ["c", "a"])] == ["a0", "a1", "c0", "c1"]
    assert select_speakers(utterances, None) is utterances
    with pytest.raises(ConfigError) as info:
        select_speakers(utterances, ["a", "zz"])
    assert str(info.value) == "speakers: 'zz' not in the corpus; its speakers are a, b, c"


# -- splits ---------------------------------------------------------------------------------


def _corpus(n_speakers: int = 4, per_speaker: int = 25) -> list[Utterance]:
    return [Utterance(Path(f"/c/s{s}/{i}.wav"), None, f"s{s}", f"s{s}_{i:03d}")
            for s in range(n_speakers) for i in range(per_speaker)]


def test_splits_are_disjoint_complete_and_sized():
    corpus = _corpus()
    parts = {name: split_utterances(corpus, name, valid_size=0.1, test_size=5) for name in ("train", "valid", "test")}
    assert [len(parts[n]) for n in ("train", "valid", "test")] == [85, 10, 5]
    ids = [u.id for part in parts.values() for u in part]
    assert sorted(ids) == sorted(u.id for u in corpus)  # disjoint and complete
    assert split_utterances(corpus, "all") == corpus


def test_splits_are_deterministic_and_seeded():
    corpus = _corpus()
    valid = [u.id for u in split_utterances(corpus, "valid", seed=3)]
    assert valid == [u.id for u in split_utterances(list(reversed(corpus)), "valid", seed=3)]  # input order is irrelevant
    assert valid != [u.id for u in split_utterances(corpus, "valid", seed=4)]
    # The documented order: SHA-256 of "<seed>:<id>", the same on every machine and version.
    by_hash = sorted(corpus, key=lambda u: hashlib.sha256(f"3:{u.id}".encode()).digest())
    assert valid == sorted(u.id for u in by_hash[:5])


def test_stratified_split_takes_every_speaker_in_proportion():
    corpus = _corpus(n_speakers=4, per_speaker=20)
    valid = split_utterances(corpus, "valid", valid_size=0.1, test_size=0.1, stratify=True)
    assert sorted(u.speaker for u in valid) == ["s0", "s0", "s1", "s1", "s2", "s2", "s3", "s3"]


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"valid_size": 1.0}, "valid_size: a fraction must be in [0, 1), got 1.0; give an int for a count"),
        ({"test_size": -2}, "test_size: a count cannot be negative, got -2"),
        ({"valid_size": 60, "test_size": 50}, "valid_size, test_size: 60 + 50 utterances are more than the 100 of the corpus"),
    ],
)
def test_split_sizes_are_checked(sizes, message):
    with pytest.raises(ConfigError) as info:
        split_utterances(_corpus(), "train", **sizes)
    assert str(info.value) == message
