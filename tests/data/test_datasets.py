"""AudioDataset segments, padding, features and speaker labels; UnpairedDataset."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_test_helpers import RmsFrontEnd
from torch.utils.data import DataLoader

from speechgan.data import AudioDataset, AudioLoader, UnpairedDataset, Utterance
from speechgan.errors import ConfigError

RATE = 16000
LOADER = AudioLoader(sample_rate=RATE)


def _ramp(path: Path, n: int, speaker: str = "spk") -> Utterance:
    """A file whose sample i is i / 2**16: each value tells its position."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (np.arange(n) / 2**16).astype(np.float32), RATE, subtype="FLOAT")
    return Utterance(path, None, speaker, f"{speaker}/{path.stem}")


def _start(segment: torch.Tensor) -> int:
    return int(round(float(segment[0]) * 2**16))


def test_segments_are_random_crops_reproducible_per_seed_epoch_and_index(tmp_path):
    utts = [_ramp(tmp_path / f"{i}.wav", 5000) for i in range(3)]
    dataset = AudioDataset(utts, LOADER, segment_length=1000, seed=7)
    first = [dataset[i]["wave"] for i in range(3)]
    for segment in first:
        start = _start(segment)
        assert segment.shape == (1000,) and 0 <= start <= 4000
        torch.testing.assert_close(segment, torch.arange(start, start + 1000) / 2**16)
    again = AudioDataset(utts, LOADER, segment_length=1000, seed=7)
    assert [_start(again[i]["wave"]) for i in range(3)] == [_start(s) for s in first]
    dataset.set_epoch(1)
    assert [_start(dataset[i]["wave"]) for i in range(3)] != [_start(s) for s in first]
    other_seed = AudioDataset(utts, LOADER, segment_length=1000, seed=8)
    assert [_start(other_seed[i]["wave"]) for i in range(3)] != [_start(s) for s in first]


def test_offsets_do_not_depend_on_the_worker_that_loads_them(tmp_path):
    utts = [_ramp(tmp_path / f"{i}.wav", 3000) for i in range(6)]
    dataset = AudioDataset(utts, LOADER, segment_length=500, seed=1)
    serial = torch.cat([b["wave"] for b in DataLoader(dataset, batch_size=2, collate_fn=dataset.collate)])
    parallel = torch.cat([b["wave"] for b in DataLoader(dataset, batch_size=2, collate_fn=dataset.collate, num_workers=2)])
    assert serial.shape == (6, 500)
    torch.testing.assert_close(serial, parallel)


def test_short_clips_are_padded_with_zeros_or_reflected(tmp_path):
    utt = _ramp(tmp_path / "short.wav", 5)
    values = np.arange(5) / 2**16
    zeros = AudioDataset([utt], LOADER, segment_length=9, pad="zeros")[0]["wave"]
    np.testing.assert_allclose(zeros.numpy(), np.concatenate([values, np.zeros(4)]), atol=1e-9)
    reflect = AudioDataset([utt], LOADER, segment_length=9, pad="reflect")[0]["wave"]
    np.testing.assert_allclose(reflect.numpy(), values[[0, 1, 2, 3, 4, 3, 2, 1, 0]], atol=1e-9)


def test_whole_utterances_collate_with_padding_and_lengths(tmp_path):
    utts = [_ramp(tmp_path / "a.wav", 30), _ramp(tmp_path / "b.wav", 20)]
    dataset = AudioDataset(utts, LOADER)
    batch = dataset.collate([dataset[0], dataset[1]])
    assert batch["wave"].shape == (2, 30) and batch["lengths"].tolist() == [30, 20]
    torch.testing.assert_close(batch["wave"][1, :20], torch.arange(20) / 2**16)
    assert batch["wave"][1, 20:].abs().sum() == 0


def test_feature_items_are_hop_aligned_dicts(tmp_path):
    utts = [_ramp(tmp_path / "a/x.wav", 4000, "alice"), _ramp(tmp_path / "b/y.wav", 300, "bob")]
    front_end = RmsFrontEnd(RATE, hop_length=100)
    dataset = AudioDataset(utts, LOADER, segment_length=1000, features=front_end, seed=3)
    assert dataset.speaker_to_index == {"alice": 0, "bob": 1}
    for epoch in range(4):
        dataset.set_epoch(epoch)
        item = dataset[0]
        assert set(item) == {"wave", "features", "speaker", "id"}
        assert item["wave"].shape == (1000,) and item["features"].shape == (1, 10)
        assert _start(item["wave"]) % 100 == 0  # the offset is a whole number of hops
        torch.testing.assert_close(item["features"], front_end(item["wave"]))
        assert (item["speaker"], item["id"]) == (0, "alice/x")
    short = dataset[1]  # zero-padded, then its features computed
    assert short["speaker"] == 1 and short["features"].shape == (1, 10)
    assert torch.all(short["features"][0, 3:] == 0)
    batch = dataset.collate([dataset[0], dataset[1]])
    assert batch["features"].shape == (2, 1, 10) and batch["speaker"].tolist() == [0, 1]


def test_whole_utterances_with_features(tmp_path):
    utts = [_ramp(tmp_path / "a.wav", 450), _ramp(tmp_path / "b.wav", 200)]
    dataset = AudioDataset(utts, LOADER, features=RmsFrontEnd(RATE, hop_length=100))
    batch = dataset.collate([dataset[0], dataset[1]])
    assert batch["features"].shape == (2, 1, 5) and batch["feature_lengths"].tolist() == [5, 2]
    assert batch["id"] == ["spk/a", "spk/b"]


