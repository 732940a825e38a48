"""Helpers of the recipe tests: a recipe's header commands, config differences, models on the meta device.

Every recipe YAML starts with the exact command that trains it and, on its second line, an override
example or the command that reads the run (STYLE.md); a CPU variant may differ from its paper recipe
only in the keys a test allows. The recipe tests of several families (tests/wavegan,
tests/enhancement) check these the same way, so the helpers live here, in a module that is not a
test file, and each imports them by one name.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path

import torch
from torch import nn

from speechgan.build import build_component
from speechgan.config import load_config
from speechgan.schema import Config

__all__ = [
    "ROOT",
    "architecture",
    "build",
    "check_header",
    "check_second_command",
    "count",
    "differing_keys",
    "flatten",
    "outside",
    "train_command",
    "under",
    "weights_at",
]

#: the repository root, which the recipes' commands are relative to
ROOT = Path(__file__).resolve().parents[1]
_ABSENT = object()


def train_command(path: Path) -> tuple[Path, Path]:
    """(recipe, run directory) of the ``# speechgan train RECIPE --out RUN`` command on the recipe's first line."""
    first = path.read_text().splitlines()[0]
    match = re.fullmatch(r"# speechgan train (\S+) --out (\S+)", first)
    assert match, f"{path}: the first line is {first!r}, not the exact train command"
    return ROOT / match[1], Path(match[2])


def check_header(path: Path, registry) -> None:
    """The recipe at ``path`` validates, its first line trains it into ``runs/<name>``, and its second line
    holds (:func:`check_second_command`)."""
    load_config(path, registry=registry)
    config, out = train_command(path)
    assert config == path and out.parts[0] == "runs" and len(out.parts) == 2
    check_second_command(path, registry)


def check_second_command(path: Path, registry) -> None:
    """The recipe's second line: ``# override:  speechgan train ...`` with overrides that validate and change
    only the keys they name, or ``# then:  speechgan <command> RUN ...`` on the run the first line writes."""
    label, _, command = path.read_text().splitlines()[1].removeprefix("# ").partition(":")
    argv, (_, out) = shlex.split(command), train_command(path)
    if label == "then":
        assert argv[0] == "speechgan" and argv[2] == str(out), argv
        return
    assert label == "override" and argv[:4] == ["speechgan", "train", str(path.relative_to(ROOT)), "--out"], argv
    overrides = argv[5:]
    keys = {item.split("=", 1)[0] for item in overrides}
    changed = differing_keys(load_config(path, registry=registry), load_config(path, overrides, registry=registry))
    assert all(any(under(k, key) for k in changed) for key in keys)  # each override changes its key
    assert all(any(under(k, key) for key in keys) for k in changed)  # and nothing else


def flatten(value: object, prefix: str = "") -> dict[str, object]:
    """``{dotted key: leaf}`` of a config dump: lists of mappings by index, other lists whole, ``{}`` as absent."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, f"{prefix}{key}.").items()}
    if isinstance(value, list) and any(isinstance(item, dict) for item in value):
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, f"{prefix}{i}.").items()}
    return {prefix[:-1]: value}


def differing_keys(paper: Config, variant: Config) -> set[str]:
    """The dotted keys whose resolved values differ between two configs (a key only one has included)."""
    a, b = flatten(paper.model_dump(mode="json")), flatten(variant.model_dump(mode="json"))
    return {key for key in a.keys() | b.keys() if a.get(key, _ABSENT) != b.get(key, _ABSENT)}


def under(key: str, section: str) -> bool:
    """Whether dotted ``key`` is ``section`` or lies inside it."""
    return key == section or key.startswith(f"{section}.")


def outside(keys: set[str], allowed: set[str]) -> set[str]:
    """The keys that match none of the ``allowed`` patterns (fnmatch, ``*`` across dots)."""
    return {key for key in keys if not any(fnmatch.fnmatchcase(key, pattern) for pattern in allowed)}


def build(registry, kind: str, spec) -> nn.Module:
    """One model of a config, on the meta device: its layers and parameter shapes without the memory."""
    with torch.device("meta"):
        return build_component(registry, kind, spec, path=f"{kind}s")


def count(module: nn.Module) -> int:
    """The number of parameters of ``module``."""
    return sum(p.numel() for p in module.parameters())


def architecture(module: nn.Module) -> tuple[str, dict[str, object]]:
    """What a module computes: its layers (repr: sizes, kernels, strides, phase shuffle) and plain attributes."""
    return repr(module), {k: v for k, v in vars(module).items() if not k.startswith("_") and k != "training"}


def weights_at(config: Config, step: int) -> dict[str, float]:
    """``{term: weight}`` of every loss term of ``config`` at training step ``step``."""
    return {term: config.weight(term, step, float("nan")) for term in config.loss_weights}
