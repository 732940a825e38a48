"""``speechgan generate``: WAV files and a spectrogram figure from trained WaveGAN and SpecGAN runs.

Three tiny runs (Donahue, McAuley & Puckette, ICLR 2019) are trained two steps each by
``speechgan train`` on ten spoken "digits" (tones) written in the Speech Commands layout: a
WaveGAN (d = 2, 1,024-sample slices, ``gan`` objective, WGAN-GP), a conditional WaveGAN
(``cgan``, ten classes named by the ``speech_commands`` dataset's default words) and a
SpecGAN (d = 2, ``specgan`` objective, Griffin-Lim). The clips written are the objective's
samples for the seed, at the generator's rate and length; the same seed writes the same
files; ``--label`` takes an index or a word; every refusal exits with status 2, the message
on stderr and nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
import soundfile as sf
import torch

from speechgan.cli import main
from speechgan.data.audio_io import read_audio
from speechgan.errors import DataError
from speechgan.inference import load_run
from speechgan.plugins import get_plugin_manager
from speechgan_plugins.audio.digits import DIGITS
from speechgan_plugins.wavegan.generate import class_names, generate_audio

from ..conftest import write_yaml
from .kit import RATE, write_digits

pytestmark = pytest.mark.usefixtures("one_thread")

SLICE = 1024  # WaveGAN's slice at d = 2: 4^5 x start 1
SPEC_CLIP = 16384  # SpecGAN's clip: 128 frames of 128 samples
PCM = 1 / 32768  # one step of 16-bit PCM


def run_config(corpus: Path, *, objective: dict, generator: dict, discriminator: dict, length: int) -> dict:
    """Two WGAN-GP steps of batch 4 on the digits' training split, clips cut or padded to ``length``."""
    return {
        "seed": 0,
        "objective": objective,
        "loss_weights": {"d/adv": 1.0, "d/gp": 10.0, "g/adv": 1.0},
        "generators": {"generator": generator},
        "discriminators": {"discriminator": discriminator},
        "data": {"train": {"name": "speech_commands", "args": {"root": str(corpus), "split": "train",
                                                                "length": length}},
                 "batch_size": 4},
        "optim": {"generator": {"name": "adam", "lr": 1e-4, "args": {"betas": [0.5, 0.9]}},
                  "discriminator": {"name": "adam", "lr": 1e-4, "args": {"betas": [0.5, 0.9]}}},
        "trainer": {"max_steps": 2, "log_every": 1, "checkpoint_every": None, "device": "cpu",
                    "ema": {"decay": 0.9}},
        "evaluation": {"metrics": []},
    }


def configs(corpus: Path) -> dict[str, dict]:
    wave = {"d": 2, "slice_len": SLICE, "latent_dim": 8}
    cond = {"num_classes": 10}
    return {
        "wavegan": run_config(corpus, objective={"name": "gan", "args": {"criterion": "wasserstein"}},
                              generator={"name": "wavegan", "args": wave},
                              discriminator={"name": "wavegan", "args": {"d": 2, "slice_len": SLICE}}, length=SLICE),
        "cwavegan": run_config(corpus, objective={"name": "cgan", "args": {"criterion": "wasserstein", **cond}},
                               generator={"name": "wavegan", "args": {**wave, **cond}},
                               discriminator={"name": "wavegan", "args": {"d": 2, "slice_len": SLICE, **cond,
                                                                          "conditioning": "projection"}},
                               length=SLICE),
        "specgan": run_config(corpus, objective={"name": "specgan", "args": {"stats_clips": 4,
                                                                             "griffin_lim_iters": 2}},
                              generator={"name": "specgan", "args": {"d": 2, "latent_dim": 8}},
                              discriminator={"name": "specgan", "args": {"d": 2}}, length=SPEC_CLIP),
    }


@pytest.fixture(scope="module")
def registry():
    return get_plugin_manager(strict=True).registry


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """``{"wavegan", "cwavegan", "specgan"}`` -> run directory, each trained two steps by ``speechgan train``."""
    root = tmp_path_factory.mktemp("generate")
    corpus = write_digits(root / "digits")
    for name, config in configs(corpus).items():
        assert main(["train", str(write_yaml(root / f"{name}.yaml", config)), "--out", str(root / name)]) == 0
    return {name: root / name for name in ("wavegan", "cwavegan", "specgan")}


def generate(*args: object) -> int:
    return main(["generate", *map(str, args)])


def int16(path: Path) -> np.ndarray:
    return sf.read(path, dtype="int16")[0]