def test_front_end_is_a_private_cpu_copy(tmp_path):
    front_end = RmsFrontEnd(RATE, 100)
    dataset = AudioDataset([_ramp(tmp_path / "a.wav", 1000)], LOADER, features=front_end)
    assert dataset.features is not front_end and not dataset.features.training


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"segment_length": 1050, "features": RmsFrontEnd(RATE, 100)},
         "segment_length: 1050 is not a multiple of the front-end's hop_length 100; use 1000 or 1100"),
        ({"features": RmsFrontEnd(22050, 100)},
         "sample_rate: the dataset loads audio at 16000 Hz but the front-end RmsFrontEnd expects 22050 Hz; make them equal"),
        ({"segment_length": 0}, "segment_length: must be a positive number of samples (or null for whole utterances), got 0"),
        ({"pad": "edge"}, "pad: must be 'zeros', 'reflect' or 'none', got 'edge'"),
        ({"cache_dir": "c"}, "cache_dir: only features are cached; add a `features:` section or remove cache_dir"),
    ],
)
def test_dataset_arguments_are_checked(tmp_path, kwargs, message):
    with pytest.raises(ConfigError) as info:
        AudioDataset([_ramp(tmp_path / "a.wav", 100)], LOADER, **kwargs)
    assert str(info.value) == message


def test_speaker_labels_follow_a_given_map(tmp_path):
    utts = [_ramp(tmp_path / "x.wav", 100, "bob")]
    dataset = AudioDataset(utts, LOADER, features=RmsFrontEnd(RATE, 10), speaker_to_index={"alice": 0, "bob": 1})
    assert dataset[0]["speaker"] == 1
    with pytest.raises(ConfigError, match="speaker_to_index: has no label for speaker\\(s\\) bob"):
        AudioDataset(utts, LOADER, speaker_to_index={"alice": 0})


# -- unpaired -----------------------------------------------------------------------------


def _unpaired(tmp_path, n_a=5, n_b=3, seed=0):
    a = [_ramp(tmp_path / f"A/{i}.wav", 1000 + i, "src") for i in range(n_a)]
    b = [_ramp(tmp_path / f"B/{i}.wav", 2000 + i, "tgt") for i in range(n_b)]
    return UnpairedDataset(a, b, LOADER, seed=seed)


def _epoch(dataset):
    """Which utterance of A and of B each item holds (told apart by their lengths)."""
    items = [dataset[i] for i in range(len(dataset))]
    return [len(item["a"]["wave"]) - 1000 for item in items], [len(item["b"]["wave"]) - 2000 for item in items]


def test_unpaired_covers_both_domains_and_cycles_the_smaller(tmp_path):
    dataset = _unpaired(tmp_path)
    assert len(dataset) == 5
    for epoch in range(3):
        dataset.set_epoch(epoch)
        a, b = _epoch(dataset)
        assert sorted(a) == [0, 1, 2, 3, 4]  # every A utterance once
        assert sorted(Counter(b).values()) == [1, 2, 2] and set(b) == {0, 1, 2}  # B cycles
        assert b[3:] == b[:2]  # the cycle repeats the epoch's B order


def test_unpaired_shuffles_are_independent_per_domain_and_epoch(tmp_path):
    dataset = _unpaired(tmp_path, n_a=8, n_b=8)
    orders = []
    for epoch in range(4):
        dataset.set_epoch(epoch)
        orders.append(_epoch(dataset))
    assert all(a != b for a, b in orders)  # A and B are not shuffled alike
    assert len({tuple(a) for a, _ in orders}) == 4  # a new order each epoch
    again = _unpaired(tmp_path, n_a=8, n_b=8)
    again.set_epoch(2)
    assert _epoch(again) == orders[2]
    batch = dataset.collate([dataset[0], dataset[1]])
    assert set(batch) == {"a", "b"} and batch["a"]["wave"].shape[0] == 2


def test_unpaired_shares_one_speaker_map(tmp_path):
    a = [_ramp(tmp_path / "A/0.wav", 200, "src")]
    b = [_ramp(tmp_path / "B/0.wav", 200, "tgt")]
    dataset = UnpairedDataset(a, b, LOADER, features=RmsFrontEnd(RATE, 100))
    assert dataset.a.speaker_to_index == dataset.b.speaker_to_index == {"src": 0, "tgt": 1}
    assert (dataset[0]["a"]["speaker"], dataset[0]["b"]["speaker"]) == (0, 1)


def test_unpaired_skips_are_reported_once(tmp_path, caplog):
    a = [_ramp(tmp_path / "A/0.wav", 200, "src")]
    b = [_ramp(tmp_path / "B/0.wav", 200, "tgt"), Utterance(tmp_path / "B/gone.wav", None, "tgt", "tgt/gone")]
    with caplog.at_level("WARNING", logger="speechgan.data"):
        dataset = UnpairedDataset(a, b, LOADER, on_error="skip")
    assert (len(dataset.a), len(dataset.b)) == (1, 1)
    assert dataset.skipped.entries == [(str(tmp_path / "B/gone.wav"), "file not found")]
    assert caplog.text.count("gone.wav: file not found") == 1
