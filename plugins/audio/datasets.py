"""Speech corpora as registered datasets: a layout, a split, and an :class:`AudioDataset`.

Each layout of :mod:`speechgan.data.corpora` has a dataset class here, registered under
the layout's name. Its arguments are its fields: the layout's own (``root``, ``mic``...)
and, from :class:`SpeechDatasetArgs`, those every speech dataset shares:

* ``sample_rate``, ``segment_length`` (samples; ``null`` for whole utterances), ``pad``;
* ``split`` (``train``/``valid``/``test``/``all``), ``valid_size``, ``test_size``
  (fraction or count), ``split_seed``, ``stratify`` (per speaker), ``speakers``;
* ``seed`` (random segments), ``on_error`` (``fail``/``skip``);
* ``normalize`` (``none``/``peak``/``rms``), ``peak``, ``rms_db``, ``trim_db``, ``min_sample_rate``;
* ``cache_dir``, ``num_workers`` (feature cache), and ``features``, the front-end the
  trainer injects from the config's ``features:`` section.

Each class *is* the dataset (an :class:`AudioDataset`, or an :class:`UnpairedDataset`
for ``unpaired_speakers``): config validation reads the typed signature that the
dataclass fields give its constructor. Speaker labels are numbered over the whole
selected corpus before it is split, so the train and valid datasets agree on them.
``unpaired_speakers`` with ``prompts: disjoint`` trains its two speaker sets on disjoint
prompts and holds out parallel ones for evaluation.
Batches follow :mod:`speechgan.batches`: ``FEATURES`` (``UNPAIRED`` for two domains).
"""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

from speechgan import hookimpl
from speechgan.batches import FEATURES, UNPAIRED, BatchSpec
from speechgan.data import (
    LAYOUTS,
    AudioDataset,
    AudioLoader,
    ErrorPolicy,
    Normalize,
    OnError,
    PadMode,
    Split,
    UnpairedDataset,
    Utterance,
    select_speakers,
    split_utterances,
)
from speechgan.data.corpora import audio_folder, cmu_arctic, file_list, ljspeech, vcc2018, vctk
from speechgan.errors import ConfigError
from speechgan.features.base import FrontEnd

# labelled word clips (``speech_commands``: SC09 digits, LABELS batches) live in their own module
from .labelled import SpeechCommands

# noisy/clean pairs for speech enhancement (``paired_speech``) live in their own module
from .paired import PairedSpeech

# ``speechgan preprocess`` belongs to this plugin: it fills the datasets' feature caches.
from .preprocess import speechgan_register_commands

__all__ = [
    "SpeechDatasetArgs", "LayoutDataset", "AudioFolder", "FileList", "LJSpeech", "VCTK", "CMUArctic", "VCC2018",
    "UnpairedSpeakers", "Prompts", "PROMPT_LAYOUTS", "PromptSplit", "prompt_of", "split_prompts", "DATASETS",
    "speechgan_register_datasets", "speechgan_register_commands",
]

logger = logging.getLogger(__name__)

# eq=False keeps datasets hashable by identity; repr=False keeps the dataset's own repr.
_fields = dataclass(kw_only=True, eq=False, repr=False)


