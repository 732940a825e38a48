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
Batches follow :mod:`speechgan.batches`: ``FEATURES`` (``UNPAIRED`` for two domains).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

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

# ``speechgan preprocess`` belongs to this plugin: it fills the datasets' feature caches.
from .preprocess import speechgan_register_commands

__all__ = [
    "SpeechDatasetArgs", "LayoutDataset", "AudioFolder", "FileList", "LJSpeech", "VCTK", "CMUArctic", "VCC2018",
    "UnpairedSpeakers", "DATASETS", "speechgan_register_datasets", "speechgan_register_commands",
]

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
        labels = {s: i for i, s in enumerate(sorted({u.speaker for u in utterances}))}
        chosen = split_utterances(utterances, self.split, valid_size=self.valid_size, test_size=self.test_size,
                                  seed=self.split_seed, stratify=self.stratify)
        loader = AudioLoader(sample_rate=self.sample_rate, normalize=self.normalize, peak=self.peak,
                             rms_db=self.rms_db, trim_db=self.trim_db, min_sample_rate=self.min_sample_rate)
        options = {"segment_length": self.segment_length, "pad": self.pad, "features": self.features,
                   "seed": self.seed, "cache_dir": self.cache_dir, "num_workers": self.num_workers,
                   "on_error": policy, "speaker_to_index": labels}
        return chosen, loader, options


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


@_fields
class UnpairedSpeakers(SpeechDatasetArgs, UnpairedDataset):
    """two unpaired speaker sets A and B of any corpus layout, for CycleGAN-VC

    Items are ``{"a": ..., "b": ...}``; ``root`` is the corpus folder (the list file for
    ``file_list``); ``mic`` applies to vctk, ``part`` to vcc2018. Recordings without a
    transcript are kept: voice conversion needs no text.
    """

    layout: Literal["audio_folder", "file_list", "ljspeech", "vctk", "cmu_arctic", "vcc2018"]
    root: str
    speakers_a: list[str]
    speakers_b: list[str]
    mic: Literal["mic1", "mic2"] = "mic1"
    part: Literal["training", "evaluation", "reference"] = "training"
    yields: ClassVar[BatchSpec] = UNPAIRED

    def __post_init__(self) -> None:
        shared = sorted(set(self.speakers_a) & set(self.speakers_b))
        if shared:
            raise ConfigError(f"speakers_b: {', '.join(shared)} also in speakers_a; the two domains must not share speakers")
        policy = ErrorPolicy(self.on_error)
        list_utterances = LAYOUTS[self.layout]
        extra = {"mic": self.mic, "part": self.part, "require_text": False}
        accepted = inspect.signature(list_utterances).parameters
        utterances = list_utterances(self.root, **{k: v for k, v in extra.items() if k in accepted}, policy=policy)
        both = (select_speakers(utterances, self.speakers_a, "speakers_a")
                + select_speakers(utterances, self.speakers_b, "speakers_b"))
        chosen, loader, options = self._split_and_load(both, policy)
        in_a = set(self.speakers_a)
        UnpairedDataset.__init__(
            self, [u for u in chosen if u.speaker in in_a], [u for u in chosen if u.speaker not in in_a], loader, **options
        )


#: Registered name -> dataset class.
DATASETS: dict[str, Callable[..., Any]] = {
    "audio_folder": AudioFolder,
    "file_list": FileList,
    "ljspeech": LJSpeech,
    "vctk": VCTK,
    "cmu_arctic": CMUArctic,
    "vcc2018": VCC2018,
    "unpaired_speakers": UnpairedSpeakers,
}


@hookimpl
def speechgan_register_datasets(register: Callable[..., None]) -> None:
    for name, factory in DATASETS.items():
        register(name, factory)
