"""The feature cache: computed once, reused, recomputed when anything it depends on changes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_test_helpers import RmsFrontEnd, sine

from speechgan.data import AudioDataset, AudioLoader, FeatureCache, Utterance, preprocess
from speechgan.errors import DataError

RATE = 16000


@pytest.fixture
def corpus(tmp_path):
    utterances = []
    for i, n in enumerate((1600, 2400, 800, 3200)):
        path = tmp_path / "audio" / f"spk{i % 2}" / f"u{i}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, sine(200.0 * (i + 1), n, RATE, 0.1 * (i + 1)), RATE)
        utterances.append(Utterance(path, None, f"spk{i % 2}", f"spk{i % 2}/u{i}"))
    return utterances


def _expected(front_end, loader, utterance):
    return front_end(torch.from_numpy(loader.load(utterance.path))).numpy()


def test_first_fill_computes_every_entry_where_documented(tmp_path, corpus):
    front_end, loader = RmsFrontEnd(RATE, 160), AudioLoader(sample_rate=RATE)
    cache = FeatureCache(tmp_path / "cache", front_end, loader)
    result = cache.fill(corpus, num_workers=1, progress=False)
    assert (result.n_files, result.n_computed, result.failed) == (4, 4, ())
    assert result.seconds == pytest.approx((1600 + 2400 + 800 + 3200) / RATE)
    assert cache.path(corpus[0]) == tmp_path / "cache" / front_end.fingerprint / "spk0%2Fu0.npy"
    for utt in corpus:
        np.testing.assert_array_equal(np.load(cache.path(utt)), _expected(front_end, loader, utt))
    manifest = json.loads((tmp_path / "cache" / front_end.fingerprint / "manifest.json").read_text())
    assert manifest["params"] == {"sample_rate": RATE, "hop_length": 160}
    assert manifest["front_end"] == "RmsFrontEnd" and set(manifest["entries"]) == {u.id for u in corpus}


def test_second_fill_reuses_everything(tmp_path, corpus):
    cache = FeatureCache(tmp_path / "cache", RmsFrontEnd(RATE, 160), AudioLoader(sample_rate=RATE))
    cache.fill(corpus, num_workers=1, progress=False)
    written = {u.id: os.stat(cache.path(u)).st_mtime_ns for u in corpus}
    again = cache.fill(corpus, num_workers=1, progress=False)
    assert (again.n_files, again.n_computed) == (4, 0)
    assert again.seconds == pytest.approx(0.5)
    assert {u.id: os.stat(cache.path(u)).st_mtime_ns for u in corpus} == written


def test_changed_hop_is_a_new_fingerprint_and_recomputes(tmp_path, corpus):
    loader = AudioLoader(sample_rate=RATE)
    coarse, fine = RmsFrontEnd(RATE, 160), RmsFrontEnd(RATE, 80)
    assert coarse.fingerprint != fine.fingerprint
    FeatureCache(tmp_path / "cache", coarse, loader).fill(corpus, num_workers=1, progress=False)
    cache = FeatureCache(tmp_path / "cache", fine, loader)
    assert cache.fill(corpus, num_workers=1, progress=False).n_computed == 4
    assert np.load(cache.path(corpus[0])).shape == (1, 20)  # 1600 samples / hop 80


def test_edited_file_is_recomputed_alone(tmp_path, corpus):
    front_end, loader = RmsFrontEnd(RATE, 160), AudioLoader(sample_rate=RATE)
    cache = FeatureCache(tmp_path / "cache", front_end, loader)
    cache.fill(corpus, num_workers=1, progress=False)
    sf.write(corpus[1].path, np.full(2400, 0.3, np.float32), RATE)  # same length, new content
    result = cache.fill(corpus, num_workers=1, progress=False)
    assert result.n_computed == 1
    np.testing.assert_allclose(np.load(cache.path(corpus[1])), np.full((1, 15), 0.3), rtol=1e-4)


def test_changed_loading_options_recompute(tmp_path, corpus):
    front_end = RmsFrontEnd(RATE, 160)
    FeatureCache(tmp_path / "cache", front_end, AudioLoader(sample_rate=RATE)).fill(corpus, num_workers=1, progress=False)
    peaked = FeatureCache(tmp_path / "cache", front_end, AudioLoader(sample_rate=RATE, normalize="peak"))
    assert peaked.fill(corpus, num_workers=1, progress=False).n_computed == 4


def test_two_workers_give_identical_features(tmp_path, corpus):
    front_end, loader = RmsFrontEnd(RATE, 160), AudioLoader(sample_rate=RATE)
    serial = preprocess(corpus, front_end, tmp_path / "one", loader=loader, num_workers=1, progress=False)
    parallel = preprocess(corpus, front_end, tmp_path / "two", loader=loader, num_workers=2, progress=False)
    assert serial.n_files == parallel.n_files == 4
    assert serial.seconds == pytest.approx(parallel.seconds) and serial.wall_time > 0 and parallel.wall_time > 0
    for utt in corpus:
        one = FeatureCache(tmp_path / "one", front_end, loader).load(utt)
        two = FeatureCache(tmp_path / "two", front_end, loader).load(utt)
        np.testing.assert_array_equal(one, two)


def test_preprocess_under_both_policies(tmp_path, corpus):
    missing = Utterance(tmp_path / "gone.wav", None, "spk0", "gone")
    with pytest.raises(DataError, match=f"^{tmp_path / 'gone.wav'}: file not found$"):
        preprocess([*corpus, missing], RmsFrontEnd(RATE, 160), tmp_path / "cache", num_workers=1, progress=False)
    result = preprocess([*corpus, missing], RmsFrontEnd(RATE, 160), tmp_path / "cache", on_error="skip",
                        num_workers=1, progress=False)
    assert result.n_files == 4 and result.seconds == pytest.approx(0.5)


def test_dataset_reads_segment_features_from_the_cache(tmp_path, corpus):
    front_end = RmsFrontEnd(RATE, 160)
    dataset = AudioDataset(corpus, AudioLoader(sample_rate=RATE), segment_length=800, features=front_end,
                           cache_dir=tmp_path / "cache", num_workers=1, progress=False)
    item = dataset[3]
    torch.testing.assert_close(item["features"], front_end(item["wave"]))
    # Overwrite the cached entry: the item now shows the cache's frames at its offset.
    path = dataset.cache.path(corpus[3])
    marked = np.arange(20, dtype=np.float32)[None]  # (1, N) with N = 3200 / 160
    np.save(path, marked)
    for epoch in range(3):
        dataset.set_epoch(epoch)
        item = dataset[3]
        start = int(item["features"][0, 0])  # the first frame of the segment
        torch.testing.assert_close(item["features"], torch.arange(start, start + 5, dtype=torch.float32)[None])
        full = dataset.loader.load(corpus[3].path)
        np.testing.assert_array_equal(item["wave"].numpy(), full[start * 160 : start * 160 + 800])
    whole = AudioDataset(corpus, AudioLoader(sample_rate=RATE), features=front_end,
                         cache_dir=tmp_path / "cache", num_workers=1, progress=False)
    torch.testing.assert_close(whole[3]["features"], torch.from_numpy(marked))
