"""Synthesis speed of the built-in vocoder generators on the CPU: parameters, GFLOP and x real time.

Usage: ``python benchmarks/vocoder_speed.py [--seconds 10] [--repeats 3] [--threads 1 2]
[--peer-site DIR]``

Each preset (HiFi-GAN V1, V2, V3 of Kong et al. 2020, "HiFi-GAN: Generative Adversarial
Networks for Efficient and High Fidelity Speech Synthesis"; MelGAN of Kumar et al. 2019,
"MelGAN: Generative Adversarial Networks for Conditional Waveform Synthesis") is built
through the plugin registry, weight norm removed, in eval mode under
``torch.inference_mode()``, and vocodes a random-normal 80-bin mel of ``--seconds`` of
22.05 kHz audio at hop 256 (861 frames for 10 s), batch 1.

* Parameters: of the inference model (weight norm folded).
* GFLOP per second of audio: multiply-adds of every convolution counted twice, from the
  modules and their output lengths (forward hooks). A ``Conv1d`` costs
  ``2 * C_in / groups * C_out * K * L_out``; a ``ConvTranspose1d`` computes each input
  frame's ``K`` taps once, so it costs ``2 * C_in * C_out / groups * K * L_in``
  (``L_out / stride`` of the formula above, which would count the zeros a stride inserts).
  Activations, biases and additions are left out: they are a fraction of a percent.
* x real time: audio seconds / wall-clock seconds of one forward pass, median (and best)
  of ``--repeats`` runs after one warm-up, per ``torch.set_num_threads`` in ``--threads``.

``--peer-site DIR`` times the ``parallel-wavegan`` package (0.6.1) installed into ``DIR``
(never into the project's environment; see benchmarks/README.md for the commands) in the
same run: its ``HiFiGANGenerator`` and ``MelGANGenerator`` with the same configs, weight
norm removed, each repetition run right after ours so both see the same load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from speechgan.plugins import get_plugin_manager
from speechgan.registry import Registry

SAMPLE_RATE = 22050
HOP = 256
N_MELS = 80
PRESETS = ("hifigan_v1", "hifigan_v2", "hifigan_v3", "melgan")


@dataclass
class Contender:
    """One generator to time: its table label and the module, ready for inference."""

    label: str
    model: nn.Module
    times: dict[int, list[float]] = field(default_factory=dict)  # threads -> seconds per run


def conv_flops(model: nn.Module, mel: torch.Tensor) -> int:
    """FLOPs (2 x multiply-adds) of every Conv1d / ConvTranspose1d in one forward pass on ``mel``."""
    total = 0

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        taps = module.in_channels * module.out_channels // module.groups * module.kernel_size[0]
        if isinstance(module, nn.ConvTranspose1d):
            length = inputs[0].shape[-1]  # each input frame's K taps, once: (B, C_in, L_in)
        else:
            length = output.shape[-1]  # (B, C_out, L_out)
        total += 2 * taps * length * output.shape[0]

    handles = [m.register_forward_hook(count) for m in model.modules()
               if isinstance(m, (nn.Conv1d, nn.ConvTranspose1d))]
    with torch.inference_mode():
        model(mel)
    for handle in handles:
        handle.remove()
    return total


def ours(registry: Registry, name: str) -> Contender:
    """A speechgan preset from the registry, weight norm folded, in eval mode."""
    return Contender(name, registry.build("generator", name).remove_weight_norm().eval())


def peer_generators(site: str) -> dict[str, Callable[[], nn.Module]]:
    """parallel-wavegan 0.6.1's generators with the configs of our presets, keyed by preset.

    HiFi-GAN V1 / V2 use its ResBlock with ``use_additional_convs=True`` (the official
    ResBlock1); V3's ResBlock2 has no second convolution per dilation, which is
    ``use_additional_convs=False`` (1.46M parameters, as in the paper).
    """
    sys.path.insert(0, site)
    # it still uses the old torch.nn.utils.weight_norm; removed before timing, so its warning is noise
    warnings.filterwarnings("ignore", message=r".*torch\.nn\.utils\.weight_norm.*deprecated", category=FutureWarning)
    from parallel_wavegan.models import HiFiGANGenerator, MelGANGenerator

    def hifigan(channels: int, rates: tuple[int, ...], kernels: tuple[int, ...], resblock_kernels: tuple[int, ...],
                dilations: list[tuple[int, ...]], additional_convs: bool) -> Callable[[], nn.Module]:
        return lambda: HiFiGANGenerator(
            in_channels=N_MELS, out_channels=1, channels=channels, kernel_size=7, upsample_scales=rates,
            upsample_kernel_sizes=kernels, resblock_kernel_sizes=resblock_kernels, resblock_dilations=dilations,
            use_additional_convs=additional_convs, bias=True, nonlinear_activation="LeakyReLU",
            nonlinear_activation_params={"negative_slope": 0.1}, use_weight_norm=True)

    v1 = ((8, 8, 2, 2), (16, 16, 4, 4), (3, 7, 11), [(1, 3, 5)] * 3, True)
    return {
        "hifigan_v1": hifigan(512, *v1),
        "hifigan_v2": hifigan(128, *v1),
        "hifigan_v3": hifigan(256, (8, 8, 4), (16, 16, 8), (3, 5, 7), [(1, 2), (2, 6), (3, 12)], False),
        "melgan": lambda: MelGANGenerator(
            in_channels=N_MELS, out_channels=1, kernel_size=7, channels=512, bias=True, upsample_scales=[8, 8, 2, 2],
            stack_kernel_size=3, stacks=3, nonlinear_activation="LeakyReLU",
            nonlinear_activation_params={"negative_slope": 0.2}, pad="ReflectionPad1d", use_weight_norm=True),
    }


def time_once(model: nn.Module, mel: torch.Tensor) -> float:
    """Wall-clock seconds of one forward pass."""
    with torch.inference_mode():
        start = time.perf_counter()
        model(mel)
        return time.perf_counter() - start


def measure(group: list[Contender], mel: torch.Tensor, threads: list[int], repeats: int) -> None:
    """Time every contender of ``group`` (one preset, ours and the peer's) interleaved, per thread count."""
    for n in threads:
        torch.set_num_threads(n)
        for c in group:
            time_once(c.model, mel)  # warm-up: allocator, oneDNN kernel selection
            c.times[n] = []
        for _ in range(repeats):
            for c in group:
                c.times[n].append(time_once(c.model, mel))


def row(c: Contender, mel: torch.Tensor, seconds: float, threads: list[int]) -> str:
    params = sum(p.numel() for p in c.model.parameters())
    gflop = conv_flops(c.model, mel) / 1e9 / seconds
    speeds = [f"{seconds / statistics.median(c.times[n]):.1f} ({seconds / min(c.times[n]):.1f})" for n in threads]
    return f"| {c.label} | {params / 1e6:.2f}M | {gflop:.1f} | " + " | ".join(speeds) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length to vocode (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per model and thread count (default 3)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts (default 1 2)")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--peer-site", metavar="DIR",
                        help="a --target folder holding parallel-wavegan 0.6.1, to time its generators too")
    args = parser.parse_args()

    torch.manual_seed(0)
    frames = round(args.seconds * SAMPLE_RATE / HOP)
    mel = torch.randn(1, N_MELS, frames)  # (B, n_mels, N)
    seconds = frames * HOP / SAMPLE_RATE  # the audio the generators actually write
    registry = get_plugin_manager().registry
    peers = peer_generators(args.peer_site) if args.peer_site else {}
    all_threads = torch.get_num_threads()
    rows = []
    for name in args.presets:
        group = [ours(registry, name)]
        if name in peers:
            peer = peers[name]()
            peer.remove_weight_norm()
            group.append(Contender(f"{name} (parallel-wavegan)", peer.eval()))
        measure(group, mel, args.threads, args.repeats)
        for c in group:
            rows.append(row(c, mel, seconds, args.threads))
            print(rows[-1], file=sys.stderr, flush=True)  # progress: the full table comes at the end
    torch.set_num_threads(all_threads)

    print(f"{seconds:.2f} s of {SAMPLE_RATE} Hz audio ({frames} frames, hop {HOP}), batch 1, eager, "
          f"median (best) of {args.repeats} after a warm-up, torch {torch.__version__}; export: not built yet\n")
    heads = " | ".join(f"x real time, {n} thread{'s' if n > 1 else ''}" for n in args.threads)
    print(f"| generator | parameters | GFLOP / s of audio | {heads} |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in args.threads) + " |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