def drawn(run_dir: Path, registry, seed: int, n: int, label: int | None = None) -> np.ndarray:
    """What the run's objective draws for ``seed``: (n, T) waveforms, by hand."""
    run = load_run(run_dir, registry=registry)
    torch.manual_seed(seed)
    with torch.inference_mode():
        if label is None:
            out = run.objective.sample(g=run.generators, n=n, device=run.device)
        else:
            labels = torch.full((n,), label, dtype=torch.long)
            out = run.objective.sample_conditional(g=run.generators, labels=labels, device=run.device)
    return out[:, 0].clamp(-1, 1).numpy()  # (n, 1, T) -> (n, T)


# -- writing clips ------------------------------------------------------------------------------------


def test_generate_writes_n_clips_of_the_slice_at_the_generators_rate_and_a_figure(runs, registry, tmp_path,
                                                                                    capsys):
    out = tmp_path / "out"
    assert generate(runs["wavegan"], "-n", 3, "--out", out, "--seed", 7) == 0
    assert sorted(p.name for p in out.iterdir()) == ["sample_000.wav", "sample_001.wav", "sample_002.wav",
                                                     "spectrograms.png"]
    expected = drawn(runs["wavegan"], registry, seed=7, n=3)  # (3, 1024)
    for k in range(3):
        info = sf.info(out / f"sample_{k:03d}.wav")
        assert (info.samplerate, info.frames, info.channels, info.subtype) == (RATE, SLICE, 1, "PCM_16")
        np.testing.assert_allclose(read_audio(out / f"sample_{k:03d}.wav")[0], expected[k], rtol=0, atol=PCM)
    assert np.abs(expected).max() > 1e-3  # not silence
    assert not np.allclose(expected[0], expected[1], atol=1e-3)  # each clip from its own latent
    image = matplotlib.image.imread(out / "spectrograms.png")  # three panels in one row of four
    assert image.ndim == 3 and image.shape[1] > image.shape[0] > 100
    checkpoint = runs["wavegan"] / "checkpoints" / "last.pt"
    assert capsys.readouterr().out == (f"3 clips at 16000 Hz written to {out} (spectrograms: "
                                       f"{out / 'spectrograms.png'}) with {checkpoint} (EMA: generator)\n")


def test_the_same_seed_writes_the_same_files_and_another_seed_others(runs, registry, tmp_path):
    run = load_run(runs["wavegan"], registry=registry)
    state = torch.random.get_rng_state()
    first, again, other = (generate_audio(run, 2, tmp_path / name, seed=seed)
                           for name, seed in [("first", 1), ("again", 1), ("other", 2)])
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's RNG is left as it was
    for a, b, c in zip(first.outputs, again.outputs, other.outputs):
        assert a.read_bytes() == b.read_bytes()
        assert not np.array_equal(int16(a), int16(c))
    assert (first.sample_rate, first.label, first.figure) == (RATE, None, tmp_path / "first" / "spectrograms.png")


def test_clips_are_drawn_a_batch_at_a_time(runs, registry, tmp_path):
    run = load_run(runs["wavegan"], registry=registry)
    report = generate_audio(run, 5, tmp_path, seed=4, batch_size=2)
    torch.manual_seed(4)
    with torch.inference_mode():  # three draws of latents: 2, 2 and 1
        expected = torch.cat([run.objective.sample(g=run.generators, n=k, device=run.device) for k in (2, 2, 1)])
    assert [p.name for p in report.outputs] == [f"sample_{k:03d}.wav" for k in range(5)]
    for path, wave in zip(report.outputs, expected[:, 0].numpy()):
        np.testing.assert_allclose(read_audio(path)[0], wave, rtol=0, atol=PCM)


def test_a_specgan_run_writes_waveforms_inverted_from_its_spectrograms(runs, registry, tmp_path, capsys):
    out = tmp_path / "out"
    assert generate(runs["specgan"], "-n", 2, "--out", out, "--seed", 3, "--no-ema") == 0
    live = load_run(runs["specgan"], registry=registry, ema=False)
    torch.manual_seed(3)
    with torch.inference_mode():
        expected = live.objective.sample(g=live.generators, n=2, device=live.device)[:, 0].numpy()  # (2, 16384)
    for k in range(2):
        info = sf.info(out / f"sample_{k:03d}.wav")
        assert (info.samplerate, info.frames, info.channels) == (RATE, SPEC_CLIP, 1)
        np.testing.assert_allclose(read_audio(out / f"sample_{k:03d}.wav")[0], expected[k], rtol=0, atol=PCM)
    assert np.abs(expected).max() > 1e-3
    assert (out / "spectrograms.png").is_file()
    # --no-ema: the message names the checkpoint without EMA
    assert capsys.readouterr().out.endswith(f" with {runs['specgan'] / 'checkpoints' / 'last.pt'}\n")