@_fields
class SpeechDatasetArgs:
    """The arguments every speech dataset shares, after its layout's own."""

    sample_rate: int = 22050  # every file is resampled to this rate
    segment_length: int | None = None  # samples per random crop; None: whole utterances
    pad: PadMode = "zeros"  # clips shorter than a segment: zeros, reflect, or none (rejected)
    split: Split = "all"
    valid_size: float | int = 0.05  # a fraction of the utterances, or a count
    test_size: float | int = 0.05
    split_seed: int = 0
    stratify: bool = False  # split each speaker's utterances alike
    seed: int = 0  # segment offsets
    on_error: OnError = "fail"  # a bad file stops the run, or is skipped and reported
    normalize: Normalize = "none"
    peak: float = 0.95
    rms_db: float = -20.0
    trim_db: float | None = None  # trim leading and trailing silence below this level
    min_sample_rate: int | None = None  # refuse files recorded below this rate
    cache_dir: str | None = None  # feature cache (needs a `features:` section)
    num_workers: int | None = None  # processes that fill the cache
    features: FrontEnd | None = None  # injected from the config's `features:` section

    def _split_and_load(self, utterances: list[Utterance], policy: ErrorPolicy) -> tuple[list[Utterance], AudioLoader, dict[str, Any]]:
        """The split's utterances, the loader, and the dataset's keyword arguments.

        ``policy`` (built from ``on_error``) already holds what the layout skipped.
        """
        chosen = split_utterances(utterances, self.split, valid_size=self.valid_size, test_size=self.test_size,
                                  seed=self.split_seed, stratify=self.stratify)
        return chosen, *self._load(utterances, policy)

    def _load(self, utterances: list[Utterance], policy: ErrorPolicy) -> tuple[AudioLoader, dict[str, Any]]:
        """The loader and the dataset's keyword arguments; speakers are labelled over all of ``utterances``."""
        labels = {s: i for i, s in enumerate(sorted({u.speaker for u in utterances}))}
        loader = AudioLoader(sample_rate=self.sample_rate, normalize=self.normalize, peak=self.peak,
                             rms_db=self.rms_db, trim_db=self.trim_db, min_sample_rate=self.min_sample_rate)
        options = {"segment_length": self.segment_length, "pad": self.pad, "features": self.features,
                   "seed": self.seed, "cache_dir": self.cache_dir, "num_workers": self.num_workers,
                   "on_error": policy, "speaker_to_index": labels}
        return loader, options


@_fields
class LayoutDataset(SpeechDatasetArgs, AudioDataset):
    """A corpus layout's utterances, optionally of some ``speakers``, as an :class:`AudioDataset`."""

    speakers: list[str] | None = None  # keep only these speakers (all by default)
    yields: ClassVar[BatchSpec] = FEATURES

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        """The layout's utterances (bad entries go to ``policy``)."""
        raise NotImplementedError

    def __post_init__(self) -> None:
        policy = ErrorPolicy(self.on_error)
        utterances = select_speakers(self.list_utterances(policy), self.speakers)
        chosen, loader, options = self._split_and_load(utterances, policy)
        AudioDataset.__init__(self, chosen, loader, **options)


@_fields
class AudioFolder(LayoutDataset):
    """every .wav/.flac/.ogg under a folder; speaker = parent folder name"""

    root: str
    speaker: str | None = None  # one speaker for every file instead

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        return audio_folder(self.root, self.speaker, policy=policy)


@_fields
class FileList(LayoutDataset):
    """a path|text|speaker list file (text and speaker optional)"""

    path: str
    speaker: str | None = None  # for lines that name none

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        return file_list(self.path, self.speaker, policy=policy)


@_fields
class LJSpeech(LayoutDataset):
    """LJSpeech-1.1 (metadata.csv, wavs/), one speaker"""

    root: str
    normalized_text: bool = True  # metadata.csv's third column (numbers spelled out)

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        return ljspeech(self.root, normalized_text=self.normalized_text, policy=policy)


@_fields
class VCTK(LayoutDataset):
    """VCTK 0.92 (wav48_silence_trimmed/, FLAC) or 0.80 (wav48/, WAV), with txt/"""

    root: str
    mic: Literal["mic1", "mic2"] = "mic1"  # 0.92 only
    require_text: bool = True

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        return vctk(self.root, mic=self.mic, require_text=self.require_text, policy=policy)


@_fields
class CMUArctic(LayoutDataset):
    """CMU ARCTIC cmu_us_<spk>_arctic folders (wav/, etc/txt.done.data)"""

    root: str
    require_text: bool = True
    wav_dir: str = "wav"

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        return cmu_arctic(self.root, require_text=self.require_text, wav_dir=self.wav_dir, policy=policy)


