"""Speaker similarity (speechgan.metrics.speaker): cosine similarity, centroids, GE2E embeddings.

``cosine_similarity`` and ``centroid`` against closed forms on hand-made vectors; then the
resemblyzer GE2E ``speaker_embedding`` on a tiny eSpeak corpus (three prompts read by the
voices f3 and m1): shape, norm, determinism, the input types and rates it accepts, that
two readings by one voice are closer than readings by two voices, and the error for an
utterance too short to hold a speaker. The encoder is loaded once, by one module fixture.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch

from speechgan.errors import DataError
from speechgan.metrics.speaker import EMBEDDING_SIZE, centroid, cosine_similarity, speaker_embedding

pytestmark = pytest.mark.usefixtures("one_thread")

VOICES = ("f3", "m1")
PROMPTS = 3


# -- cosine_similarity -------------------------------------------------------------------------


def test_orthogonal_vectors_have_similarity_zero():
    assert cosine_similarity(np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.5, 0.0])) == 0.0
    assert cosine_similarity(np.array([1.0, 1.0]), np.array([1.0, -1.0])) == pytest.approx(0.0, abs=1e-15)


def test_parallel_vectors_have_similarity_one_whatever_their_lengths():
    x = np.array([0.3, -1.2, 2.0, 0.5])
    assert cosine_similarity(x, 7.0 * x) == pytest.approx(1.0, rel=1e-15)
    assert cosine_similarity(x, -0.1 * x) == pytest.approx(-1.0, rel=1e-15)


def test_similarity_is_the_cosine_of_the_angle_between_the_vectors():
    for degrees in (30.0, 45.0, 120.0):
        angle = math.radians(degrees)
        x, y = np.array([2.0, 0.0]), np.array([math.cos(angle), math.sin(angle)])  # (2,) each
        assert cosine_similarity(x, y) == pytest.approx(math.cos(angle), rel=1e-12)
    # lists and float32 arrays are read as float64 vectors, and the result is a Python float
    value = cosine_similarity([1, 2, 2], np.array([2.0, 1.0, 2.0], dtype=np.float32))
    assert type(value) is float and value == pytest.approx(8 / 9, rel=1e-12)  # 8 / (3 * 3)


def test_similarity_never_leaves_minus_one_to_one_through_rounding():
    vectors = np.random.default_rng(0).standard_normal((200, EMBEDDING_SIZE))  # (200, 256)
    # unclipped, about a quarter of these come out at 1 + 2e-16 against themselves
    assert all(cosine_similarity(v, v) <= 1.0 and cosine_similarity(v, -v) >= -1.0 for v in vectors)
    assert [cosine_similarity(v, v) for v in vectors] == pytest.approx([1.0] * 200, abs=1e-15)


@pytest.mark.parametrize(("x", "y", "shapes"), [
    (np.ones(3), np.ones(4), "(3,) and (4,)"),
    (np.ones((2, 3)), np.ones((2, 3)), "(2, 3) and (2, 3)"),
])
def test_similarity_of_anything_but_two_vectors_of_one_length_is_refused(x, y, shapes):
    message = f"cosine_similarity: expected two vectors of one length, got shapes {shapes}"
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        cosine_similarity(x, y)


# -- centroid ----------------------------------------------------------------------------------


def test_centroid_of_two_unit_vectors_is_their_normalised_sum():
    u = np.array([1.0, 0.0, 0.0])
    v = np.array([0.0, 0.6, 0.8])
    expected = (u + v) / np.linalg.norm(u + v)  # = (1, 0.6, 0.8) / sqrt(2)
    got = centroid([u, v])
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-15)
    assert got.dtype == np.float64 and np.linalg.norm(got) == pytest.approx(1.0, rel=1e-15)
    # it bisects the angle: equally similar to both
    assert cosine_similarity(got, u) == pytest.approx(cosine_similarity(got, v), rel=1e-12)


def test_centroid_of_one_embedding_is_that_embedding_at_unit_length():
    np.testing.assert_allclose(centroid(iter([np.array([3.0, 4.0])])), [0.6, 0.8], rtol=1e-15)


def test_centroid_of_no_embedding_is_a_data_error():
    with pytest.raises(DataError, match=r"^centroid: expected one or more embeddings \(K, D\), got none$"):
        centroid([])


# -- speaker_embedding on eSpeak speech --------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, list[np.ndarray]]:
    """``{voice: [wave (T,) float64 at 22050 Hz, one per prompt]}`` for f3 and m1, 3 prompts each."""
    from speechgan_plugins.audio.corpus_synth import synthesize_corpus

    root = tmp_path_factory.mktemp("speakers")
    synthesize_corpus(root, [f"en-us+{v}" for v in VOICES], sentences=PROMPTS, progress=False, overwrite=True)
    waves: dict[str, list[np.ndarray]] = {}
    for voice in VOICES:
        for path in sorted(Path(root, f"cmu_us_{voice}_arctic", "wav").glob("*.wav")):
            wave, rate = sf.read(path, dtype="float64")
            assert rate == 22050
            waves.setdefault(voice, []).append(wave)
    assert {v: len(w) for v, w in waves.items()} == {v: PROMPTS for v in VOICES}
    return waves


@pytest.fixture(scope="module")
def embeddings(corpus) -> dict[str, list[np.ndarray]]:
    """Each utterance's embedding (256,): the only place the (slow to load) encoder starts."""
    return {voice: [speaker_embedding(w, 22050) for w in waves] for voice, waves in corpus.items()}


