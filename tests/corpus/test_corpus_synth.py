"""The synthetic corpus: speaker specs, layout, reproducibility, noise at an exact SNR, and
noisy mixtures (a noise type and an SNR drawn per utterance, listed in noise.csv)."""

from __future__ import annotations

import csv
import hashlib
import importlib.resources
import json
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy.signal import butter, correlate, lfilter, welch

from speechgan.errors import ConfigError, DataError
from speechgan_plugins.audio import corpus as corpus_plugin
from speechgan_plugins.audio import espeak
from speechgan_plugins.audio.corpus_synth import (
    DEFAULT_SPEAKERS,
    Speaker,
    babble_noise,
    load_prompts,
    mix_at_snr,
    pink_noise,
    speech_shaped_noise,
    synthesize_corpus,
)

TWO = ("en-us+f3", "en-us+m1")
THREE = ("en-us+f3", "en-us+m1", "en-us+m3")
PROMPTS = ("arctic_a0001", "arctic_a0002", "arctic_a0003")


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def shipped_prompt_lines() -> list[str]:
    return importlib.resources.files("speechgan_plugins.audio").joinpath("cmuarctic.data").read_text().splitlines()


def read_pcm(root: Path, speaker: str, folder: str, utt: str) -> np.ndarray:
    return sf.read(root / f"cmu_us_{speaker}_arctic" / folder / f"{utt}.wav", dtype="int16")[0].astype(float)


def best_match(stream: np.ndarray, excerpt: np.ndarray) -> float:
    """The largest cosine similarity between ``excerpt`` (T,) and any T-long window of ``stream`` (L,)."""
    products = correlate(stream, excerpt, mode="valid", method="fft")  # (L - T + 1,)
    cumulative = np.concatenate([[0.0], np.cumsum(stream**2)])
    window_energy = cumulative[excerpt.shape[0] :] - cumulative[: -excerpt.shape[0]]  # (L - T + 1,)
    return float((products / np.sqrt(window_energy * np.sum(excerpt**2) + 1e-9)).max())


def read_conditions(path: Path) -> list[tuple[str, str, str]]:
    with path.open(newline="") as file:
        return [(row["id"], row["noise"], row["snr_db"]) for row in csv.DictReader(file)]


def measured_snr(clean_path: Path, noisy_path: Path) -> float:
    clean = sf.read(clean_path, dtype="int16")[0].astype(np.float64)
    noisy = sf.read(noisy_path, dtype="int16")[0].astype(np.float64)
    return 10 * np.log10(np.sum(clean**2) / np.sum((noisy - clean) ** 2))


# -- speaker specs ------------------------------------------------------------------------


def test_speaker_spec_parsing() -> None:
    assert Speaker.parse("en-us+Alicia") == Speaker("en-us+Alicia", "alicia")
    assert Speaker.parse("en+f3:pitch=70:rate=160:range=30") == Speaker(
        "en+f3", "f3", pitch=70, rate=160, pitch_range=30
    )
    assert Speaker.parse("en+Mr serious:id=serious").id == "serious"
    assert Speaker.parse("en-gb-x-rp").id == "en_gb_x_rp"
    assert Speaker("en+f3", "f3").directory == "cmu_us_f3_arctic"


def test_bad_speaker_specs() -> None:
    with pytest.raises(ConfigError, match=r"^bad speaker spec 'en\+f3:speed=3': 'speed=3' is not one of pitch=, rate="):
        Speaker.parse("en+f3:speed=3")
    with pytest.raises(ConfigError, match=r"^bad speaker spec 'en\+f3:pitch=high': pitch must be an integer, got 'high'$"):
        Speaker.parse("en+f3:pitch=high")
    with pytest.raises(ConfigError, match=r"^speaker 'f3': eSpeak NG rate must be in \[80, 450\], got 20$"):
        Speaker.parse("en+f3:rate=20").check()
    with pytest.raises(ConfigError, match=r"^speaker id 'F3!' of voice 'en\+f3' must be lower-case"):
        Speaker.parse("en+f3:id=F3!").check()


def test_default_speakers_are_two_female_and_two_male_variants() -> None:
    genders = [espeak.list_variants()[spec.partition("+")[2]].gender for spec in DEFAULT_SPEAKERS]
    assert sorted(genders) == ["female", "female", "male", "male"]


# -- layout and reproducibility -----------------------------------------------------------