# -- labels of a conditional run ----------------------------------------------------------------------


def test_a_conditional_runs_classes_are_the_speech_commands_digits(runs, registry):
    run = load_run(runs["cwavegan"], registry=registry)
    assert "words" not in run.config.data.train.args  # the names come from the dataset's default
    assert class_names(run) == list(DIGITS)
    words = "abcdefghij"  # a `words` argument, given as an override, names the classes instead
    named = load_run(runs["cwavegan"], registry=registry, overrides=[f"data.train.args.words=[{','.join(words)}]"])
    assert class_names(named) == list(words)


def test_a_label_by_index_and_by_word_write_the_same_clips_of_that_class(runs, registry, tmp_path, capsys):
    by_index, by_word, other = tmp_path / "index", tmp_path / "word", tmp_path / "other"
    assert generate(runs["cwavegan"], "-n", 2, "--out", by_index, "--label", 3, "--seed", 5) == 0
    assert generate(runs["cwavegan"], "-n", 2, "--out", by_word, "--label", "three", "--seed", 5) == 0
    assert generate(runs["cwavegan"], "-n", 2, "--out", other, "--label", "four", "--seed", 5) == 0
    stdout = capsys.readouterr().out.splitlines()
    assert [line.split(" at ")[0] for line in stdout] == ["2 clips of class 3", "2 clips of class three",
                                                          "2 clips of class four"]
    assert sorted(p.name for p in by_word.glob("*.wav")) == ["three_000.wav", "three_001.wav"]
    expected = drawn(runs["cwavegan"], registry, seed=5, n=2, label=3)
    for k in range(2):
        name = f"three_{k:03d}.wav"
        assert np.array_equal(int16(by_index / name), int16(by_word / name))
        np.testing.assert_allclose(read_audio(by_word / name)[0], expected[k], rtol=0, atol=PCM)
        assert not np.array_equal(int16(by_word / name), int16(other / f"four_{k:03d}.wav"))  # same z, other class


def test_a_label_of_a_run_without_class_names_names_the_files_by_index(runs, registry, tmp_path):
    run = load_run(runs["cwavegan"], registry=registry)
    run.config.data.train.name = "no_such_dataset"  # its words are unknown
    assert class_names(run) is None
    report = generate_audio(run, 1, tmp_path, label="7", seed=0)
    assert ([p.name for p in report.outputs], report.label) == (["class7_000.wav"], 7)
    with pytest.raises(DataError, match=r"^--label 'seven': not a class of this run; give a class index$"):
        generate_audio(run, 1, tmp_path / "none", label="seven")


# -- refusals -----------------------------------------------------------------------------------------

DIGIT_LIST = ", ".join(DIGITS)


@pytest.mark.parametrize(("run", "options", "message"), [
    ("wavegan", ["--label", "3"], "--label 3: {run} is an unconditional run (objective 'gan'); leave --label out"),
    ("specgan", ["--label", "one"], "--label one: {run} is an unconditional run (objective 'specgan'); leave --label "
                                    "out"),
    ("cwavegan", ["--label", "eleven"], f"--label 'eleven': not a class of this run; its classes are {DIGIT_LIST}"),
    ("cwavegan", ["--label", "10"], "--label 10: this run's generator has classes 0 to 9"),
    ("cwavegan", ["--label", "-1"], "--label -1: this run's generator has classes 0 to 9"),
    ("wavegan", ["-n", "0"], "-n must be at least 1, got 0"),
], ids=["label-unconditional", "label-specgan", "unknown-word", "index-too-large", "negative-index", "n-zero"])
def test_options_that_make_no_clips_are_refused_and_nothing_is_written(runs, tmp_path, capsys, run, options,
                                                                       message):
    out = tmp_path / "out"
    assert generate(runs[run], "--out", out, *options) == 2
    assert capsys.readouterr().err.splitlines()[0] == "speechgan: error: " + message.format(run=runs[run])
    assert not out.exists()


def test_a_folder_that_is_not_a_run_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert generate(tmp_path, "--out", out) == 2
    assert capsys.readouterr().err.splitlines()[0] == (f"speechgan: error: {tmp_path} is not a run directory: it "
                                                       "has no config.yaml")
    assert not out.exists()


def test_a_negative_seed_is_a_usage_error(runs, tmp_path, capsys):
    assert generate(runs["wavegan"], "--out", tmp_path / "out", "--seed", -1) == 2
    assert re.search(r"Invalid value for '--seed': -1 is not in the range x>=0", capsys.readouterr().err)
