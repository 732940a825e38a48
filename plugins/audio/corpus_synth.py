"""An offline demo corpus: CMU ARCTIC prompts read by eSpeak NG voices, optionally noisy.

The layout is that of the real CMU ARCTIC recordings (Kominek & Black, "The CMU Arctic
speech databases", SSW5 2004), so code written for one reads the other::

    out_dir/cmu_us_<speaker>_arctic/wav/arctic_a0001.wav
    out_dir/cmu_us_<speaker>_arctic/etc/txt.done.data        ( arctic_a0001 "text" )
    out_dir/cmu_us_<speaker>_arctic/wav_noisy_<noise><snr>/   (optional parallel noisy copy)
    out_dir/cmu_us_<speaker>_arctic/wav_noisy_mix/noise.csv    (or a mixture: id,noise,snr_db per file)
    out_dir/corpus.json, out_dir/README.md                     (voices, rates, engine version)

Clean speech is scaled by a fixed ``gain_db`` (headroom for the noise) and written as 16-bit
PCM. A noisy copy adds white (Gaussian), pink (1/f power, -3 dB/octave), babble (a sum of
other speakers' utterances, each at the same RMS) or speech-shaped noise (Gaussian noise with
the long-term spectrum of the utterance's own clean speech, the stationary masker of
intelligibility tests such as the HINT, Nilsson et al. 1994) scaled so that
``10 log10(sum(clean^2) / sum(noise^2))`` over the whole utterance is the requested SNR;
the clean speech is mixed as written (16-bit), so the written pair meets it to within the
rounding of the noise (< 0.01 dB). A mixture (several noise types, or an SNR range, as in
VoiceBank-DEMAND, Valentini-Botinhao et al., SSW9 2016, whose training set mixes ten noises
at 0, 5, 10 and 15 dB) draws each utterance's type uniformly from the list and its SNR
uniformly from the range, rounded to 0.01 dB, and lists them in ``noise.csv``. Babble
never holds the utterance's own speaker. Every file depends only on the arguments: the same
call writes the same bytes, in any process, at any time.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re
import shutil
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import soundfile as sf
import soxr
from scipy.signal import welch
from tqdm.auto import tqdm

from speechgan.errors import ConfigError, DataError

from . import espeak

__all__ = [
    "DEFAULT_SPEAKERS",
    "MIXTURE_DIR",
    "NOISE_MANIFEST",
    "NoisePlan",
    "NoiseType",
    "Prompt",
    "Speaker",
    "babble_noise",
    "draw_condition",
    "load_prompts",
    "mix_at_snr",
    "noise_plan",
    "noisy_dir_name",
    "parse_prompts",
    "pink_noise",
    "prepare_out_dir",
    "speech_shaped_noise",
    "synthesize_corpus",
]

NoiseType = Literal["white", "pink", "babble", "speech_shaped"]
_NOISE_TYPES: tuple[NoiseType, ...] = ("white", "pink", "babble", "speech_shaped")
#: The folder of a noisy copy that draws its noise type or SNR per utterance, and its list.
MIXTURE_DIR = "wav_noisy_mix"
NOISE_MANIFEST = "noise.csv"
# Tags a second per-utterance stream, kept apart from the noise samples' own.
_CONDITION_STREAM = 1

#: Two female-sounding and two male-sounding variants (their files say ``gender``; median
#: F0 of one sentence: Alicia 252 Hz, f3 213 Hz, m3 105 Hz, m1 94 Hz).
DEFAULT_SPEAKERS: tuple[str, ...] = ("en-us+Alicia", "en-us+f3", "en-us+m1", "en-us+m3")

_PROMPT_LINE = re.compile(r'^\(\s*(?P<id>\S+)\s+"(?P<text>.*)"\s*\)\s*$')
_SPEAKER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PROMPT_FILE = "cmuarctic.data"


class Prompt(NamedTuple):
    """One CMU ARCTIC prompt: utterance id (``arctic_a0001``) and text."""

    id: str
    text: str


def parse_prompts(text: str, source: str = _PROMPT_FILE) -> list[Prompt]:
    """Parse Festival prompt lines ``( arctic_a0001 "text" )``; blank lines are skipped."""
    prompts = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _PROMPT_LINE.match(line)
        if match is None:
            raise DataError(f'{source}:{number}: expected ( <id> "<text>" ), got {line.strip()[:60]!r}')
        prompts.append(Prompt(match["id"], match["text"]))
    return prompts


def load_prompts() -> list[Prompt]:
    """The 1,132 CMU ARCTIC prompts shipped with speechgan (593 in set A, then 539 in set B)."""
    resource = importlib.resources.files(__package__).joinpath(_PROMPT_FILE)
    return parse_prompts(resource.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Speaker:
    """An eSpeak NG voice with its own pitch, range and rate, and a filesystem-safe id."""

    voice: str  # <language>+<variant>, e.g. en-us+Alicia
    id: str
    pitch: int = 50  # 0-100, 50 = the variant's own base pitch
    rate: int = espeak.RATE_NORMAL  # words per minute
    pitch_range: int = 50  # 0-100, 50 = the variant's own intonation range

    @classmethod
    def parse(cls, spec: str) -> Speaker:
        """``en+f3``, ``en+f3:pitch=70:rate=160:range=40:id=f3_fast`` -> :class:`Speaker`."""
        voice, *options = spec.strip().split(":")
        language, _, variant = voice.partition("+")
        default_id = re.sub(r"[^a-z0-9]+", "_", (variant or language).lower()).strip("_")
        fields: dict[str, Any] = {"voice": voice, "id": default_id}
        keys = {"pitch": "pitch", "rate": "rate", "range": "pitch_range", "id": "id"}
        for option in options:
            key, eq, value = option.partition("=")
            if not eq or key not in keys:
                raise ConfigError(
                    f"bad speaker spec {spec!r}: {option!r} is not one of pitch=, rate=, range=, id= "
                    "(example: en-us+f3:pitch=70:rate=160)"
                )
            if key != "id" and not re.fullmatch(r"-?\d+", value):
                raise ConfigError(f"bad speaker spec {spec!r}: {key} must be an integer, got {value!r}")
            fields[keys[key]] = value if key == "id" else int(value)
        return cls(**fields)

    def check(self) -> None:
        """Raise :class:`ConfigError` for an unknown voice, a bad id or out-of-range values."""
        if not _SPEAKER_ID.match(self.id):
            raise ConfigError(
                f"speaker id {self.id!r} of voice {self.voice!r} must be lower-case letters, digits, "
                "'_' or '-'; set one with :id=<name>"
            )
        try:
            espeak.check_voice(self.voice, rate=self.rate, pitch=self.pitch, pitch_range=self.pitch_range)
        except ConfigError as exc:
            raise ConfigError(f"speaker {self.id!r}: {exc}") from None

    @property
    def directory(self) -> str:
        return f"cmu_us_{self.id}_arctic"


# -- noise ------------------------------------------------------------------------------------


def _shaped_noise(
    n_samples: int, rng: np.random.Generator, shape: Callable[[np.ndarray], None]
) -> np.ndarray:
    """White Gaussian noise coloured in the frequency domain, unit RMS, shape ``(T,)``.

    Drawn over the next power of two (a fast FFT size); ``shape`` scales the rFFT's bins
    (n_fft // 2 + 1, complex) in place, the DC bin is removed, and the result cut to length.
    """
    n_fft = 1 << max(n_samples - 1, 1).bit_length()
    spectrum = np.fft.rfft(rng.standard_normal(n_fft))  # (n_fft//2+1,)
    shape(spectrum)
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n=n_fft)[:n_samples]
    return noise / np.sqrt(np.mean(noise**2))


def pink_noise(n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with a 1/f power spectrum (-3.01 dB/octave), unit RMS, shape ``(T,)``.

    White noise is shaped in the frequency domain by ``1/sqrt(f)`` (amplitude), DC removed,
    over the next power of two (a fast FFT size) and cut to length.
    """

    def one_over_sqrt_f(spectrum: np.ndarray) -> None:
        bins = np.arange(spectrum.shape[0], dtype=np.float64)
        spectrum[1:] /= np.sqrt(bins[1:])

    return _shaped_noise(n_samples, rng, one_over_sqrt_f)


def speech_shaped_noise(speech: np.ndarray, rng: np.random.Generator, frame: int = 512) -> np.ndarray:
    """Gaussian noise with ``speech``'s long-term power spectrum, unit RMS, shape ``(T,)`` as ``speech``.

    The spectrum is Welch's average over ``frame``-sample Hann frames (half overlap), which
    smooths it to ``rate / frame`` Hz (31 Hz at 16 kHz): the envelope of the voice, not its
    harmonics. White noise over the next power of two is shaped by its square root
    (amplitude), interpolated to the FFT's bins, DC removed, and cut to length.
    """
    speech = np.asarray(speech, dtype=np.float64)
    if speech.ndim != 1 or speech.shape[0] < frame or not np.any(speech):
        raise DataError(f"speech-shaped noise needs at least {frame} samples of non-silent speech")
    _, power = welch(speech, nperseg=frame)  # (frame//2+1,), on normalised frequencies 0 .. 0.5

    def long_term_spectrum(spectrum: np.ndarray) -> None:
        grid = np.linspace(0.0, 0.5, spectrum.shape[0])
        spectrum *= np.sqrt(np.interp(grid, np.linspace(0.0, 0.5, power.shape[0]), power))

    return _shaped_noise(speech.shape[0], rng, long_term_spectrum)


def babble_noise(talkers: Sequence[np.ndarray]) -> np.ndarray:
    """The sum of equal-length talker signals, each first scaled to unit RMS (level-matched)."""
    return np.sum([t / np.sqrt(np.mean(t.astype(np.float64) ** 2)) for t in talkers], axis=0)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` with ``g`` such that ``10 log10(sum(clean^2)/sum((g noise)^2)) = snr_db``."""
    clean = clean.astype(np.float64)
    noise = noise.astype(np.float64)
    clean_energy, noise_energy = np.sum(clean**2), np.sum(noise**2)
    if clean_energy == 0 or noise_energy == 0:
        raise DataError("cannot mix at an SNR: the speech or the noise is silent")
    gain = np.sqrt(clean_energy / (noise_energy * 10 ** (snr_db / 10)))
    return clean + gain * noise


def noisy_dir_name(noise: NoiseType, snr_db: float) -> str:
    """``wav_noisy_white5``, ``wav_noisy_babble-2.5``: the folder of a noisy copy."""
    return f"wav_noisy_{noise}{snr_db:g}"


class NoisePlan(NamedTuple):
    """What a noisy copy holds: the noise types drawn from and the SNR range in dB (inclusive)."""

    types: tuple[NoiseType, ...]
    snr_db: tuple[float, float]

    @property
    def mixture(self) -> bool:
        """Several types or an SNR range: each utterance draws its own, listed in ``noise.csv``."""
        return len(self.types) > 1 or self.snr_db[0] != self.snr_db[1]

    @property
    def directory(self) -> str:
        return MIXTURE_DIR if self.mixture else noisy_dir_name(self.types[0], self.snr_db[0])


def noise_plan(
    noise: NoiseType | Sequence[NoiseType] | None, snr_db: float | tuple[float, float] | None
) -> NoisePlan | None:
    """``("white", 5)`` or ``(["white", "pink"], (0, 15))`` -> :class:`NoisePlan`; ``None`` for no noisy copy."""
    if (noise is None) != (snr_db is None):
        raise ConfigError("noise and snr_db (--noise, --snr) go together: give both or neither")
    if noise is None or snr_db is None:
        return None
    types = (noise,) if isinstance(noise, str) else tuple(noise)
    if not types:
        raise ConfigError(f"noise must name at least one of {', '.join(_NOISE_TYPES)}")
    for kind in types:
        if kind not in _NOISE_TYPES:
            raise ConfigError(f"noise must be {', '.join(_NOISE_TYPES[:-1])} or {_NOISE_TYPES[-1]}, got {kind!r}")
    if repeated := sorted({t for t in types if types.count(t) > 1}):
        raise ConfigError(f"noise {', '.join(repeated)} listed twice; name each type once")
    low, high = (snr_db, snr_db) if isinstance(snr_db, (int, float)) else snr_db
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ConfigError(f"snr_db must be a number of dB or a range low <= high, got {snr_db!r}")
    return NoisePlan(types, (float(low), float(high)))  # type: ignore[arg-type]


def draw_condition(plan: NoisePlan, seed: int, key: int) -> tuple[NoiseType, float]:
    """One utterance's noise type (uniform over ``plan.types``) and SNR (uniform in the range, to 0.01 dB).

    ``key`` identifies the utterance; the draw has its own stream, so an utterance's noise
    samples do not depend on whether its condition was drawn.
    """
    if not plan.mixture:
        return plan.types[0], plan.snr_db[0]
    rng = np.random.default_rng([seed, key, _CONDITION_STREAM])
    kind = plan.types[int(rng.integers(len(plan.types)))]
    low, high = plan.snr_db
    snr = float(np.clip(round(float(rng.uniform(low, high)), 2), low, high)) + 0.0  # + 0.0: no "-0.0"
    return kind, snr


def _to_pcm16(x: np.ndarray, what: str) -> np.ndarray:
    """Float samples (1.0 = full scale) -> int16; clipping is an error, not a silent change."""
    pcm = np.round(np.asarray(x, dtype=np.float64) * 32768.0)
    if pcm.size and (pcm.max() > 32767 or pcm.min() < -32768):
        raise DataError(f"{what} clips at 16 bits; lower gain_db (--gain-db) or raise the SNR (--snr)")
    return pcm.astype(np.int16)


def _read_pcm16(path: Path) -> np.ndarray:
    audio, _ = sf.read(path, dtype="int16")
    return audio


# -- the corpus -------------------------------------------------------------------------------


def _check_arguments(
    speakers: list[Speaker], sentences: int | None, n_prompts: int, sample_rate: int | None,
    seed: int, plan: NoisePlan | None, babble_talkers: int,
) -> None:  # fmt: skip
    for speaker in speakers:
        speaker.check()
    ids = [s.id for s in speakers]
    if not ids:
        raise ConfigError("no speakers given")
    if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"speaker id(s) {', '.join(duplicates)} used twice; tell them apart with :id=<name>")
    if sentences is not None and not 1 <= sentences <= n_prompts:
        raise ConfigError(f"sentences must be in [1, {n_prompts}], got {sentences}")
    if sample_rate is not None and sample_rate <= 0:
        raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}")
    if plan is not None and "babble" in plan.types and (len(speakers) < 2 or babble_talkers < 1):
        raise ConfigError("babble noise is made of other speakers: it needs at least 2 speakers and 1 talker")


def prepare_out_dir(out_dir: Path, written: Sequence[str], *, overwrite: bool, replaces: str) -> None:
    """Make ``out_dir`` for a synthetic corpus (this one, or the digits of :mod:`.digits`).

    A non-empty ``out_dir`` is refused unless ``overwrite``; then the entries ``written`` (names
    inside ``out_dir``: what the call writes, and only that) are removed first, so that no stale
    file of an earlier corpus survives. ``replaces`` names them in the refusal ("the speaker folders").
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"output {out_dir} exists and is not a directory")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise ConfigError(
                f"output directory {out_dir} is not empty; choose another one or pass --overwrite "
                f"(which replaces {replaces}, corpus.json and README.md written here)"
            )
        for name in written:
            path = out_dir / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def _noise_for(
    noise: str, clean: np.ndarray, rng: np.random.Generator, out_dir: Path,
    others: list[Speaker], prompts: list[Prompt], index: int, babble_talkers: int,
) -> np.ndarray:  # fmt: skip
    """One utterance's noise, shape ``(T,)`` as ``clean``; babble reads other speakers' clean files."""
    n_samples = clean.shape[0]
    if noise == "white":
        return rng.standard_normal(n_samples)
    if noise == "pink":
        return pink_noise(n_samples, rng)
    if noise == "speech_shaped":
        return speech_shaped_noise(clean, rng)
    talkers = []
    for _ in range(babble_talkers):
        other = others[rng.integers(len(others))]
        # consecutive utterances of another speaker, from another sentence, at a random offset
        start = (index + 1 + rng.integers(len(prompts) - 1)) % len(prompts) if len(prompts) > 1 else 0
        pieces, length, k = [], 0, start
        while length < 2 * n_samples:
            pieces.append(_read_pcm16(out_dir / other.directory / "wav" / f"{prompts[k].id}.wav"))
            length += pieces[-1].shape[0]
            k = (k + 1) % len(prompts)
        stream = np.concatenate(pieces)  # (L,), L >= 2T
        offset = rng.integers(stream.shape[0] - n_samples + 1)
        talkers.append(stream[offset : offset + n_samples])
    return babble_noise(talkers)


def synthesize_corpus(
    out_dir: str | Path,
    speakers: Sequence[str | Speaker] = DEFAULT_SPEAKERS,
    sentences: int | None = 20,
    *,
    sample_rate: int | None = None,
    seed: int = 0,
    noise: NoiseType | Sequence[NoiseType] | None = None,
    snr_db: float | tuple[float, float] | None = None,
    babble_talkers: int = 4,
    gain_db: float = -6.0,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Write a CMU ARCTIC-style corpus of the first ``sentences`` prompts (``None``: all 1,132).

    ``speakers`` are :class:`Speaker` objects or specs (``en-us+Alicia``,
    ``en+f3:pitch=70:rate=160``). ``sample_rate`` resamples from the engine's 22050 Hz with
    soxr. ``noise`` with ``snr_db`` adds a parallel noisy copy, seeded by ``seed``; babble
    sums ``babble_talkers`` streams of other speakers. One type and one SNR write
    ``wav_noisy_<noise><snr>/``; a list of types (``["white", "pink"]``) or an SNR range
    (``(0, 15)``) writes ``wav_noisy_mix/``, each utterance drawing its type and SNR
    (:func:`draw_condition`), with ``noise.csv`` listing them. ``gain_db`` scales the clean speech
    (headroom for the noise). An existing non-empty ``out_dir`` is an error unless
    ``overwrite``. Returns the manifest written to ``out_dir/corpus.json``.
    """
    out_dir = Path(out_dir)
    parsed = [s if isinstance(s, Speaker) else Speaker.parse(s) for s in speakers]
    prompts = load_prompts()
    plan = noise_plan(noise, snr_db)
    _check_arguments(parsed, sentences, len(prompts), sample_rate, seed, plan, babble_talkers)
    prompts = prompts[:sentences]
    # corpus.json and README.md are rewritten in place
    prepare_out_dir(out_dir, [s.directory for s in parsed], overwrite=overwrite, replaces="the speaker folders")

    engine_rate = 0
    total_samples = 0
    gain = 10 ** (gain_db / 20)
    bar = tqdm(total=len(parsed) * len(prompts), desc="synthesizing", unit="utt", disable=not progress)
    for speaker in parsed:
        wav_dir = out_dir / speaker.directory / "wav"
        wav_dir.mkdir(parents=True)
        for prompt in prompts:
            audio, engine_rate = espeak.synthesize(
                prompt.text, speaker.voice, rate=speaker.rate, pitch=speaker.pitch, pitch_range=speaker.pitch_range
            )
            if sample_rate is not None and sample_rate != engine_rate:
                audio = soxr.resample(audio, engine_rate, sample_rate, quality="HQ")
            pcm = _to_pcm16(audio * gain, f"{speaker.id}/{prompt.id}")
            sf.write(wav_dir / f"{prompt.id}.wav", pcm, sample_rate or engine_rate, subtype="PCM_16")
            total_samples += pcm.shape[0]
            bar.update()
        etc = out_dir / speaker.directory / "etc"
        etc.mkdir()
        (etc / "txt.done.data").write_text("".join(f'( {p.id} "{p.text}" )\n' for p in prompts), encoding="utf-8")
    bar.close()
    rate = sample_rate or engine_rate

    if plan is not None:
        _write_noisy_copy(out_dir, parsed, prompts, rate, plan, seed, babble_talkers, progress)

    manifest = _manifest(parsed, prompts, rate, engine_rate, total_samples, seed, plan, babble_talkers, gain_db)
    (out_dir / "corpus.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _write_noisy_copy(
    out_dir: Path, speakers: list[Speaker], prompts: list[Prompt], rate: int, plan: NoisePlan, seed: int,
    babble_talkers: int, progress: bool,
) -> None:  # fmt: skip
    """``<speaker folder>/<plan.directory>/<id>.wav`` for every clean file, and a mixture's ``noise.csv``."""
    desc = f"adding {'/'.join(plan.types)} noise"
    bar = tqdm(total=len(speakers) * len(prompts), desc=desc, unit="utt", disable=not progress)
    for speaker in speakers:
        noisy_dir = out_dir / speaker.directory / plan.directory
        noisy_dir.mkdir()
        others = [s for s in speakers if s is not speaker]  # babble never holds the utterance's own speaker
        rows = ["id,noise,snr_db\n"]
        for index, prompt in enumerate(prompts):
            clean = _read_pcm16(out_dir / speaker.directory / "wav" / f"{prompt.id}.wav")
            # one stream per utterance, independent of the order of speakers and prompts
            key = zlib.crc32(f"{speaker.id}/{prompt.id}".encode())
            noise, snr_db = draw_condition(plan, seed, key)
            rng = np.random.default_rng([seed, key])
            noise_signal = _noise_for(noise, clean, rng, out_dir, others, prompts, index, babble_talkers)
            noisy = mix_at_snr(clean / 32768.0, noise_signal, snr_db)
            pcm = _to_pcm16(noisy, f"{speaker.id}/{prompt.id} with {noise} noise at {snr_db:g} dB")
            sf.write(noisy_dir / f"{prompt.id}.wav", pcm, rate, subtype="PCM_16")
            rows.append(f"{prompt.id},{noise},{snr_db!r}\n")  # repr: the exact float that was mixed
            bar.update()
        if plan.mixture:
            (noisy_dir / NOISE_MANIFEST).write_text("".join(rows), encoding="utf-8")
    bar.close()


def _manifest(
    speakers: list[Speaker], prompts: list[Prompt], rate: int, engine_rate: int, total_samples: int, seed: int,
    plan: NoisePlan | None, babble_talkers: int, gain_db: float,
) -> dict[str, Any]:  # fmt: skip
    variants = espeak.list_variants()
    entries = []
    for speaker in speakers:
        variant = variants.get(speaker.voice.partition("+")[2])
        entries.append(
            asdict(speaker)
            | {"directory": speaker.directory, "gender": variant.gender if variant else None}
        )
    return {
        "engine": "eSpeak NG",
        "engine_version": espeak.engine_version(),
        "espeakng_loader_version": importlib.metadata.version("espeakng-loader"),
        "engine_sample_rate": engine_rate,
        "sample_rate": rate,
        "resampler": None if rate == engine_rate else f"soxr {importlib.metadata.version('soxr')} HQ",
        "format": "WAV PCM 16-bit mono",
        "gain_db": gain_db,
        "prompts": f"CMU ARCTIC {prompts[0].id}..{prompts[-1].id}",
        "utterances_per_speaker": len(prompts),
        "total_seconds": round(total_samples / rate, 3),
        "speakers": entries,
        "seed": seed,
        "noise": None if plan is None else _noise_entry(plan, babble_talkers),
    }


def _noise_entry(plan: NoisePlan, babble_talkers: int) -> dict[str, Any]:
    """corpus.json's ``noise``: one type and SNR, or a mixture's lists and its ``conditions`` file."""
    entry: dict[str, Any] = {
        "type": list(plan.types) if plan.mixture else plan.types[0],
        "snr_db": list(plan.snr_db) if plan.mixture else plan.snr_db[0],
        "directory": plan.directory,
        "babble_talkers": babble_talkers if "babble" in plan.types else None,
    }
    if plan.mixture:
        entry["conditions"] = NOISE_MANIFEST
    return entry


def _readme(manifest: dict[str, Any]) -> str:
    lines = [
        "# Synthetic CMU ARCTIC-style corpus",
        "",
        f"Written by `speechgan corpus synth` with {manifest['engine']} {manifest['engine_version']}: "
        f"{manifest['utterances_per_speaker']} prompts ({manifest['prompts']}) per speaker, "
        f"{manifest['sample_rate']} Hz, {manifest['format']}, clean gain {manifest['gain_db']:g} dB, "
        f"{manifest['total_seconds']:.1f} s of clean speech in all. Machine-readable: corpus.json.",
        "",
        "| folder | voice | gender | pitch | range | rate (wpm) |",
        "|---|---|---|---|---|---|",
    ]
    for s in manifest["speakers"]:
        lines.append(
            f"| {s['directory']} | {s['voice']} | {s['gender'] or '?'} | {s['pitch']} | {s['pitch_range']} | {s['rate']} |"
        )
    n = manifest["noise"]
    if n and "conditions" in n:
        lines += ["", f"Noisy copies: `<speaker folder>/{n['directory']}/`, each utterance with one of "
                  f"{', '.join(n['type'])} noise at an SNR drawn from {n['snr_db'][0]:g} to {n['snr_db'][1]:g} dB "
                  f"(seed {manifest['seed']}); `{n['conditions']}` in each folder lists them (id,noise,snr_db)."]
    elif n:
        lines += ["", f"Noisy copies: `<speaker folder>/{n['directory']}/` ({n['type']} noise at {n['snr_db']:g} dB SNR, "
                  f"seed {manifest['seed']})."]  # fmt: skip
    return "\n".join(lines) + "\n"