@_fields
class VCC2018(LayoutDataset):
    """VCC2018 vcc2018_<part>/<speaker>/*.wav, no text"""

    root: str
    part: Literal["training", "evaluation", "reference"] = "training"

    def list_utterances(self, policy: ErrorPolicy) -> list[Utterance]:
        return vcc2018(self.root, part=self.part, policy=policy)


Prompts = Literal["all", "disjoint"]

#: Layouts whose ids are ``<speaker>_<prompt>``, the prompt id shared by every speaker who read
#: it (``f3_arctic_a0001``, ``VCC2SF3_10001``). VCTK's ``p225_005`` is not: past the first
#: few, each speaker's numbers are different newspaper sentences.
PROMPT_LAYOUTS = ("cmu_arctic", "vcc2018")


def prompt_of(utterance: Utterance) -> str:
    """The prompt an utterance reads: its id less ``<speaker>_`` (``f3_arctic_a0001`` -> ``arctic_a0001``)."""
    return utterance.id.removeprefix(f"{utterance.speaker}_")


@dataclass(frozen=True)
class PromptSplit:
    """Which prompts train A, which train B, and which are held out as parallel evaluation pairs.

    The three are disjoint: no reading of a prompt in one is in another.
    """

    train_a: tuple[str, ...]
    train_b: tuple[str, ...]
    parallel: tuple[str, ...]


def _held_out_order(seed: int, prompt: str) -> bytes:
    # the split_utterances scheme: SHA-256, not the salted hash(), so every machine agrees
    return hashlib.sha256(f"{seed}:{prompt}".encode()).digest()


def split_prompts(
    utterances_a: list[Utterance], utterances_b: list[Utterance], *, parallel_size: int, seed: int
) -> PromptSplit:
    """Disjoint training prompts for A and B, and ``parallel_size`` held-out parallel ones.

    The held-out prompts are the first ``parallel_size``, in the order of a SHA-256 of
    ``"<seed>:<prompt>"``, of the prompts that every speaker of both sides has read. The
    other prompts both sides read are sorted and cut in two: the first half (the larger
    one, when odd) trains A, the second B. A prompt that only one side read trains that side.
    """
    read_by: dict[str, set[str]] = {}
    for utt in [*utterances_a, *utterances_b]:
        read_by.setdefault(utt.speaker, set()).add(prompt_of(utt))
    of_a = set().union(*(read_by[u.speaker] for u in utterances_a))
    of_b = set().union(*(read_by[u.speaker] for u in utterances_b))
    by_all = set.intersection(*read_by.values()) if read_by else set()
    if parallel_size > len(by_all):
        raise ConfigError(f"parallel_size: {parallel_size} prompts to hold out, but only {len(by_all)} are read "
                          "by every speaker of speakers_a and speakers_b")
    parallel = sorted(sorted(by_all, key=lambda p: _held_out_order(seed, p))[:parallel_size])
    both = sorted((of_a & of_b) - set(parallel))
    half = (len(both) + 1) // 2
    train_a, train_b = sorted([*both[:half], *(of_a - of_b)]), sorted([*both[half:], *(of_b - of_a)])
    if min(len(train_a), len(train_b)) < 2:
        raise ConfigError(f"prompts: disjoint leaves {len(train_a)} training prompt(s) to speakers_a and "
                          f"{len(train_b)} to speakers_b after holding out {parallel_size}; each side needs at "
                          "least 2: lower parallel_size or use more prompts")
    return PromptSplit(tuple(train_a), tuple(train_b), tuple(parallel))


def _span(prompts: list[str] | tuple[str, ...]) -> str:
    ordered = sorted(prompts)
    return ordered[0] if len(ordered) == 1 else f"{ordered[0]} to {ordered[-1]}"


