"""The ctypes binding to eSpeak NG: audio, voices, parameters, reproducibility, errors."""

from __future__ import annotations

import _ctypes
import ctypes
import warnings

import espeakng_loader
import librosa
import numpy as np
import pytest

from speechgan.errors import ConfigError
from speechgan_plugins.audio import espeak

SHORT = "Will we ever forget it."


def median_f0(audio: np.ndarray, sample_rate: int) -> float:
    """Median YIN F0 over the loud frames (YIN also answers on silence, so those are left out)."""
    f0 = librosa.yin(audio, fmin=60, fmax=500, sr=sample_rate, frame_length=1024, hop_length=256)
    rms = librosa.feature.rms(y=audio, frame_length=1024, hop_length=256)[0][: f0.shape[0]]
    return float(np.median(f0[rms > 0.3 * rms.max()]))


def test_synthesis_is_speech_at_22050_hz() -> None:
    audio, sample_rate = espeak.synthesize(SHORT, "en-us+f3")
    assert sample_rate == 22050
    assert audio.dtype == np.float32 and audio.ndim == 1
    # five words at 175 words per minute: about 1.7 s at most (the variants take 1.2-1.5 s)
    assert 0.8 < audio.shape[0] / sample_rate < 2.5
    assert np.sqrt(np.mean(audio**2)) > 0.03  # not silent
    assert np.abs(audio).max() <= 1.0


def test_same_call_gives_the_same_samples_whatever_came_before() -> None:
    # f3 has breath noise: its generator would otherwise be seeded from the clock
    first, _ = espeak.synthesize(SHORT, "en-us+f3")
    espeak.synthesize("Something else entirely, to move the engine's state on.", "en-us+Alicia")
    second, _ = espeak.synthesize(SHORT, "en-us+f3")
    np.testing.assert_array_equal(first, second)
    other_seed, _ = espeak.synthesize(SHORT, "en-us+f3", seed=1)
    assert other_seed.shape == first.shape and not np.array_equal(other_seed, first)


def test_female_and_male_variants_differ_in_f0() -> None:
    female, sr = espeak.synthesize(SHORT, "en-us+f3")
    male, _ = espeak.synthesize(SHORT, "en-us+m1")
    f0_female, f0_male = median_f0(female, sr), median_f0(male, sr)
    # the variant files set base pitches 140-240 Hz (f3) and 75-109 Hz (m1)
    assert 150 < f0_female < 300
    assert 70 < f0_male < 140
    assert f0_female > 1.6 * f0_male


def test_pitch_parameter_moves_f0_up() -> None:
    low, sr = espeak.synthesize(SHORT, "en-us+m3", pitch=20)
    high, _ = espeak.synthesize(SHORT, "en-us+m3", pitch=80)
    # speak_lib.h: pitch 0-100, 50 = the voice's own; the engine scales the base pitch by
    # 0.65 at 20 and 1.52 at 80 (the intonation range is added on top): measured 81 -> 136 Hz
    assert median_f0(high, sr) > 1.5 * median_f0(low, sr)


def test_rate_parameter_changes_duration() -> None:
    slow, _ = espeak.synthesize(SHORT, "en-us+f3", rate=100)
    fast, _ = espeak.synthesize(SHORT, "en-us+f3", rate=350)
    assert slow.shape[0] > 2 * fast.shape[0]


def test_variants_listed_with_gender() -> None:
    variants = espeak.list_variants()
    for i in range(1, 6):
        assert variants[f"f{i}"].gender == "female"
    for i in range(1, 9):
        assert variants[f"m{i}"].gender == "male"
    assert variants["Alicia"] == espeak.Variant("Alicia", "Alicia", "female")
    assert "en-us" in espeak.list_languages() and "en" in espeak.list_languages()
    assert espeak.engine_version().startswith("1.")


def test_unknown_variant_lists_the_available_ones() -> None:
    with pytest.raises(ConfigError) as err:
        espeak.synthesize(SHORT, "en-us+alicia")
    message = str(err.value)
    assert message.startswith(
        "unknown eSpeak NG voice variant 'alicia' in voice 'en-us+alicia' (did you mean Alicia"
    )
    assert "variants are case-sensitive, available: adam, Alex, Alicia," in message
    assert ", f3, f4," in message and ", m1, m2," in message


def test_unknown_language_and_bad_parameters() -> None:
    with pytest.raises(ConfigError, match=r"unknown eSpeak NG language 'xx' in voice 'xx\+f3'.*available: af, am,"):
        espeak.check_voice("xx+f3")
    with pytest.raises(ConfigError, match=r"^eSpeak NG rate must be in \[80, 450\], got 500$"):
        espeak.synthesize(SHORT, "en", rate=500)
    with pytest.raises(ConfigError, match=r"^eSpeak NG pitch must be in \[0, 100\], got -1$"):
        espeak.synthesize(SHORT, "en", pitch=-1)


def test_warns_when_another_module_holds_the_engine() -> None:
    # another module's initialised copy: dlopen shares it, so its state cannot be reset
    other = ctypes.CDLL(espeakng_loader.get_library_path())
    other.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    assert other.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0x8000) == 22050
    try:
        with pytest.warns(RuntimeWarning, match="already loaded by another module; its state cannot be reset"):
            audio, _ = espeak.synthesize(SHORT, "en")
        assert audio.shape[0] > 0
    finally:
        _ctypes.dlclose(other._handle)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # unloaded again: a fresh copy, no warning
        espeak.synthesize(SHORT, "en")
