"""unpaired_speakers with ``prompts: disjoint``: A and B train on disjoint prompts, parallel prompts held out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import soundfile as sf

import speechgan_plugins.audio.datasets as plugin
from speechgan.config import check_component_args
from speechgan.data import AudioLoader, UnpairedDataset, Utterance, cmu_arctic, split_utterances
from speechgan.errors import ConfigError
from speechgan.schema import ComponentSpec
from speechgan_plugins.audio.corpus_synth import DEFAULT_SPEAKERS, synthesize_corpus
from speechgan_plugins.audio.datasets import PromptSplit, UnpairedSpeakers, prompt_of, split_prompts

RATE = 22050  # the demo corpus's rate: no resampling, so a whole utterance keeps its file's length
PROMPTS = [f"arctic_a{i:04d}" for i in range(1, 13)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus's four voices (alicia, f3, m1, m3) each reading the first 12 prompts (about 1 s)."""
    root = tmp_path_factory.mktemp("arctic")
    synthesize_corpus(root, DEFAULT_SPEAKERS, sentences=len(PROMPTS), progress=False, overwrite=True)
    return root


def _build(corpus: Path, **args) -> UnpairedSpeakers:
    """f3 against m1, disjoint prompts, 3 held out, the training split, unless ``args`` say otherwise."""
    defaults = {"layout": "cmu_arctic", "root": str(corpus), "speakers_a": ["f3"], "speakers_b": ["m1"],
                "sample_rate": RATE, "prompts": "disjoint", "split": "train"}
    if args.get("prompts", "disjoint") == "disjoint":
        defaults["parallel_size"] = 3
    return UnpairedSpeakers(**{**defaults, **args})


def _prompts(utterances: list[Utterance]) -> set[str]:
    return {prompt_of(u) for u in utterances}


# -- the split -----------------------------------------------------------------------------


def test_training_sets_share_no_prompt_and_hold_no_parallel_one(corpus):
    train, valid = _build(corpus), _build(corpus, split="valid")
    of_a, of_b = _prompts(train.a.utterances), _prompts(train.b.utterances)
    held_out = _prompts(valid.a.utterances) | _prompts(valid.b.utterances)
    assert of_a & of_b == set()
    assert of_a & held_out == set() and of_b & held_out == set()
    assert len(held_out) == 3 and of_a | of_b | held_out == set(PROMPTS)  # every shared prompt is used
    assert (len(of_a), len(of_b)) == (5, 4)  # 9 left: the first half, the larger, to A
    assert max(of_a) < min(of_b)  # A the first half of the sorted prompts, B the second
    assert {u.speaker for u in train.a.utterances} == {"f3"} and {u.speaker for u in train.b.utterances} == {"m1"}
    assert train.prompt_split == valid.prompt_split == PromptSplit(
        tuple(sorted(of_a)), tuple(sorted(of_b)), tuple(sorted(held_out))
    )


def test_the_parallel_split_pairs_one_prompt_read_by_both_sides_whole_and_in_order(corpus):
    train, valid = _build(corpus, segment_length=4096), _build(corpus, split="valid")
    held_out = valid.prompt_split.parallel
    assert len(valid) == 3
    items = [valid[i] for i in range(len(valid))]
    assert [(a["id"], b["id"]) for a, b in ((x["a"], x["b"]) for x in items)] == [
        (f"f3_{p}", f"m1_{p}") for p in held_out
    ]
    labels = train.a.speaker_to_index  # train and valid agree on the labels
    assert valid.a.speaker_to_index == labels == {"f3": 0, "m1": 1}
    for item, prompt in zip(items, held_out):
        assert (item["a"]["speaker"], item["b"]["speaker"]) == (labels["f3"], labels["m1"])
        for side, speaker in (("a", "f3"), ("b", "m1")):  # whole utterances, not crops
            path = corpus / f"cmu_us_{speaker}_arctic" / "wav" / f"{prompt}.wav"
            assert item[side]["wave"].shape == (sf.info(str(path)).frames,)
    batch = valid.collate(items[:2])
    assert set(batch) == {"a", "b"} and batch["a"]["id"] == [items[0]["a"]["id"], items[1]["a"]["id"]]
    assert batch["a"]["wave"].shape[0] == 2 and "lengths" in batch["b"]
    again = _build(corpus, split="test")  # test names the same evaluation set
    assert [(x["a"]["id"], x["b"]["id"]) for x in (again[i] for i in range(len(again)))] == [
        (x["a"]["id"], x["b"]["id"]) for x in items
    ]