@_fields
class UnpairedSpeakers(SpeechDatasetArgs, UnpairedDataset):
    """two unpaired speaker sets A and B of any corpus layout, for CycleGAN-VC

    Items are ``{"a": ..., "b": ...}``; ``root`` is the corpus folder (the list file for
    ``file_list``); ``mic`` applies to vctk, ``part`` to vcc2018. Recordings without a
    transcript are kept: voice conversion needs no text.

    ``prompts: all`` splits the utterances of A and B by ``split`` as every dataset does,
    so A and B may read the same prompts. ``prompts: disjoint`` (cmu_arctic and vcc2018,
    whose ids name the prompt) trains A and B on disjoint prompts, so no parallel pair is
    seen in training (as CycleGAN-VC, Kaneko & Kameoka, 2018, made its VCC 2016 training
    data non-parallel: the first half of the prompts for one speaker, the second half for
    the other), and holds out ``parallel_size`` prompts that every speaker read
    (:func:`split_prompts`). ``split: train`` then yields the unpaired training items and
    ``split: valid`` (or ``test``: they name one evaluation set) parallel items, each A
    speaker's reading of a held-out prompt with each B speaker's, whole and in order;
    ``valid_size``, ``test_size`` and ``stratify`` do not apply. :attr:`summary` says what
    the dataset holds (logged at INFO when it is built).
    """

    layout: Literal["audio_folder", "file_list", "ljspeech", "vctk", "cmu_arctic", "vcc2018"]
    root: str
    speakers_a: list[str]
    speakers_b: list[str]
    mic: Literal["mic1", "mic2"] = "mic1"
    part: Literal["training", "evaluation", "reference"] = "training"
    prompts: Prompts = "all"  # disjoint: A and B train on different prompts
    parallel_size: int | None = None  # prompts: disjoint only, prompts held out as parallel evaluation pairs
    yields: ClassVar[BatchSpec] = UNPAIRED

    def __post_init__(self) -> None:
        shared = sorted(set(self.speakers_a) & set(self.speakers_b))
        if shared:
            raise ConfigError(f"speakers_b: {', '.join(shared)} also in speakers_a; the two domains must not share speakers")
        self._check_prompt_arguments()
        policy = ErrorPolicy(self.on_error)
        list_utterances = LAYOUTS[self.layout]
        extra = {"mic": self.mic, "part": self.part, "require_text": False}
        accepted = inspect.signature(list_utterances).parameters
        utterances = list_utterances(self.root, **{k: v for k, v in extra.items() if k in accepted}, policy=policy)
        of_a = select_speakers(utterances, self.speakers_a, "speakers_a")
        of_b = select_speakers(utterances, self.speakers_b, "speakers_b")
        self.prompt_split: PromptSplit | None = None
        if self.prompts == "all":
            chosen, loader, options = self._split_and_load(of_a + of_b, policy)
            in_a = set(self.speakers_a)
            UnpairedDataset.__init__(self, [u for u in chosen if u.speaker in in_a],
                                     [u for u in chosen if u.speaker not in in_a], loader, **options)
        else:
            size: int = self.parallel_size  # type: ignore[assignment]  # an int: checked above
            split = self.prompt_split = split_prompts(of_a, of_b, parallel_size=size, seed=self.split_seed)
            loader, options = self._load(of_a + of_b, policy)  # labels over both splits: train and valid agree
            if self.split == "train":
                train_a, train_b = set(split.train_a), set(split.train_b)
                UnpairedDataset.__init__(self, [u for u in of_a if prompt_of(u) in train_a],
                                         [u for u in of_b if prompt_of(u) in train_b], loader, **options)
            else:
                self._init_parallel(of_a, of_b, set(split.parallel), loader, options)
        logger.info(self.summary)

    def _check_prompt_arguments(self) -> None:
        if self.prompts not in get_args(Prompts):
            raise ConfigError(f"prompts: must be 'all' or 'disjoint', got {self.prompts!r}")
        if self.prompts == "all":
            if self.parallel_size is not None:
                raise ConfigError("parallel_size: only applies with prompts: disjoint (prompts is 'all')")
            return
        if self.layout not in PROMPT_LAYOUTS:
            raise ConfigError(f"prompts: disjoint needs ids that name the prompt read, the same for every speaker "
                              f"({' and '.join(PROMPT_LAYOUTS)}); the {self.layout} layout has none")
        if isinstance(self.parallel_size, bool) or not isinstance(self.parallel_size, int) or self.parallel_size < 0:
            raise ConfigError("parallel_size: prompts: disjoint needs the number of parallel prompts to hold out "
                              f"for evaluation (0 or more), got {self.parallel_size!r}")
        if self.split == "all":
            raise ConfigError("split: prompts: disjoint has a train split (unpaired, disjoint prompts) and an "
                              "evaluation split (valid or test: the held-out parallel prompts); 'all' would mix them")

    def _init_parallel(self, of_a: list[Utterance], of_b: list[Utterance], held_out: set[str],
                       loader: AudioLoader, options: dict[str, Any]) -> None:
        """Each A speaker's reading of each held-out prompt with each B speaker's, by (prompt, A speaker, B speaker)."""
        if not held_out:
            raise ConfigError(f"parallel_size: 0 prompts are held out, so split: {self.split} has no parallel pair")
        a = sorted((u for u in of_a if prompt_of(u) in held_out), key=lambda u: (prompt_of(u), u.speaker))
        b = sorted((u for u in of_b if prompt_of(u) in held_out), key=lambda u: (prompt_of(u), u.speaker))
        pairs = [(ua.id, ub.id) for ua in a for ub in b if prompt_of(ua) == prompt_of(ub)]
        UnpairedDataset.__init__(self, a, b, loader, pairs=pairs, **options)

    @property
    def summary(self) -> str:
        """One line: which speakers and prompts each side holds, and what is held out."""
        speakers_a, speakers_b = f"[{', '.join(self.speakers_a)}]", f"[{', '.join(self.speakers_b)}]"
        head = f"unpaired_speakers ({self.prompts} prompts, split {self.split})"
        if self.prompt_split is None:
            return (f"{head}: A = {speakers_a} {len(self.a)} utterances, B = {speakers_b} {len(self.b)} utterances; "
                    "the two sides may read the same prompts")
        split = self.prompt_split
        if self.pairs is None:
            sides = []
            for name, speakers, dataset in (("A", speakers_a, self.a), ("B", speakers_b, self.b)):
                prompts = sorted({prompt_of(u) for u in dataset.utterances})
                sides.append(f"{name} = {speakers} {len(dataset)} utterances of {len(prompts)} prompts "
                             f"({_span(prompts)})")
            return (f"{head}: {', '.join(sides)}, no prompt in both; {len(split.parallel)} parallel prompts "
                    "held out for evaluation")
        prompts = sorted({prompt_of(self.a.utterances[i]) for i, _ in self.pairs})
        return (f"{head}: {len(self.pairs)} parallel pairs, A = {speakers_a} and B = {speakers_b} reading the same "
                f"{len(prompts)} held-out prompts ({_span(prompts)}), in neither training set "
                f"(A {len(split.train_a)} prompts, B {len(split.train_b)} prompts)")


#: Registered name -> dataset class.
DATASETS: dict[str, Callable[..., Any]] = {
    "audio_folder": AudioFolder,
    "file_list": FileList,
    "ljspeech": LJSpeech,
    "vctk": VCTK,
    "cmu_arctic": CMUArctic,
    "vcc2018": VCC2018,
    "unpaired_speakers": UnpairedSpeakers,
    "speech_commands": SpeechCommands,
    "paired_speech": PairedSpeech,
}


@hookimpl
def speechgan_register_datasets(register: Callable[..., None]) -> None:
    for name, factory in DATASETS.items():
        register(name, factory)
