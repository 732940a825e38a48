"""Streaming synthesis: chunks with receptive-field context equal offline synthesis, library and CLI."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import soundfile as sf
import torch

from speechgan.errors import DataError, TrainingError
from speechgan.inference import load_run
from speechgan_plugins.vocoders import HiFiGANGenerator, MelGANGenerator, hifigan_v1, hifigan_v3, vocode_files
from speechgan_plugins.vocoders.streaming import vocode_streaming

from .test_vocode import HOP, inputs, registry, run_dir, vocode  # noqa: F401  (fixtures)

FRAMES = 40

# tiny generators with the layouts of HiFi-GAN V1 (ResBlock1), V3 (ResBlock2) and MelGAN, x16 upsampling;
# V1-like has odd rates and a transposed kernel of rate + 3, so the padding is not symmetric; PyTorch's default
# initialisation (init_std=None) gives outputs that vary along time, the paper's 0.01 a near-constant one
GENERATORS = {
    "hifigan_v3": lambda: HiFiGANGenerator(
        in_channels=8, upsample_initial_channel=16, upsample_rates=(4, 4), upsample_kernel_sizes=(8, 8), resblock=2,
        resblock_kernel_sizes=(3, 5, 7), resblock_dilation_sizes=((1, 2), (2, 6), (3, 12)), init_std=None),
    "hifigan_v1": lambda: HiFiGANGenerator(
        in_channels=8, upsample_initial_channel=16, upsample_rates=(5, 3), upsample_kernel_sizes=(8, 6), resblock=1,
        resblock_kernel_sizes=(3, 7), resblock_dilation_sizes=((1, 3, 5), (1, 3, 5)), init_std=None),
    "melgan": lambda: MelGANGenerator(in_channels=8, ngf=4, upsample_rates=(4, 4), init_std=None),
}


@pytest.fixture(params=list(GENERATORS), scope="module")
def generator(request) -> torch.nn.Module:
    torch.manual_seed(0)
    return GENERATORS[request.param]().eval()


def measured_context(generator: torch.nn.Module) -> int:
    """Frames on each side of frame ``FRAMES // 2`` whose gradient its output samples reach (the true span)."""
    mel = torch.randn(1, 8, FRAMES, requires_grad=True)
    out = generator(mel)  # (1, 1, FRAMES * hop)
    hop, mid = out.shape[-1] // FRAMES, FRAMES // 2
    out[..., mid * hop:(mid + 1) * hop].sum().backward()
    reached = (mel.grad.abs().sum(dim=(0, 1)) > 0).nonzero().flatten()  # (frames,)
    assert 0 < reached.min() and reached.max() < FRAMES - 1  # the span lies inside the input
    return max(mid - int(reached.min()), int(reached.max()) - mid)


def test_context_frames_covers_the_receptive_field_by_at_most_one_frame(generator):
    measured = measured_context(generator)
    assert measured <= generator.context_frames() <= measured + 1


@pytest.mark.parametrize(("preset", "frames"), [(hifigan_v1, 14), (hifigan_v3, 12)])
def test_context_frames_of_the_paper_presets(preset, frames):
    assert preset(in_channels=8).context_frames() == frames


def test_context_frames_of_melgan_paper_config():
    assert MelGANGenerator(in_channels=8).context_frames() == 7


@pytest.mark.parametrize("chunk_frames", [1, 7, 16, FRAMES, FRAMES + 5])
def test_streaming_equals_offline_synthesis(generator, chunk_frames):
    torch.manual_seed(1)
    mel = torch.randn(2, 8, FRAMES)  # (B, n_mels, N)
    with torch.inference_mode():
        offline = generator(mel)  # (2, 1, N * hop)
        wave, seconds = vocode_streaming(generator, mel, chunk_frames=chunk_frames,
                                         context_frames=generator.context_frames())
    assert wave.shape == offline.shape
    assert offline.std() > 1e-3  # a waveform, not a constant
    assert (wave - offline).abs().max() <= 1e-4
    assert len(seconds) == -(-FRAMES // chunk_frames) and all(s > 0 for s in seconds)


def test_too_little_context_differs_from_offline(generator):
    """The equality above is not trivial: chunks with half the context they need differ from offline synthesis.

    (One frame short of the span changes the V3-like output by only about 1e-6: the
    outermost taps carry little.)
    """
    torch.manual_seed(1)
    half = measured_context(generator) // 2
    mel = torch.randn(1, 8, FRAMES)
    with torch.inference_mode():
        wave, _ = vocode_streaming(generator, mel, chunk_frames=7, context_frames=half)
        offline = generator(mel)
    assert (wave - offline).abs().max() > 1e-4


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chunk_frames": 0, "context_frames": 3}, "vocode_streaming: chunk_frames must be at least 1 frame, got 0"),
    ({"chunk_frames": 4, "context_frames": -1}, "vocode_streaming: context_frames must be 0 or more, got -1"),
])
def test_vocode_streaming_refuses_bad_sizes(kwargs, message):
    with pytest.raises(DataError, match=f"^{re.escape(message)}$"):
        vocode_streaming(GENERATORS["melgan"](), torch.zeros(1, 8, 4), **kwargs)


def test_the_cli_streams_the_same_file_and_reports_latency(run_dir, inputs, tmp_path, capsys):
    assert vocode(run_dir, inputs / "a.wav", "--out", tmp_path / "offline") == 0
    capsys.readouterr()
    assert vocode(run_dir, inputs / "a.wav", "--out", tmp_path / "stream", "--chunk-frames", 7) == 0
    offline, streamed = (sf.read(tmp_path / d / "a.wav", dtype="int16")[0].astype(int) for d in ("offline", "stream"))
    assert offline.shape == streamed.shape == (100 * HOP,)
    assert np.abs(offline - streamed).max() <= 1  # one 16-bit step
    last = capsys.readouterr().out.splitlines()[-1]
    # 100 frames in chunks of 7: 15 chunks of 7 * 16 samples at 16 kHz = 7.0 ms
    assert re.fullmatch(r"streaming: 15 chunks of 7 frames \(7\.0 ms of audio each\), latency per chunk mean "
                        r"\d+\.\d ms, max \d+\.\d ms", last)


def test_the_cli_refuses_a_chunk_of_no_frames(run_dir, inputs, tmp_path, capsys):
    assert vocode(run_dir, inputs / "a.wav", "--out", tmp_path / "out", "--chunk-frames", 0) == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "speechgan: error: --chunk-frames 0: a chunk holds at least 1 frame; give a positive number")
    assert not (tmp_path / "out").exists()


class Wrapped(torch.nn.Module):
    """A generator without ``context_frames()``, as a third-party plugin may register."""

    def __init__(self, inner: torch.nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.inner(mel)


def test_streaming_a_generator_without_context_frames_is_refused(run_dir, registry, inputs, tmp_path):
    run = load_run(run_dir, registry=registry)
    run = dataclasses.replace(run, generators={"generator": Wrapped(run.generators["generator"])})
    message = (f"{run_dir}: the generator `hifigan` has no context_frames() method, so the context a chunk needs is "
               "unknown; vocode without --chunk-frames, or give the generator a context_frames() returning its "
               "one-sided receptive field in input frames")
    with pytest.raises(TrainingError, match=f"^{re.escape(message)}$"):
        vocode_files(run, [inputs / "a.wav"], tmp_path / "out", chunk_frames=4)
    assert not (tmp_path / "out").exists()
