"""The audio data layer: file I/O, corpus layouts, splits, datasets and feature caching.

Every speech recipe reads audio through this package: :mod:`.audio_io` (read, resample,
downmix, trim, normalize), :mod:`.corpora` (corpus layouts -> :class:`Utterance` lists),
:mod:`.splits` (deterministic train/valid/test), :mod:`.datasets` (segments, features,
unpaired domains), :mod:`.cache` (features computed once, in parallel) and :mod:`.policy`
(fail at, or skip and report, bad files).

Names are imported lazily (PEP 562), so a light module such as :mod:`.policy` does not pay
for torch and librosa. The offline demo corpus (eSpeak NG voices reading the CMU ARCTIC
prompts) is the ``corpus`` plugin's: :mod:`speechgan_plugins.audio.corpus_synth`.
"""

from importlib import import_module
from typing import Any

_EXPORTS: dict[str, str] = {
    "AUDIO_EXTENSIONS": "audio_io",
    "AudioInfo": "audio_io",
    "AudioLoader": "audio_io",
    "Normalize": "audio_io",
    "audio_info": "audio_io",
    "downmix": "audio_io",
    "load_audio": "audio_io",
    "peak_normalize": "audio_io",
    "read_audio": "audio_io",
    "resample": "audio_io",
    "resampled_length": "audio_io",
    "rms_normalize": "audio_io",
    "trim_silence": "audio_io",
    "write_audio": "audio_io",
    "CacheResult": "cache",
    "FeatureCache": "cache",
    "PreprocessResult": "cache",
    "preprocess": "cache",
    "user_cache_dir": "cache",
    "LAYOUTS": "corpora",
    "Utterance": "corpora",
    "audio_folder": "corpora",
    "cmu_arctic": "corpora",
    "file_list": "corpora",
    "ljspeech": "corpora",
    "select_speakers": "corpora",
    "SPEECH_COMMANDS_SPLITS": "corpora",
    "speech_commands": "corpora",
    "vcc2018": "corpora",
    "vctk": "corpora",
    "AudioDataset": "datasets",
    "PadMode": "datasets",
    "UnpairedDataset": "datasets",
    "collate_padded": "datasets",
    "BadFile": "policy",
    "ErrorPolicy": "policy",
    "OnError": "policy",
    "SkipReport": "policy",
    "derive_seed": "samplers",
    "epoch_permutation": "samplers",
    "item_rng": "samplers",
    "Split": "splits",
    "split_utterances": "splits",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