def test_several_speakers_a_side_pair_every_a_reading_with_every_b_reading(corpus):
    sides = {"speakers_a": ["alicia", "f3"], "speakers_b": ["m1", "m3"]}
    train, valid = _build(corpus, **sides), _build(corpus, split="valid", **sides)
    assert {u.speaker for u in train.a.utterances} == {"alicia", "f3"}
    assert len(train.a) == 2 * len(train.prompt_split.train_a)  # every A speaker reads every A prompt
    expected = [(f"{sa}_{p}", f"{sb}_{p}") for p in valid.prompt_split.parallel
                for sa in ("alicia", "f3") for sb in ("m1", "m3")]
    assert [(valid[i]["a"]["id"], valid[i]["b"]["id"]) for i in range(len(valid))] == expected


def test_the_split_is_stable_and_follows_split_seed(corpus):
    first, second = _build(corpus), _build(corpus)
    assert first.prompt_split == second.prompt_split
    assert [u.id for u in first.a.utterances] == [u.id for u in second.a.utterances]
    other = _build(corpus, split_seed=1)
    assert other.prompt_split.parallel != first.prompt_split.parallel
    assert set(other.prompt_split.train_a).isdisjoint(other.prompt_split.train_b)


def _utt(speaker: str, prompt: str) -> Utterance:
    return Utterance(Path(f"{speaker}/{prompt}.wav"), None, speaker, f"{speaker}_{prompt}")


def test_held_out_prompts_are_read_by_every_speaker_and_one_sided_prompts_stay_on_their_side():
    # VCC2018-style ids; "10005" is read by s1 only, "10006" by t1 only, "10004" misses s2
    a = [_utt("s1", p) for p in ("10001", "10002", "10003", "10004", "10005")]
    a += [_utt("s2", p) for p in ("10001", "10002", "10003")]
    b = [_utt("t1", p) for p in ("10001", "10002", "10003", "10004", "10006")]
    for seed in range(4):
        split = split_prompts(a, b, parallel_size=1, seed=seed)
        (held,) = split.parallel
        assert held in {"10001", "10002", "10003"}  # not 10004: s2 never read it
        assert "10005" in split.train_a and "10006" in split.train_b
        assert set(split.train_a).isdisjoint(split.train_b)
        assert {*split.train_a, *split.train_b, held} == {"10001", "10002", "10003", "10004", "10005", "10006"}


# -- prompts: all ---------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "valid", "all"])
def test_prompts_all_is_the_split_by_utterance_as_before(corpus, split):
    dataset = _build(corpus, prompts="all", split=split, valid_size=4, test_size=2, split_seed=3)
    listed = [u for u in cmu_arctic(corpus, require_text=False) if u.speaker in {"f3", "m1"}]
    chosen = split_utterances(listed, split, valid_size=4, test_size=2, seed=3)
    assert [u.id for u in dataset.a.utterances] == [u.id for u in chosen if u.speaker == "f3"]
    assert [u.id for u in dataset.b.utterances] == [u.id for u in chosen if u.speaker == "m1"]
    assert dataset.prompt_split is None and dataset.pairs is None


# -- the summary ----------------------------------------------------------------------------


def test_the_summary_says_what_each_side_holds_and_is_logged(corpus, caplog):
    with caplog.at_level(logging.INFO, logger="speechgan_plugins.audio.datasets"):
        train = _build(corpus)
    assert train.prompt_split.parallel == ("arctic_a0002", "arctic_a0007", "arctic_a0009")  # split_seed 0
    assert train.summary == (
        "unpaired_speakers (disjoint prompts, split train): A = [f3] 5 utterances of 5 prompts (arctic_a0001 to "
        "arctic_a0006), B = [m1] 4 utterances of 4 prompts (arctic_a0008 to arctic_a0012), no prompt in both; "
        "3 parallel prompts held out for evaluation"
    )
    assert train.summary in caplog.text
    assert _build(corpus, split="valid").summary == (
        "unpaired_speakers (disjoint prompts, split valid): 3 parallel pairs, A = [f3] and B = [m1] reading the "
        "same 3 held-out prompts (arctic_a0002 to arctic_a0009), in neither training set (A 5 prompts, B 4 prompts)"
    )
    assert _build(corpus, prompts="all", split="all").summary == (
        "unpaired_speakers (all prompts, split all): A = [f3] 12 utterances, B = [m1] 12 utterances; "
        "the two sides may read the same prompts"
    )


# -- configs and errors -----------------------------------------------------------------------


