"""Corpus layouts: where a speech corpus keeps its audio and transcripts.

Each layout is a small function from a folder (or a list file) to a sorted list of
:class:`Utterance`. Layouts read directory listings and text files only; the audio is
checked when a dataset scans it. Layouts as the corpora are distributed:

* a folder of audio files, searched recursively (``.wav``, ``.flac``, ``.ogg``);
* a file list, one ``path|text|speaker`` per line (text and speaker optional);
* LJSpeech-1.1 (Ito & Johnson, 2017): ``metadata.csv`` lines ``id|text|normalized_text``
  and ``wavs/<id>.wav``;
* VCTK (Yamagishi et al., CSTR): 0.92 has ``wav48_silence_trimmed/<spk>/<spk>_<nnn>_mic1.flac``
  (and ``_mic2``), 0.80 has ``wav48/<spk>/<spk>_<nnn>.wav``; both ``txt/<spk>/<spk>_<nnn>.txt``;
* CMU ARCTIC (Kominek & Black, 2003): ``cmu_us_<spk>_arctic/wav/arctic_a0001.wav`` with
  ``etc/txt.done.data`` lines ``( arctic_a0001 "Author of the danger trail, ..." )``;
* VCC2018 (Lorenzo-Trueba et al., 2018): ``vcc2018_<part>/<speaker>/<nnnnn>.wav`` for the
  parts ``training``, ``evaluation`` and ``reference``; no text.
* Speech Commands (Warden, 2018) and its SC09 subset (the digits "zero" ... "nine"):
  ``<word>/<speaker>_nohash_<n>.wav``, with ``validation_list.txt`` and ``testing_list.txt``
  naming the held-out files (relative paths, one per line); every other file is training.
  The word is the utterance's text.

Paired layouts (:data:`PAIRED_LAYOUTS`) list a noisy recording with its clean twin, a file
of the same name in a sibling folder, as :class:`PairedUtterance`:

* VoiceBank-DEMAND (Valentini-Botinhao et al., "Investigating RNN-based speech enhancement
  methods for noise-robust Text-to-Speech", SSW9 2016): ``clean_trainset_28spk_wav/p226_001.wav``
  with ``noisy_trainset_28spk_wav/p226_001.wav`` (or the ``_56spk`` training set), and
  ``clean_testset_wav`` / ``noisy_testset_wav``; the speaker is the name before ``_``;
* the demo corpus's noisy copy: ``cmu_us_<spk>_arctic/wav/<id>.wav`` with
  ``cmu_us_<spk>_arctic/<noisy_dir>/<id>.wav`` (``wav_noisy_white5``, ``wav_noisy_mix``).

A file whose twin is missing is a bad file, named by its path.

A problem with one entry (a malformed line, a missing transcript, a repeated id) goes
through the :class:`~speechgan.data.policy.ErrorPolicy`; a corpus that is not there at
all is always a ``DataError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import ConfigError, DataError
from .audio_io import AUDIO_EXTENSIONS
from .policy import BadFile, ErrorPolicy

__all__ = [
    "Utterance",
    "LAYOUTS",
    "audio_folder",
    "file_list",
    "ljspeech",
    "vctk",
    "cmu_arctic",
    "vcc2018",
    "speech_commands",
    "SPEECH_COMMANDS_SPLITS",
    "select_speakers",
    "PairedUtterance",
    "PAIRED_LAYOUTS",
    "pair_twins",
    "voicebank_demand",
    "voicebank_demand_folders",
    "cmu_arctic_noisy",
]


@dataclass(frozen=True)
class Utterance:
    """One recording: its file, transcript (if the corpus has one), speaker and unique id."""

    path: Path
    text: str | None
    speaker: str
    id: str


def _require_dir(root: Path, what: str) -> None:
    if not root.is_dir():
        raise DataError(f"{root}: {what} folder not found")


def _read_lines(path: Path, what: str) -> list[str]:
    if not path.is_file():
        raise DataError(f"{path}: {what} not found")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _read_transcript(path: Path) -> str | None:
    return (path.read_text(encoding="utf-8").strip() or None) if path.is_file() else None


def _unique_ids(utterances: Iterable[Utterance], policy: ErrorPolicy) -> list[Utterance]:
    """Sorted by id; a repeated id (``a.wav`` beside ``a.flac``) is a bad file."""
    first: dict[str, Utterance] = {}
    for utt in sorted(utterances, key=lambda u: (u.id, u.path.as_posix())):
        if utt.id in first:
            policy.handle(BadFile(utt.path, f"utterance id {utt.id!r} is also that of "
                                            f"{first[utt.id].path}; rename or remove one of them"))
            continue
        first[utt.id] = utt
    return list(first.values())


def _audio_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()),
        key=lambda p: p.as_posix(),
    )


def audio_folder(root: str | Path, speaker: str | None = None, *, policy: ErrorPolicy | None = None) -> list[Utterance]:
    """Every audio file under ``root``; the speaker is ``speaker`` or the file's parent folder name.

    The id is the path relative to ``root`` without its extension (``p225/p225_001``).
    """
    root = Path(root)
    _require_dir(root, "audio")
    files = _audio_files(root)
    if not files:
        raise DataError(f"{root}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) found")
    utterances = (
        Utterance(p, None, speaker or p.parent.name, p.relative_to(root).with_suffix("").as_posix()) for p in files
    )
    return _unique_ids(utterances, policy or ErrorPolicy())


def file_list(path: str | Path, speaker: str | None = None, *, policy: ErrorPolicy | None = None) -> list[Utterance]:
    """A ``path|text|speaker`` list; relative paths are relative to the list file.

    Blank lines and lines starting with ``#`` are ignored. Without a speaker field the
    speaker is ``speaker`` or the audio file's parent folder name. The id is the path as
    written, without its extension.
    """
    path = Path(path)
    policy = policy or ErrorPolicy()
    utterances = []
    for lineno, raw in enumerate(_read_lines(path, "file list"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in line.split("|")]
        if len(fields) > 3 or not fields[0]:
            policy.handle(BadFile(f"{path}:{lineno}", f"malformed line {line!r}: expected "
                                                     "path|text|speaker (text and speaker optional)"))
            continue
        fields += [""] * (3 - len(fields))
        written = Path(fields[0])
        audio = written if written.is_absolute() else path.parent / written
        utterances.append(
            Utterance(audio, fields[1] or None, fields[2] or speaker or audio.parent.name,
                      written.with_suffix("").as_posix())
        )
    return _unique_ids(utterances, policy)


def ljspeech(root: str | Path, normalized_text: bool = True, *, policy: ErrorPolicy | None = None) -> list[Utterance]:
    """LJSpeech-1.1: one speaker (``"LJ"``); the normalized transcript unless told otherwise."""
    root = Path(root)
    _require_dir(root, "LJSpeech")
    policy = policy or ErrorPolicy()
    metadata = root / "metadata.csv"
    utterances = []
    for lineno, raw in enumerate(_read_lines(metadata, "LJSpeech metadata.csv"), start=1):
        if not raw.strip():
            continue
        fields = raw.split("|")  # not csv: transcripts hold unbalanced quotes
        if len(fields) not in (2, 3) or not fields[0].strip():
            policy.handle(BadFile(f"{metadata}:{lineno}", f"malformed line {raw.strip()!r}: "
                                                         "expected id|text|normalized_text"))
            continue
        uid = fields[0].strip()
        wav = root / "wavs" / f"{uid}.wav"
        chosen = fields[2] if normalized_text and len(fields) == 3 and fields[2].strip() else fields[1]
        if not chosen.strip():
            policy.handle(BadFile(wav, f"missing transcript (empty text in {metadata}:{lineno})"))
            continue
        utterances.append(Utterance(wav, chosen.strip(), "LJ", uid))
    return _unique_ids(utterances, policy)


def vctk(
    root: str | Path,
    mic: Literal["mic1", "mic2"] = "mic1",
    require_text: bool = True,
    *,
    policy: ErrorPolicy | None = None,
) -> list[Utterance]:
    """VCTK 0.92 (FLAC, microphone ``mic``) or 0.80 (WAV, one microphone), found by folder name.

    Ids are ``<spk>_<nnn>``. A recording without a transcript (all of p315 in 0.92) is a
    bad file unless ``require_text`` is false, when its text is ``None``.
    """
    root = Path(root)
    _require_dir(root, "VCTK")
    policy = policy or ErrorPolicy()
    if (root / "wav48_silence_trimmed").is_dir():
        audio_root, pattern, suffix = root / "wav48_silence_trimmed", f"*_{mic}.flac", f"_{mic}"
    elif (root / "wav48").is_dir():
        audio_root, pattern, suffix = root / "wav48", "*.wav", ""
    else:
        raise DataError(f"{root}: neither wav48_silence_trimmed/ (VCTK 0.92) nor wav48/ (VCTK 0.80) found; "
                        "point root at the VCTK folder that holds txt/")
    utterances = []
    for speaker_dir in sorted(d for d in audio_root.iterdir() if d.is_dir()):
        for audio in sorted(speaker_dir.glob(pattern)):
            uid = audio.stem.removesuffix(suffix)
            transcript = root / "txt" / speaker_dir.name / f"{uid}.txt"
            text = _read_transcript(transcript)
            if text is None and require_text:
                policy.handle(BadFile(audio, f"missing transcript ({transcript} is missing or empty); "
                                             "set require_text=false to use recordings without text"))
                continue
            utterances.append(Utterance(audio, text, speaker_dir.name, uid))
    return _unique_ids(utterances, policy)


_ARCTIC_DIR = re.compile(r"^cmu_us_(.+)_arctic$")
_ARCTIC_LINE = re.compile(r'^\(\s*(\S+)\s+"(.*)"\s*\)$')


def _arctic_prompts(path: Path, policy: ErrorPolicy) -> dict[str, str]:
    if not path.is_file():
        return {}
    prompts = {}
    for lineno, raw in enumerate(_read_lines(path, "CMU ARCTIC prompt file"), start=1):
        if not raw.strip():
            continue
        match = _ARCTIC_LINE.match(raw.strip())
        if match is None:
            policy.handle(BadFile(f"{path}:{lineno}", f"malformed line {raw.strip()!r}: "
                                                     'expected ( arctic_a0001 "text" )'))
            continue
        prompts[match.group(1)] = match.group(2)
    return prompts


def cmu_arctic(
    root: str | Path, require_text: bool = True, wav_dir: str = "wav", *, policy: ErrorPolicy | None = None
) -> list[Utterance]:
    """One ``cmu_us_<spk>_arctic`` folder, or a folder holding several; ids ``<spk>_arctic_a0001``.

    ``wav_dir`` names the audio folder in each speaker folder: ``wav``, or a parallel copy
    such as the demo corpus's noisy ``wav_noisy_white5``.
    """
    root = Path(root)
    _require_dir(root, "CMU ARCTIC")
    policy = policy or ErrorPolicy()
    speaker_dirs = [root] if _ARCTIC_DIR.match(root.name) else sorted(
        d for d in root.iterdir() if d.is_dir() and _ARCTIC_DIR.match(d.name)
    )
    if not speaker_dirs:
        raise DataError(f"{root}: no cmu_us_<speaker>_arctic folder found")
    utterances = []
    for speaker_dir in speaker_dirs:
        speaker = _ARCTIC_DIR.match(speaker_dir.name).group(1)  # type: ignore[union-attr]
        _require_dir(speaker_dir / wav_dir, f"CMU ARCTIC {wav_dir}")
        prompt_file = speaker_dir / "etc" / "txt.done.data"
        prompts = _arctic_prompts(prompt_file, policy)
        for wav in sorted((speaker_dir / wav_dir).glob("*.wav")):
            text = prompts.get(wav.stem)
            if text is None and require_text:
                policy.handle(BadFile(wav, f"missing transcript (no line for {wav.stem!r} in {prompt_file}); "
                                           "set require_text=false to use recordings without text"))
                continue
            utterances.append(Utterance(wav, text, speaker, f"{speaker}_{wav.stem}"))
    return _unique_ids(utterances, policy)


def vcc2018(
    root: str | Path,
    part: Literal["training", "evaluation", "reference"] = "training",
    *,
    policy: ErrorPolicy | None = None,
) -> list[Utterance]:
    """The VCC2018 folder holding ``vcc2018_<part>/`` (or that part's folder itself); ids ``<speaker>_<nnnnn>``."""
    root = Path(root)
    _require_dir(root, "VCC2018")
    folder = root / f"vcc2018_{part}" if (root / f"vcc2018_{part}").is_dir() else root
    speaker_dirs = sorted(d for d in folder.iterdir() if d.is_dir() and d.name.startswith("VCC2"))
    if not speaker_dirs:
        raise DataError(f"{root}: neither vcc2018_{part}/ nor speaker folders (VCC2SF1, ...) found")
    utterances = (
        Utterance(wav, None, d.name, f"{d.name}_{wav.stem}") for d in speaker_dirs for wav in sorted(d.glob("*.wav"))
    )
    return _unique_ids(utterances, policy or ErrorPolicy())


#: Split name -> the list file naming its files (the training split is every other file).
SPEECH_COMMANDS_SPLITS: dict[str, str | None] = {
    "train": None, "valid": "validation_list.txt", "test": "testing_list.txt"}


def _listed(root: Path, name: str) -> set[str]:
    path = root / name
    return {line.strip() for line in _read_lines(path, "split list") if line.strip()} if path.is_file() else set()


def speech_commands(
    root: str | Path,
    split: Literal["train", "valid", "test"] | None = None,
    words: Iterable[str] | None = None,
    *,
    policy: ErrorPolicy | None = None,
) -> list[Utterance]:
    """Speech Commands / SC09: ``<word>/<speaker>_nohash_<n>.wav``; text = word, id = ``<word>/<stem>``.

    ``split`` selects by the list files (``None``: every file); ``words`` the word folders
    (``None``: every folder). A file whose name has no ``_nohash_`` gets its whole stem
    as the speaker. A word asked for but absent is a ``ConfigError``.
    """
    root = Path(root)
    _require_dir(root, "Speech Commands")
    if split is not None and split not in SPEECH_COMMANDS_SPLITS:
        raise ConfigError(f"split: {split!r} is not one of {', '.join(SPEECH_COMMANDS_SPLITS)}")
    folders = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    wanted = list(words) if words is not None else folders
    missing = [w for w in wanted if w not in folders]
    if missing:
        raise ConfigError(f"words: {', '.join(map(repr, missing))} not in {root}; its word folders are "
                          f"{', '.join(folders) or 'none'}")
    held_out = {name: _listed(root, name) for name in ("validation_list.txt", "testing_list.txt")}
    utterances = []
    for word in wanted:
        for wav in sorted((root / word).glob("*.wav")):
            rel = f"{word}/{wav.name}"
            in_split = {"valid": rel in held_out["validation_list.txt"], "test": rel in held_out["testing_list.txt"]}
            in_split["train"] = not (in_split["valid"] or in_split["test"])
            if split is not None and not in_split[split]:
                continue
            speaker = wav.stem.split("_nohash_")[0]
            utterances.append(Utterance(wav, word, speaker, f"{word}/{wav.stem}"))
    if not utterances:
        raise DataError(f"{root}: no .wav files in the word folders {', '.join(wanted)}"
                        + (f" for split {split!r}" if split else ""))
    return _unique_ids(utterances, policy or ErrorPolicy())


#: Layout name -> function, as the dataset plugins name them.
LAYOUTS: dict[str, Callable[..., list[Utterance]]] = {
    "audio_folder": audio_folder,
    "file_list": file_list,
    "ljspeech": ljspeech,
    "vctk": vctk,
    "cmu_arctic": cmu_arctic,
    "vcc2018": vcc2018,
    "speech_commands": speech_commands,
}


def select_speakers(utterances: list[Utterance], speakers: Iterable[str] | None, key: str = "speakers") -> list[Utterance]:
    """The utterances of ``speakers`` (all when ``None``); a speaker not in the corpus is a ConfigError."""
    if speakers is None:
        return utterances
    wanted = set(speakers)
    present = {u.speaker for u in utterances}
    missing = sorted(wanted - present)
    if missing:
        raise ConfigError(f"{key}: {', '.join(map(repr, missing))} not in the corpus; "
                          f"its speakers are {', '.join(sorted(present))}")
    return [u for u in utterances if u.speaker in wanted]


# -- paired layouts: a noisy recording and its clean twin -------------------------------------


@dataclass(frozen=True)
class PairedUtterance:
    """A noisy recording and its clean twin: the same speech, time-aligned, in two files."""

    clean: Utterance
    noisy: Utterance

    @property
    def id(self) -> str:
        return self.clean.id

    @property
    def speaker(self) -> str:
        return self.clean.speaker


def _no_twin(path: Path, kind: str, folder: str) -> BadFile:
    """``path`` lacks its ``kind`` twin, the file of the same name in the sibling ``folder``."""
    twin = path.parent.parent / folder / path.name
    return BadFile(path, f"no {kind} twin: {twin} not found; a pair needs both files, with the same name")


def pair_twins(
    clean: Iterable[Utterance], noisy: Iterable[Utterance], clean_dir: str, noisy_dir: str, policy: ErrorPolicy
) -> list[PairedUtterance]:
    """Clean and noisy utterances matched by id, sorted by id; a file without its twin goes to ``policy``.

    The twin of ``<...>/<noisy_dir>/<name>`` is ``<...>/<clean_dir>/<name>`` and the reverse.
    """
    by_id_clean, by_id_noisy = {u.id: u for u in clean}, {u.id: u for u in noisy}
    pairs = []
    for uid in sorted(by_id_clean.keys() | by_id_noisy.keys()):
        c, n = by_id_clean.get(uid), by_id_noisy.get(uid)
        if c is None:
            policy.handle(_no_twin(n.path, "clean", clean_dir))  # type: ignore[union-attr]
        elif n is None:
            policy.handle(_no_twin(c.path, "noisy", noisy_dir))
        else:
            pairs.append(PairedUtterance(c, n))
    return pairs


def voicebank_demand_folders(
    part: Literal["train", "test"] = "train", train_set: Literal["28spk", "56spk"] = "28spk"
) -> tuple[str, str]:
    """The (clean, noisy) folder names of a VoiceBank-DEMAND part."""
    if part not in ("train", "test"):
        raise ConfigError(f"part: must be 'train' or 'test', got {part!r}")
    if train_set not in ("28spk", "56spk"):
        raise ConfigError(f"train_set: must be '28spk' or '56spk', got {train_set!r}")
    if part == "test":
        return "clean_testset_wav", "noisy_testset_wav"
    return f"clean_trainset_{train_set}_wav", f"noisy_trainset_{train_set}_wav"


def voicebank_demand(
    root: str | Path,
    part: Literal["train", "test"] = "train",
    train_set: Literal["28spk", "56spk"] = "28spk",
    *,
    policy: ErrorPolicy | None = None,
) -> list[PairedUtterance]:
    """VoiceBank-DEMAND's ``part`` (the training set of 28 or 56 speakers, or the test set); ids ``p226_001``."""
    root = Path(root)
    _require_dir(root, "VoiceBank-DEMAND")
    policy = policy or ErrorPolicy()
    folders = voicebank_demand_folders(part, train_set)
    for folder in folders:
        if not (root / folder).is_dir():
            present = sorted(d.name for d in root.iterdir() if d.is_dir() and d.name.endswith("_wav"))
            raise DataError(f"{root / folder}: VoiceBank-DEMAND {part} folder not found; {root} holds "
                            f"{', '.join(present) or 'no *_wav folder'} (train_set chooses 28spk or 56spk)")
    clean, noisy = (
        [Utterance(wav, None, wav.stem.split("_")[0], wav.stem) for wav in sorted((root / folder).glob("*.wav"))]
        for folder in folders
    )
    if not clean and not noisy:
        raise DataError(f"{root}: no .wav files in {folders[0]}/ or {folders[1]}/")
    return pair_twins(clean, noisy, *folders, policy)


def cmu_arctic_noisy(
    root: str | Path, noisy_dir: str, clean_dir: str = "wav", *, policy: ErrorPolicy | None = None
) -> list[PairedUtterance]:
    """The demo corpus's noisy copy ``cmu_us_<spk>_arctic/<noisy_dir>/`` with its clean ``<clean_dir>/``.

    Ids are :func:`cmu_arctic`'s (``f3_arctic_a0001``); transcripts are kept where present.
    """
    policy = policy or ErrorPolicy()
    clean = cmu_arctic(root, require_text=False, wav_dir=clean_dir, policy=policy)
    # the prompt files were read (and any bad line reported) with the clean files already
    noisy = cmu_arctic(root, require_text=False, wav_dir=noisy_dir, policy=ErrorPolicy("skip"))
    return pair_twins(clean, noisy, clean_dir, noisy_dir, policy)


#: Paired layout name -> function, as the ``paired_speech`` dataset names them.
PAIRED_LAYOUTS: dict[str, Callable[..., list[PairedUtterance]]] = {
    "voicebank_demand": voicebank_demand,
    "cmu_arctic_noisy": cmu_arctic_noisy,
}
