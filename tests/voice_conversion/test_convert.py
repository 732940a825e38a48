"""``speechgan convert``: voice conversion of audio files and folders with a trained run.

A tiny CycleGAN-VC2 run of the CPU recipe (WORLD at 22.05 kHz, f3 -> m1, channels 8, two
steps) converts files and folders of any length; the options that pick the direction agree;
every refusal (speakers, inputs, a vocoder for a WORLD run) exits with the message on stderr
and writes nothing. A tiny mel-spectrogram CycleGAN run needs a vocoder run of the same
log-mel front-end: none, or one of another front-end, is refused before any work; the
matching one writes audio of the input's length.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from speechgan.cli import main
from speechgan.data.audio_io import AudioLoader, read_audio, resample
from speechgan.features import LogMelSpectrogram
from speechgan.inference import load_run
from speechgan.nn import remove_parametrizations
from speechgan_plugins.voice_conversion.evaluation import peak_limited

from ..conftest import write_yaml

pytestmark = pytest.mark.usefixtures("one_thread")

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "vc" / "cpu" / "cyclegan_vc2.yaml"
RATE = 22050  # the recipe's WORLD rate, and the eSpeak corpus's
#: eSpeak at 350 words a minute: half the default's length, so half the WORLD analysis time
VOICES = ["en-us+f3:rate=350", "en-us+m1:rate=350"]
TINY = [f"{section}.{role}.args.channels=8" for section, roles in
        [("generators", ["a2b", "b2a"]), ("discriminators", ["a", "b", "a2", "b2"])] for role in roles]

# a log-mel front-end with small frames: 64-sample hop, 20 bands (the 2-1-2D generator pads
# any n_features to a multiple of 4 inside, so 20 is as good as the paper's 80)
MEL = {"sample_rate": RATE, "n_fft": 256, "hop_length": 64, "win_length": 256, "n_mels": 20, "fmin": 0.0,
       "fmax": None}
OTHER_MEL = {**MEL, "hop_length": 32}  # a vocoder trained on twice the frame rate

A_SAMPLES = int(1.013 * RATE)  # 22336: 203.05 WORLD frames of 110 samples, 349 mel hops of 64
B_SAMPLES_32K = 22222  # a 32 kHz file: round(22222 * 22050 / 32000) = 15312 samples at the run's rate
B_SAMPLES = 15312


def synthesize(root: Path, sentences: int = 6) -> Path:
    """The eSpeak CMU ARCTIC-style corpus of f3 and m1 under ``root``."""
    from speechgan_plugins.audio.corpus_synth import synthesize_corpus

    synthesize_corpus(root, VOICES, sentences=sentences, progress=False, overwrite=True)
    return root


def train_cpu_recipe(corpus: Path, run: Path, cache: Path) -> Path:
    """The CPU CycleGAN-VC2 recipe on ``corpus``, 2 steps at 8 channels: A = f3, B = m1, 2 parallel pairs."""
    overrides = [f"data.train.args.root={corpus}", f"data.valid.args.root={corpus}",
                 "data.train.args.parallel_size=2", "data.valid.args.parallel_size=2",  # 2 prompts a side to train
                 f"data.train.args.cache_dir={cache}", f"data.valid.args.cache_dir={cache}",
                 "evaluation.metrics=[]", "trainer.checkpoint_every=null", "trainer.max_steps=2", *TINY]
    assert main(["train", str(RECIPE), "--out", str(run), *overrides]) == 0
    return run


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return synthesize(tmp_path_factory.mktemp("vc_corpus"))


@pytest.fixture(scope="module")
def world_run(corpus, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    return train_cpu_recipe(corpus, root / "run", root / "cache")


def vocoder_config(corpus: Path, mel: dict, upsample_rates: list[int]) -> dict:
    """A HiFi-GAN of 16 -> 8 -> 4 channels on f3's recordings, upsampling by ``prod(upsample_rates)`` = the hop."""
    assert int(np.prod(upsample_rates)) == mel["hop_length"]
    generator = {"name": "hifigan", "args": {
        "in_channels": mel["n_mels"], "upsample_initial_channel": 16, "upsample_rates": upsample_rates,
        "upsample_kernel_sizes": [2 * r for r in upsample_rates], "resblock": 2, "resblock_kernel_sizes": [3],
        "resblock_dilation_sizes": [[1, 3]]}}
    return {
        "seed": 0,
        "objective": {"name": "vocoder"},
        "generators": {"generator": generator},
        "discriminators": {"msd": {"name": "hifigan_msd", "args": {"num_scales": 1}}},
        "features": {"name": "log_mel", "args": mel},
        "data": {"train": {"name": "cmu_arctic", "args": {"root": str(corpus), "speakers": ["f3"], "split": "all",
                                                          "segment_length": 2048}},
                 "batch_size": 1, "num_workers": 0},
        "optim": {"generator": {"name": "adam", "lr": 2e-4}, "discriminator": {"name": "adam", "lr": 2e-4}},
        "trainer": {"max_steps": 2, "log_every": 1, "checkpoint_every": None},
        "evaluation": {"metrics": []},
    }


