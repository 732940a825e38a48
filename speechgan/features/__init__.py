"""Feature front-ends: reusable ``nn.Module``s from waveform to features.

They reach ``torchaudio.functional`` through :mod:`speechgan._torchaudio`, which checks once
that the installed torchaudio works with the installed torch.
"""

from .base import FrontEnd
from .mel import LogMelSpectrogram
from .mfcc import MFCC
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
]
