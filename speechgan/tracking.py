"""What a run reports: TensorBoard events, ``scalars.jsonl``, and progress on the console.

Only rank 0 writes. On a terminal a tqdm bar shows step, speed and the main losses;
without one (CI, log files) the same appears as a plain line every ``log_every`` steps.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch

from .objective import AudioSample, FigureSample, ImageSample

__all__ = ["Tracker", "json_numbers"]


class Tracker:
    def __init__(
        self, run_dir: Path, *, enabled: bool, max_steps: int, start_step: int, log_every: int,
        stream: Any = None,
    ) -> None:
        self.enabled = enabled
        self.max_steps, self.log_every = max_steps, log_every
        self.stream = stream or sys.stderr
        self.writer = None
        self.bar = None
        self._last_time, self._last_step = time.perf_counter(), start_step
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(run_dir / "tensorboard"), purge_step=start_step or None)
        self.jsonl = run_dir / "scalars.jsonl"
        self._truncate_jsonl(start_step)
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=max_steps, initial=start_step, file=self.stream, unit="step", dynamic_ncols=True)

    def _truncate_jsonl(self, start_step: int) -> None:
        """On resume, forget what was logged after the checkpoint we resumed from."""
        if not self.jsonl.exists():
            return
        keep = [line for line in self.jsonl.read_text().splitlines() if line and json.loads(line)["step"] <= start_step]
        self.jsonl.write_text("".join(line + "\n" for line in keep))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        for name, value in values.items():
            self.writer.add_scalar(name, value, step)  # type: ignore[union-attr]
        with self.jsonl.open("a") as f:
            f.write(json.dumps({"step": step, **json_numbers(values)}, allow_nan=False) + "\n")

    def progress(self, step: int, values: dict[str, float]) -> None:
        """Show speed and the main losses (totals first)."""
        if not self.enabled:
            return
        now = time.perf_counter()
        speed = (step - self._last_step) / max(now - self._last_time, 1e-9)
        self._last_time, self._last_step = now, step
        main = {k: v for k, v in values.items() if k.endswith("/total")}
        main.update({k: v for k, v in values.items() if "/" in k and not k.startswith(("lr/", "grad_norm/", "stats/")) and len(main) < 5})
        text = " ".join(f"{k}={v:.4g}" for k, v in main.items())
        if self.bar is not None:
            self.bar.update(step - self.bar.n)
            self.bar.set_postfix_str(text, refresh=True)
        else:
            print(f"step {step}/{self.max_steps} | {speed:.1f} steps/s | {text}", file=self.stream, flush=True)

    def samples(self, step: int, samples: dict[str, Any]) -> None:
        if not self.enabled:
            return
        for name, sample in samples.items():
            tag = f"samples/{name}"
            if isinstance(sample, ImageSample):
                images = sample.images.detach().float().cpu()
                if sample.normalize:
                    images = (images + 1) / 2
                self.writer.add_images(tag, images.clamp(0, 1), step)  # type: ignore[union-attr]
            elif isinstance(sample, AudioSample):
                wave = sample.wave.detach().float().cpu().reshape(1, -1).clamp(-1, 1)
                self.writer.add_audio(tag, wave, step, sample_rate=sample.sample_rate)  # type: ignore[union-attr]
            elif isinstance(sample, FigureSample):
                self.writer.add_figure(tag, sample.figure, step, close=True)  # type: ignore[union-attr]
            else:
                raise TypeError(f"sample {name!r}: expected ImageSample, AudioSample or FigureSample, got {type(sample).__name__}")

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()


def as_float(value: torch.Tensor | float) -> float:
    return float(value.detach().float().item()) if isinstance(value, torch.Tensor) else float(value)


def json_numbers(values: dict[str, float]) -> dict[str, float | None]:
    """``values`` as JSON can hold them: it has no NaN or Infinity, so a non-finite value is null
    (``scalars.jsonl`` and ``metrics.json`` alike)."""
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}
