"""``speechgan enhance``: speech enhancement of audio files and folders with a trained SEGAN run.

A tiny SEGAN (Pascual, Bonafonte & Serrà, Interspeech 2017: 4 + 4 layers of 4 to 16 channels,
2,048-sample windows) is trained two steps by ``speechgan train`` on a VoiceBank-DEMAND-like
corpus written in tmp_path. Files and folders of odd lengths (not multiples of the window)
come back with their length, at the run's rate, as the objective's windowed overlap-add
enhancement of the input (``SEGAN.enhance``); a file at a higher rate is resampled to the
run's first; the same input gives the same bytes. Every refusal (a missing or unreadable
input, a rate below the run's, a run that does not enhance, an output that would overwrite
an input) exits with status 2, the message on stderr and nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from speechgan.cli import main
from speechgan.data.audio_io import AudioLoader, read_audio, resampled_length
from speechgan.inference import load_run
from speechgan.plugins import get_plugin_manager
from speechgan_plugins.enhancement.enhance import enhance_files

from ..conftest import TINY_GAN, write_yaml

pytestmark = pytest.mark.usefixtures("one_thread")

RATE = 16000
WINDOW = 2048  # the training segment and the enhancement window (hop 1,024)
CHANNELS = [4, 8, 8, 16]  # 4 halvings: the generator reads multiples of 16 samples
PCM = 1 / 32768  # one step of 16-bit PCM

A_SAMPLES = 3001  # 2.93 windows: neither a multiple of the window nor of 16
SHORT_SAMPLES = 777  # less than one window
B_SAMPLES_32K = 5003  # a 32 kHz file: resampled to round(5003 / 2) = 2502 samples at the run's rate
B_SAMPLES = 2502


def write_voicebank(root: Path) -> Path:
    """VoiceBank-DEMAND's training folders: 4 speakers x 1 utterance of 2,500 samples, clean and noisy twins."""
    rng = np.random.default_rng(0)
    t = np.arange(2500) / RATE
    for s, speaker in enumerate(("p226", "p227", "p228", "p229")):
        clean = 0.4 * np.sin(2 * np.pi * (200.0 + 150.0 * s) * t)
        for folder, wave in (("clean", clean), ("noisy", clean + 0.05 * rng.standard_normal(len(t)))):
            path = root / f"{folder}_trainset_28spk_wav" / f"{speaker}_001.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, wave.astype(np.float32), RATE, subtype="FLOAT")
    return root


def segan_config(corpus: Path) -> dict:
    """Two RMSprop steps of batch 2 (two speakers train, two are held out), least squares + L1 x 100."""
    return {
        "seed": 0,
        "objective": {"name": "segan", "args": {"window_length": WINDOW, "sample_rate": RATE}},
        "loss_weights": {"d/adv": 1.0, "g/adv": 1.0, "g/l1": 100.0},
        "generators": {"generator": {"name": "segan", "args": {"channels": CHANNELS, "latent_channels": 8,
                                                               "segment_length": WINDOW}}},
        "discriminators": {"discriminator": {"name": "segan", "args": {"channels": CHANNELS,
                                                                       "segment_length": WINDOW}}},
        "data": {"train": {"name": "paired_speech", "args": {"layout": "voicebank_demand", "root": str(corpus),
                                                             "split": "train", "segment_length": WINDOW}},
                 "batch_size": 2},
        "optim": {"generator": {"name": "rmsprop", "lr": 2e-4}, "discriminator": {"name": "rmsprop", "lr": 2e-4}},
        "trainer": {"max_steps": 2, "log_every": 1, "checkpoint_every": None, "device": "cpu"},
        "evaluation": {"metrics": []},
    }


@pytest.fixture(scope="module")
def registry():
    return get_plugin_manager(strict=True).registry


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("segan")
    corpus = write_voicebank(root / "voicebank")
    assert main(["train", str(write_yaml(root / "segan.yaml", segan_config(corpus))), "--out", str(root / "run")]) == 0
    return root / "run"


