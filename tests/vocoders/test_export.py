"""``speechgan export``: tiny trained HiFi-GAN and MelGAN runs as TorchScript and ONNX files.

Each exported file is checked against eager PyTorch (weight norm folded, EMA weights) on a
batch and a length it was not traced with, here and in a subprocess that cannot import
speechgan.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from speechgan.cli import main
from speechgan.errors import ExportError
from speechgan.export import export_generator, run_exported
from speechgan.inference import load_run
from speechgan.objective import ExportSignature, Objective
from speechgan.plugins import get_plugin_manager
from speechgan.run import train

from ..conftest import write_yaml
from ..core.test_inference import MEL, sine, vocoder_config
from ..trainer.conftest import merge
from .test_vocode import TINY_HIFIGAN

N_MELS, HOP = MEL["n_mels"], MEL["hop_length"]
TINY_MELGAN = {"name": "melgan", "args": {"in_channels": N_MELS, "ngf": 4, "upsample_rates": [4, 4]}}
GENERATORS = {"hifigan": TINY_HIFIGAN, "melgan": TINY_MELGAN}
SUFFIX = {"torchscript": ".pt", "onnx": ".onnx"}


@pytest.fixture(scope="module")
def registry():
    return get_plugin_manager(strict=True).registry


@pytest.fixture(scope="module")
def runs(registry, tmp_path_factory) -> dict[str, Path]:
    """A tiny HiFi-GAN and a tiny MelGAN vocoder, each trained 2 steps (with EMA) on generated sines."""
    root = tmp_path_factory.mktemp("export")
    corpus = root / "corpus" / "spk"
    corpus.mkdir(parents=True)
    for i, freq in enumerate([220.0, 330.0, 440.0]):
        sf.write(corpus / f"utt{i}.wav", sine(freq, 4000), 16000)
    out = {}
    for name, generator in GENERATORS.items():
        config = merge(vocoder_config(root / "corpus"), {
            "generators": {"generator": generator},
            "discriminators": {"msd": {"name": "hifigan_msd", "args": {"num_scales": 1}}},
            "evaluation": {"metrics": []},
        })
        train(write_yaml(root / f"{name}.yaml", config), root / name, registry)
        out[name] = root / name
    return out


def eager(run_dir: Path, registry, mel: torch.Tensor) -> np.ndarray:
    """The run's generator (EMA weights, weight norm kept) on ``mel``, by hand."""
    run = load_run(run_dir, registry=registry)
    with torch.no_grad():
        return run.generators["generator"](mel).numpy()


