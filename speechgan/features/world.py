"""WORLD vocoder features (Morise, Yokomori & Ozawa 2016, "WORLD: a vocoder-based
high-quality speech synthesis system for real-time applications") as one tensor.

Analysis with pyworld: F0 by Harvest (Morise 2017) or DIO refined by StoneMask; spectral
envelope by CheapTrick, coded as a mel-cepstrum of order ``order`` with all-pass constant
``alpha`` (``pysptk.sp2mc``; Fukada et al. 1992, "An adaptive algorithm for mel-cepstral
analysis of speech"); aperiodicity by D4C, coded in bands (``pyworld.code_aperiodicity``).
Synthesis: ``pysptk.mc2sp`` and ``pyworld.synthesize``.

Defaults: 5 ms frames (``hop_length = sample_rate // 200``; set it explicitly), ``alpha =
pysptk.util.mcepalpha(sample_rate)`` (0.41 at 16 kHz, 0.455 at 22.05 kHz), and ``order`` as
sprocket's per-rate speaker defaults: 24 up to 16 kHz, 34 up to 24 kHz, 40 above (the
CycleGAN-VC line of voice-conversion work uses the same 5 ms, 24-coefficient setting at
16 kHz).

This front-end runs on the CPU in numpy float64 (pyworld has no GPU path), one signal at a
time, and is not differentiable: the result is moved to the input's device and dtype.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import pysptk
import pyworld
import torch

from ..errors import ConfigError, DataError
from .base import FrontEnd
from .waveform import as_batch, restore_batch

__all__ = ["WorldFeatures", "WorldParts", "default_mcep_order"]


def default_mcep_order(sample_rate: int) -> int:
    """Mel-cepstrum order for a sample rate (sprocket's speaker defaults: 24, 34, 40)."""
    if sample_rate <= 16000:
        return 24
    return 34 if sample_rate <= 24000 else 40


class WorldParts(NamedTuple):
    """The channel groups of a WORLD feature tensor, each (B, C_part, N) or (C_part, N)."""

    log_f0: torch.Tensor  # natural log of F0 in Hz, 0 where unvoiced
    voiced: torch.Tensor  # 1 voiced, 0 unvoiced
    mcep: torch.Tensor  # order + 1 mel-cepstral coefficients
    coded_ap: torch.Tensor  # band aperiodicity in dB


class WorldFeatures(FrontEnd):
    """WORLD features [log-F0, voiced flag, mel-cepstrum, band aperiodicity] per frame.

    ``forward``: (T,) -> (C, N) or (B, T) -> (B, C, N), float64 numpy analysis on the CPU,
    result on the input's device. ``N = 1 + T // hop_length`` (frame period
    ``1000 * hop_length / sample_rate`` ms). Channel layout, with
    ``A = pyworld.get_num_aperiodicities(sample_rate)`` (1 at 16 kHz, 2 at 22.05 kHz):

    * channel 0: log F0 (natural log of Hz), 0 where unvoiced;
    * channel 1: voiced flag, 1.0 or 0.0;
    * channels 2 .. 2 + order: mel-cepstrum c0..c_order (``pysptk.sp2mc`` of the envelope);
    * the last A channels: coded aperiodicity in dB (``pyworld.code_aperiodicity``).

    :meth:`split` returns these groups; ``inverse(features, length=None)`` synthesizes a
    waveform (frames with voiced flag > 0.5 are voiced).
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        hop_length: int | None = None,
        f0_method: Literal["harvest", "dio"] = "harvest",
        f0_floor: float = 71.0,
        f0_ceil: float = 800.0,
        order: int | None = None,
        alpha: float | None = None,
    ) -> None:
        super().__init__()
        hop_length = sample_rate // 200 if hop_length is None else hop_length
        if sample_rate <= 0 or hop_length <= 0:
            raise ConfigError(f"WorldFeatures: sample_rate and hop_length must be positive, got {sample_rate} and {hop_length}")
        if not 0 < f0_floor < f0_ceil < sample_rate / 2:
            raise ConfigError(f"WorldFeatures: need 0 < f0_floor < f0_ceil < sample_rate / 2, got {f0_floor} and {f0_ceil}")
        self.sample_rate = sample_rate
        self.hop_length = hop_length
        self.f0_method = f0_method
        self.f0_floor = float(f0_floor)
        self.f0_ceil = float(f0_ceil)
        self.order = default_mcep_order(sample_rate) if order is None else order
        self.alpha = float(pysptk.util.mcepalpha(sample_rate)) if alpha is None else float(alpha)
        if self.order <= 0 or not -1 < self.alpha < 1:
            raise ConfigError(f"WorldFeatures: need order > 0 and -1 < alpha < 1, got {self.order} and {self.alpha}")
        self.frame_period = 1000.0 * hop_length / sample_rate  # ms
        # WORLD counts frames as int(1000 T / fs / frame_period) + 1, which rounds down to one
        # frame short when T is a multiple of the hop; a period shorter by 1e-9 (a drift of
        # 5e-7 ms after 10^5 frames) makes the count exactly 1 + T // hop_length.
        self._world_period = self.frame_period * (1 - 1e-9)
        self.fft_size = int(pyworld.get_cheaptrick_fft_size(sample_rate, self.f0_floor))
        self.n_aperiodicities = int(pyworld.get_num_aperiodicities(sample_rate))

    @property
    def params(self) -> dict[str, Any]:
        return {
            "sample_rate": self.sample_rate,
            "hop_length": self.hop_length,
            "f0_method": self.f0_method,
            "f0_floor": self.f0_floor,
            "f0_ceil": self.f0_ceil,
            "order": self.order,
            "alpha": self.alpha,
            "fft_size": self.fft_size,
        }

    @property
    def n_channels(self) -> int:
        return 2 + self.order + 1 + self.n_aperiodicities

    def split(self, features: torch.Tensor) -> WorldParts:
        """The channel groups of ``features`` (C, N) or (B, C, N)."""
        if features.shape[-2] != self.n_channels:
            raise DataError(
                f"front-end WorldFeatures: expected {self.n_channels} channels (order {self.order}, "
                f"{self.n_aperiodicities} aperiodicity bands), got {features.shape[-2]}"
            )
        m = 2 + self.order + 1
        return WorldParts(features[..., 0:1, :], features[..., 1:2, :], features[..., 2:m, :], features[..., m:, :])

    def _analyse(self, x: np.ndarray) -> np.ndarray:
        """One float64 signal (T,) -> (C, N)."""
        fs = self.sample_rate
        if self.f0_method == "harvest":
            f0, times = pyworld.harvest(x, fs, f0_floor=self.f0_floor, f0_ceil=self.f0_ceil, frame_period=self._world_period)
        else:
            f0, times = pyworld.dio(x, fs, f0_floor=self.f0_floor, f0_ceil=self.f0_ceil, frame_period=self._world_period)
            f0 = pyworld.stonemask(x, f0, times, fs)
        sp = pyworld.cheaptrick(x, f0, times, fs, f0_floor=self.f0_floor, fft_size=self.fft_size)  # (N, fft/2+1)
        ap = pyworld.d4c(x, f0, times, fs, fft_size=self.fft_size)  # (N, fft/2+1)
        mcep = pysptk.sp2mc(sp, order=self.order, alpha=self.alpha)  # (N, order + 1)
        coded_ap = pyworld.code_aperiodicity(ap, fs)  # (N, A)
        voiced = (f0 > 0).astype(np.float64)
        log_f0 = np.log(np.where(voiced > 0, f0, 1.0))  # 0 where unvoiced
        return np.concatenate([log_f0[:, None], voiced[:, None], mcep, coded_ap], axis=1).T

    @torch.no_grad()
    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x, unbatched = as_batch(wave, "WorldFeatures")
        signals = x.detach().cpu().double().numpy()
        feats = np.stack([self._analyse(np.ascontiguousarray(s)) for s in signals])  # (B, C, N)
        return restore_batch(torch.from_numpy(feats).to(device=wave.device, dtype=wave.dtype), unbatched)

    def _synthesize(self, feats: np.ndarray, length: int) -> np.ndarray:
        """One (C, N) float64 feature matrix -> (length,) signal."""
        log_f0, voiced, mcep, coded_ap = self.split(torch.from_numpy(feats))
        f0 = np.where(voiced[0].numpy() > 0.5, np.exp(log_f0[0].numpy()), 0.0)
        sp = pysptk.mc2sp(np.ascontiguousarray(mcep.numpy().T), self.alpha, self.fft_size)  # (N, fft/2+1)
        ap = pyworld.decode_aperiodicity(np.ascontiguousarray(coded_ap.numpy().T), self.sample_rate, self.fft_size)
        y = pyworld.synthesize(np.ascontiguousarray(f0), sp, ap, self.sample_rate, frame_period=self._world_period)
        return np.pad(y[:length], (0, max(0, length - y.shape[0])))

    @torch.no_grad()
    def inverse(self, features: torch.Tensor, length: int | None = None) -> torch.Tensor:
        x, unbatched = as_batch(features, "WorldFeatures", features=True)
        length = (x.shape[-1] - 1) * self.hop_length if length is None else length
        feats = x.detach().cpu().double().numpy()
        waves = np.stack([self._synthesize(np.ascontiguousarray(f), length) for f in feats])  # (B, T)
        return restore_batch(torch.from_numpy(waves).to(device=features.device, dtype=features.dtype), unbatched)
