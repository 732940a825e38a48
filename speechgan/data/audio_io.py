"""Audio file I/O for speech: read, check, downmix, resample, trim and normalize.

* Files are read and written with soundfile (libsndfile): WAV, FLAC and OGG/Vorbis.
* Several channels are downmixed to mono by averaging them.
* Resampling uses soxr (the SoX resampler library) at its ``"HQ"`` quality: a linear-phase
  band-limiting filter of 20-bit precision (about 120 dB of stop-band rejection). The
  output has ``round(T * target / source)`` samples (halves rounded up).
* Silence trimming is ``librosa.effects.trim``: leading and trailing frames whose RMS is
  more than ``top_db`` dB below the loudest frame are cut.
* Peak normalization scales to ``max |x| = peak``. Loudness normalization sets the RMS
  level in dBFS, ``20 log10(sqrt(mean(x^2)))`` with full scale = 1.0 (so a full-scale
  sine reads -3.01 dBFS), and never lets the peak exceed 1.0: a very peaky clip ends
  below the target rather than clipped.

A file cut short (an interrupted copy or download) is found without decoding all of it:
``audio_info(path, check_end=True)`` decodes the last sample the header declares (a
truncated FLAC cannot seek there) and compares a WAV's declared data size with the bytes
present (libsndfile silently reads a truncated WAV as a shorter one).

Every function returns float32 mono in [-1, 1]. A problem with a file raises
:class:`~speechgan.data.policy.BadFile`, a ``DataError`` whose message begins with the path.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import soundfile as sf
import soxr

from ..errors import ConfigError, DataError
from .policy import BadFile

__all__ = [
    "AUDIO_EXTENSIONS",
    "Normalize",
    "AudioInfo",
    "AudioLoader",
    "audio_info",
    "read_audio",
    "load_audio",
    "write_audio",
    "downmix",
    "resample",
    "resampled_length",
    "trim_silence",
    "peak_normalize",
    "rms_normalize",
]

#: File extensions the corpus layouts pick up (compared case-insensitively).
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg")
Normalize = Literal["none", "peak", "rms"]
# Only floating-point files can hold NaN or Inf, so only these are decoded when scanning.
_FLOAT_SUBTYPES = frozenset({"FLOAT", "DOUBLE"})
# A RIFF data chunk of size 2**32 - 1 was written by a streaming tool that did not know
# the length: such a file is not truncated, its header just does not say.
_UNKNOWN_RIFF_SIZE = 0xFFFFFFFF


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says."""

    frames: int
    sample_rate: int
    channels: int
    subtype: str


def _unreadable(path: Path, exc: Exception) -> BadFile:
    detail = getattr(exc, "error_string", None) or str(exc)
    return BadFile(
        path, f"not a readable audio file ({detail}); check that it is a complete WAV, FLAC or OGG file"
    )


def _check_wav_size(path: Path) -> None:
    """Raise :class:`BadFile` if the ``data`` chunk of a RIFF/WAVE file ends past the file's end."""
    size = path.stat().st_size
    with path.open("rb") as file:
        riff = file.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
            return  # RF64 and friends: left to libsndfile
        while len(header := file.read(8)) == 8:  # a chunk: 4-byte id, little-endian uint32 size
            chunk, declared = header[:4], struct.unpack("<I", header[4:])[0]
            if chunk == b"data":
                present = size - file.tell()
                if present < declared and declared != _UNKNOWN_RIFF_SIZE:
                    raise BadFile(path, f"truncated: the WAV header declares {declared} bytes of samples but the "
                                        f"file holds {present}; copy or export the file again")
                return
            file.seek(declared + (declared & 1), 1)  # chunks are padded to an even size


def _check_end(path: Path, file: sf.SoundFile) -> None:
    """Raise :class:`BadFile` unless ``file`` holds every sample its header declares."""
    if file.format == "WAV":
        _check_wav_size(path)
    try:
        # Seeking to the last sample makes FLAC and OGG decode the block that holds it.
        file.seek(file.frames - 1)
        detail = None if len(file.read(1, dtype="float32", always_2d=True)) == 1 else "nothing was read"
    except (sf.SoundFileError, RuntimeError) as exc:
        detail = getattr(exc, "error_string", None) or str(exc)
    if detail is not None:
        raise BadFile(path, f"truncated or corrupt: the header declares {file.frames} samples but the last one "
                            f"does not decode ({detail}); copy or export the file again")


