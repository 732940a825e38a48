"""Paired noisy/clean speech: the VoiceBank-DEMAND and demo-corpus layouts and the
``paired_speech`` dataset (aligned crops, PAIRED batches, resampling, speaker splits, and
the errors a mismatched pair raises, each naming its files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from speechgan.data import load_audio, resampled_length
from speechgan.data.corpora import PAIRED_LAYOUTS, cmu_arctic_noisy, voicebank_demand
from speechgan.data.policy import ErrorPolicy
from speechgan.errors import ConfigError, DataError
from speechgan_plugins.audio.paired import PairedSpeech

TRAIN = ("p226", "p227", "p228", "p229", "p230")
TEST = ("p232", "p257")


def write_pair(clean_path: Path, noisy_path: Path, n: int, rate: int, seed: int, subtype: str = "FLOAT") -> None:
    """A random clean signal and that signal plus noise: ``(n,)`` each, in the two files."""
    rng = np.random.default_rng(seed)
    clean = 0.1 * rng.standard_normal(n)  # |x| < 1: nothing clipped, every sample distinct
    for path, wave in ((clean_path, clean), (noisy_path, clean + 0.05 * rng.standard_normal(n))):
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, wave, rate, subtype=subtype)


def make_voicebank(root: Path, *, rate: int = 16000, n: int = 6000, subtype: str = "FLOAT") -> Path:
    """Two utterances per training speaker, one per test speaker, named as VoiceBank-DEMAND's."""
    for part, speakers, per in (("trainset_28spk", TRAIN, 2), ("testset", TEST, 1)):
        for s, speaker in enumerate(speakers):
            for k in range(1, per + 1):
                name = f"{speaker}_{k:03d}.wav"
                write_pair(root / f"clean_{part}_wav" / name, root / f"noisy_{part}_wav" / name,
                           n + 100 * k, rate, seed=10 * s + k, subtype=subtype)
    return root


def make_demo(root: Path, *, rate: int = 22050, n: int = 5000) -> Path:
    """The demo corpus's layout: 3 speakers x 4 prompts, a wav_noisy_mix copy with its noise.csv."""
    for s, speaker in enumerate(("f3", "m1", "m3")):
        folder = root / f"cmu_us_{speaker}_arctic"
        rows = ["id,noise,snr_db"]
        for k in range(1, 5):
            uid = f"arctic_a{k:04d}"
            write_pair(folder / "wav" / f"{uid}.wav", folder / "wav_noisy_mix" / f"{uid}.wav", n, rate, 10 * s + k)
            rows.append(f"{uid},{('white', 'pink', 'babble')[(s + k) % 3]},{float(k * 3 + s)}")
        (folder / "wav_noisy_mix" / "noise.csv").write_text("\n".join(rows) + "\n")
    return root


def read(path: Path) -> np.ndarray:
    return sf.read(path, dtype="float32")[0]


def dataset(root: Path, **args) -> PairedSpeech:
    return PairedSpeech(**({"layout": "voicebank_demand", "root": str(root)} | args))


# -- layouts --------------------------------------------------------------------------------


def test_voicebank_pairs_each_noisy_file_with_its_clean_twin(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    pairs = voicebank_demand(tmp_path)
    assert [p.id for p in pairs] == [f"{s}_{k:03d}" for s in TRAIN for k in (1, 2)]
    assert {p.speaker for p in pairs} == set(TRAIN)
    first = pairs[0]
    assert first.clean.path == tmp_path / "clean_trainset_28spk_wav" / "p226_001.wav"
    assert first.noisy.path == tmp_path / "noisy_trainset_28spk_wav" / "p226_001.wav"
    assert [p.id for p in voicebank_demand(tmp_path, "test")] == ["p232_001", "p257_001"]
    assert set(PAIRED_LAYOUTS) == {"voicebank_demand", "cmu_arctic_noisy"}


def test_the_56_speaker_training_set_is_read_when_asked_for(tmp_path: Path) -> None:
    for name in ("p287_001.wav", "p287_002.wav"):
        write_pair(tmp_path / "clean_trainset_56spk_wav" / name, tmp_path / "noisy_trainset_56spk_wav" / name, 800, 16000, 0)
    with pytest.raises(DataError) as err:
        voicebank_demand(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'clean_trainset_28spk_wav'}: VoiceBank-DEMAND train folder not found; "
                              f"{tmp_path} holds clean_trainset_56spk_wav, noisy_trainset_56spk_wav "
                              "(train_set chooses 28spk or 56spk)")
    assert [p.id for p in voicebank_demand(tmp_path, train_set="56spk")] == ["p287_001", "p287_002"]


