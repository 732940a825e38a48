"""Reading, resampling, downmixing, normalizing and trimming audio files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from audio_test_helpers import sine

from speechgan.data import (
    AudioLoader,
    audio_info,
    load_audio,
    peak_normalize,
    read_audio,
    resampled_length,
    rms_normalize,
    write_audio,
)
from speechgan.errors import ConfigError


def peak_frequency(wave: np.ndarray, rate: int) -> float:
    """The frequency of the largest FFT bin, zero-padded to a 0.25 Hz grid."""
    n = 4 * rate
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave)), n=n))
    return float(np.argmax(spectrum)) * rate / n


@pytest.mark.parametrize(("source", "target"), [(16000, 22050), (22050, 16000), (16000, 16000)])
def test_resampling_keeps_duration_and_frequency(write_sine, source, target):
    path = write_sine("a.wav", n=source // 2, rate=source, freq=440.0, subtype="FLOAT")
    wave, rate = load_audio(path, target, min_sample_rate=16000)  # upsampling is opt-in
    assert rate == target and wave.dtype == np.float32 and wave.ndim == 1
    assert len(wave) == target // 2 == resampled_length(source // 2, source, target)
    assert peak_frequency(wave, target) == pytest.approx(440.0, abs=0.5)
    # Away from the edges the resampled signal is the same sine sampled at the new rate.
    reference = sine(440.0, len(wave), target)
    middle = slice(target // 20, -target // 20)
    assert np.abs(wave[middle] - reference[middle]).max() < 1e-3


def test_resampled_length_rounds_half_up_like_soxr(write_sine):
    for n in (1, 3, 5, 7, 9, 1001):
        path = write_sine(f"n{n}.wav", n=n, rate=16000)
        wave, _ = load_audio(path, 8000)
        assert len(wave) == resampled_length(n, 16000, 8000) == (n + 1) // 2


def test_stereo_is_downmixed_by_averaging(tmp_path):
    left = np.full(100, 0.5, np.float32)
    right = np.linspace(-0.5, 0.3, 100, dtype=np.float32)
    sf.write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    assert audio_info(tmp_path / "stereo.wav").channels == 2
    wave, rate = read_audio(tmp_path / "stereo.wav")
    assert rate == 16000 and wave.shape == (100,)
    np.testing.assert_allclose(wave, (left + right) / 2, atol=1e-7)


@pytest.mark.parametrize("extension", ["flac", "ogg"])
def test_flac_and_ogg_are_read(write_sine, extension):
    path = write_sine(f"a.{extension}", n=11025, rate=22050, freq=1000.0)
    wave, rate = load_audio(path)
    assert rate == 22050 and len(wave) == 11025
    assert peak_frequency(wave, rate) == pytest.approx(1000.0, abs=0.5)
    if extension == "flac":  # lossless at 16 bits
        np.testing.assert_allclose(wave, sine(1000.0, 11025, 22050), atol=1 / 32768)


def test_peak_normalization_sets_the_peak(write_sine):
    wave, _ = load_audio(write_sine("a.wav", amplitude=0.2), normalize="peak", peak=0.95)
    assert np.abs(wave).max() == pytest.approx(0.95, abs=1e-6)
    silence = np.zeros(10, np.float32)
    assert peak_normalize(silence) is silence


def test_rms_normalization_sets_the_level_in_dbfs(write_sine):
    wave, _ = load_audio(write_sine("a.wav", amplitude=0.05, n=16000), normalize="rms", rms_db=-20.0)
    rms_db = 20 * np.log10(np.sqrt(np.mean(wave.astype(np.float64) ** 2)))
    assert rms_db == pytest.approx(-20.0, abs=1e-3)
    # A full-scale sine is -3.01 dBFS by this definition.
    assert 20 * np.log10(np.sqrt(np.mean(sine(100.0, 16000, 16000, 1.0) ** 2.0))) == pytest.approx(-3.01, abs=0.01)


def test_rms_normalization_caps_the_peak_at_full_scale():
    spike = np.zeros(1000, np.float32)
    spike[500] = 0.1
    out = rms_normalize(spike, -3.0)  # would need a gain far above the one that reaches full scale
    assert np.abs(out).max() == pytest.approx(1.0)
    assert 20 * np.log10(np.sqrt(np.mean(out**2))) < -3.0


def test_trimming_cuts_leading_and_trailing_silence(tmp_path):
    rate = 16000
    tone = sine(440.0, 4800, rate)  # 0.3 s
    silence = np.zeros(3200, np.float32)  # 0.2 s each side
    sf.write(tmp_path / "padded.wav", np.concatenate([silence, tone, silence]), rate)
    wave, _ = load_audio(tmp_path / "padded.wav", trim_db=40.0)
    # librosa trims whole frames (2048 samples, hop 512): what is kept is the tone plus
    # less than one frame on either side.
    assert 4800 <= len(wave) < 4800 + 2 * 2048
    untrimmed, _ = load_audio(tmp_path / "padded.wav")
    assert len(untrimmed) == 11200


def test_output_is_clipped_to_full_scale(tmp_path):
    sf.write(tmp_path / "loud.wav", np.array([1.5, -2.0, 0.25], np.float32), 16000, subtype="FLOAT")
    wave, _ = load_audio(tmp_path / "loud.wav")
    np.testing.assert_array_equal(wave, [1.0, -1.0, 0.25])


def test_write_audio_round_trips_torch_tensors(tmp_path):
    samples = torch.linspace(-0.5, 0.5, 50)
    write_audio(tmp_path / "t.wav", samples, 22050, subtype="FLOAT")
    wave, rate = read_audio(tmp_path / "t.wav")
    assert rate == 22050
    np.testing.assert_allclose(wave, samples.numpy(), atol=1e-7)


def test_probe_decodes_only_float_files_whole(write_sine, monkeypatch):
    pcm = write_sine("pcm.wav", n=1000)
    flac = write_sine("pcm.flac", n=1000)
    floating = write_sine("float.wav", n=1000, subtype="FLOAT")
    loader = AudioLoader(sample_rate=8000)
    decoded = []
    real_read = read_audio

    def counting_read(path):
        decoded.append(path.name)
        return real_read(path)

    monkeypatch.setattr("speechgan.data.audio_io.read_audio", counting_read)
    assert loader.probe(pcm) == loader.probe(flac) == loader.probe(floating) == resampled_length(1000, 16000, 8000)
    assert decoded == ["float.wav"]  # only a float file can hold NaN, so only it is decoded


def test_a_streamed_wav_of_unknown_length_is_not_truncated(write_sine):
    # A tool writing to a pipe cannot go back to fill in the data size: it leaves 2**32 - 1.
    path = write_sine("streamed.wav", n=1000)
    data = bytearray(path.read_bytes())
    size_at = data.index(b"data") + 4
    data[size_at : size_at + 4] = b"\xff\xff\xff\xff"
    path.write_bytes(bytes(data))
    assert audio_info(path, check_end=True).frames == 1000
    assert AudioLoader(sample_rate=16000).probe(path) == 1000


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"normalize": "loud"}, "normalize: must be 'none', 'peak' or 'rms', got 'loud'"),
        ({"peak": 1.5}, "peak: must be in (0, 1], got 1.5"),
        ({"rms_db": 3.0}, "rms_db: must be below 0 dBFS, got 3.0"),
        ({"trim_db": 0.0}, "trim_db: must be a positive number of dB (or null for no trimming), got 0.0"),
        ({"sample_rate": 0}, "sample_rate: must be a positive number of Hz, got 0"),
    ],
)
def test_loader_options_are_checked(options, message):
    with pytest.raises(ConfigError) as info:
        AudioLoader(**options)
    assert str(info.value) == message