def mel_cyclegan_config(corpus: Path) -> dict:
    """A plain CycleGAN (no speaker_norm: that needs WORLD) on log-mels, f3 <-> m1, 2-1-2D generators of 8 channels."""
    generator = {"name": "cyclegan_vc2", "args": {"n_features": MEL["n_mels"], "channels": 8, "n_residual_blocks": 1}}
    discriminator = {"name": "cyclegan_vc2_d", "args": {"n_features": MEL["n_mels"], "channels": 8}}
    return {
        "seed": 0,
        "objective": {"name": "cyclegan", "args": {"criterion": "least_squares"}},
        "generators": {"a2b": generator, "b2a": generator},
        "discriminators": {"a": discriminator, "b": discriminator},
        "features": {"name": "log_mel", "args": MEL},
        "data": {"train": {"name": "unpaired_speakers", "args": {
            "layout": "cmu_arctic", "root": str(corpus), "speakers_a": ["f3"], "speakers_b": ["m1"],
            "prompts": "disjoint", "parallel_size": 2, "split": "train", "segment_length": 32 * MEL["hop_length"]}},
            "batch_size": 1, "num_workers": 0},
        "optim": {"generator": {"name": "adam", "lr": 2e-4}, "discriminator": {"name": "adam", "lr": 1e-4}},
        "trainer": {"max_steps": 2, "log_every": 1, "checkpoint_every": None},
        "evaluation": {"metrics": []},
    }


@pytest.fixture(scope="module")
def mel_runs(corpus, tmp_path_factory) -> dict[str, Path]:
    """``{"cyclegan": mel conversion run, "vocoder": HiFi-GAN on MEL, "other": HiFi-GAN on OTHER_MEL}``."""
    root = tmp_path_factory.mktemp("mel")
    configs = {"cyclegan": mel_cyclegan_config(corpus), "vocoder": vocoder_config(corpus, MEL, [8, 8]),
               "other": vocoder_config(corpus, OTHER_MEL, [4, 8])}
    for name, config in configs.items():
        assert main(["train", str(write_yaml(root / f"{name}.yaml", config)), "--out", str(root / name)]) == 0
    return {name: root / name for name in configs}


@pytest.fixture
def inputs(corpus, tmp_path) -> Path:
    """``in/a.wav``: f3 speech, 1.013 s at 22.05 kHz; ``in/more/b.wav``: f3 speech, 22222 samples at 32 kHz."""
    (tmp_path / "in" / "more").mkdir(parents=True)
    speech = AudioLoader().load(corpus / "cmu_us_f3_arctic" / "wav" / "arctic_a0002.wav")  # (T,) at 22050
    assert len(speech) > A_SAMPLES
    sf.write(tmp_path / "in" / "a.wav", speech[:A_SAMPLES], RATE)
    other = AudioLoader().load(corpus / "cmu_us_f3_arctic" / "wav" / "arctic_a0003.wav")
    sf.write(tmp_path / "in" / "more" / "b.wav", resample(other, RATE, 32000)[:B_SAMPLES_32K], 32000)
    return tmp_path / "in"


def convert(*args: object) -> int:
    return main(["convert", *map(str, args)])


def first_error_line(capsys) -> str:
    return capsys.readouterr().err.splitlines()[0]


def by_hand(run_dir: Path, path: Path, *, source: str, target: str) -> np.ndarray:
    """What a WORLD run should write for ``path`` (T,): its features converted, WORLD synthesis, peak limit."""
    run = load_run(run_dir)
    wave, rate = read_audio(path)  # a 22.05 kHz input: no resampling
    assert rate == RATE
    with torch.inference_mode():
        features = run.features(torch.from_numpy(wave))  # (C, N) = (39, ceil(T / 110))
        converted = run.objective.convert(features, g=run.generators, source=source, target=target)
        return peak_limited(run.features.inverse(converted.double(), len(wave)).numpy())


# -- a WORLD run ------------------------------------------------------------------------------------


