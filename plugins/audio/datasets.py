"""Speech corpora as registered datasets: a layout, a split, and an :class:`AudioDataset`.

Each layout of :mod:`speechgan.data.corpora` is registered under its own name. Its
factory takes the layout's arguments (``root``, ``mic``...) followed by the arguments
every speech dataset shares (:data:`COMMON_ARGS`):

* ``sample_rate``, ``segment_length`` (samples; ``null`` for whole utterances), ``pad``;
* ``split`` (``train``/``valid``/``test``/``all``), ``valid_size``, ``test_size``
  (fraction or count), ``split_seed``, ``stratify`` (per speaker), ``speakers``;
* ``seed`` (random segments), ``on_error`` (``fail``/``skip``);
* ``normalize`` (``none``/``peak``/``rms``), ``peak``, ``rms_db``, ``trim_db``, ``min_sample_rate``;
* ``cache_dir``, ``num_workers`` (feature cache), and ``features``, the front-end the
  trainer injects from the config's ``features:`` section.

Speaker labels are numbered over the whole selected corpus before it is split, so the
train and valid datasets agree on them. ``unpaired_speakers`` takes speaker lists A and B
over any layout and returns an :class:`UnpairedDataset` for CycleGAN-VC.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any, Literal

from speechgan import hookimpl
from speechgan.errors import ConfigError
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
from speechgan.features.base import FrontEnd

# ``speechgan preprocess`` belongs to this plugin: it fills the datasets' feature caches.
from .preprocess import speechgan_register_commands

__all__ = ["COMMON_ARGS", "DESCRIPTIONS", "unpaired_speakers", "speechgan_register_datasets", "speechgan_register_commands"]


def _keyword(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


#: The arguments every speech dataset factory takes after its layout's own.
COMMON_ARGS: tuple[inspect.Parameter, ...] = (
    _keyword("sample_rate", int, 22050),
    _keyword("segment_length", int | None, None),
    _keyword("pad", PadMode, "zeros"),
    _keyword("split", Split, "all"),
    _keyword("valid_size", float | int, 0.05),
    _keyword("test_size", float | int, 0.05),
    _keyword("split_seed", int, 0),
    _keyword("stratify", bool, False),
    _keyword("seed", int, 0),
    _keyword("on_error", OnError, "fail"),
    _keyword("normalize", Normalize, "none"),
    _keyword("peak", float, 0.95),
    _keyword("rms_db", float, -20.0),
    _keyword("trim_db", float | None, None),
    _keyword("min_sample_rate", int | None, None),
    _keyword("cache_dir", str | None, None),
    _keyword("num_workers", int | None, None),
    _keyword("features", FrontEnd | None, None),
)
_SPEAKERS = _keyword("speakers", list[str] | None, None)


def _with_signature(function: Callable[..., Any], name: str, doc: str, params: list[inspect.Parameter]) -> Callable[..., Any]:
    """Give ``function(**kwargs)`` the typed signature the config validates against."""
    signature = inspect.Signature(params)

    def factory(**kwargs: Any) -> Any:
        bound = signature.bind(**kwargs)  # a TypeError for unknown or missing arguments
        bound.apply_defaults()
        return function(**bound.arguments)

    factory.__signature__ = signature  # type: ignore[attr-defined]
    factory.__annotations__ = {p.name: p.annotation for p in params}
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = doc
    return factory


def _split_and_load(
    utterances: list[Utterance], policy: ErrorPolicy, *, on_error: OnError, split: Split,
    valid_size: float | int, test_size: float | int, split_seed: int, stratify: bool, sample_rate: int,
    normalize: Normalize, peak: float, rms_db: float, trim_db: float | None, min_sample_rate: int | None,
    **dataset_args: Any,
) -> tuple[list[Utterance], AudioLoader, dict[str, Any]]:
    """The split's utterances, the loader, and the AudioDataset keyword arguments.

    ``policy`` (built from ``on_error``) already holds what the layout skipped.
    """
    labels = {s: i for i, s in enumerate(sorted({u.speaker for u in utterances}))}
    chosen = split_utterances(utterances, split, valid_size=valid_size, test_size=test_size,
                              seed=split_seed, stratify=stratify)
    loader = AudioLoader(sample_rate=sample_rate, normalize=normalize, peak=peak, rms_db=rms_db,
                         trim_db=trim_db, min_sample_rate=min_sample_rate)
    return chosen, loader, {**dataset_args, "on_error": policy, "speaker_to_index": labels}


#: One line per layout, as ``speechgan plugins`` lists them.
DESCRIPTIONS: dict[str, str] = {
    "audio_folder": "every .wav/.flac/.ogg under a folder; speaker = parent folder name",
    "file_list": "a path|text|speaker list file (text and speaker optional)",
    "ljspeech": "LJSpeech-1.1 (metadata.csv, wavs/), one speaker",
    "vctk": "VCTK 0.92 (wav48_silence_trimmed/, FLAC) or 0.80 (wav48/, WAV), with txt/",
    "cmu_arctic": "CMU ARCTIC cmu_us_<spk>_arctic folders (wav/, etc/txt.done.data)",
    "vcc2018": "VCC2018 vcc2018_<part>/<speaker>/*.wav, no text",
}


def _layout_dataset(layout: Callable[..., list[Utterance]], name: str) -> Callable[..., AudioDataset]:
    """The registered factory of one layout: its own arguments, then :data:`COMMON_ARGS`."""
    hints = typing.get_type_hints(layout)
    own = [_keyword(p.name, hints[p.name], p.default)
           for p in inspect.signature(layout).parameters.values() if p.name != "policy"]

    def build(**kwargs: Any) -> AudioDataset:
        policy = ErrorPolicy(kwargs["on_error"])
        layout_args = {p.name: kwargs.pop(p.name) for p in own}
        utterances = select_speakers(layout(**layout_args, policy=policy), kwargs.pop("speakers"))
        chosen, loader, dataset_args = _split_and_load(utterances, policy, **kwargs)
        return AudioDataset(chosen, loader, **dataset_args)

    doc = (f"{DESCRIPTIONS[name]}\n\nLayout arguments ({layout.__module__}.{layout.__name__}): "
           f"{', '.join(p.name for p in own)}; then the common dataset arguments.")
    return _with_signature(build, name, doc, [*own, _SPEAKERS, *COMMON_ARGS])


def _unpaired(
    *, layout: str, root: str, speakers_a: list[str], speakers_b: list[str], mic: str, part: str, **kwargs: Any
) -> UnpairedDataset:
    policy = ErrorPolicy(kwargs["on_error"])
    list_utterances = LAYOUTS[layout]
    accepted = inspect.signature(list_utterances).parameters
    # Voice conversion needs no text: recordings without a transcript are kept.
    extra = {k: v for k, v in {"mic": mic, "part": part, "require_text": False}.items() if k in accepted}
    shared = sorted(set(speakers_a) & set(speakers_b))
    if shared:
        raise ConfigError(f"speakers_b: {', '.join(shared)} also in speakers_a; the two domains must not share speakers")
    utterances = list_utterances(root, **extra, policy=policy)
    both = select_speakers(utterances, speakers_a, "speakers_a") + select_speakers(utterances, speakers_b, "speakers_b")
    chosen, loader, dataset_args = _split_and_load(both, policy, **kwargs)
    in_a = set(speakers_a)
    return UnpairedDataset(
        [u for u in chosen if u.speaker in in_a], [u for u in chosen if u.speaker not in in_a], loader, **dataset_args
    )


unpaired_speakers = _with_signature(
    _unpaired,
    "unpaired_speakers",
    "two unpaired speaker sets A and B of any corpus layout, for CycleGAN-VC\n\n"
    "Items are {'a': ..., 'b': ...}; `root` is the corpus folder (the list file for file_list); "
    "`mic` applies to vctk, `part` to vcc2018.",
    [
        _keyword("layout", Literal[tuple(LAYOUTS)]),  # type: ignore[valid-type]
        _keyword("root", str),
        _keyword("speakers_a", list[str]),
        _keyword("speakers_b", list[str]),
        _keyword("mic", Literal["mic1", "mic2"], "mic1"),
        _keyword("part", Literal["training", "evaluation", "reference"], "training"),
        *COMMON_ARGS,
    ],
)


@hookimpl
def speechgan_register_datasets(register: Callable[..., None]) -> None:
    for name, layout in LAYOUTS.items():
        register(name, _layout_dataset(layout, name))
    register("unpaired_speakers", unpaired_speakers)
