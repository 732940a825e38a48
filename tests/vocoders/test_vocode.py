"""``speechgan vocode``: audio files, .npy mels and folders through a tiny trained HiFi-GAN run."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from speechgan.cli import main
from speechgan.data.audio_io import read_audio
from speechgan.errors import DataError, TrainingError
from speechgan.inference import load_run
from speechgan.plugins import get_plugin_manager
from speechgan.run import train
from speechgan_plugins.vocoders import vocode_files
from speechgan_plugins.vocoders.vocode import find_inputs

from ..conftest import write_yaml
from ..core.test_inference import MEL, sine, vocoder_config
from ..trainer.conftest import merge

HOP, N_MELS = MEL["hop_length"], MEL["n_mels"]
# a HiFi-GAN small enough to train 2 steps in a second: 16 -> 8 -> 4 channels, x4 x4 = the hop of 16
TINY_HIFIGAN = {"name": "hifigan", "args": {
    "in_channels": N_MELS, "upsample_initial_channel": 16, "upsample_rates": [4, 4], "upsample_kernel_sizes": [8, 8],
    "resblock": 2, "resblock_kernel_sizes": [3], "resblock_dilation_sizes": [[1, 3]]}}


@pytest.fixture(scope="module")
def registry():
    pm = get_plugin_manager(strict=True)
    return pm.registry


@pytest.fixture(scope="module")
def run_dir(registry, tmp_path_factory) -> Path:
    """A tiny HiFi-GAN vocoder trained 2 steps on four generated sines (the CLI's own plugins build it)."""
    root = tmp_path_factory.mktemp("vocode")
    corpus = root / "corpus" / "spk"
    corpus.mkdir(parents=True)
    for i, freq in enumerate([220.0, 330.0, 440.0, 550.0]):
        sf.write(corpus / f"utt{i}.wav", sine(freq, 4000), 16000)
    config = merge(vocoder_config(root / "corpus"), {
        "generators": {"generator": TINY_HIFIGAN},
        "discriminators": {"msd": {"name": "hifigan_msd", "args": {"num_scales": 1}}},
        "evaluation": {"metrics": []},
    })
    train(write_yaml(root / "vocoder.yaml", config), root / "run", registry)
    return root / "run"


@pytest.fixture
def inputs(tmp_path) -> Path:
    """``in/a.wav`` (1600 samples at 16 kHz) and ``in/more/b.wav`` (2000 samples at 32 kHz: 1000 at 16 kHz)."""
    (tmp_path / "in" / "more").mkdir(parents=True)
    sf.write(tmp_path / "in" / "a.wav", sine(300.0, 1600), 16000)
    sf.write(tmp_path / "in" / "more" / "b.wav", sine(150.0, 2000), 32000)
    return tmp_path / "in"


def vocode(*args: object) -> int:
    return main(["vocode", *map(str, args)])


def reference(run_dir: Path, registry, wave: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
    """``(generator output (T,), mel (n_mels, N))`` of a 16 kHz wave, computed by hand."""
    run = load_run(run_dir, registry=registry)
    with torch.inference_mode():
        mel = run.features(torch.from_numpy(wave)[None])  # (1, n_mels, N)
        return run.generators["generator"](mel).reshape(-1).numpy(), mel[0]


def test_vocode_writes_a_file_and_a_folder_at_the_front_ends_rate(run_dir, registry, inputs, tmp_path, capsys):
    out = tmp_path / "out"
    assert vocode(run_dir, inputs / "a.wav", inputs, "--out", out) == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.wav"))
    assert written == ["a.wav", "in/a.wav", "in/more/b.wav"]
    for name, frames in [("a.wav", 100), ("in/a.wav", 100), ("in/more/b.wav", 62)]:  # 1600 // 16, 1000 // 16
        info = sf.info(out / name)
        assert (info.samplerate, info.frames, info.channels) == (16000, frames * HOP, 1)
    # the file's samples are the generator's output on the front-end's mel (16-bit PCM rounding)
    expected, _ = reference(run_dir, registry, sine(300.0, 1600))
    np.testing.assert_allclose(read_audio(out / "a.wav")[0], expected, rtol=0, atol=1 / 32768)
    assert np.abs(expected).max() > 1e-3  # not silence
    stdout = capsys.readouterr().out
    seconds = (100 + 100 + 62) * HOP / 16000  # 0.262 s
    assert re.fullmatch(
        rf"3 files written to {re.escape(str(out))}: {seconds:.2f} s of audio in \d+\.\d\d s \(\d+\.\dx real time, "
        rf"synthesis \d+\.\d\d s, (torch|onnxruntime)\) with {re.escape(str(run_dir / 'checkpoints' / 'last.pt'))} \(EMA: generator\)\n",
        stdout,
    )


@pytest.mark.parametrize("batched", [False, True], ids=["n_mels-frames", "1-n_mels-frames"])
def test_an_npy_mel_of_the_runs_front_end_vocodes_like_its_audio(run_dir, registry, inputs, tmp_path, batched,
                                                                    capsys):
    expected, mel = reference(run_dir, registry, sine(300.0, 1600))
    array = mel.numpy()[None] if batched else mel.numpy()
    np.save(tmp_path / "mel.npy", array.astype(np.float64))  # any floating dtype
    report = vocode_files(load_run(run_dir, registry=registry), [tmp_path / "mel.npy", inputs / "a.wav"],
                          tmp_path / "out", progress=True)
    assert "2/2" in capsys.readouterr().err  # the progress bar
    assert report.outputs == (tmp_path / "out" / "mel.wav", tmp_path / "out" / "a.wav")
    from_mel, from_audio = (sf.read(p, dtype="int16")[0] for p in report.outputs)
    assert np.array_equal(from_mel, from_audio)
    np.testing.assert_allclose(from_mel / 32768, expected, rtol=0, atol=1 / 32768)
    assert report.audio_seconds == pytest.approx(2 * 1600 / 16000)
    assert report.real_time_factor == pytest.approx(report.audio_seconds / report.synthesis_seconds)
    assert 0 < report.synthesis_seconds < report.wall_seconds


def test_an_npy_with_other_mel_bins_is_refused_before_anything_is_written(run_dir, inputs, tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((5, 20), np.float32))
    out = tmp_path / "out"
    assert vocode(run_dir, inputs / "a.wav", tmp_path / "x.npy", "--out", out) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        f"speechgan: error: {tmp_path / 'x.npy'}: holds 5 mel bins, the run's front-end `log_mel` makes 8; make the "
        "mel-spectrograms with the front-end the vocoder was trained with (its `features:` in the run's config.yaml)"
    )
    assert not out.exists()


@pytest.mark.parametrize(("array", "message"), [
    (np.zeros((8, 4), np.int16), "holds int16 values, a mel-spectrogram holds floating-point log magnitudes; "
                                 "save it as float32"),
    (np.zeros(8, np.float32), "a mel-spectrogram has shape (n_mels, frames) or (1, n_mels, frames) with at least "
                              "one frame, this array has shape (8,)"),
    (np.zeros((8, 0), np.float32), "a mel-spectrogram has shape (n_mels, frames) or (1, n_mels, frames) with at "
                                   "least one frame, this array has shape (8, 0)"),
    (np.pad(np.full((8, 1), np.nan, np.float32), ((0, 0), (3, 0))),
     "8 non-finite value(s) (NaN or Inf), the first in frame 3; fix the model or script that made it"),
], ids=["int16", "1-d", "no-frames", "nan"])
def test_an_npy_that_is_no_mel_is_refused(run_dir, registry, tmp_path, array, message):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(DataError, match=f"^{re.escape(str(tmp_path / 'x.npy') + ': ' + message)}$"):
        vocode_files(load_run(run_dir, registry=registry), [tmp_path / "x.npy"], tmp_path / "out")


def test_an_unreadable_input_is_named_and_nothing_is_written(run_dir, inputs, tmp_path, capsys):
    (inputs / "more" / "broken.wav").write_bytes(b"not audio at all")
    out = tmp_path / "out"
    assert vocode(run_dir, inputs, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"speechgan: error: {inputs / 'more' / 'broken.wav'}: not a readable audio file (")
    assert not out.exists()


def test_a_run_whose_front_end_differs_from_its_checkpoints_is_refused_before_any_work(run_dir, inputs, tmp_path,
                                                                                        capsys):
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited)
    config = yaml.safe_load((edited / "config.yaml").read_text())
    config["features"]["args"]["fmax"] = 4000.0
    write_yaml(edited / "config.yaml", config)
    out = tmp_path / "out"
    assert vocode(edited, inputs, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"speechgan: error: {edited / 'checkpoints' / 'last.pt'} was trained with the front-end "
                          "`features: log_mel` (fingerprint ")
    assert "(features.args: fmax None -> 4000.0): its generators would read features they were not trained on" in err
    assert not out.exists()


