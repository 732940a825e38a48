"""Streaming synthesis: a vocoder run chunk by chunk, equal to offline synthesis.

A convolutional generator's output at a sample depends only on the input frames within its
receptive field (Luo et al. 2016, "Understanding the Effective Receptive Field in Deep
Convolutional Neural Networks"; chunked synthesis with overlapping context as in
Kong et al. 2020, "HiFi-GAN", and Kumar et al. 2019, "MelGAN", whose generators are fully
convolutional). So a chunk of frames ``[start, end)`` synthesised from the frames
``[start - C, end + C)``, ``C`` the one-sided receptive field in input frames, and cut back
to its own ``(end - start) * hop`` samples, equals the same samples of offline synthesis:
padding at a chunk's borders (zeros or reflection) reaches no kept sample, and at the
signal's true edges the chunk holds the edge, padded as offline.

:func:`conv_reach` and :func:`transposed_reach` give the one-sided reach of layers in
samples of their input; :func:`receptive_field_frames` sums them, each scaled to input
frames, for the generators' ``context_frames()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from fractions import Fraction

import torch
from torch import nn

from speechgan.errors import DataError

__all__ = ["conv_reach", "transposed_reach", "receptive_field_frames", "vocode_streaming"]


def conv_reach(module: nn.Module) -> int:
    """One-sided reach in samples of the stride-1 ``Conv1d`` layers of ``module``, taken in series.

    A length-keeping convolution of kernel ``k`` and dilation ``d`` sees ``(k - 1) d / 2``
    samples on each side; convolutions in series (a residual block's chain, where the
    shortcut adds no reach) add up. Parallel branches must be taken apart by the caller
    (the maximum over HiFi-GAN's MRF blocks, not their sum).
    """
    return sum((conv.kernel_size[0] - 1) * conv.dilation[0] // 2
               for conv in module.modules() if isinstance(conv, nn.Conv1d))


def transposed_reach(up: nn.ConvTranspose1d) -> Fraction:
    """One-sided reach of a transposed convolution, in samples of its input.

    Output sample ``j`` of stride ``u``, kernel ``k`` and padding ``p`` reads input samples
    ``i`` with ``i u - p <= j <= i u - p + k - 1``: from ``(j + p - k + 1) / u`` to
    ``(j + p) / u``, so ``(k - 1 - p) / u`` to the left and ``p / u`` to the right of
    ``j / u``.
    """
    k, u, p = up.kernel_size[0], up.stride[0], up.padding[0]
    return Fraction(max(k - 1 - p, p), u)


def receptive_field_frames(
    *, conv_pre: nn.Module, ups: Sequence[nn.ConvTranspose1d], stage_reach: Sequence[int], conv_post: nn.Module
) -> int:
    """One-sided receptive field in input frames of ``conv_pre -> (up -> stage) ... -> conv_post``, rounded up.

    ``stage_reach`` is each stage's reach in samples of its rate (the output of its
    upsampling layer). A reach of ``r`` samples at ``U`` samples per frame is ``r / U``
    frames; the layers are in series, so the frames add up.
    """
    reach = Fraction(conv_reach(conv_pre))  # at 1 sample per frame
    rate = 1  # samples per input frame at the current layer's input
    for up, stage in zip(ups, stage_reach, strict=True):
        reach += transposed_reach(up) / rate
        rate *= up.stride[0]
        reach += Fraction(stage, rate)
    return math.ceil(reach + Fraction(conv_reach(conv_post), rate))


def vocode_streaming(
    generator: nn.Module, mel: torch.Tensor, *, chunk_frames: int, context_frames: int
) -> tuple[torch.Tensor, list[float]]:
    """Synthesise ``mel`` ``(B, n_mels, N)`` chunk by chunk: ``(wave (B, 1, N * hop), seconds per chunk)``.

    Each chunk of ``chunk_frames`` frames (the last one shorter when they do not divide
    ``N``) is synthesised from itself and up to ``context_frames`` frames on each side, and
    cut to its own samples. With ``context_frames`` at least the generator's one-sided
    receptive field (its ``context_frames()``) the result equals ``generator(mel)`` up to
    float rounding. The seconds are each chunk's generator call, the device waited for.
    """
    if chunk_frames < 1:
        raise DataError(f"vocode_streaming: chunk_frames must be at least 1 frame, got {chunk_frames}")
    if context_frames < 0:
        raise DataError(f"vocode_streaming: context_frames must be 0 or more, got {context_frames}")
    frames = mel.shape[-1]
    pieces: list[torch.Tensor] = []
    seconds: list[float] = []
    for start in range(0, frames, chunk_frames):
        end = min(start + chunk_frames, frames)
        lo, hi = max(start - context_frames, 0), min(end + context_frames, frames)  # clamped at the true edges
        tick = time.perf_counter()
        out = generator(mel[..., lo:hi])  # (B, 1, (hi - lo) * hop)
        if out.is_cuda:
            torch.cuda.synchronize(out.device)
        seconds.append(time.perf_counter() - tick)
        hop = out.shape[-1] // (hi - lo)
        pieces.append(out[..., (start - lo) * hop:(end - lo) * hop])  # (B, 1, (end - start) * hop)
    return torch.cat(pieces, dim=-1), seconds