@pytest.fixture(scope="module")
def gan_run(tmp_path_factory) -> Path:
    """A run whose objective (``gan`` on 2-D points) generates but does not enhance."""
    root = tmp_path_factory.mktemp("gan")
    config = TINY_GAN | {"trainer": {"max_steps": 1, "checkpoint_every": None, "device": "cpu"}}
    assert main(["train", str(write_yaml(root / "gan.yaml", config)), "--out", str(root / "run")]) == 0
    return root / "run"


def noisy_speech(n: int, rate: int, seed: int) -> np.ndarray:
    """(n,) float32: a 300 Hz tone in white noise at ``rate``."""
    t = np.arange(n) / rate
    noise = np.random.default_rng(seed).standard_normal(n)
    return (0.4 * np.sin(2 * np.pi * 300.0 * t) + 0.05 * noise).astype(np.float32)


@pytest.fixture
def inputs(tmp_path) -> Path:
    """``in/a.wav`` (3,001 samples at 16 kHz), ``in/more/b.flac`` (5,003 at 32 kHz), ``in/more/short.wav`` (777)."""
    (tmp_path / "in" / "more").mkdir(parents=True)
    sf.write(tmp_path / "in" / "a.wav", noisy_speech(A_SAMPLES, RATE, 1), RATE)
    sf.write(tmp_path / "in" / "more" / "b.flac", noisy_speech(B_SAMPLES_32K, 32000, 2), 32000)
    sf.write(tmp_path / "in" / "more" / "short.wav", noisy_speech(SHORT_SAMPLES, RATE, 3), RATE)
    return tmp_path / "in"


def enhance(*args: object) -> int:
    return main(["enhance", *map(str, args)])


def by_hand(run_dir: Path, registry, path: Path) -> np.ndarray:
    """The objective's enhancement (T,) of ``path`` read at the run's rate."""
    run = load_run(run_dir, registry=registry)
    wave = AudioLoader(sample_rate=RATE).load(path)  # (T,) at 16 kHz
    with torch.inference_mode():
        return run.objective.enhance(torch.from_numpy(wave), g=run.generators).clamp(-1, 1).numpy()


def first_error_line(capsys) -> str:
    return capsys.readouterr().err.splitlines()[0]


# -- enhancing ----------------------------------------------------------------------------------------


def test_enhance_writes_a_file_and_a_folder_of_odd_lengths_at_the_runs_rate(run_dir, registry, inputs, tmp_path,
                                                                             capsys):
    out = tmp_path / "out"
    assert enhance(run_dir, inputs / "a.wav", inputs, "--out", out) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert written == ["a.wav", "in", "in/a.wav", "in/more", "in/more/b.wav", "in/more/short.wav"]
    lengths = {"a.wav": A_SAMPLES, "in/a.wav": A_SAMPLES, "in/more/b.wav": B_SAMPLES,
               "in/more/short.wav": SHORT_SAMPLES}
    for name, samples in lengths.items():
        info = sf.info(out / name)
        assert (info.samplerate, info.frames, info.channels) == (RATE, samples, 1)
    for name, source in [("a.wav", inputs / "a.wav"), ("in/more/short.wav", inputs / "more" / "short.wav")]:
        expected = by_hand(run_dir, registry, source)
        np.testing.assert_allclose(read_audio(out / name)[0], expected, rtol=0, atol=PCM)
        assert np.abs(expected).max() > 1e-3  # not silence
        assert not np.allclose(expected, read_audio(source)[0], atol=1e-2)  # the generator changed it
    assert np.array_equal(sf.read(out / "a.wav", dtype="int16")[0], sf.read(out / "in/a.wav", dtype="int16")[0])

    seconds = sum(lengths.values()) / RATE  # 0.58 s
    checkpoint = run_dir / "checkpoints" / "last.pt"
    assert re.fullmatch(rf"4 files enhanced, written to {re.escape(str(out))}: {seconds:.2f} s of audio in "
                        rf"\d+\.\d\d s with {re.escape(str(checkpoint))}\n", capsys.readouterr().out)


