"""``speechgan export RUN_DIR --format torchscript|onnx --out FILE``: a trained generator as one file.

The generator comes through :func:`speechgan.inference.load_run` (EMA weights where the run
keeps them), has its parametrizations (weight and spectral norm) folded into plain weights
(:func:`speechgan.nn.remove_parametrizations`; Kong et al. 2020 and Kumar et al. 2019 remove
weight norm for inference), and is traced on the inputs its objective describes
(:meth:`speechgan.objective.Objective.export_signature`), with the batch and length axes
dynamic:

* ``torchscript``: ``torch.jit.trace``; the file loads with ``torch.jit.load`` alone.
* ``onnx``: the TorchScript-based ``torch.onnx.export`` (``dynamo=False``: the
  ``torch.export`` path needs ``onnxscript`` and symbolic length constraints through every
  padding), opset 17; the file runs with ``onnxruntime`` alone.

Before the file takes its name, it is loaded back the way a user would and run on inputs of
another batch and length than the traced ones: its output must equal eager PyTorch within
``tolerance`` (1e-4), or the export is refused and nothing is left at ``--out``. A size that
tracing baked in (Python arithmetic on a shape) is caught there.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import ExportError
from .inference import LoadedRun
from .nn import remove_parametrizations
from .objective import ExportSignature

__all__ = [
    "FORMATS", "ExportReport", "export_generator", "export_module", "pick_role", "run_exported",
    "OnnxRuntimeGenerator", "onnx_runtime",
]

FORMATS = ("torchscript", "onnx")
ONNX_OPSET = 17


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_generator` wrote and how closely it matches eager PyTorch."""

    path: Path
    format: str
    role: str
    generator: str  # its registered name
    parameters: int
    signature: ExportSignature
    max_abs_diff: float  # exported vs eager on ``signature.check``
    seconds: float


def pick_role(run: LoadedRun, role: str | None) -> str:
    """``role``, else the run's only generator role, else ``generator``; refuse anything else."""
    roles = list(run.generators)
    if role is None:
        if len(roles) == 1:
            return roles[0]
        if "generator" in roles:
            return "generator"
        raise ExportError(f"{run.run_dir}: the run has generators {roles}; choose one with --role")
    if role not in roles:
        raise ExportError(f"{run.run_dir}: no generator role `{role}`; the run has {roles}")
    return role


def _signature(run: LoadedRun, role: str) -> ExportSignature:
    try:
        return run.objective.export_signature(role, features=run.features, device=run.device)
    except NotImplementedError as exc:
        raise ExportError(
            f"{run.run_dir}: {exc}, so its generator `{role}` cannot be traced; the objective "
            f"`{run.config.objective.name}` needs an export_signature() method"
        ) from None


def _write(module: nn.Module, sig: ExportSignature, fmt: str, path: Path) -> None:
    with warnings.catch_warnings():
        # the TracerWarnings say a Python value may be baked in: the check on other sizes decides
        warnings.simplefilter("ignore")
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(module, sig.example), str(path))
        else:
            torch.onnx.export(
                module, sig.example, str(path), dynamo=False, opset_version=ONNX_OPSET,
                input_names=list(sig.input_names), output_names=list(sig.output_names),
                dynamic_axes=sig.dynamic_axes,
            )


def run_exported(path: str | Path, fmt: str, inputs: Sequence[torch.Tensor]) -> list[np.ndarray]:
    """The outputs of an exported file on ``inputs``, loaded as a user without speechgan would."""
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.11 points to torch.export; the file is fine
            module = torch.jit.load(str(path), map_location="cpu")
        with torch.no_grad():
            out = module(*[x.cpu() for x in inputs])
        return [t.numpy() for t in (out if isinstance(out, (tuple, list)) else (out,))]
    import onnxruntime  # only export and its check need it

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return list(session.run(None, {n: x.cpu().numpy() for n, x in zip(names, inputs)}))


