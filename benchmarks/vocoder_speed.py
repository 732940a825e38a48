"""Synthesis speed of the built-in vocoder generators on the CPU: parameters, GFLOP and x real time.

Usage: ``python benchmarks/vocoder_speed.py [--seconds 10] [--repeats 3] [--threads 1 2]
[--peer-site DIR] [--no-export]``

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

Each preset is also timed exported, unless ``--no-export``: written to a temporary folder
by :func:`speechgan.export.export_module`, traced on a random-normal 80-bin mel of 50
frames and checked against eager PyTorch on 2 mels of 57 frames, with the names and
dynamic axes of the vocoder objective's ``export_signature`` (``speechgan export``):

* ``(TorchScript)``: the traced file loaded back with ``torch.jit.load``, as a user
  would. ``torch.jit.freeze`` and ``torch.jit.optimize_for_inference`` were tried on V3 and
  MelGAN (1 thread, half a second of audio, 7 interleaved runs): medians within 5 % of the
  plain file's and best times no better, so the simpler plain file is timed. It gets two
  warm-ups: the profiling executor records shapes on the first call and optimises the
  graph on the second (V3 on half a second of audio: 73, 37, then 26 ms).
* ``(ONNX Runtime)``: the ONNX file (opset 17) in a
  :class:`speechgan.export.OnnxRuntimeGenerator`, one session per ``--threads`` value with
  that many intra-op threads (ONNX Runtime fixes them when the session is created).

Their parameters and GFLOP are the eager module's: the same weights and convolutions.

``--peer-site DIR`` times the ``parallel-wavegan`` package (0.6.1) installed into ``DIR``
(never into the project's environment; see benchmarks/README.md for the commands) in the
same run: its ``HiFiGANGenerator`` and ``MelGANGenerator`` with the same configs, weight
norm removed. Every repetition runs each contender of a preset in turn (eager, exported,
peer), so all see the same load.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from speechgan.export import ONNX_OPSET, OnnxRuntimeGenerator, export_module
from speechgan.objective import ExportSignature
from speechgan.plugins import get_plugin_manager
from speechgan.registry import Registry
from speechgan_plugins.objectives.vocoder import mel_signature

SAMPLE_RATE = 22050
HOP = 256
N_MELS = 80
PRESETS = ("hifigan_v1", "hifigan_v2", "hifigan_v3", "melgan")

Generator = Callable[[torch.Tensor], torch.Tensor]  # mel (B, n_mels, N) -> audio (B, 1, N * hop)


@dataclass
class Contender:
    """One generator to time: its table label, what to call, and the size of the model it runs."""

    label: str
    model: Generator | dict[int, Generator]  # one for every thread count, or one per count (ONNX Runtime)
    parameters: int
    flops: int  # of one forward pass on the benchmark mel
    warmups: int = 1
    times: dict[int, list[float]] = field(default_factory=dict)  # threads -> seconds per run

    def at(self, threads: int) -> Generator:
        """What to call when timing with ``threads`` threads."""
        return self.model[threads] if isinstance(self.model, dict) else self.model


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


def size(model: nn.Module, mel: torch.Tensor) -> tuple[int, int]:
    """Parameters and convolution FLOPs of ``model`` on ``mel``."""
    return sum(p.numel() for p in model.parameters()), conv_flops(model, mel)


def ours(registry: Registry, name: str, mel: torch.Tensor) -> tuple[Contender, nn.Module]:
    """A speechgan preset from the registry, weight norm folded, in eval mode, and its eager module."""
    model = registry.build("generator", name).remove_weight_norm().eval()
    return Contender(name, model, *size(model, mel)), model


def export_signature() -> ExportSignature:
    """The vocoder objective's signature (:func:`mel_signature`) on random-normal mels, no front-end:
    traced on one mel of 50 frames, checked on 2 of 57."""
    # (2, n_mels, N): its own generator, so the benchmark mel drawn from the global RNG stays the same
    mel = torch.randn(2, N_MELS, 57, generator=torch.Generator().manual_seed(0))
    return mel_signature(example=mel[:1, :, :50], check=mel)


def exported(name: str, model: nn.Module, base: Contender, threads: list[int]) -> list[Contender]:
    """``model`` as TorchScript (loaded back from its file) and in ONNX Runtime (a session per thread count).

    Both files are checked against eager PyTorch by ``export_module``; parameters and FLOPs are
    ``base``'s (the eager module's), since the weights and convolutions are the same.
    """
    sig = export_signature()
    with tempfile.TemporaryDirectory(prefix="vocoder-speed-") as tmp:
        script, onnx = Path(tmp) / f"{name}.pt", Path(tmp) / f"{name}.onnx"
        export_module(model, sig, "torchscript", script)
        export_module(model, sig, "onnx", onnx)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.11 points to torch.export; the file is fine
            loaded = torch.jit.load(str(script), map_location="cpu").eval()
        onnx_model = onnx.read_bytes()
    sessions = {n: OnnxRuntimeGenerator(onnx_model, threads=n) for n in threads}
    return [
        # two warm-ups: the profiling executor optimises the graph on the second call
        Contender(f"{name} (TorchScript)", loaded, base.parameters, base.flops, warmups=2),
        Contender(f"{name} (ONNX Runtime)", sessions, base.parameters, base.flops),
    ]


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


def time_once(model: Generator, mel: torch.Tensor) -> float:
    """Wall-clock seconds of one forward pass of a module or any callable (TorchScript, ONNX Runtime)."""
    with torch.inference_mode():
        start = time.perf_counter()
        model(mel)
        return time.perf_counter() - start


def measure(group: list[Contender], mel: torch.Tensor, threads: list[int], repeats: int) -> None:
    """Time every contender of ``group`` interleaved, per thread count.

    A group is one preset: ours, eager and exported, and the peer's. Each repetition runs them
    in turn, so a burst of load from another process falls on all of them alike.
    """
    for n in threads:
        torch.set_num_threads(n)
        for c in group:
            for _ in range(c.warmups):
                time_once(c.at(n), mel)  # warm-up: allocator, oneDNN kernel selection, TorchScript's optimisation
            c.times[n] = []
        for _ in range(repeats):
            for c in group:
                c.times[n].append(time_once(c.at(n), mel))


def row(c: Contender, seconds: float, threads: list[int]) -> str:
    gflop = c.flops / 1e9 / seconds
    speeds = [f"{seconds / statistics.median(c.times[n]):.1f} ({seconds / min(c.times[n]):.1f})" for n in threads]
    return f"| {c.label} | {c.parameters / 1e6:.2f}M | {gflop:.1f} | " + " | ".join(speeds) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="audio length to vocode (default 10)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per model and thread count (default 3)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts: torch's, and ONNX Runtime's intra-op threads (default 1 2)")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS), choices=PRESETS)
    parser.add_argument("--peer-site", metavar="DIR",
                        help="a --target folder holding parallel-wavegan 0.6.1, to time its generators too")
    parser.add_argument("--no-export", action="store_true",
                        help="time eager PyTorch only, not the TorchScript and ONNX Runtime exports")
    args = parser.parse_args()
    if not args.no_export and importlib.util.find_spec("onnxruntime") is None:
        parser.error("the ONNX Runtime rows need the onnxruntime package (pip install onnxruntime); "
                     "or pass --no-export")

    torch.manual_seed(0)
    frames = round(args.seconds * SAMPLE_RATE / HOP)
    mel = torch.randn(1, N_MELS, frames)  # (B, n_mels, N)
    seconds = frames * HOP / SAMPLE_RATE  # the audio the generators actually write
    registry = get_plugin_manager().registry
    peers = peer_generators(args.peer_site) if args.peer_site else {}
    all_threads = torch.get_num_threads()
    rows = []
    for name in args.presets:
        eager, model = ours(registry, name, mel)
        group = [eager]
        if not args.no_export:
            group += exported(name, model, eager, args.threads)
        if name in peers:
            peer = peers[name]()
            peer.remove_weight_norm()
            group.append(Contender(f"{name} (parallel-wavegan)", peer.eval(), *size(peer, mel)))
        measure(group, mel, args.threads, args.repeats)
        for c in group:
            rows.append(row(c, seconds, args.threads))
            print(rows[-1], file=sys.stderr, flush=True)  # progress: the full table comes at the end
    torch.set_num_threads(all_threads)

    if args.no_export:
        how = "eager"
    else:
        import onnxruntime  # present: checked above

        how = (f"eager, TorchScript (torch.jit.trace, loaded back; two warm-ups) and ONNX Runtime "
               f"{onnxruntime.__version__} (opset {ONNX_OPSET}, intra-op threads = the column's)")
    print(f"{seconds:.2f} s of {SAMPLE_RATE} Hz audio ({frames} frames, hop {HOP}), batch 1, {how}, "
          f"median (best) of {args.repeats} after a warm-up, torch {torch.__version__}\n")
    heads = " | ".join(f"x real time, {n} thread{'s' if n > 1 else ''}" for n in args.threads)
    print(f"| generator | parameters | GFLOP / s of audio | {heads} |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in args.threads) + " |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