def test_a_file_at_a_higher_rate_is_resampled_to_the_runs_before_enhancing(run_dir, registry, inputs, tmp_path):
    source = inputs / "more" / "b.flac"
    assert resampled_length(B_SAMPLES_32K, 32000, RATE) == B_SAMPLES
    report = enhance_files(load_run(run_dir, registry=registry), [source], tmp_path / "out")
    assert report.outputs == (tmp_path / "out" / "b.wav",)  # x.flac -> x.wav
    assert (report.sample_rate, report.audio_seconds) == (RATE, pytest.approx(B_SAMPLES / RATE))
    wave, rate = read_audio(report.outputs[0])
    assert (rate, wave.shape) == (RATE, (B_SAMPLES,))
    np.testing.assert_allclose(wave, by_hand(run_dir, registry, source), rtol=0, atol=PCM)


def test_the_same_input_gives_the_same_bytes(run_dir, registry, inputs, tmp_path):
    run = load_run(run_dir, registry=registry)
    first = enhance_files(run, [inputs], tmp_path / "first")
    torch.manual_seed(123)  # the latent comes from the objective's own seed, not the global RNG
    again = enhance_files(run, [inputs], tmp_path / "again")
    assert [p.relative_to(tmp_path / "first") for p in first.outputs] == \
           [p.relative_to(tmp_path / "again") for p in again.outputs]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first.outputs, again.outputs))


def windowed_reference(run, wave: np.ndarray) -> np.ndarray:
    """SEGAN.enhance as its docstring states it, in float64 numpy around the run's generator (T,) -> (T,).

    Pre-emphasis 0.95; windows of W samples every W / 2, the first starting W / 2 before the
    utterance, as many as it takes for the last sample to lie under two, zeros outside the
    utterance; one latent z ~ N(0, I) drawn from a generator seeded with the objective's seed
    (0) for every window; each output weighted by a periodic Hann window and overlap-added;
    de-emphasis.
    """
    from scipy.signal import lfilter

    coefficient, hop, t = 0.95, WINDOW // 2, len(wave)
    emphasised = lfilter([1.0, -coefficient], [1.0], wave.astype(np.float64))  # y[n] = x[n] - 0.95 x[n - 1]
    starts = np.arange(0, hop + t, hop)  # in the padded signal, whose sample `hop` is the utterance's first
    padded = np.zeros(starts[-1] + WINDOW)
    padded[hop:hop + t] = emphasised
    z = torch.randn(1, 8, WINDOW // 16, generator=torch.Generator().manual_seed(0))  # (1, latent_channels, W / 16)
    taper = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)  # periodic Hann
    summed = np.zeros_like(padded)
    for start in starts:
        frame = torch.from_numpy(padded[start:start + WINDOW].astype(np.float32))[None, None]  # (1, 1, W)
        with torch.inference_mode():
            summed[start:start + WINDOW] += taper * run.generators["generator"](frame, z)[0, 0].double().numpy()
    return lfilter([1.0], [1.0, -coefficient], summed[hop:hop + t])  # x[n] = y[n] + 0.95 x[n - 1]


@pytest.mark.parametrize("samples", [A_SAMPLES, SHORT_SAMPLES, 2 * WINDOW])
def test_an_utterance_is_enhanced_as_seeded_overlap_added_hann_windows(run_dir, registry, samples):
    run = load_run(run_dir, registry=registry)
    wave = noisy_speech(samples, RATE, 5)  # (T,)
    with torch.inference_mode():
        enhanced = run.objective.enhance(torch.from_numpy(wave), g=run.generators).numpy()  # (T,)
    expected = windowed_reference(run, wave)
    assert enhanced.shape == expected.shape == (samples,)
    np.testing.assert_allclose(enhanced, expected, rtol=0, atol=1e-6)
    assert np.abs(expected).max() > 1e-2