def test_corpus_layout_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    manifest = synthesize_corpus(out, TWO, sentences=2, progress=False)
    prompts = load_prompts()
    shipped = shipped_prompt_lines()
    for speaker in ("f3", "m1"):
        root = out / f"cmu_us_{speaker}_arctic"
        assert sorted(p.name for p in (root / "wav").iterdir()) == ["arctic_a0001.wav", "arctic_a0002.wav"]
        # the same line format as the original prompt file
        assert (root / "etc" / "txt.done.data").read_text(encoding="utf-8").splitlines() == shipped[:2]
        info = sf.info(root / "wav" / "arctic_a0002.wav")
        assert (info.samplerate, info.channels, info.subtype, info.format) == (22050, 1, "PCM_16", "WAV")
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "cmu_us_f3_arctic", "cmu_us_m1_arctic", "corpus.json"]
    on_disk = json.loads((out / "corpus.json").read_text(encoding="utf-8"))
    assert on_disk == manifest
    assert manifest["sample_rate"] == manifest["engine_sample_rate"] == 22050
    assert manifest["engine_version"] == espeak.engine_version()
    assert manifest["prompts"] == f"CMU ARCTIC {prompts[0].id}..{prompts[1].id}"
    assert [(s["id"], s["voice"], s["gender"], s["pitch"], s["rate"]) for s in manifest["speakers"]] == [
        ("f3", "en-us+f3", "female", 50, 175),
        ("m1", "en-us+m1", "male", 50, 175),
    ]
    assert "| cmu_us_m1_arctic | en-us+m1 | male | 50 | 50 | 175 |" in (out / "README.md").read_text()


@pytest.mark.parametrize(
    ("noise", "snr_db", "folder", "per_speaker"),
    [("babble", 5.0, "wav_noisy_babble5", 2 + 2 + 1),  # wav, noisy wav, txt.done.data
     (["white", "pink", "babble"], (0.0, 15.0), "wav_noisy_mix", 2 + 2 + 1 + 1)],  # and noise.csv
)
def test_reruns_are_byte_identical(tmp_path: Path, noise, snr_db, folder: str, per_speaker: int) -> None:
    kwargs = dict(sentences=2, noise=noise, snr_db=snr_db, seed=3, progress=False)
    synthesize_corpus(tmp_path / "a", TWO, **kwargs)
    # the second run in another process, at another time: nothing may depend on either
    code = f"from speechgan_plugins.audio.corpus_synth import synthesize_corpus as s; s({str(tmp_path / 'b')!r}, {TWO!r}, **{kwargs!r})"
    subprocess.run([sys.executable, "-c", code], check=True)
    first, second = tree_hashes(tmp_path / "a"), tree_hashes(tmp_path / "b")
    assert len(first) == 2 * per_speaker + 2  # and the manifest, README
    assert first == second
    # another seed changes the noisy copies only
    synthesize_corpus(tmp_path / "c", TWO, **(kwargs | {"seed": 4}))
    third = tree_hashes(tmp_path / "c")
    changed = sorted(k for k in first if first[k] != third[k])
    assert changed == sorted(["corpus.json", "README.md"] + [k for k in first if folder in k])


def test_resampling(tmp_path: Path) -> None:
    synthesize_corpus(tmp_path / "sr", ("en-us+m1",), sentences=1, sample_rate=16000, progress=False)
    audio, rate = sf.read(tmp_path / "sr" / "cmu_us_m1_arctic" / "wav" / "arctic_a0001.wav")
    engine, engine_rate = espeak.synthesize(load_prompts()[0].text, "en-us+m1")
    assert rate == 16000
    assert abs(audio.shape[0] - engine.shape[0] * 16000 / engine_rate) <= 1
    # same waveform, 6 dB down: compare the levels
    assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.5 * np.sqrt(np.mean(engine**2)), rel=0.01)


# -- noise ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("noise", "snr_db"), [("white", 5.0), ("pink", -2.5), ("babble", 10.0), ("speech_shaped", 3.0)])
def test_noisy_copy_has_the_requested_snr(tmp_path: Path, noise: str, snr_db: float) -> None:
    synthesize_corpus(tmp_path, TWO, sentences=2, noise=noise, snr_db=snr_db, progress=False)
    for speaker in ("f3", "m1"):
        root = tmp_path / f"cmu_us_{speaker}_arctic"
        for utt in ("arctic_a0001", "arctic_a0002"):
            noisy = root / f"wav_noisy_{noise}{snr_db:g}" / f"{utt}.wav"
            assert measured_snr(root / "wav" / f"{utt}.wav", noisy) == pytest.approx(snr_db, abs=0.01)


def test_mix_at_snr_closed_form() -> None:
    clean = np.array([1.0, -1.0, 1.0, -1.0])  # energy 4
    noise = np.array([0.0, 2.0, 0.0, 0.0])  # energy 4
    np.testing.assert_allclose(mix_at_snr(clean, noise, 20.0), clean + 0.1 * noise)


def test_pink_noise_falls_3_db_per_octave() -> None:
    rate = 22050
    noise = pink_noise(2**18, np.random.default_rng(0))
    freqs, power = welch(noise, fs=rate, nperseg=8192)
    band = (freqs >= 20) & (freqs <= 8000)
    slope, _ = np.polyfit(np.log2(freqs[band]), 10 * np.log10(power[band]), 1)
    assert slope == pytest.approx(-10 * np.log10(2), abs=0.15)  # -3.01 dB/octave
    assert np.sqrt(np.mean(noise**2)) == pytest.approx(1.0)