def audio_info(path: str | Path, *, check_end: bool = False) -> AudioInfo:
    """The header of ``path``; with ``check_end``, also proof that no sample is missing.

    Nothing is decoded, except with ``check_end`` the last sample: a file cut short (an
    interrupted copy) fails there. A WAV's ``data`` chunk size is compared with the bytes
    present too, since libsndfile reads a truncated WAV as a shorter, valid one.
    """
    path = Path(path)
    if not path.is_file():
        raise BadFile(path, "file not found")
    try:
        with sf.SoundFile(str(path)) as file:
            info = AudioInfo(int(file.frames), int(file.samplerate), int(file.channels), str(file.subtype))
            if check_end and info.frames:
                _check_end(path, file)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise _unreadable(path, exc) from None
    return info


def downmix(wave: np.ndarray) -> np.ndarray:
    """``(T, C)`` -> ``(T,)``: the mean of the channels."""
    return wave.mean(axis=1) if wave.ndim == 2 else wave


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 mono ``(T,)`` at its own rate; reject empty or non-finite audio."""
    path = Path(path)
    if not path.is_file():
        raise BadFile(path, "file not found")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise _unreadable(path, exc) from None
    wave = downmix(data)  # (T,)
    if wave.size == 0:
        raise BadFile(path, "empty file (0 samples)")
    bad = ~np.isfinite(data).all(axis=1)
    if bad.any():
        raise BadFile(
            path,
            f"{int(bad.sum())} non-finite sample(s) (NaN or Inf), the first at sample "
            f"{int(np.argmax(bad))}; re-export the file",
        )
    return np.ascontiguousarray(wave, dtype=np.float32), int(rate)


def resampled_length(frames: int, source_rate: int, target_rate: int) -> int:
    """The number of samples :func:`resample` returns: ``round(frames * target / source)``."""
    return (2 * frames * target_rate + source_rate) // (2 * source_rate)


def resample(wave: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling of ``(T,)`` with soxr; raises ``ValueError`` on impossible rates."""
    if source_rate == target_rate:
        return wave
    return soxr.resample(wave, source_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def trim_silence(wave: np.ndarray, top_db: float) -> np.ndarray:
    """Cut leading and trailing silence: frames more than ``top_db`` below the loudest one."""
    import librosa  # deferred: librosa's import is only paid where trimming is asked for

    trimmed, _ = librosa.effects.trim(wave, top_db=top_db)
    return trimmed


def peak_normalize(wave: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale so that ``max |x| = peak`` (digital silence is returned unchanged)."""
    top = float(np.abs(wave).max(initial=0.0))
    return wave if top == 0.0 else wave * np.float32(peak / top)


def rms_normalize(wave: np.ndarray, target_db: float = -20.0) -> np.ndarray:
    """Scale to an RMS level of ``target_db`` dBFS, with the peak capped at 1.0."""
    rms = float(np.sqrt(np.mean(np.square(wave, dtype=np.float64))))
    if rms == 0.0:
        return wave
    gain = min(10.0 ** (target_db / 20.0) / rms, 1.0 / float(np.abs(wave).max()))
    return wave * np.float32(gain)


@dataclass(frozen=True)
class AudioLoader:
    """How a corpus file becomes a training waveform; one object serves every dataset.

    ``sample_rate`` is the rate to resample to (``None`` keeps each file's own).
    ``min_sample_rate`` is the lowest file rate accepted; ``None`` means ``sample_rate``,
    so no file is upsampled (its band above the old Nyquist frequency would be empty).
    ``trim_db`` trims silence when set; ``normalize`` is ``"none"``, ``"peak"`` (to
    ``peak``) or ``"rms"`` (to ``rms_db`` dBFS).
    """

    sample_rate: int | None = None
    normalize: Normalize = "none"
    peak: float = 0.95
    rms_db: float = -20.0
    trim_db: float | None = None
    min_sample_rate: int | None = None

    def __post_init__(self) -> None:
        if self.sample_rate is not None and self.sample_rate <= 0:
            raise ConfigError(f"sample_rate: must be a positive number of Hz, got {self.sample_rate}")
        if self.min_sample_rate is not None and self.min_sample_rate <= 0:
            raise ConfigError(f"min_sample_rate: must be a positive number of Hz, got {self.min_sample_rate}")
        if self.normalize not in get_args(Normalize):
            raise ConfigError(f"normalize: must be 'none', 'peak' or 'rms', got {self.normalize!r}")
        if not 0.0 < self.peak <= 1.0:
            raise ConfigError(f"peak: must be in (0, 1], got {self.peak}")
        if self.rms_db >= 0.0:
            raise ConfigError(f"rms_db: must be below 0 dBFS, got {self.rms_db}")
        if self.trim_db is not None and self.trim_db <= 0.0:
            raise ConfigError(f"trim_db: must be a positive number of dB (or null for no trimming), got {self.trim_db}")

    @property
    def params(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        """A short hash of :attr:`params`: cached features depend on them too."""
        return hashlib.sha1(json.dumps(self.params, sort_keys=True).encode()).hexdigest()[:16]

    def _check_rate(self, path: Path, rate: int) -> None:
        minimum = self.min_sample_rate if self.min_sample_rate is not None else self.sample_rate
        if minimum is not None and rate < minimum:
            raise BadFile(
                path,
                f"sample rate {rate} Hz is below the minimum of {minimum} Hz (upsampling cannot "
                f"restore the band above {rate // 2} Hz); use a recording at {minimum} Hz or more, "
                "or lower min_sample_rate to accept it",
            )

    def probe(self, path: str | Path, *, exact: bool = False) -> int:
        """Check ``path`` and return its length in samples after loading.

        Reads the header and the last sample (:func:`audio_info` with ``check_end``), except for
        floating-point files (which may hold NaN or Inf) and, with ``exact`` and trimming on,
        files whose trimmed length is needed: those are decoded whole. Otherwise the length
        is the one before trimming.
        """
        path = Path(path)
        info = audio_info(path, check_end=True)
        if info.frames == 0:
            raise BadFile(path, "empty file (0 samples)")
        self._check_rate(path, info.sample_rate)
        if info.subtype in _FLOAT_SUBTYPES or (exact and self.trim_db is not None):
            return len(self.load(path))
        if self.sample_rate is None:
            return info.frames
        return resampled_length(info.frames, info.sample_rate, self.sample_rate)

    def load_with_rate(self, path: str | Path) -> tuple[np.ndarray, int]:
        """``(wave (T,) float32 in [-1, 1], sample rate)`` after every configured step."""
        path = Path(path)
        wave, rate = read_audio(path)
        self._check_rate(path, rate)
        if self.sample_rate is not None and rate != self.sample_rate:
            try:
                wave = resample(wave, rate, self.sample_rate)
            except (ValueError, RuntimeError) as exc:
                raise BadFile(path, f"cannot resample from {rate} Hz to {self.sample_rate} Hz ({exc})") from None
            if wave.size == 0:
                raise BadFile(path, f"too short to resample from {rate} Hz to {self.sample_rate} Hz")
            rate = self.sample_rate
        if self.trim_db is not None:
            wave = trim_silence(wave, self.trim_db)
            if wave.size == 0:
                raise BadFile(path, f"nothing left after trimming silence (trim_db={self.trim_db})")
        if self.normalize == "peak":
            wave = peak_normalize(wave, self.peak)
        elif self.normalize == "rms":
            wave = rms_normalize(wave, self.rms_db)
        # Resampling can overshoot a full-scale input by a little (Gibbs ripple).
        return np.clip(wave, -1.0, 1.0).astype(np.float32, copy=False), rate

    def load(self, path: str | Path) -> np.ndarray:
        """The waveform ``(T,)`` of :meth:`load_with_rate`."""
        return self.load_with_rate(path)[0]


def load_audio(path: str | Path, sample_rate: int | None = None, **options: Any) -> tuple[np.ndarray, int]:
    """Read ``path`` as float32 mono in [-1, 1]: ``(wave (T,), sample rate)``.

    ``options`` are those of :class:`AudioLoader` (``normalize``, ``peak``, ``rms_db``,
    ``trim_db``, ``min_sample_rate``).
    """
    return AudioLoader(sample_rate=sample_rate, **options).load_with_rate(path)


def write_audio(path: str | Path, wave: Any, sample_rate: int, subtype: str | None = None) -> None:
    """Write ``(T,)`` or ``(T, C)`` samples (numpy or torch) as WAV, FLAC or OGG by extension."""
    data = wave.detach().cpu().numpy() if hasattr(wave, "detach") else np.asarray(wave)
    try:
        sf.write(str(path), data, sample_rate, subtype=subtype)
    except (sf.SoundFileError, RuntimeError, TypeError, ValueError) as exc:
        raise DataError(f"{path}: cannot write audio ({exc})") from None
