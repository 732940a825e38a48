"""Short-time Fourier transform front-ends and the STFT machinery the mel and MFCC ones share.

Framing: the signal is reflect-padded by ``(left, right)`` samples and cut into frames of
``n_fft`` samples every ``hop_length`` (``torch.stft`` with ``center=False``), so every
front-end states its padding explicitly: ``center=True`` is ``n_fft // 2`` on both sides (what
``torch.stft``/``librosa.stft`` do), the HiFi-GAN mel uses ``(n_fft - hop_length) // 2``. The
number of frames is ``N = 1 + (T + left + right - n_fft) // hop_length``.

The inverse is Griffin-Lim (Griffin & Lim 1984, "Signal estimation from modified short-time
Fourier transform") with the momentum of the fast variant (Perraudin, Balazs & Søndergaard
2013, "A fast Griffin-Lim algorithm"): alternate between the magnitude constraint and the set
of consistent STFTs, extrapolating the phase estimate by ``momentum`` (0.99 as in the paper
and ``torchaudio.functional.griffinlim``). The overlap-add inverse STFT divides by the summed
squared window, like ``torch.istft``, but works with any padding. ``torchaudio``'s
``griffinlim`` does not serve here: it frames with ``center=True`` only (not HiFi-GAN's
``(n_fft - hop_length) // 2`` padding, nor ``center=False``) and draws its initial phase from
torch's global random generator; this one seeds a generator of its own, so an inverse is
reproducible and leaves the training's random state alone.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
import torch.nn.functional as F

from ..errors import ConfigError, DataError
from .base import FrontEnd, passes_args_to
from .waveform import as_batch, restore_batch

__all__ = ["WindowName", "SpectralFrontEnd", "STFTMagnitude", "LogSTFTMagnitude", "magnitude"]

WindowName = Literal["hann", "hamming", "blackman"]


def magnitude(spec: torch.Tensor, eps: float) -> torch.Tensor:
    """``sqrt(re^2 + im^2 + eps)``: with ``eps > 0`` the gradient is finite at zero."""
    return (spec.real.square() + spec.imag.square() + eps).sqrt()


class SpectralFrontEnd(FrontEnd):
    """Base of the STFT-based front-ends: framing, complex STFT, inverse STFT, Griffin-Lim.

    The analysis window (periodic, ``win_length`` long, zero-padded to ``n_fft`` in the middle
    as ``torch.stft`` does) is a non-persistent buffer: it moves with ``.to()`` and is rebuilt
    from the parameters rather than stored in checkpoints.
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        n_fft: int,
        hop_length: int,
        win_length: int | None,
        window: WindowName,
        padding: tuple[int, int],
        n_iter: int,
        momentum: float,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        win_length = n_fft if win_length is None else win_length
        for arg, value in (("sample_rate", sample_rate), ("n_fft", n_fft), ("hop_length", hop_length), ("win_length", win_length)):
            if value <= 0:
                raise ConfigError(f"{name}: {arg} must be positive, got {value}")
        if win_length > n_fft:
            raise ConfigError(f"{name}: win_length ({win_length}) must not exceed n_fft ({n_fft})")
        if n_iter < 0 or not 0.0 <= momentum < 1.0:
            raise ConfigError(f"{name}: need n_iter >= 0 and 0 <= momentum < 1, got {n_iter} and {momentum}")
        self.sample_rate = sample_rate
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window_name = window
        self.padding = padding
        self.n_iter = n_iter
        self.momentum = momentum
        win = getattr(torch, f"{window}_window")(win_length, periodic=True, dtype=torch.float64)
        left = (n_fft - win_length) // 2
        self.register_buffer("window", F.pad(win, (left, n_fft - win_length - left)).float(), persistent=False)

    @property
    def frame_params(self) -> dict[str, Any]:
        """What fixes the framing; subclasses add theirs to make :attr:`params`."""
        return {
            "sample_rate": self.sample_rate,
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "win_length": self.win_length,
            "window": self.window_name,
            "padding": list(self.padding),
        }

    def spectrum(self, wave: torch.Tensor) -> torch.Tensor:
        """Complex one-sided STFT of a (B, T) float signal: (B, n_fft // 2 + 1, N)."""
        left, right = self.padding
        length = wave.shape[-1]
        if length <= max(left, right) or length + left + right < self.n_fft:
            need = max(max(left, right) + 1, self.n_fft - left - right)
            raise DataError(
                f"front-end {type(self).__name__}: a signal of {length} samples is too short for n_fft="
                f"{self.n_fft} with padding {left}+{right}; give at least {need} samples"
            )
        if left or right:  # reflect-pad wants (B, C, T)
            wave = F.pad(wave.unsqueeze(1), (left, right), mode="reflect").squeeze(1)
        return torch.stft(
            wave, self.n_fft, hop_length=self.hop_length, window=self.window.to(wave.dtype),
            center=False, return_complex=True,
        )  # (B, F, N)

    def default_length(self, n_frames: int) -> int:
        """The signal length an ``N``-frame STFT covers once the padding is cropped."""
        left, right = self.padding
        return (n_frames - 1) * self.hop_length + self.n_fft - left - right

    def istft(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        """Least-squares overlap-add inverse of :meth:`spectrum`: (B, F, N) -> (B, length).

        Samples no frame covers (past the last full hop) come out as zeros.
        """
        n_frames = spec.shape[-1]
        window = self.window.to(spec.real.dtype)
        frames = torch.fft.irfft(spec, n=self.n_fft, dim=1) * window[:, None]  # (B, n_fft, N)
        total = (n_frames - 1) * self.hop_length + self.n_fft
        fold = dict(output_size=(1, total), kernel_size=(1, self.n_fft), stride=(1, self.hop_length))
        signal = F.fold(frames, **fold)[:, 0, 0]  # (B, total)
        envelope = F.fold(window.square()[None, :, None].expand(1, -1, n_frames), **fold)[0, 0, 0]
        signal = signal / torch.where(envelope > 1e-11, envelope, torch.ones_like(envelope))
        left = self.padding[0]
        signal = signal[:, left : left + length]
        return F.pad(signal, (0, length - signal.shape[-1]))

    @torch.no_grad()
    def griffin_lim(self, mag: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """A (B, T) signal whose STFT magnitude approximates ``mag`` (B, F, N).

        The initial phase is uniform random from a fixed seed, so the inverse is reproducible.
        """
        length = self.default_length(mag.shape[-1]) if length is None else length
        generator = torch.Generator().manual_seed(0)
        phase = 2 * math.pi * torch.rand(mag.shape, generator=generator, dtype=mag.dtype)
        angles = torch.polar(torch.ones_like(phase), phase).to(mag.device)  # (B, F, N)
        previous = torch.zeros_like(angles)
        for _ in range(self.n_iter):
            rebuilt = self.spectrum(self.istft(mag * angles, length))
            angles = rebuilt + self.momentum * (rebuilt - previous)
            angles = angles / (angles.abs() + 1e-16)
            previous = rebuilt
        return self.istft(mag * angles, length)


class STFTMagnitude(SpectralFrontEnd):
    """STFT magnitude ``sqrt(re^2 + im^2 + eps) ** power``, inverted by Griffin-Lim.

    ``forward``: (T,) -> (n_fft // 2 + 1, N) or (B, T) -> (B, n_fft // 2 + 1, N), with
    ``N = 1 + T // hop_length`` when ``center`` (reflect padding of ``n_fft // 2`` each side)
    and ``N = 1 + (T - n_fft) // hop_length`` otherwise. ``inverse(features, length=None)``
    runs ``n_iter`` Griffin-Lim iterations; ``n_iter`` and ``momentum`` only shape the inverse,
    so they are not part of :attr:`params`.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 1024,
        hop_length: int = 256,
        win_length: int | None = None,
        window: WindowName = "hann",
        center: bool = True,
        power: float = 1.0,
        eps: float = 1e-9,
        n_iter: int = 32,
        momentum: float = 0.99,
    ) -> None:
        pad = n_fft // 2 if center else 0
        super().__init__(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length,
            win_length=win_length, window=window, padding=(pad, pad), n_iter=n_iter, momentum=momentum,
        )
        if power <= 0:
            raise ConfigError(f"{type(self).__name__}: power must be positive, got {power}")
        self.center = center
        self.power = power
        self.eps = eps

    @property
    def params(self) -> dict[str, Any]:
        return {**self.frame_params, "power": self.power, "eps": self.eps}

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x, unbatched = as_batch(wave, type(self).__name__)
        mag = magnitude(self.spectrum(x), self.eps)  # (B, F, N)
        return restore_batch(mag if self.power == 1 else mag.pow(self.power), unbatched)

    def to_magnitude(self, features: torch.Tensor) -> torch.Tensor:
        """Features back to the plain STFT magnitude (B, F, N)."""
        return features.clamp(min=0).pow(1 / self.power)

    def inverse(self, features: torch.Tensor, length: int | None = None) -> torch.Tensor:
        x, unbatched = as_batch(features, type(self).__name__, features=True)
        return restore_batch(self.griffin_lim(self.to_magnitude(x), length), unbatched)


class LogSTFTMagnitude(STFTMagnitude):
    """Log STFT magnitude ``log(clamp(|X| ** power, min=log_clamp))``, inverted by Griffin-Lim.

    Takes ``log_clamp`` and every argument of :class:`STFTMagnitude`; shapes and frame count
    as :class:`STFTMagnitude`.
    """

    @passes_args_to(STFTMagnitude)
    def __init__(self, *, log_clamp: float = 1e-5, **stft_args: Any) -> None:
        super().__init__(**stft_args)
        if log_clamp <= 0:
            raise ConfigError(f"LogSTFTMagnitude: log_clamp must be positive, got {log_clamp}")
        self.log_clamp = log_clamp

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "log_clamp": self.log_clamp}

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        return super().forward(wave).clamp(min=self.log_clamp).log()

    def to_magnitude(self, features: torch.Tensor) -> torch.Tensor:
        return super().to_magnitude(features.exp())
