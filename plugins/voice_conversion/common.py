"""Shape checks and speaker codes shared by the voice-conversion models.

Every generator here is fully convolutional along time: it downsamples the frame axis by
``frame_multiple`` and upsamples it back, so it keeps the input's shape exactly when the
number of frames ``N`` is a multiple of ``frame_multiple`` (CycleGAN-VC trains on
128-frame segments, MaskCycleGAN-VC on 64). StarGAN-VC's networks take the target (or
source) speaker as a one-hot code ``(B, n_speakers)`` or as indices ``(B,)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from speechgan.errors import DataError

__all__ = ["check_features", "speaker_code", "broadcast_code"]


def check_features(x: torch.Tensor, *, n_features: int, frame_multiple: int, where: str) -> None:
    """Fail with a readable message unless ``x`` is ``(B, n_features, N)``, ``N`` a multiple of ``frame_multiple``."""
    if x.dim() != 3 or x.shape[1] != n_features:
        raise DataError(f"{where}: expected features (B, {n_features}, N), got a tensor of shape {tuple(x.shape)}")
    frames = x.shape[-1]
    if frames % frame_multiple:
        raise DataError(
            f"{where}: {frames} frames is not a multiple of {frame_multiple} (the generator downsamples time by "
            f"{frame_multiple}); pad or crop the features to a multiple of {frame_multiple} frames"
        )


def speaker_code(speaker: torch.Tensor, *, n_speakers: int) -> torch.Tensor:
    """``(B,)`` speaker indices or ``(B, n_speakers)`` one-hot codes -> ``(B, n_speakers)`` float codes."""
    if speaker.dim() == 1 and not speaker.is_floating_point():
        return F.one_hot(speaker, n_speakers).float()
    if speaker.dim() != 2 or speaker.shape[1] != n_speakers:
        raise DataError(
            f"expected {n_speakers} speakers as indices (B,) or one-hot codes (B, {n_speakers}), "
            f"got a tensor of shape {tuple(speaker.shape)}"
        )
    return speaker.float()


def broadcast_code(x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
    """``x`` (B, C, H, W) with ``code`` (B, S) appended as S constant maps: (B, C + S, H, W)."""
    maps = code[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3]).to(x.dtype)
    return torch.cat([x, maps], dim=1)
