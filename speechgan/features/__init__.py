"""Feature front-ends: reusable ``nn.Module``s from waveform to features.

They reach ``torchaudio.functional`` through :mod:`speechgan._torchaudio`, which checks once
that the installed torchaudio works with the installed torch.
"""

from .base import FrontEnd
from .mel import LogMelSpectrogram
from .mfcc import MFCC
from .speaker_stats import (
    ChannelStats,
    SpeakerStats,
    accumulate_channel_stats,
    accumulate_stats,
    convert_log_f0,
    denormalize_mcep,
    normalize_mcep,
    statistics_baseline,
)
from .speaker_norm import SpeakerNormalizer
from .stft import LogSTFTMagnitude, STFTMagnitude
from .waveform import Waveform
from .world import WorldFeatures

__all__ = [
    "FrontEnd",
    "Waveform",
    "STFTMagnitude",
    "LogSTFTMagnitude",
    "LogMelSpectrogram",
    "MFCC",
    "WorldFeatures",
    "SpeakerStats",
    "ChannelStats",
    "accumulate_channel_stats",
    "SpeakerNormalizer",
    "accumulate_stats",
    "normalize_mcep",
    "denormalize_mcep",
    "convert_log_f0",
    "statistics_baseline",
]