def test_each_row_of_a_batch_is_enhanced_as_if_alone(run_dir, registry):
    run = load_run(run_dir, registry=registry)
    wave = torch.from_numpy(noisy_speech(A_SAMPLES, RATE, 1))  # (T,)
    with torch.inference_mode():
        alone = run.objective.enhance(wave, g=run.generators)
        batched = run.objective.enhance(torch.stack([wave.flip(0), wave]), g=run.generators)  # (2, T)
    assert batched.shape == (2, A_SAMPLES)
    torch.testing.assert_close(batched[1], alone, rtol=0, atol=1e-6)


# -- refusals -----------------------------------------------------------------------------------------


def test_a_missing_input_is_named_and_nothing_is_written(run_dir, inputs, tmp_path, capsys):
    out, missing = tmp_path / "out", tmp_path / "nowhere.wav"
    assert enhance(run_dir, inputs / "a.wav", missing, "--out", out) == 2
    assert first_error_line(capsys) == f"speechgan: error: {missing}: no such file or folder"
    assert not out.exists()


def test_an_unreadable_input_among_good_ones_is_named_and_nothing_is_written(run_dir, inputs, tmp_path, capsys):
    broken = inputs / "more" / "broken.wav"
    broken.write_bytes(b"RIFF, but not really a wave file")
    out = tmp_path / "out"
    # a.wav comes first, so it would be written if inputs were not all checked up front
    assert enhance(run_dir, inputs / "a.wav", inputs, "--out", out) == 2
    line = first_error_line(capsys)
    assert line.startswith(f"speechgan: error: {broken}: not a readable audio file ("), line
    assert not out.exists()


def test_an_input_below_the_runs_rate_is_refused_and_nothing_is_written(run_dir, inputs, tmp_path, capsys):
    low = inputs / "more" / "low.wav"
    sf.write(low, noisy_speech(800, 8000, 4), 8000)
    out = tmp_path / "out"
    assert enhance(run_dir, inputs, "--out", out) == 2
    assert first_error_line(capsys).startswith(
        f"speechgan: error: {low}: sample rate 8000 Hz is below the minimum of 16000 Hz (upsampling cannot restore "
        "the band above 4000 Hz); use a recording at 16000 Hz or more")
    assert not out.exists()


def test_a_folder_without_audio_is_refused(run_dir, tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no audio here")
    assert enhance(run_dir, tmp_path / "notes", "--out", tmp_path / "out") == 2
    assert first_error_line(capsys) == (f"speechgan: error: {tmp_path / 'notes'}: the folder holds no audio file "
                                        "(.wav, .flac, .ogg)")


@pytest.mark.parametrize("where", ["beside-the-file", "above-the-folder"])
def test_an_output_that_would_overwrite_its_input_is_refused(run_dir, inputs, tmp_path, capsys, where):
    # a.wav into its own folder; the folder in/ into its parent, which would write in/a.wav onto itself
    source, out = (inputs / "a.wav", inputs) if where == "beside-the-file" else (inputs, tmp_path)
    before = {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()}
    assert enhance(run_dir, source, "--out", out) == 2
    assert first_error_line(capsys) == (f"speechgan: error: {inputs / 'a.wav'}: its output {out}/"
                                        f"{'a.wav' if where == 'beside-the-file' else 'in/a.wav'} would overwrite an "
                                        "input; choose another --out")
    assert {p: p.read_bytes() for p in inputs.rglob("*") if p.is_file()} == before


def test_a_run_that_does_not_enhance_is_refused(gan_run, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert enhance(gan_run, inputs, "--out", out) == 2
    assert first_error_line(capsys) == (f"speechgan: error: {gan_run}: objective 'gan' does not enhance speech; is "
                                        "this a speech-enhancement run (SEGAN)?")
    assert not out.exists()
