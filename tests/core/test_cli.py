"""The command line: exit codes, messages without tracebacks, --debug, the commands."""

import json

import pytest

from speechgan.cli import main
from speechgan.plugins import ENV_PLUGINS

from ..conftest import TINY_GAN, write_yaml


@pytest.fixture
def core_plugins(monkeypatch):
    """Only the plugins the toy recipes need: listings independent of later plugins."""
    monkeypatch.setenv(ENV_PLUGINS, "losses,objectives,toy")


def test_plugins_lists_builtins_by_kind(capsys, core_plugins):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("generators:\n  mlp  ")
    for header in ("discriminators:", "losses:", "objectives:", "datasets:", "metrics:"):
        assert f"\n{header}\n" in out
    assert "  gan       unconditional GAN" in out
    assert "[objectives (speechgan 0.1.0)]" in out


def test_plugins_json_and_kind_filter(capsys, core_plugins):
    assert main(["plugins", "--json", "--kind", "objective"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert sorted(c["name"] for c in data["components"]) == ["cyclegan", "gan", "stargan", "vocoder"]
    assert data["failures"] == []
    assert {"name": "toy", "distribution": "speechgan", "version": "0.1.0"} in data["plugins"]


def test_user_errors_exit_2_with_a_message_and_no_traceback(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"speechgan: error: config file not found: {tmp_path / 'missing.yaml'}\n"
        "(run with --debug for the traceback)\n"
    )
    assert not (tmp_path / "run").exists()


def test_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["--debug", "check", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "speechgan.errors.ConfigError: config file not found" in err


def test_unknown_component_from_the_command_line(tiny_config, tmp_path, capsys, core_plugins):
    assert main(["check", str(tiny_config), "generators.generator.name=mpl"]) == 2
    err = capsys.readouterr().err
    assert (
        "  generators.generator.name: unknown generator 'mpl'. Did you mean 'mlp'? Available generators: mlp" in err
    )


def test_click_usage_errors_exit_2(capsys):
    assert main(["train"]) == 2
    assert "Missing argument 'CONFIG'" in capsys.readouterr().err
    assert main(["no-such-command"]) == 2


def test_check_prints_the_resolved_config(tiny_config, capsys):
    assert main(["check", str(tiny_config), "trainer.max_steps=7"]) == 0
    out = capsys.readouterr().out
    assert "  max_steps: 7\n" in out and "precision: fp32" in out


def test_train_evaluate_and_refuse_to_overwrite(tmp_path, capsys):
    data = dict(TINY_GAN, evaluation={"metrics": [{"name": "mode_coverage", "args": {"num_samples": 200, "plot": False}}]})
    config = write_yaml(tmp_path / "t.yaml", data)
    run = tmp_path / "run"
    assert main(["train", str(config), "--out", str(run)]) == 0
    out = capsys.readouterr()
    assert f"run saved to {run}" in out.out
    # no terminal: plain progress lines
    assert "step 4/4 | " in out.err and "d/total=" in out.err
    for name in ("config.yaml", "metrics.json", "scalars.jsonl", "checkpoints/last.pt", "checkpoints/step_00000002.pt"):
        assert (run / name).exists(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics) == {"step", "modes_captured", "high_quality_fraction", "far_fraction", "num_modes"}
    before = (run / "checkpoints" / "last.pt").read_bytes()

    assert main(["train", str(config), "--out", str(run)]) == 2
    assert f"{run} already holds a run ({run / 'checkpoints' / 'last.pt'}). Pass --resume" in capsys.readouterr().err
    assert (run / "checkpoints" / "last.pt").read_bytes() == before

    assert main(["evaluate", str(run)]) == 0
    assert json.loads(capsys.readouterr().out)["num_modes"] == 8.0

    assert main(["train", str(config), "--out", str(run), "--resume"]) == 2
    assert "is at step 4, already trainer.max_steps=4; raise it" in capsys.readouterr().err
    assert main(["train", str(config), "--out", str(run), "--resume", "trainer.max_steps=6"]) == 0
    lines = [json.loads(line) for line in (run / "scalars.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines if "g/total" in line] == [1, 2, 3, 4, 5, 6]


def test_evaluate_errors(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path)]) == 2
    assert f"{tmp_path} is not a run directory: it has no config.yaml" in capsys.readouterr().err