def export_module(module: nn.Module, sig: ExportSignature, fmt: str, out: str | Path, *,
                  tolerance: float = 1e-4) -> float:
    """Trace ``module`` (eval mode, parametrizations already folded) into ``out``; the max |exported - eager|.

    The file is written under a ``.partial`` name, run on ``sig.check`` as a user would, and
    renamed to ``out`` only if it matches eager PyTorch within ``tolerance``.
    """
    out = Path(out)
    with torch.no_grad():
        eager = module(*sig.check)
    eager_outs = [t.detach().cpu().numpy() for t in (eager if isinstance(eager, (tuple, list)) else (eager,))]
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # never a half-written file under the user's name
    try:
        _write(module, sig, fmt, partial)
        exported = run_exported(partial, fmt, sig.check)
        shapes = [(a.shape, b.shape) for a, b in zip(exported, eager_outs)]
        if len(exported) != len(eager_outs) or any(a != b for a, b in shapes):
            raise ExportError(
                f"the exported {fmt} generator makes outputs of shapes {[a for a, _ in shapes]} on inputs "
                f"{[tuple(x.shape) for x in sig.check]}, eager PyTorch {[b for _, b in shapes]}: tracing baked in "
                "a size; the generator's forward must not branch on or compute with Python values of input shapes"
            )
        diff = max(float(np.abs(a - b).max()) if a.size else 0.0 for a, b in zip(exported, eager_outs))
        if not diff <= tolerance:
            raise ExportError(
                f"the exported {fmt} generator differs from eager PyTorch by up to {diff:.3g} (more than "
                f"{tolerance:g}) on inputs {[tuple(x.shape) for x in sig.check]}; nothing was written to {out}"
            )
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return diff


def export_generator(
    run: LoadedRun, out: str | Path, *, fmt: str, role: str | None = None, tolerance: float = 1e-4
) -> ExportReport:
    """Export generator ``role`` of ``run`` to ``out`` in format ``fmt`` (see the module docstring)."""
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    start = time.perf_counter()
    role = pick_role(run, role)
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out}: is a folder; give a file name, e.g. {out / (role + _suffix(fmt))}")
    sig = _signature(run, role)
    module = remove_parametrizations(run.generators[role]).eval()
    try:
        diff = export_module(module, sig, fmt, out, tolerance=tolerance)
    except ExportError as exc:
        raise ExportError(f"{run.run_dir}: `{role}`: {exc}") from None
    return ExportReport(
        path=out, format=fmt, role=role, generator=run.config.generators[role].name,
        parameters=sum(p.numel() for p in module.parameters()), signature=sig, max_abs_diff=diff,
        seconds=time.perf_counter() - start,
    )


class OnnxRuntimeGenerator:
    """A generator run by ONNX Runtime, called like the module: tensors in, tensor out (on the CPU).

    ONNX Runtime's fused convolutions run the HiFi-GAN and MelGAN generators about twice as
    fast as eager PyTorch on a CPU (benchmarks/vocoder_speed.py), which is why ``vocode``
    uses it there. Built by :func:`onnx_runtime`, which checks it against eager first.
    """

    def __init__(self, model: bytes, *, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        # no busy-waiting between calls: the front-end and file I/O of vocode share the cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.session.get_inputs()]

    def __call__(self, *inputs: torch.Tensor) -> torch.Tensor:
        feeds = {n: x.detach().cpu().numpy() for n, x in zip(self.names, inputs)}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def onnx_runtime(module: nn.Module, sig: ExportSignature, *, threads: int | None = None,
                 tolerance: float = 1e-4) -> OnnxRuntimeGenerator:
    """``module`` exported to ONNX in memory (checked like a file export) and loaded into ONNX Runtime.

    ``threads``: ONNX Runtime's intra-op threads, by default torch's ``get_num_threads()``.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="speechgan-onnx-") as tmp:
        path = Path(tmp) / "generator.onnx"
        export_module(module, sig, "onnx", path, tolerance=tolerance)
        model = path.read_bytes()
    return OnnxRuntimeGenerator(model, threads=threads or torch.get_num_threads())


def _suffix(fmt: str) -> str:
    return ".pt" if fmt == "torchscript" else ".onnx"
