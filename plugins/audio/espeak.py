"""A ctypes binding to the eSpeak NG speech synthesizer shipped in the ``espeakng-loader`` wheel.

eSpeak NG is a formant synthesizer (Klatt-style resonators driven by a harmonic source),
so it needs no model weights and runs offline at hundreds of times real time. The C API
used here is the classic one of ``speak_lib.h`` (API revision 12):

* ``espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, buflength, data_path, options)`` returns the
  output sample rate (22050 Hz);
* ``espeak_SetSynthCallback`` receives the int16 PCM chunks;
* ``espeak_SetVoiceByName("<language>+<variant>")`` selects a language and a voice variant
  (a file in ``espeak-ng-data/voices/!v``);
* ``espeak_SetParameter`` sets rate (words per minute), pitch and pitch range (0-100, 50 is
  the variant's own);
* ``espeak_Synth`` then ``espeak_Synchronize`` render the text.

Determinism takes two measures. ``espeak_ng_Initialize`` seeds the generator of breath
noise with ``time(NULL)``, so every call reseeds it with ``espeak_ng_SetRandSeed``
(``espeak_ng.h``). And the wave generator keeps state in static variables that no API call
resets (the pitch-flutter index, the automatic gain control), so the same text rendered
twice in one process differs by a few samples; every call therefore loads a fresh copy of
the library and unloads it afterwards (under 1 ms). An utterance then depends on its
arguments only, never on the clock or on what was synthesized before. The engine is
global state, so a lock serializes callers.
"""

from __future__ import annotations

import _ctypes
import ctypes
import difflib
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import espeakng_loader
import numpy as np

from speechgan.errors import ConfigError, SpeechganError

__all__ = [
    "RATE_MIN",
    "RATE_MAX",
    "RATE_NORMAL",
    "Variant",
    "check_voice",
    "engine_version",
    "list_languages",
    "list_variants",
    "synthesize",
]

