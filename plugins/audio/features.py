"""The built-in feature front-ends (see :mod:`speechgan.features`), registered by name."""

from __future__ import annotations

from speechgan import hookimpl
from speechgan.features import (
    MFCC,
    LogMelSpectrogram,
    LogSTFTMagnitude,
    STFTMagnitude,
    Waveform,
    WorldFeatures,
)
from speechgan.hookspecs import Register


@hookimpl
def speechgan_register_features(register: Register) -> None:
    register("waveform", Waveform, "the waveform itself (hop 1), optionally mu-law companded")
    register("stft", STFTMagnitude, "STFT magnitude, inverted by Griffin-Lim")
    register("log_stft", LogSTFTMagnitude, "log STFT magnitude, inverted by Griffin-Lim")
    register("log_mel", LogMelSpectrogram, "log-mel spectrogram as HiFi-GAN computes it (MelGAN via args)")
    register("mfcc", MFCC, "MFCCs: orthonormal DCT-II of the HiFi-GAN log-mel")
    register("world", WorldFeatures, "WORLD log-F0, voicing, mel-cepstrum and band aperiodicity (CPU, pyworld)")
