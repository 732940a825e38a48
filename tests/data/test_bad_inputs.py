"""Every kind of bad input, under both policies: "fail" raises a DataError naming the file,
"skip" leaves the file out and the summary names it; at scan time, and for a file that
breaks after it, during training."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader

from speechgan.data import AudioDataset, AudioLoader, ErrorPolicy, audio_folder, file_list, vctk
from speechgan.errors import DataError

SEGMENT = 800


def _corrupt(path):
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    return path, ("not a readable audio file (Format not recognised.); "
                  "check that it is a complete WAV, FLAC or OGG file")


def _empty(path):
    sf.write(path, np.zeros(0, np.float32), 16000)
    return path, "empty file (0 samples)"


def _nan(path):
    samples = np.full(1600, 0.1, np.float32)
    samples[[100, 700]] = [np.nan, np.inf]
    sf.write(path, samples, 16000, subtype="FLOAT")
    return path, "2 non-finite sample(s) (NaN or Inf), the first at sample 100; re-export the file"


def _too_short(path):
    sf.write(path, np.full(400, 0.1, np.float32), 16000)
    return path, ("400 samples at 16000 Hz is shorter than segment_length=800 with pad='none'; "
                  "use pad='zeros' or 'reflect', or a shorter segment_length")


def _low_rate(path):
    sf.write(path, np.full(1600, 0.1, np.float32), 8000)
    return path, ("sample rate 8000 Hz is below the minimum of 16000 Hz (upsampling cannot restore the band "
                  "above 4000 Hz); use a recording at 16000 Hz or more, or lower min_sample_rate to accept it")


def _missing(path):
    return path, "file not found"


def _cut_in_half(path):
    """A noise file (it does not compress to a few bytes) with the second half of its bytes lost."""
    sf.write(path, np.random.default_rng(0).uniform(-0.5, 0.5, 1600).astype(np.float32), 16000)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _truncated_flac(path):
    # libsndfile reads the header, so only decoding the end of the file finds the loss.
    return _cut_in_half(path.with_suffix(".flac")), (
        "truncated or corrupt: the header declares 1600 samples but the last one does not decode "
        "(Internal psf_fseek() failed.); copy or export the file again")


def _truncated_wav(path):
    # libsndfile reads a truncated WAV as a shorter one without a word; its header tells.
    # 16-bit PCM: a 44-byte header, then 3200 bytes of samples of which 1622 - 44 are left.
    return _cut_in_half(path), ("truncated: the WAV header declares 3200 bytes of samples but the file holds 1578; "
                                "copy or export the file again")


CASES = {"corrupt": _corrupt, "empty": _empty, "nan": _nan, "too_short": _too_short,
         "low_rate": _low_rate, "missing": _missing, "truncated_flac": _truncated_flac,
         "truncated_wav": _truncated_wav}


def _corpus_with(tmp_path, case):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("good_1", "good_2"):
        sf.write(folder / f"{name}.wav", np.full(1600, 0.1, np.float32), 16000)
    bad, reason = CASES[case](folder / "bad.wav")
    utterances = audio_folder(folder) if bad.exists() else [*audio_folder(folder), *_listed(tmp_path, bad)]
    return utterances, bad, reason


def _listed(tmp_path, path):
    listing = tmp_path / "missing.txt"
    listing.write_text(f"{path}\n", encoding="utf-8")
    return file_list(listing)


def _dataset(utterances, on_error):
    return AudioDataset(utterances, AudioLoader(sample_rate=16000), segment_length=SEGMENT, pad="none",
                        on_error=on_error, progress=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fail_policy_raises_naming_the_file(tmp_path, case):
    utterances, bad, reason = _corpus_with(tmp_path, case)
    with pytest.raises(DataError) as info:
        _dataset(utterances, "fail")
    assert str(info.value) == f"{bad}: {reason}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_skip_policy_leaves_the_file_out_and_reports_it(tmp_path, case, caplog):
    utterances, bad, reason = _corpus_with(tmp_path, case)
    with caplog.at_level(logging.WARNING, logger="speechgan.data"):
        dataset = _dataset(utterances, "skip")
    assert [u.id for u in dataset.utterances] == ["good_1", "good_2"]
    assert dataset.skipped.count == 1 and dataset.skipped.entries == [(str(bad), reason)]
    summary = f"skipped 1 file (on_error='skip'):\n  {bad}: {reason}"
    assert dataset.skipped.summary() == summary
    assert summary in caplog.text  # logged when the dataset is built
    assert len(dataset) == 2 and dataset[0]["wave"].shape == (SEGMENT,)


def test_nothing_usable_is_an_error_with_the_summary(tmp_path):
    bad, reason = _corrupt(tmp_path / "only.wav")
    with pytest.raises(DataError) as info:
        _dataset(audio_folder(tmp_path), "skip")
    assert str(info.value) == f"the dataset has no usable utterances; skipped 1 file (on_error='skip'):\n  {bad}: {reason}"


def _vctk_missing_transcript(tmp_path):
    for uid in ("p225_001", "p225_002"):
        path = tmp_path / "VCTK/wav48_silence_trimmed/p225" / f"{uid}_mic1.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, np.full(1600, 0.1, np.float32), 48000)
    (tmp_path / "VCTK/txt/p225").mkdir(parents=True)
    (tmp_path / "VCTK/txt/p225/p225_001.txt").write_text("Please call Stella.", encoding="utf-8")
    missing = tmp_path / "VCTK/wav48_silence_trimmed/p225/p225_002_mic1.flac"
    reason = (f"missing transcript ({tmp_path / 'VCTK/txt/p225/p225_002.txt'} is missing or empty); "
              "set require_text=false to use recordings without text")
    return tmp_path / "VCTK", missing, reason


def test_missing_transcript_under_both_policies(tmp_path):
    root, missing, reason = _vctk_missing_transcript(tmp_path)
    with pytest.raises(DataError) as info:
        vctk(root)
    assert str(info.value) == f"{missing}: {reason}"
    policy = ErrorPolicy("skip")
    assert [u.id for u in vctk(root, policy=policy)] == ["p225_001"]
    assert policy.report.entries == [(str(missing), reason)]


def test_malformed_list_line_under_both_policies(tmp_path):
    sf.write(tmp_path / "a.wav", np.full(10, 0.1, np.float32), 16000)
    listing = tmp_path / "list.txt"
    listing.write_text("a.wav|hello|spk\n|no path\n", encoding="utf-8")
    message = f"{listing}:2: malformed line '|no path': expected path|text|speaker (text and speaker optional)"
    with pytest.raises(DataError) as info:
        file_list(listing)
    assert str(info.value) == message
    policy = ErrorPolicy("skip")
    assert [u.id for u in file_list(listing, policy=policy)] == ["a"]
    assert policy.report.summary() == f"skipped 1 file (on_error='skip'):\n  {message}"


def test_repeated_id_under_both_policies(tmp_path):
    sf.write(tmp_path / "a.wav", np.full(10, 0.1, np.float32), 16000)
    sf.write(tmp_path / "a.flac", np.full(10, 0.1, np.float32), 16000)
    with pytest.raises(DataError) as info:
        audio_folder(tmp_path)
    assert str(info.value) == (f"{tmp_path / 'a.wav'}: utterance id 'a' is also that of {tmp_path / 'a.flac'}; "
                               "rename or remove one of them")
    assert [u.path.name for u in audio_folder(tmp_path, policy=ErrorPolicy("skip"))] == ["a.flac"]



def test_trimmed_length_is_checked_at_scan_time(tmp_path):
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(4800) / 16000)).astype(np.float32)
    sf.write(tmp_path / "mostly_silence.wav", np.concatenate([np.zeros(16000, np.float32), tone]), 16000)
    loader = AudioLoader(sample_rate=16000, trim_db=40.0)
    with pytest.raises(DataError, match=r"mostly_silence.wav: \d+ samples at 16000 Hz is shorter than segment_length=12000"):
        AudioDataset(audio_folder(tmp_path), loader, segment_length=12000, pad="none")
    assert len(AudioDataset(audio_folder(tmp_path), loader, segment_length=12000, pad="zeros")) == 1


def test_resampling_failure_names_the_file(tmp_path, monkeypatch):
    sf.write(tmp_path / "a.wav", np.full(100, 0.1, np.float32), 16000)

    def broken(*args, **kwargs):
        raise ValueError("ratio out of range")

    monkeypatch.setattr("speechgan.data.audio_io.soxr.resample", broken)
    with pytest.raises(DataError) as info:
        AudioLoader(sample_rate=8000).load(tmp_path / "a.wav")
    assert str(info.value) == f"{tmp_path / 'a.wav'}: cannot resample from 16000 Hz to 8000 Hz (ratio out of range)"


# -- files that break after the scan ----------------------------------------------------------


def _noise_corpus(tmp_path, on_error):
    """Four 0.2 s noise files a..d, and a dataset of 800-sample random crops built on them."""
    rng = np.random.default_rng(1)
    for name in "abcd":
        sf.write(tmp_path / f"{name}.wav", rng.uniform(-0.5, 0.5, 3200).astype(np.float32), 16000)
    return AudioDataset(audio_folder(tmp_path), AudioLoader(sample_rate=16000), segment_length=SEGMENT,
                        on_error=on_error, progress=False)


def test_a_file_broken_after_the_scan_is_replaced_by_the_next_item_under_skip(tmp_path, caplog):
    dataset = _noise_corpus(tmp_path, "skip")
    before = [dataset[i]["wave"] for i in range(4)]
    (b, reason), (d, _) = _corrupt(tmp_path / "b.wav"), _corrupt(tmp_path / "d.wav")
    with caplog.at_level(logging.WARNING, logger="speechgan.data"):
        after = [dataset[i]["wave"] for i in (0, 1, 2, 3, 1, 3)]
    # the substitute is the next item, crop included, wrapping round at the end
    for got, want in zip(after, [before[0], before[2], before[2], before[0], before[2], before[0]]):
        assert torch.equal(got, want)
    assert dataset.skipped.entries == [(str(b), reason), (str(d), reason)]
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [f"{b}: {reason}; on_error='skip': the next item is used in its place",
                        f"{d}: {reason}; on_error='skip': the next item is used in its place"]  # once each


def test_a_file_broken_after_the_scan_is_raised_naming_it_under_fail(tmp_path):
    dataset = _noise_corpus(tmp_path, "fail")
    b, reason = _corrupt(tmp_path / "b.wav")
    assert dataset[0]["wave"].shape == (SEGMENT,)
    with pytest.raises(DataError) as info:
        dataset[1]
    assert str(info.value) == f"{b}: {reason}"


def test_substitutes_are_the_same_in_dataloader_workers(tmp_path):
    dataset = _noise_corpus(tmp_path, "skip")
    _corrupt(tmp_path / "c.wav")
    batches = {
        workers: torch.cat([b["wave"] for b in DataLoader(dataset, batch_size=2, num_workers=workers, collate_fn=dataset.collate)])
        for workers in (0, 2)
    }
    assert batches[0].shape == (4, SEGMENT) and torch.equal(batches[0], batches[2])
    assert torch.equal(batches[0][2], batches[0][3])  # c's place is taken by d


def test_a_dataset_whose_every_file_broke_is_an_error(tmp_path):
    dataset = _noise_corpus(tmp_path, "skip")
    for name in "abcd":
        _corrupt(tmp_path / f"{name}.wav")
    with pytest.raises(DataError, match=r"^no file of the dataset loads any more; skipped 4 files \(on_error='skip'\):\n"):
        dataset[2]