def mel_of(run_dir: Path, registry, n: int, frames: int) -> torch.Tensor:
    """``n`` log-mels of sines by the run's front-end, ``frames`` frames each: (n, n_mels, frames)."""
    waves = torch.from_numpy(np.stack([sine(200.0 + 50 * i, frames * HOP) for i in range(n)]))  # (n, T)
    with torch.no_grad():
        return load_run(run_dir, registry=registry).features(waves)[..., :frames]


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_export_matches_eager_on_another_batch_and_length(runs, registry, tmp_path, capsys, family, fmt):
    out = tmp_path / f"g{SUFFIX[fmt]}"
    assert main(["export", str(runs[family]), "--format", fmt, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"exported `generator` ({TINY_MELGAN['name'] if family == 'melgan' else 'hifigan'}," in said
    assert "weight norm removed" in said and "(EMA: generator)" in said and f"to {out} ({fmt}," in said
    assert list(tmp_path.iterdir()) == [out]  # no .partial left behind
    mel = mel_of(runs[family], registry, 3, 29)  # neither the traced batch (1) nor its length
    got = run_exported(out, fmt, [mel])[0]
    want = eager(runs[family], registry, mel)
    assert got.shape == want.shape == (3, 1, 29 * HOP)
    assert np.abs(got - want).max() <= 1e-4


def test_the_torchscript_file_holds_plain_weights(runs, registry, tmp_path):
    run = load_run(runs["hifigan"], registry=registry)
    assert any("parametrizations" in k for k in run.generators["generator"].state_dict())
    report = export_generator(run, tmp_path / "g.pt", fmt="torchscript")
    keys = torch.jit.load(str(tmp_path / "g.pt")).state_dict()
    assert keys and not any("parametrizations" in k for k in keys)
    assert report.parameters == sum(v.numel() for v in keys.values())
    assert report.max_abs_diff <= 1e-4 and report.signature.input_names == ("mel",)


STANDALONE = textwrap.dedent("""
    import sys

    class NoSpeechgan:  # any import of speechgan fails, as on a machine without it
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("speechgan", "speechgan_plugins"):
                raise ImportError("speechgan is not installed here")

    sys.meta_path.insert(0, NoSpeechgan())
    import numpy as np
    fmt, path, mel_path, out_path = sys.argv[1:]
    mel = np.load(mel_path)
    if fmt == "torchscript":
        import torch
        audio = torch.jit.load(path)(torch.from_numpy(mel)).detach().numpy()
    else:
        import onnxruntime
        audio = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"mel": mel})[0]
    np.save(out_path, audio)
    print(sorted(m for m in sys.modules if m.startswith("speechgan")))
""")


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_the_exported_file_runs_where_speechgan_cannot_be_imported(runs, registry, tmp_path, fmt):
    out = tmp_path / f"g{SUFFIX[fmt]}"
    assert main(["export", str(runs["hifigan"]), "--format", fmt, "--out", str(out)]) == 0
    mel = mel_of(runs["hifigan"], registry, 2, 41)
    np.save(tmp_path / "mel.npy", mel.numpy())
    script = tmp_path / "standalone.py"
    script.write_text(STANDALONE)
    env = {**os.environ, "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script), fmt, str(out), str(tmp_path / "mel.npy"),
                           str(tmp_path / "audio.npy")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # not one speechgan module was loaded
    got = np.load(tmp_path / "audio.npy")
    assert np.abs(got - eager(runs["hifigan"], registry, mel)).max() <= 1e-4


class BakesItsLength(nn.Module):
    """A generator whose forward computes with a Python shape: tracing freezes the traced length."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        frames = int(mel.shape[-1])  # a Python int: a constant in the trace
        return self.scale * mel[:, :1, :].repeat_interleave(HOP, dim=-1)[..., : frames * HOP]


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_an_export_that_differs_from_eager_is_refused_and_writes_nothing(runs, registry, tmp_path, fmt):
    run = load_run(runs["hifigan"], registry=registry)
    run.generators["generator"] = BakesItsLength()
    out = tmp_path / f"g{SUFFIX[fmt]}"
    with pytest.raises(ExportError, match=r"tracing baked in a size"):
        export_generator(run, out, fmt=fmt)
    assert list(tmp_path.iterdir()) == []


def test_an_objective_without_an_export_signature_is_named(runs, registry, tmp_path):
    run = dataclasses.replace(load_run(runs["hifigan"], registry=registry), objective=Objective())
    with pytest.raises(ExportError) as info:
        export_generator(run, tmp_path / "g.pt", fmt="torchscript")
    assert str(info.value) == (
        f"{runs['hifigan']}: objective Objective does not describe its generators' inputs, so its generator "
        "`generator` cannot be traced; the objective `vocoder` needs an export_signature() method"
    )
    assert list(tmp_path.iterdir()) == []


def test_bad_roles_folders_and_formats_are_refused_with_a_clear_message(runs, registry, tmp_path, capsys):
    run = load_run(runs["hifigan"], registry=registry)
    with pytest.raises(ExportError, match=r"no generator role `vocoder`; the run has \['generator'\]"):
        export_generator(run, tmp_path / "g.pt", fmt="torchscript", role="vocoder")
    with pytest.raises(ExportError, match=r"--format tflite: choose one of torchscript, onnx"):
        export_generator(run, tmp_path / "g.pt", fmt="tflite")
    assert main(["export", str(runs["hifigan"]), "--format", "onnx", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"speechgan: error: --out {tmp_path}: is a folder; give a file name")
    assert main(["export", str(tmp_path / "nowhere"), "--format", "onnx", "--out", str(tmp_path / "g.onnx")]) != 0
    assert list(tmp_path.iterdir()) == []


def test_the_vocoder_signature_leaves_the_callers_rng_alone(runs, registry):
    run = load_run(runs["hifigan"], registry=registry)
    torch.manual_seed(7)
    before = torch.get_rng_state()
    sig = run.objective.export_signature("generator", features=run.features, device=run.device)
    assert torch.equal(torch.get_rng_state(), before)
    assert isinstance(sig, ExportSignature)
    (example,), (check,) = sig.example, sig.check
    assert example.shape[:2] == (1, N_MELS) and check.shape[:2] == (2, N_MELS)
    assert check.shape[-1] != example.shape[-1]
    assert json.dumps(sig.dynamic_axes)  # plain names, as ONNX takes them


def test_a_run_whose_front_end_differs_from_its_checkpoints_is_refused(runs, tmp_path, capsys):
    import shutil

    import yaml

    edited = tmp_path / "edited"
    shutil.copytree(runs["hifigan"], edited)
    config = yaml.safe_load((edited / "config.yaml").read_text())
    config["features"]["args"]["n_mels"] = 40
    write_yaml(edited / "config.yaml", config)
    out = tmp_path / "g.onnx"
    assert main(["export", str(edited), "--format", "onnx", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"speechgan: error: {edited / 'checkpoints' / 'last.pt'} was trained with the front-end")
    assert f"n_mels {N_MELS} -> 40" in err and not out.exists()