def test_an_embedding_is_a_unit_float64_vector_of_256(embeddings):
    for vectors in embeddings.values():
        for e in vectors:
            assert e.shape == (EMBEDDING_SIZE,) == (256,) and e.dtype == np.float64
            assert np.linalg.norm(e) == pytest.approx(1.0, abs=1e-6)  # the encoder normalises in float32
            assert np.isfinite(e).all()


def test_an_utterance_is_perfectly_similar_to_itself(corpus, embeddings):
    wave, first = corpus["f3"][0], embeddings["f3"][0]
    again = speaker_embedding(wave, 22050)  # a second, independent pass
    np.testing.assert_array_equal(again, first)
    assert cosine_similarity(again, first) == pytest.approx(1.0, abs=1e-6)
    # a float32 torch tensor of the same samples is the same utterance
    tensor = speaker_embedding(torch.from_numpy(wave.astype(np.float32)), 22050)
    assert cosine_similarity(tensor, first) == pytest.approx(1.0, abs=1e-6)


def test_the_same_utterance_at_another_rate_embeds_alike(corpus, embeddings):
    """The encoder resamples to 16 kHz itself: a 16 kHz copy is the same speech."""
    at_16k = soxr.resample(corpus["m1"][1], 22050, 16000)  # (T * 16000 / 22050,)
    assert cosine_similarity(speaker_embedding(at_16k, 16000), embeddings["m1"][1]) > 0.99


def test_one_voices_utterances_are_more_similar_than_two_voices(embeddings):
    f3, m1 = embeddings["f3"], embeddings["m1"]
    within = [cosine_similarity(x[i], x[j]) for x in (f3, m1) for i in range(PROMPTS) for j in range(i + 1, PROMPTS)]
    across = [cosine_similarity(x, y) for x in f3 for y in m1]
    # different prompts, same eSpeak voice vs the same prompts, female vs male voice
    assert min(within) > max(across)
    assert min(within) > 0.7 and max(across) < 0.8


def test_each_utterance_is_closer_to_its_own_voices_centroid(embeddings):
    """What the voice-conversion metric's closer_to_target measures, on real recordings."""
    centroids = {voice: centroid(vectors) for voice, vectors in embeddings.items()}
    for voice, other in (("f3", "m1"), ("m1", "f3")):
        for e in embeddings[voice]:
            assert cosine_similarity(e, centroids[voice]) > cosine_similarity(e, centroids[other])


@pytest.mark.parametrize("seconds", [0.1, 0.0])
def test_too_little_speech_is_a_data_error_that_says_how_much_is_needed(corpus, embeddings, seconds):
    """0.1 s from the middle of a sentence, and 1 s of silence: no speaker to embed."""
    wave = corpus["f3"][0]
    clip = wave[22050 : 22050 + 2205] if seconds else np.zeros(22050)  # (2205,) or (22050,)
    with pytest.raises(DataError) as error:
        speaker_embedding(clip, 22050)
    found = re.fullmatch(r"speaker embedding: (\d\.\d\d) s of speech after trimming silences, need at least 0\.3 s",
                         str(error.value))
    assert found, str(error.value)
    assert float(found.group(1)) <= 0.1  # never more speech than went in