def test_convert_writes_a_file_and_a_folder_at_the_runs_rate_and_length(world_run, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert convert(world_run, inputs / "a.wav", inputs, "--out", out, "--direction", "a2b") == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == ["a.wav", "in", "in/a.wav", "in/more", "in/more/b.wav"]  # the folder mirrored under its name
    for name, samples in [("a.wav", A_SAMPLES), ("in/a.wav", A_SAMPLES), ("in/more/b.wav", B_SAMPLES)]:
        info = sf.info(out / name)
        assert (info.samplerate, info.frames, info.channels) == (RATE, samples, 1)
    # the samples are the conversion of the input's WORLD features, written as 16-bit PCM
    expected = by_hand(world_run, inputs / "a.wav", source="f3", target="m1")
    np.testing.assert_allclose(read_audio(out / "a.wav")[0], expected, rtol=0, atol=1 / 32768)
    assert np.abs(expected).max() > 1e-2  # not silence
    assert np.array_equal(sf.read(out / "a.wav", dtype="int16")[0], sf.read(out / "in" / "a.wav", dtype="int16")[0])

    seconds = (2 * A_SAMPLES + B_SAMPLES) / RATE  # 2.72 s
    checkpoint = world_run / "checkpoints" / "last.pt"
    assert re.fullmatch(rf"3 files converted from f3 to m1, written to {re.escape(str(out))}: {seconds:.2f} s of "
                        rf"audio in \d+\.\d\d s with {re.escape(str(checkpoint))}.*\n", capsys.readouterr().out)


def test_direction_a2b_and_target_m1_write_the_same_audio(world_run, inputs, tmp_path, capsys):
    assert convert(world_run, inputs / "a.wav", "--out", tmp_path / "direction", "--direction", "a2b") == 0
    assert convert(world_run, inputs / "a.wav", "--out", tmp_path / "target", "--target", "m1") == 0
    stdout = capsys.readouterr().out.splitlines()
    assert [line.startswith("1 files converted from f3 to m1, ") for line in stdout] == [True, True]
    by_direction, by_target = (sf.read(tmp_path / d / "a.wav", dtype="int16")[0] for d in ("direction", "target"))
    assert by_direction.shape == (A_SAMPLES,) and np.array_equal(by_direction, by_target)


def test_b2a_converts_m1_into_f3_with_the_other_generator(world_run, corpus, tmp_path, capsys):
    source = tmp_path / "m1.wav"
    speech = AudioLoader().load(corpus / "cmu_us_m1_arctic" / "wav" / "arctic_a0001.wav")  # (T,) at 22050
    sf.write(source, speech[: RATE // 2], RATE)  # 0.5 s
    assert convert(world_run, source, "--out", tmp_path / "out", "--direction", "b2a") == 0
    assert capsys.readouterr().out.startswith("1 files converted from m1 to f3, ")
    written = read_audio(tmp_path / "out" / "m1.wav")[0]
    np.testing.assert_allclose(written, by_hand(world_run, source, source="m1", target="f3"), rtol=0, atol=1 / 32768)
    # a2b would have used the other generator and the other speaker statistics
    assert not np.allclose(written, by_hand(world_run, source, source="f3", target="m1"), atol=1e-2)


SIDES = "this run converts between A = f3, B = m1"


@pytest.mark.parametrize(("options", "message"), [
    (["--target", "m3"], "unknown speaker 'm3' for --target; this run converts between f3, m1"),
    (["--target", "m1", "--source", "m1"], f"'m1' and 'm1' are on the same side; {SIDES}"),
    (["--direction", "a2b", "--source", "m1"], f"'m1' and 'm1' are on the same side; {SIDES}"),
    (["--direction", "b2a", "--source", "alice"], f"unknown speaker 'alice'; {SIDES}"),
    ([], "say whom to convert into: --direction a2b|b2a, or --target SPEAKER"),
], ids=["unknown-target", "source-beside-target", "source-on-the-target-side", "unknown-source", "no-direction"])
def test_speakers_that_do_not_make_a_conversion_are_refused(world_run, inputs, tmp_path, capsys, options, message):
    out = tmp_path / "out"
    assert convert(world_run, inputs, "--out", out, *options) == 2
    assert first_error_line(capsys) == f"speechgan: error: {message}"
    assert not out.exists()


def test_an_unreadable_input_among_good_ones_is_named_and_nothing_is_written(world_run, inputs, tmp_path, capsys):
    broken = inputs / "more" / "broken.wav"
    broken.write_bytes(b"RIFF, but not really a wave file")
    out = tmp_path / "out"
    # a.wav sorts before more/, so it would be converted first if inputs were not all checked up front
    assert convert(world_run, inputs / "a.wav", inputs, "--out", out, "--direction", "a2b") == 2
    line = first_error_line(capsys)
    assert line.startswith(f"speechgan: error: {broken}: not a readable audio file ("), line
    assert not out.exists()


def test_a_missing_input_is_named_and_nothing_is_written(world_run, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    missing = tmp_path / "nowhere.wav"
    assert convert(world_run, inputs / "a.wav", missing, "--out", out, "--target", "m1") == 2
    assert first_error_line(capsys) == f"speechgan: error: {missing}: no such file or folder"
    assert not out.exists()


def test_an_input_below_the_runs_rate_is_refused_and_nothing_is_written(world_run, inputs, tmp_path, capsys):
    """Upsampling cannot make the band a 22.05 kHz model expects: a 16 kHz file is an error, not a guess."""
    low = inputs / "more" / "low.wav"
    sf.write(low, np.zeros(1600, np.float32), 16000)
    out = tmp_path / "out"
    assert convert(world_run, inputs, "--out", out, "--direction", "a2b") == 2
    assert first_error_line(capsys).startswith(
        f"speechgan: error: {low}: sample rate 16000 Hz is below the minimum of 22050 Hz (upsampling cannot restore "
        "the band above 8000 Hz); use a recording at 22050 Hz or more")
    assert not out.exists()


def test_a_vocoder_for_a_world_run_is_refused(world_run, mel_runs, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    vocoder = mel_runs["vocoder"]
    assert convert(world_run, inputs, "--out", out, "--direction", "a2b", "--vocoder", vocoder) == 2
    assert first_error_line(capsys) == (f"speechgan: error: --vocoder: {world_run} converts WORLD features, "
                                        "which WORLD synthesises; leave --vocoder out")
    assert not out.exists()


# -- a log-mel run: conversion needs the vocoder of its front-end -------------------------------------


def test_a_mel_run_without_a_vocoder_is_refused(mel_runs, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert convert(mel_runs["cyclegan"], inputs, "--out", out, "--direction", "a2b") == 2
    assert first_error_line(capsys) == (
        f"speechgan: error: {mel_runs['cyclegan']} converts 'log_mel' features, which need a vocoder: give --vocoder "
        "VOCODER_RUN (a speechgan vocoder run trained on the same front-end)")
    assert not out.exists()


def test_a_vocoder_of_another_mel_setting_is_refused_naming_both(mel_runs, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    run, other = mel_runs["cyclegan"], mel_runs["other"]
    assert convert(run, inputs, "--out", out, "--direction", "a2b", "--vocoder", other) == 2
    mine, theirs = LogMelSpectrogram(**MEL).params, LogMelSpectrogram(**OTHER_MEL).params  # {name: value} each
    assert (mine["hop_length"], theirs["hop_length"]) == (64, 32)
    assert first_error_line(capsys) == (
        f"speechgan: error: --vocoder {other}: its front-end differs from the conversion run's, so it would turn the "
        f"converted features into noise. {run}: log_mel {mine}; {other}: log_mel {theirs}")
    assert not out.exists()


def test_a_mel_run_with_its_vocoder_writes_audio_of_the_inputs_length(mel_runs, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert convert(mel_runs["cyclegan"], inputs, "--out", out, "--target", "m1", "--vocoder", mel_runs["vocoder"]) == 0
    assert capsys.readouterr().out.startswith(f"2 files converted from f3 to m1, written to {out}: ")
    for name, samples in [("in/a.wav", A_SAMPLES), ("in/more/b.wav", B_SAMPLES)]:
        info = sf.info(out / name)
        assert (info.samplerate, info.frames, info.channels) == (RATE, samples, 1)

    # by hand: the input's log-mel, converted by a2b, through the vocoder's generator, cut or padded to the input.
    # The front-end makes T // 64 frames: a.wav's 22336 samples are 349 hops exactly, b.wav's 15312 are 239.25,
    # so the vocoder's 239 * 64 = 15296 samples end 16 short and the rest is silence.
    run, vocoder = load_run(mel_runs["cyclegan"]), load_run(mel_runs["vocoder"])
    generator = vocoder.generators["generator"]
    remove_parametrizations(generator)
    loader = AudioLoader(sample_rate=RATE)
    for name, frames, samples in [("a.wav", 349, A_SAMPLES), ("more/b.wav", 239, B_SAMPLES)]:
        wave = loader.load(inputs / name)  # (T,) at 22050
        with torch.inference_mode():
            mel = run.features(torch.from_numpy(wave))  # (20, T // 64)
            assert mel.shape == (MEL["n_mels"], frames)
            converted = run.objective.convert(mel, g=run.generators, source="f3", target="m1")  # (20, frames)
            assert converted.shape == mel.shape and not torch.allclose(converted, mel)
            audio = generator(converted[None]).reshape(-1)[:samples].numpy()  # (frames * 64,) cut to T
        expected = np.pad(audio, (0, samples - len(audio)))
        np.testing.assert_allclose(read_audio(out / "in" / name)[0], expected, rtol=0, atol=2 / 32768)
        assert np.abs(expected).max() > 1e-3  # not silence