def test_speech_shaped_noise_has_the_speech_spectrum() -> None:
    rate, rng = 16000, np.random.default_rng(0)
    # a "voice" with a formant-like resonance near 1 kHz and a -12 dB/octave tilt above it
    excitation = rng.standard_normal(2**16)
    b, a = butter(2, [700, 1300], btype="bandpass", fs=rate)
    speech = lfilter(b, a, excitation) + 0.05 * lfilter(*butter(2, 3000, fs=rate), excitation)
    noise = speech_shaped_noise(speech, np.random.default_rng(1))
    assert noise.shape == speech.shape and np.sqrt(np.mean(noise**2)) == pytest.approx(1.0)
    _, p_speech = welch(speech, fs=rate, nperseg=512)
    _, p_noise = welch(noise, fs=rate, nperseg=512)
    ratio_db = 10 * np.log10(p_noise[1:] / p_speech[1:])  # the same shape: a constant ratio, within Welch's scatter
    assert np.std(ratio_db) < 1.0 and np.ptp(10 * np.log10(p_speech[1:])) > 30
    # unlike the speech it is stationary: Gaussian, no envelope
    assert abs(np.mean(noise**4) / np.mean(noise**2) ** 2 - 3.0) < 0.1


def test_speech_shaped_noise_needs_speech() -> None:
    with pytest.raises(DataError, match="speech-shaped noise needs at least 512 samples of non-silent speech"):
        speech_shaped_noise(np.zeros(4096), np.random.default_rng(0))


def test_babble_is_another_speakers_speech(tmp_path: Path) -> None:
    synthesize_corpus(tmp_path, TWO, sentences=2, noise="babble", snr_db=0.0, babble_talkers=1, progress=False)
    noise = read_pcm(tmp_path, "f3", "wav_noisy_babble0", "arctic_a0001") - read_pcm(tmp_path, "f3", "wav", "arctic_a0001")
    # m1's utterances, one after the other: the single talker is an excerpt of this stream
    stream = np.concatenate([read_pcm(tmp_path, "m1", "wav", u) for u in ("arctic_a0001", "arctic_a0002") * 3])
    assert best_match(stream, noise) > 0.999  # equal up to a gain and 16-bit rounding


def test_babble_sums_level_matched_talkers() -> None:
    loud, quiet = np.array([3.0, -3.0, 3.0, -3.0]), np.array([0.1, 0.1, -0.1, -0.1])
    np.testing.assert_allclose(babble_noise([loud, quiet]), [2.0, 0.0, 0.0, -2.0])


# -- errors ---------------------------------------------------------------------------------