def test_inputs_that_would_share_an_output_or_overwrite_an_input_are_refused(run_dir, registry, inputs, tmp_path):
    np.save(inputs / "a.npy", np.zeros((N_MELS, 4), np.float32))
    shared = f"{inputs / 'a.npy'} and {inputs / 'a.wav'} would both be written to a.wav; rename one of them"
    with pytest.raises(DataError, match=f"^{re.escape(shared)}$"):
        find_inputs([inputs / "a.npy", inputs / "a.wav"])
    (inputs / "a.npy").unlink()
    # the folder `in` mirrors into OUT/in/: with OUT its parent, in/a.wav would replace itself
    overwrite = f"{inputs / 'a.wav'}: its output {inputs / 'a.wav'} would overwrite an input; choose another --out"
    with pytest.raises(DataError, match=f"^{re.escape(overwrite)}$"):
        vocode_files(load_run(run_dir, registry=registry), [inputs], tmp_path)


def test_missing_inputs_and_other_files_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    for path, reason in [
        (tmp_path / "nowhere.wav", "no such file or folder"),
        (tmp_path / "notes.txt", "not an audio file (.wav, .flac, .ogg) or .npy mel-spectrogram; give such files or "
                                 "folders holding them"),
        (tmp_path / "empty", "the folder holds no audio file (.wav, .flac, .ogg) or .npy mel-spectrogram"),
    ]:
        with pytest.raises(DataError, match=f"^{re.escape(f'{path}: ' + reason)}$"):
            find_inputs([path])