def test_config_args_are_validated_against_the_signature():
    spec = ComponentSpec(name="unpaired_speakers", args={
        "layout": "cmu_arctic", "root": "/data", "speakers_a": ["f3"], "speakers_b": ["m1"],
        "prompts": "disjoint", "parallel_size": "20"})
    values, errors = check_component_args("data.valid", "dataset", spec, UnpairedSpeakers, injectable={"features"})
    assert errors == [] and values["prompts"] == "disjoint" and values["parallel_size"] == 20
    spec.args["prompts"] = "halves"
    _, errors = check_component_args("data.valid", "dataset", spec, UnpairedSpeakers, injectable={"features"})
    assert errors and errors[0].startswith("data.valid.args.prompts:")


@pytest.mark.parametrize(("args", "message"), [
    ({"parallel_size": 13},
     "parallel_size: 13 prompts to hold out, but only 12 are read by every speaker of speakers_a and speakers_b"),
    ({"parallel_size": 9},
     "prompts: disjoint leaves 2 training prompt(s) to speakers_a and 1 to speakers_b after holding out 9; "
     "each side needs at least 2: lower parallel_size or use more prompts"),
    ({"prompts": "all", "parallel_size": 3},
     "parallel_size: only applies with prompts: disjoint (prompts is 'all')"),
    ({"parallel_size": None},
     "parallel_size: prompts: disjoint needs the number of parallel prompts to hold out for evaluation "
     "(0 or more), got None"),
    ({"parallel_size": -1},
     "parallel_size: prompts: disjoint needs the number of parallel prompts to hold out for evaluation "
     "(0 or more), got -1"),
    ({"layout": "vctk"},
     "prompts: disjoint needs ids that name the prompt read, the same for every speaker (cmu_arctic and "
     "vcc2018); the vctk layout has none"),
    ({"layout": "audio_folder"},
     "prompts: disjoint needs ids that name the prompt read, the same for every speaker (cmu_arctic and "
     "vcc2018); the audio_folder layout has none"),
    ({"split": "all"},
     "split: prompts: disjoint has a train split (unpaired, disjoint prompts) and an evaluation split "
     "(valid or test: the held-out parallel prompts); 'all' would mix them"),
    ({"split": "valid", "parallel_size": 0},
     "parallel_size: 0 prompts are held out, so split: valid has no parallel pair"),
    ({"split": "valid", "segment_length": 4096},
     "segment_length: paired items are whole utterances; set segment_length to null (got 4096)"),
    ({"prompts": "halves"}, "prompts: must be 'all' or 'disjoint', got 'halves'"),
])
def test_each_error_names_its_argument(corpus, args, message):
    with pytest.raises(ConfigError) as exc:
        _build(corpus, **args)
    assert str(exc.value) == message


def test_two_training_prompts_per_side_is_enough(corpus):
    train = _build(corpus, parallel_size=8)  # 4 left: 2 and 2
    assert (len(train.prompt_split.train_a), len(train.prompt_split.train_b)) == (2, 2)


# -- the paired mode of UnpairedDataset ---------------------------------------------------------


def _tone(path: Path, n: int, speaker: str) -> Utterance:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, [0.1] * n, 16000)
    return Utterance(path, None, speaker, f"{speaker}_{path.stem}")


def test_a_pair_with_a_skipped_file_is_dropped_and_a_lost_one_replaced_by_the_next_pair(tmp_path):
    a = [_tone(tmp_path / f"src/{i}.wav", 100 + i, "src") for i in range(3)]
    b = [_tone(tmp_path / f"tgt/{i}.wav", 200 + i, "tgt") for i in range(3)]
    b.append(Utterance(tmp_path / "tgt/gone.wav", None, "tgt", "tgt_gone"))
    pairs = [(a[0].id, b[0].id), (a[1].id, "tgt_gone"), (a[1].id, b[1].id), (a[2].id, b[2].id)]
    dataset = UnpairedDataset(a, b, AudioLoader(sample_rate=16000), pairs=pairs, on_error="skip")
    assert len(dataset) == 3
    assert [(dataset[i]["a"]["id"], dataset[i]["b"]["id"]) for i in range(3)] == [
        ("src_0", "tgt_0"), ("src_1", "tgt_1"), ("src_2", "tgt_2")]
    (tmp_path / "tgt/1.wav").unlink()  # lost after the scan: the whole next pair takes its place
    assert (dataset[1]["a"]["id"], dataset[1]["b"]["id"]) == ("src_2", "tgt_2")