# -- constants of speak_lib.h (API revision 12) ---------------------------------------------
_AUDIO_OUTPUT_SYNCHRONOUS = 2  # enum espeak_AUDIO_OUTPUT: PLAYBACK, RETRIEVAL, SYNCHRONOUS
_INITIALIZE_DONT_EXIT = 0x8000  # return an error instead of exit() when data is missing
_POS_CHARACTER = 1
_CHARS_UTF8 = 1  # espeakSSML (0x10) and espeakPHONEMES (0x100) stay off: plain text only
_EE_OK = 0
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4
RATE_MIN, RATE_MAX, RATE_NORMAL = 80, 450, 175  # espeakRATE_MINIMUM/_MAXIMUM/_NORMAL, words/min

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events); 0 = go on
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _EspeakVoice(ctypes.Structure):
    """``espeak_VOICE``; ``languages`` is a run of (priority byte, name, NUL), ended by NUL."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_LOCK = threading.Lock()


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and return types of the functions used, from ``speak_lib.h``."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
        ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
    ]  # fmt: skip
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
    lib.espeak_Info.argtypes = [ctypes.c_void_p]
    lib.espeak_Info.restype = ctypes.c_char_p
    lib.espeak_ng_GetSampleRate.restype = ctypes.c_int
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]


def _unload(lib: ctypes.CDLL) -> None:
    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary")
    close(lib._handle)


@contextmanager
def _engine() -> Iterator[tuple[ctypes.CDLL, int]]:
    """A freshly loaded, initialised engine and its sample rate, held under the lock."""
    with _LOCK:
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as exc:
            raise SpeechganError(
                f"cannot load the eSpeak NG library shipped with espeakng-loader: {exc}; "
                "reinstall it with `pip install --force-reinstall espeakng-loader`"
            ) from None
        try:
            _declare(lib)
            if lib.espeak_ng_GetSampleRate() != 0:
                # dlopen returned a copy someone else in this process already initialised
                warnings.warn(
                    "eSpeak NG is already loaded by another module; its state cannot be reset, "
                    "so synthesis is not reproducible in this process",
                    RuntimeWarning,
                    stacklevel=4,
                )
            data = espeakng_loader.get_data_path().encode()
            sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
            if sample_rate <= 0:
                raise SpeechganError(f"eSpeak NG failed to initialise with data {data.decode()!r}")
            yield lib, sample_rate
        finally:
            lib.espeak_Terminate()
            _unload(lib)


@dataclass(frozen=True)
class Variant:
    """A voice variant file of ``espeak-ng-data/voices/!v``: its file name is what a voice names."""

    file: str
    name: str
    gender: str | None  # "female", "male" or None where the file does not say


@lru_cache(maxsize=1)
def list_variants() -> dict[str, Variant]:
    """Every voice variant shipped with the engine, by file name (``f3``, ``Alicia``...)."""
    variants = {}
    for path in sorted((Path(espeakng_loader.get_data_path()) / "voices" / "!v").iterdir()):
        fields: dict[str, list[str]] = {}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            words = line.split()
            if words and words[0] in ("name", "gender") and words[0] not in fields:
                fields[words[0]] = words[1:]
        gender = fields.get("gender", [None])[0]
        name = " ".join(fields.get("name", [path.name]))
        variants[path.name] = Variant(path.name, name, gender.lower() if gender else None)
    return variants


@lru_cache(maxsize=1)
def list_languages() -> tuple[str, ...]:
    """The language codes of every eSpeak NG voice (``en-us``, ``en-gb-x-rp``...), sorted."""
    languages: set[str] = set()
    with _engine() as (lib, _):
        voices = lib.espeak_ListVoices(None)  # NULL-terminated array of espeak_VOICE*
        i = 0
        while voices[i]:
            address = voices[i].contents.languages
            while ctypes.string_at(address, 1) != b"\0":  # a priority byte, or the final NUL
                name = ctypes.string_at(address + 1)
                languages.add(name.decode())
                address += len(name) + 2
            i += 1
    return tuple(sorted(languages))


@lru_cache(maxsize=1)
def engine_version() -> str:
    """The eSpeak NG version string (``espeak_Info``), e.g. ``1.52.0``."""
    with _engine() as (lib, _):
        return lib.espeak_Info(None).decode()


def check_voice(voice: str, *, rate: int = RATE_NORMAL, pitch: int = 50, pitch_range: int = 50) -> None:
    """Raise :class:`ConfigError` unless ``voice`` is ``<language>`` or ``<language>+<variant>``
    of a language and a variant the engine ships (the engine silently ignores an unknown
    variant, so it is checked here) and the settings are in the engine's ranges."""
    language, plus, variant = voice.partition("+")
    if plus and variant not in list_variants():
        names = sorted(list_variants(), key=str.lower)
        close = difflib.get_close_matches(variant, names, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"unknown eSpeak NG voice variant {variant!r} in voice {voice!r}{hint}; "
            f"variants are case-sensitive, available: {', '.join(names)}"
        )
    if language.lower() not in {known.lower() for known in list_languages()}:
        close = difflib.get_close_matches(language.lower(), list_languages(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ConfigError(
            f"unknown eSpeak NG language {language!r} in voice {voice!r}{hint}; "
            f"available: {', '.join(list_languages())}"
        )
    for name, value, low, high in (
        ("rate", rate, RATE_MIN, RATE_MAX),
        ("pitch", pitch, 0, 100),
        ("pitch range", pitch_range, 0, 100),
    ):
        if not low <= value <= high:
            raise ConfigError(f"eSpeak NG {name} must be in [{low}, {high}], got {value}")


def synthesize(
    text: str,
    voice: str = "en-us",
    *,
    rate: int = RATE_NORMAL,
    pitch: int = 50,
    pitch_range: int = 50,
    seed: int = 0,
) -> tuple[np.ndarray, int]:
    """Render ``text`` with eSpeak NG; returns ``(audio, sample_rate)``.

    ``audio`` is float32 in [-1, 1), shape ``(T,)``, at the engine's rate (22050 Hz).
    ``voice`` is ``<language>+<variant>`` (``en-us+Alicia``, ``en+f3``); ``rate`` is in
    words per minute (80-450); ``pitch`` and ``pitch_range`` are 0-100, where 50 keeps the
    variant's own base pitch and intonation range. ``seed`` drives the breath noise of the
    variants that have some (``f3``, ``Alicia``...): the same arguments give the same samples.
    """
    check_voice(voice, rate=rate, pitch=pitch, pitch_range=pitch_range)
    chunks: list[np.ndarray] = []

    @_SYNTH_CALLBACK
    def collect(wav: ctypes.Array, n_samples: int, events: int) -> int:
        if wav and n_samples > 0:  # wav is NULL when synthesis is complete
            chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        return 0

    with _engine() as (lib, sample_rate):
        lib.espeak_SetSynthCallback(collect)
        if lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            raise ConfigError(f"eSpeak NG has no voice {voice!r}")
        for parameter, value in ((_PARAM_RATE, rate), (_PARAM_PITCH, pitch), (_PARAM_RANGE, pitch_range)):
            lib.espeak_SetParameter(parameter, value, 0)
        lib.espeak_ng_SetRandSeed(seed)  # after initialisation, which seeds from the clock
        data = text.encode("utf-8") + b"\0"
        status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != _EE_OK:
            raise SpeechganError(f"eSpeak NG failed to synthesize {text[:40]!r} (status {status})")
        lib.espeak_Synchronize()
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)  # (T,) int16
    return pcm.astype(np.float32) / 32768.0, sample_rate