def test_a_run_without_a_front_end_is_not_a_vocoder(run_dir, registry, inputs, tmp_path):
    run = dataclasses.replace(load_run(run_dir, registry=registry), features=None)
    message = (f"{run_dir}: not a vocoder run: vocode needs a `features:` front-end and a `generator` role (the "
               "`vocoder` objective), this run has no front-end and generators ['generator']")
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        vocode_files(run, [inputs], tmp_path / "out")


def test_onnx_runtime_and_torch_backends_write_the_same_audio(run_dir, registry, inputs, tmp_path, capsys):
    for backend in ("torch", "onnxruntime"):
        assert vocode(run_dir, inputs / "a.wav", "--out", tmp_path / backend, "--backend", backend) == 0
        assert f", {backend}) with " in capsys.readouterr().out
    torch_audio, onnx_audio = (read_audio(tmp_path / b / "a.wav")[0] for b in ("torch", "onnxruntime"))
    expected, _ = reference(run_dir, registry, sine(300.0, 1600))
    np.testing.assert_allclose(onnx_audio, torch_audio, rtol=0, atol=1 / 32768)
    np.testing.assert_allclose(torch_audio, expected, rtol=0, atol=1 / 32768)


def test_auto_falls_back_to_torch_when_the_generator_does_not_export(run_dir, registry, inputs, tmp_path):
    from speechgan.errors import ExportError
    from speechgan.objective import Objective

    run = dataclasses.replace(load_run(run_dir, registry=registry), objective=Objective())
    report = vocode_files(run, [inputs / "a.wav"], tmp_path / "auto", backend="auto")
    assert report.backend == "torch" and report.note.startswith("ONNX Runtime not used (objective Objective does not")
    with pytest.raises(ExportError, match=r"--backend onnxruntime: objective Objective does not describe"):
        vocode_files(run, [inputs / "a.wav"], tmp_path / "onnx", backend="onnxruntime")
    assert not (tmp_path / "onnx").exists()


def test_auto_keeps_the_faster_backend():
    """``auto`` times both on the same mel and keeps the faster, whichever it is."""
    import time as clock

    from speechgan_plugins.vocoders.vocode import _faster

    def slow(mel):
        clock.sleep(0.02)
        return mel

    def fast(mel):
        return mel

    mel = torch.zeros(1, N_MELS, 8)
    assert _faster(slow, fast, mel) == "onnxruntime"
    assert _faster(fast, slow, mel) == "torch"
