"""The multi-resolution STFT loss of Parallel WaveGAN (Yamamoto, Song & Kim, ICASSP 2020,
"Parallel WaveGAN: A fast waveform generation model based on generative adversarial networks
with multi-resolution spectrogram": the "multi-resolution STFT auxiliary loss").

For each STFT resolution, with magnitudes ``S = sqrt(max(|STFT(x)|^2, 1e-7))`` of the real
signal and ``S^`` of the generated one:

* spectral convergence ``L_sc = ||S - S^||_F / ||S||_F``, the Frobenius norms taken over the
  whole batch as the reference ``stft_loss.py`` does today (its first release averaged
  per-frame ratios instead);
* log STFT magnitude ``L_mag = mean |ln S - ln S^|``, the paper's ``(1/N) ||.||_1``.

Both are averaged over the resolutions; the paper's auxiliary loss is their sum, weighted 1
against ``lambda_adv = 4`` for the adversarial term. The defaults are its three resolutions
(FFT size, hop, window) = (1024, 120, 600), (2048, 240, 1200), (512, 50, 240), with periodic
Hann windows and a centred (reflect-padded) STFT. Multi-band MelGAN (Yang et al. 2021) and
UnivNet (Jang et al. 2021) train with the same loss.

One implementation serves training and evaluation: the ``mr_stft`` metric
(:func:`speechgan.metrics.multi_resolution_stft_distance`) is this module's sum.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError, DataError

__all__ = ["MultiResolutionSTFTLoss", "PWG_RESOLUTIONS", "Resolution", "WindowName"]

#: (fft_size, hop_size, win_length) of one STFT.
Resolution = tuple[int, int, int]

#: Parallel WaveGAN's three resolutions.
PWG_RESOLUTIONS: tuple[Resolution, ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))

#: The window names of the feature front-ends (``speechgan.features.stft.WindowName``),
#: written out here so that importing the losses does not import the front-ends.
WindowName = Literal["hann", "hamming", "blackman"]

# Parallel WaveGAN's floor on the power |X|^2 before the square root: keeps ln S finite.
_POWER_FLOOR = 1e-7


class MultiResolutionSTFTLoss(nn.Module):
    """Spectral convergence and log STFT magnitude distance, averaged over STFT resolutions.

    ``forward(fake, real)`` takes signals of shape (B, T) or (B, C, T) (channels, such as
    sub-bands, are folded into the batch) and returns the tensors
    ``(spectral_convergence, log_magnitude)``: 0 and 0 for identical signals, ``|1 - a|``
    and ``|ln a|`` for ``fake = a * real`` (up to the power floor). Both are differentiable
    in ``fake``; half-precision inputs are computed in float32. Signals must be longer than
    half the largest FFT size (the reflect padding of a centred STFT).

    The windows are non-persistent buffers: they follow ``.to(device)`` and are rebuilt from
    the arguments rather than stored in checkpoints.
    """

    def __init__(
        self,
        *,
        resolutions: tuple[Resolution, ...] = PWG_RESOLUTIONS,
        window: WindowName = "hann",
    ) -> None:
        super().__init__()
        if not resolutions:
            raise ConfigError("MultiResolutionSTFTLoss: resolutions is empty; give at least one (fft_size, hop, win)")
        for fft_size, hop, win in resolutions:
            if min(fft_size, hop, win) <= 0 or win > fft_size:
                raise ConfigError(
                    f"MultiResolutionSTFTLoss: resolution ({fft_size}, {hop}, {win}) must be (fft_size, hop, "
                    "win_length) with all three positive and win_length <= fft_size"
                )
        self.resolutions = tuple((int(n), int(h), int(w)) for n, h, w in resolutions)
        self.window_name = window
        make_window = getattr(torch, f"{window}_window")
        for i, (_, _, win) in enumerate(self.resolutions):
            periodic = make_window(win, periodic=True, dtype=torch.float64).float()  # (win,)
            self.register_buffer(f"window_{i}", periodic, persistent=False)

    @property
    def min_length(self) -> int:
        """The fewest samples a signal may have: one more than half the largest FFT size."""
        return max(fft_size for fft_size, _, _ in self.resolutions) // 2 + 1

    def magnitudes(self, x: Tensor, index: int) -> Tensor:
        """Floored STFT magnitudes (B, fft_size // 2 + 1, N) of (B, T) signals at resolution ``index``."""
        fft_size, hop, win = self.resolutions[index]
        window = getattr(self, f"window_{index}").to(x.dtype)
        spec = torch.stft(x, fft_size, hop, win, window, center=True, pad_mode="reflect", return_complex=True)
        return torch.sqrt(torch.clamp(spec.real.square() + spec.imag.square(), min=_POWER_FLOOR))

    def forward(self, fake: Tensor, real: Tensor) -> tuple[Tensor, Tensor]:
        fake, real = self._signals(fake, "fake"), self._signals(real, "real")
        if fake.shape != real.shape:
            raise ValueError(
                f"MultiResolutionSTFTLoss: fake {tuple(fake.shape)} and real {tuple(real.shape)} signals differ "
                "in shape; cut both to the same length"
            )
        if fake.shape[-1] < self.min_length:
            raise DataError(
                f"multi-resolution STFT loss: needs more than {self.min_length - 1} samples (half the largest "
                f"FFT size), got {fake.shape[-1]}; use longer segments or smaller FFT sizes in `resolutions`"
            )
        both = torch.cat([fake, real])  # (2B, T): one STFT call per resolution
        convergence, log_distance = [], []
        for i in range(len(self.resolutions)):
            s_fake, s_real = self.magnitudes(both, i).chunk(2)  # (B, F, N) each
            convergence.append(torch.linalg.norm(s_real - s_fake) / torch.linalg.norm(s_real))
            log_distance.append(F.l1_loss(torch.log(s_fake), torch.log(s_real)))
        return torch.stack(convergence).mean(), torch.stack(log_distance).mean()

    def terms(self, fake: Tensor, real: Tensor, *, name: str = "g/stft") -> dict[str, Tensor]:
        """The loss as an objective's named terms: ``name``, the sum of :meth:`forward`'s two parts
        (Parallel WaveGAN's auxiliary loss), and each part, detached, under ``stats/stft_convergence``
        and ``stats/stft_log_magnitude`` for the logs."""
        convergence, log_magnitude = self(fake, real)
        return {
            name: convergence + log_magnitude,
            "stats/stft_convergence": convergence.detach(),
            "stats/stft_log_magnitude": log_magnitude.detach(),
        }

    @staticmethod
    def _signals(x: Tensor, name: str) -> Tensor:
        """(B, T) or (B, C, T) -> (B * C, T), in float32 at least."""
        if x.dim() not in (2, 3):
            raise ValueError(f"MultiResolutionSTFTLoss: {name} must be (B, T) or (B, C, T), got {tuple(x.shape)}")
        x = x.reshape(-1, x.shape[-1])
        return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x

    def extra_repr(self) -> str:
        return f"resolutions={self.resolutions}, window={self.window_name!r}"