def test_existing_output_is_kept_unless_overwrite(tmp_path: Path) -> None:
    synthesize_corpus(tmp_path, ("en-us+f3",), sentences=2, progress=False)
    (tmp_path / "notes.txt").write_text("mine")
    before = tree_hashes(tmp_path)
    with pytest.raises(ConfigError, match=rf"^output directory {tmp_path} is not empty; choose another one or pass --overwrite"):
        synthesize_corpus(tmp_path, ("en-us+f3",), sentences=1, progress=False)
    assert tree_hashes(tmp_path) == before
    synthesize_corpus(tmp_path, ("en-us+f3",), sentences=1, overwrite=True, progress=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert [p.name for p in (tmp_path / "cmu_us_f3_arctic" / "wav").iterdir()] == ["arctic_a0001.wav"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"speakers": ("en+f3", "en-us+f3")}, "speaker id(s) f3 used twice; tell them apart with :id=<name>"),
        ({"speakers": ("en+f3",), "noise": "babble", "snr_db": 0.0}, "babble noise is made of other speakers"),
        ({"noise": "white"}, "noise and snr_db (--noise, --snr) go together: give both or neither"),
        ({"sentences": 2000}, "sentences must be in [1, 1132], got 2000"),
        ({"noise": ["white", "brown"], "snr_db": 5.0}, "noise must be white, pink, babble or speech_shaped, got 'brown'"),
        ({"noise": ["pink", "pink"], "snr_db": 5.0}, "noise pink listed twice; name each type once"),
        ({"noise": "white", "snr_db": (15.0, 0.0)}, "snr_db must be a number of dB or a range low <= high"),
        ({"speakers": ("en+f3",), "noise": ["white", "babble"], "snr_db": (0.0, 5.0)},
         "babble noise is made of other speakers"),
        ({"speakers": ("en-us+nosuch",)}, "speaker 'nosuch': unknown eSpeak NG voice variant 'nosuch'"),
    ],
)
def test_bad_arguments_fail_before_writing(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        synthesize_corpus(tmp_path / "out", **({"speakers": TWO, "sentences": 1} | kwargs), progress=False)
    assert str(err.value).startswith(message)
    assert not (tmp_path / "out").exists()


# -- noisy mixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Three voices x 3 prompts with a noisy copy mixing white, pink and babble at 0 to 15 dB."""
    root = tmp_path_factory.mktemp("mix")
    manifest = synthesize_corpus(root, THREE, sentences=3, noise=["white", "pink", "babble"], snr_db=(0.0, 15.0),
                                 babble_talkers=1, seed=3, progress=False)  # fmt: skip
    return root, manifest


def test_a_mixture_lists_each_files_noise_type_and_snr(mixture: tuple[Path, dict]) -> None:
    root, manifest = mixture
    assert manifest["noise"] == {"type": ["white", "pink", "babble"], "snr_db": [0.0, 15.0],
                                 "directory": "wav_noisy_mix", "babble_talkers": 1, "conditions": "noise.csv"}
    assert "`noise.csv` in each folder lists them (id,noise,snr_db)" in (root / "README.md").read_text()
    drawn = []
    for speaker in ("f3", "m1", "m3"):
        folder = root / f"cmu_us_{speaker}_arctic" / "wav_noisy_mix"
        rows = read_conditions(folder / "noise.csv")
        assert [r[0] for r in rows] == list(PROMPTS) == sorted(p.stem for p in folder.glob("*.wav"))
        for uid, noise, snr_text in rows:
            snr = float(snr_text)
            assert 0.0 <= snr <= 15.0 and round(snr, 2) == snr
            wav = root / f"cmu_us_{speaker}_arctic" / "wav" / f"{uid}.wav"
            assert measured_snr(wav, folder / f"{uid}.wav") == pytest.approx(snr, abs=0.01)
            drawn.append((noise, snr))
    assert {n for n, _ in drawn} == {"white", "pink", "babble"}
    assert len({s for _, s in drawn}) == len(drawn)  # drawn per utterance, not one SNR for all


def test_a_mixture_is_the_same_for_the_same_seed_only(mixture: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = mixture
    kwargs = dict(sentences=3, noise=["white", "pink", "babble"], snr_db=(0.0, 15.0), babble_talkers=1, progress=False)
    synthesize_corpus(tmp_path / "same", THREE, seed=3, **kwargs)
    assert tree_hashes(tmp_path / "same") == tree_hashes(root)
    synthesize_corpus(tmp_path / "other", THREE, seed=4, **kwargs)
    csv_path = Path("cmu_us_f3_arctic/wav_noisy_mix/noise.csv")
    assert read_conditions(tmp_path / "other" / csv_path) != read_conditions(root / csv_path)


def test_babble_in_a_mixture_never_holds_the_utterances_own_speaker(mixture: tuple[Path, dict]) -> None:
    root, _ = mixture
    streams = {s: np.concatenate([read_pcm(root, s, "wav", u) for u in PROMPTS * 3]) for s in ("f3", "m1", "m3")}
    babble = 0
    for speaker in ("f3", "m1", "m3"):
        folder = root / f"cmu_us_{speaker}_arctic" / "wav_noisy_mix"
        for uid, noise, _ in read_conditions(folder / "noise.csv"):
            if noise != "babble":
                continue
            babble += 1
            excerpt = read_pcm(root, speaker, "wav_noisy_mix", uid) - read_pcm(root, speaker, "wav", uid)
            matches = {other: best_match(stream, excerpt) for other, stream in streams.items()}
            assert max(matches[o] for o in streams if o != speaker) > 0.999  # one other talker, exactly
            assert matches[speaker] < 0.5
    assert babble >= 2


def test_synth_command_takes_a_noise_list_and_an_snr_range(tmp_path: Path) -> None:
    @click.group()
    def root() -> None:
        pass

    root.add_command(corpus_plugin.corpus)
    args = ["corpus", "synth", "--out", str(tmp_path / "a"), "--speakers", "en-us+f3,en-us+m1", "--sentences", "1"]
    result = CliRunner().invoke(root, args + ["--noise", "white,pink", "--snr", "-5:5"])
    assert result.exit_code == 0, result.output
    ((uid, noise, snr),) = read_conditions(tmp_path / "a" / "cmu_us_m1_arctic" / "wav_noisy_mix" / "noise.csv")
    assert uid == "arctic_a0001" and noise in ("white", "pink") and -5.0 <= float(snr) <= 5.0
    result = CliRunner().invoke(root, args[:3] + [str(tmp_path / "b"), "--noise", "white", "--snr", "0:x"])
    assert isinstance(result.exception, ConfigError)
    assert str(result.exception) == "--snr: expected a number of dB or a range LOW:HIGH (such as 0:15), got '0:x'"