def test_the_demo_layout_pairs_the_noisy_copy_with_wav(tmp_path: Path) -> None:
    make_demo(tmp_path)
    pairs = cmu_arctic_noisy(tmp_path, "wav_noisy_mix")
    assert len(pairs) == 12 and pairs[0].id == "f3_arctic_a0001" and pairs[0].speaker == "f3"
    assert pairs[0].noisy.path == tmp_path / "cmu_us_f3_arctic" / "wav_noisy_mix" / "arctic_a0001.wav"
    assert pairs[0].clean.path == tmp_path / "cmu_us_f3_arctic" / "wav" / "arctic_a0001.wav"


def test_a_file_without_its_twin_is_named(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    orphan_noisy = tmp_path / "noisy_trainset_28spk_wav" / "p227_002.wav"
    (tmp_path / "clean_trainset_28spk_wav" / "p227_002.wav").unlink()
    orphan_clean = tmp_path / "clean_trainset_28spk_wav" / "p228_001.wav"
    (tmp_path / "noisy_trainset_28spk_wav" / "p228_001.wav").unlink()
    with pytest.raises(DataError) as err:
        voicebank_demand(tmp_path)
    assert str(err.value) == (f"{orphan_noisy}: no clean twin: {tmp_path / 'clean_trainset_28spk_wav' / 'p227_002.wav'} "
                              "not found; a pair needs both files, with the same name")
    policy = ErrorPolicy("skip")
    assert len(voicebank_demand(tmp_path, policy=policy)) == 8
    assert policy.report.paths == [str(orphan_noisy), str(orphan_clean)]
    assert policy.report.entries[1][1].startswith(f"no noisy twin: {tmp_path / 'noisy_trainset_28spk_wav' / 'p228_001.wav'}")


# -- the dataset: crops, batches, resampling -------------------------------------------------


def test_a_crop_is_the_same_window_of_both_files(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    data = dataset(tmp_path, segment_length=4096, valid_speakers=0)
    for epoch in (0, 1):
        data.set_epoch(epoch)
        for index in range(len(data)):
            item = data[index]
            pair = data.pairs[index]
            clean, noisy = read(pair.clean.path), read(pair.noisy.path)
            (start,) = np.flatnonzero(clean == item["clean"][0].item())  # random samples: the offset is unique
            np.testing.assert_array_equal(item["clean"].numpy(), clean[start : start + 4096])
            np.testing.assert_array_equal(item["noisy"].numpy(), noisy[start : start + 4096])
            assert item["id"] == pair.id
    # the same offsets for the same (seed, epoch, item); another epoch draws others
    data.set_epoch(0)
    again = dataset(tmp_path, segment_length=4096, valid_speakers=0)
    assert torch.equal(again[3]["clean"], data[3]["clean"])
    data.set_epoch(1)
    assert not torch.equal(again[3]["clean"], data[3]["clean"])


def test_batches_hold_noisy_and_clean_as_b_by_t(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    crops = dataset(tmp_path, segment_length=4096, valid_speakers=0)
    batch = crops.collate([crops[i] for i in range(3)])
    assert batch["noisy"].shape == batch["clean"].shape == (3, 4096)
    assert batch["noisy"].dtype == torch.float32 and "lengths" not in batch
    assert batch["id"] == ["p226_001", "p226_002", "p227_001"]

    whole = dataset(tmp_path, segment_length=None, valid_speakers=0)
    batch = whole.collate([whole[i] for i in range(3)])
    assert batch["lengths"].tolist() == [6100, 6200, 6100]
    assert batch["noisy"].shape == batch["clean"].shape == (3, 6200)
    assert torch.count_nonzero(batch["clean"][0, 6100:]) == 0  # zero-padded
    np.testing.assert_array_equal(batch["noisy"][1].numpy(), read(whole.pairs[1].noisy.path))


def test_a_clip_shorter_than_the_segment_is_padded_in_both(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    item = dataset(tmp_path, segment_length=8000, valid_speakers=0)[0]  # 6100 samples
    assert item["clean"].shape == item["noisy"].shape == (8000,)
    assert torch.count_nonzero(item["clean"][6100:]) == torch.count_nonzero(item["noisy"][6100:]) == 0
    with pytest.raises(DataError) as err:
        dataset(tmp_path, segment_length=8000, pad="none", valid_speakers=0)
    noisy = tmp_path / "noisy_trainset_28spk_wav" / "p226_001.wav"
    clean = tmp_path / "clean_trainset_28spk_wav" / "p226_001.wav"
    assert str(err.value) == (f"{noisy}: 6100 samples at 16000 Hz (as its clean twin {clean}) is shorter than "
                              "segment_length=8000 with pad='none'; use pad='zeros' or 'reflect', or a shorter "
                              "segment_length")


@pytest.mark.parametrize("rate", [48000, 22050])
def test_both_files_are_resampled_to_16k(tmp_path: Path, rate: int) -> None:
    make_voicebank(tmp_path, rate=rate, n=rate // 4, subtype="PCM_16")
    data = dataset(tmp_path, segment_length=None, split="test")
    item = data[0]
    expected = resampled_length(rate // 4 + 100, rate, 16000)
    assert item["clean"].shape == item["noisy"].shape == (expected,)
    reference, _ = load_audio(data.pairs[0].noisy.path, 16000)
    np.testing.assert_array_equal(item["noisy"].numpy(), reference)


# -- mismatched pairs -------------------------------------------------------------------------


def test_a_length_mismatch_names_both_files(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    noisy = tmp_path / "noisy_trainset_28spk_wav" / "p229_001.wav"
    clean = tmp_path / "clean_trainset_28spk_wav" / "p229_001.wav"
    sf.write(noisy, read(noisy)[:-5], 16000, subtype="FLOAT")
    with pytest.raises(DataError) as err:
        dataset(tmp_path, valid_speakers=0)
    assert str(err.value) == (f"{noisy}: 6095 samples but its clean twin {clean} has 6100; a pair must be "
                              "time-aligned, of equal length")
    kept = dataset(tmp_path, valid_speakers=0, on_error="skip")
    assert len(kept) == 9 and "p229_001" not in [p.id for p in kept.pairs]
    assert kept.skipped.paths == [str(noisy)]


def test_a_rate_mismatch_names_both_files(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    noisy = tmp_path / "noisy_testset_wav" / "p257_001.wav"
    clean = tmp_path / "clean_testset_wav" / "p257_001.wav"
    sf.write(noisy, read(noisy), 22050, subtype="FLOAT")
    with pytest.raises(DataError) as err:
        dataset(tmp_path, split="test")
    assert str(err.value) == (f"{noisy}: sample rate 22050 Hz differs from its clean twin {clean} (16000 Hz); "
                              "a pair is recorded alike")


def test_a_missing_twin_fails_the_dataset_or_is_skipped(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    noisy = tmp_path / "noisy_testset_wav" / "p232_001.wav"
    (tmp_path / "clean_testset_wav" / "p232_001.wav").unlink()
    with pytest.raises(DataError, match=rf"^{noisy}: no clean twin: "):
        dataset(tmp_path, split="test")
    kept = dataset(tmp_path, split="test", on_error="skip")
    assert [p.id for p in kept.pairs] == ["p257_001"] and kept.skipped.paths == [str(noisy)]


def test_a_pair_lost_after_the_scan_is_replaced_by_the_next(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    data = dataset(tmp_path, segment_length=None, valid_speakers=0, on_error="skip")
    data.pairs[0].noisy.path.unlink()
    assert data[0]["id"] == "p226_002"
    assert data.skipped.paths == [str(data.pairs[0].noisy.path)]


# -- splits -------------------------------------------------------------------------------------


def test_voicebank_splits_are_disjoint_speaker_sets(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    speakers = {split: {p.speaker for p in dataset(tmp_path, split=split).pairs} for split in ("train", "valid", "test")}
    assert len(speakers["valid"]) == 2 and len(speakers["train"]) == 3
    assert speakers["train"] | speakers["valid"] == set(TRAIN) and speakers["test"] == set(TEST)
    assert not speakers["train"] & speakers["valid"]
    assert {p.speaker for p in dataset(tmp_path, split="valid", split_seed=1).pairs} != speakers["valid"]
    named = dataset(tmp_path, split="valid", valid_speakers=["p226", "p230"])
    assert [p.id for p in named.pairs] == ["p226_001", "p226_002", "p230_001", "p230_002"]
    assert len(dataset(tmp_path, split="all", valid_speakers=["p226"])) == 12
    with pytest.raises(ConfigError, match=r"^valid_speakers: 'p999' not in the training set; its speakers are p226, "):
        dataset(tmp_path, split="valid", valid_speakers=["p999"])
    with pytest.raises(ConfigError, match=r"^valid_speakers: a count must leave at least one of the 5 training"):
        dataset(tmp_path, valid_speakers=5)


def test_demo_splits_by_speaker_and_by_utterance_and_reads_noise_conditions(tmp_path: Path) -> None:
    make_demo(tmp_path)
    args = {"layout": "cmu_arctic_noisy", "noisy_dir": "wav_noisy_mix", "segment_length": None}
    held_out = dataset(tmp_path, **args, speakers=["m3"], split="all")
    train = dataset(tmp_path, **args, speakers=["f3", "m1"], valid_size=2, test_size=0)
    valid = dataset(tmp_path, **args, speakers=["f3", "m1"], valid_size=2, test_size=0, split="valid")
    assert len(held_out) == 4 and len(train) == 6 and len(valid) == 2
    assert not {p.id for p in train.pairs} & {p.id for p in valid.pairs}
    assert {p.speaker for p in train.pairs + valid.pairs} == {"f3", "m1"}
    assert held_out.conditions["m3_arctic_a0002"] == ("pink", 8.0)
    assert held_out.summary == ("paired_speech (cmu_arctic_noisy, split all): 4 pairs of 1 speaker (m3), noisy in "
                                "wav_noisy_mix; noise types: babble 1, pink 1, white 2, SNR 5 to 14 dB")
    assert held_out[0]["clean"].shape == (resampled_length(5000, 22050, 16000),)


def test_limit_keeps_a_spread_of_the_split(tmp_path: Path) -> None:
    make_voicebank(tmp_path)
    some = dataset(tmp_path, valid_speakers=0, limit=4)
    assert len(some) == 4 and [p.id for p in some.pairs] == sorted(p.id for p in some.pairs)
    assert len({p.speaker for p in some.pairs}) > 1
    assert [p.id for p in dataset(tmp_path, valid_speakers=0, limit=4).pairs] == [p.id for p in some.pairs]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"layout": "cmu_arctic_noisy"}, "noisy_dir: cmu_arctic_noisy needs the noisy copy's folder in each speaker"),
        ({"noisy_dir": "wav_noisy_mix"}, "noisy_dir: only for cmu_arctic_noisy; voicebank_demand's folders are fixed"),
        ({"layout": "cmu_arctic_noisy", "noisy_dir": "x", "valid_speakers": 1}, "valid_speakers: only for voicebank"),
        ({"limit": 0}, "limit: must be at least 1 pair (or null for all), got 0"),
        ({"segment_length": 0}, "segment_length: must be a positive number of samples"),
    ],
)
def test_bad_arguments_are_config_errors(tmp_path: Path, args: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        dataset(tmp_path, **args)
    assert str(err.value).startswith(message)


def test_config_args_are_checked_against_the_signature() -> None:
    from speechgan.config import check_component_args
    from speechgan.schema import ComponentSpec

    spec = ComponentSpec(name="paired_speech", args={"layout": "voicebank", "root": "/data/vbd", "limit": "ten",
                                                     "valid_speakers": ["p226", "p287"], "segment_length": "16384"})
    values, errors = check_component_args("data.train", "dataset", spec, PairedSpeech, injectable={"features"})
    assert values["valid_speakers"] == ["p226", "p287"] and values["segment_length"] == 16384
    assert errors == ["data.train.args.layout: Input should be 'voicebank_demand' or 'cmu_arctic_noisy' (got 'voicebank')",
                      "data.train.args.limit: Input should be a valid integer, unable to parse string as an integer "
                      "(got 'ten')"]
