"""Plugin loading: entry points, provenance, isolation of broken plugins, strict mode."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from speechgan import hookimpl
from speechgan.cli import main
from speechgan.errors import PluginError
from speechgan.plugins import ENV_PLUGINS, ENV_STRICT, get_plugin_manager
from speechgan.run import train

from ..conftest import TINY_GAN, write_yaml

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_plugin() -> str:
    """The complete plugin module of the README's "Writing a plugin" section."""
    text = README.read_text()
    start = text.index("```python\n# speechgan_linear.py\n") + len("```python\n")
    return text[start : text.index("```", start)]


THIRD_PARTY = readme_plugin()


def test_builtins_load_through_entry_points_with_provenance(registry):
    for kind, name in [("objective", "gan"), ("loss", "hinge"), ("dataset", "ring8"), ("generator", "mlp")]:
        comp = registry.get(kind, name)
        assert comp.distribution == "speechgan"
        assert comp.version
    assert registry.get("objective", "gan").plugin == "objectives"


def test_inline_plugin_registers_components():
    class Plugin:
        @hookimpl
        def speechgan_register_metrics(self, register):
            register("always_one", lambda: (lambda ctx: {"one": 1.0}), "returns one")

    pm = get_plugin_manager(entry_points=False, plugins=[("inline", Plugin())])
    comp = pm.registry.get("metric", "always_one")
    assert (comp.plugin, comp.description, comp.distribution) == ("inline", "returns one", None)


def test_readme_example_declares_the_entry_point_used_here():
    text = README.read_text()
    assert '[project.entry-points.speechgan]\nlinear = "speechgan_linear"' in text
    assert 'name = "speechgan-linear"' in text


def test_third_party_distribution_is_discovered_and_used_from_a_config(installed, tmp_path):
    installed("speechgan-linear", "0.1.0", {"speechgan_linear": THIRD_PARTY}, {"linear": "speechgan_linear"})
    pm = get_plugin_manager()
    assert not pm.failures
    comp = pm.registry.get("generator", "linear_gen")
    assert (comp.plugin, comp.distribution, comp.version) == ("linear", "speechgan-linear", "0.1.0")
    cfg = dict(TINY_GAN, generators={"generator": {"name": "linear_gen", "args": {"scale": 2.0}}})
    out = tmp_path / "run"
    train(write_yaml(tmp_path / "third.yaml", cfg), out, pm.registry)
    assert (out / "checkpoints" / "last.pt").exists()
    assert "name: linear_gen" in (out / "config.yaml").read_text()


def test_third_party_shows_in_plugins_json_via_the_console_command(installed):
    root = installed("speechgan-linear", "0.1.0", {"speechgan_linear": THIRD_PARTY}, {"linear": "speechgan_linear"})
    proc = subprocess.run(
        [sys.executable, "-m", "speechgan", "plugins", "--json"],
        capture_output=True, text=True, env={"PYTHONPATH": str(root), "PATH": ""}, check=True,
    )
    data = json.loads(proc.stdout)
    rows = [c for c in data["components"] if c["name"] == "linear_gen"]
    assert rows == [{
        "kind": "generator", "name": "linear_gen", "description": "noise -> points through one linear layer",
        "plugin": "linear", "distribution": "speechgan-linear", "version": "0.1.0",
        "factory": "speechgan_linear.LinearGenerator",
    }]
    assert {"name": "linear", "distribution": "speechgan-linear", "version": "0.1.0"} in data["plugins"]
    hello = subprocess.run([sys.executable, "-m", "speechgan", "hello"], capture_output=True, text=True,
                           env={"PYTHONPATH": str(root), "PATH": ""}, check=True)
    assert hello.stdout == "hello from speechgan-linear\n"


def test_plugin_that_fails_to_import_is_reported_and_the_rest_works(installed, capsys):
    installed("sg-broken", "1.0", {"sg_broken": "import not_a_module_anywhere\n"}, {"broken": "sg_broken"})
    pm = get_plugin_manager()
    assert [f.message for f in pm.failures] == [
        "plugin 'broken' (from sg-broken) failed to import: ModuleNotFoundError: No module named 'not_a_module_anywhere'"
    ]
    assert "gan" in pm.registry.names("objective")
    assert main(["plugins"]) == 0
    captured = capsys.readouterr()
    assert "speechgan: warning: plugin 'broken' (from sg-broken) failed to import" in captured.err
    assert "gan " in captured.out


def test_strict_mode_makes_a_broken_plugin_fatal(installed, capsys, monkeypatch):
    installed("sg-broken", "1.0", {"sg_broken": "raise RuntimeError('boom')\n"}, {"broken": "sg_broken"})
    with pytest.raises(PluginError, match="plugin 'broken' .* failed to import: RuntimeError: boom"):
        get_plugin_manager(strict=True)
    assert main(["--strict-plugins", "plugins"]) == 2
    assert "speechgan: error: plugin 'broken' (from sg-broken) failed to import: RuntimeError: boom" in capsys.readouterr().err
    monkeypatch.setenv(ENV_STRICT, "1")
    assert main(["plugins"]) == 2


def test_plugin_raising_in_a_hook_keeps_nothing_it_registered():
    class Half:
        @hookimpl
        def speechgan_register_generators(self, register):
            register("half_made", object)
            raise ValueError("second component is broken")

    class Good:
        @hookimpl
        def speechgan_register_generators(self, register):
            register("fine", object)

    pm = get_plugin_manager(entry_points=False, plugins=[("half", Half()), ("good", Good())])
    assert pm.registry.names("generator") == ["fine"]
    assert [f.message for f in pm.failures] == [
        "plugin 'half' raised in speechgan_register_generators: ValueError: second component is broken"
    ]
    with pytest.raises(PluginError, match="plugin 'half' raised in speechgan_register_generators"):
        get_plugin_manager(entry_points=False, strict=True, plugins=[("half", Half())])


def test_two_plugins_registering_one_name(installed):
    dup = "import speechgan\n@speechgan.hookimpl\ndef speechgan_register_losses(register):\n    register('hinge', dict)\n"
    installed("sg-dup", "2.0", {"sg_dup": dup}, {"dup": "sg_dup"})
    pm = get_plugin_manager()
    assert any(
        "loss 'hinge' is registered by two plugins: losses (speechgan " in f.message and "dup (sg-dup 2.0)" in f.message
        for f in pm.failures
    )
    with pytest.raises(Exception, match="registered by two plugins"):
        pm.registry.get("loss", "hinge")


def test_env_variable_limits_which_plugins_load(monkeypatch):
    monkeypatch.setenv(ENV_PLUGINS, "losses,toy")
    pm = get_plugin_manager()
    assert pm.registry.names("objective") == []
    assert "hinge" in pm.registry.names("loss")
    assert "ring8" in pm.registry.names("dataset")
    monkeypatch.setenv(ENV_PLUGINS, "")
    assert list(get_plugin_manager().registry) == []


def test_plugin_with_unknown_hook_is_reported():
    class Typo:
        @hookimpl
        def speechgan_register_generatorz(self, register):
            pass

    pm = get_plugin_manager(entry_points=False, plugins=[("typo", Typo())])
    assert [f.message for f in pm.failures] == [
        "plugin 'typo' raised in register: PluginError: unknown hook speechgan_register_generatorz "
        "(did you mean speechgan_register_generators?)"
    ]
    assert not pm.is_registered(Typo)


def test_plugins_can_add_cli_commands(installed, capsys):
    cmd = '''
import click, speechgan
@speechgan.hookimpl
def speechgan_register_commands(cli):
    @cli.command()
    @click.argument("name")
    def hello(name):
        """Say hello."""
        click.echo(f"hello {name}")
'''
    installed("sg-hello", "0.1", {"sg_hello": cmd}, {"hello": "sg_hello"})
    assert main(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"


def test_plugin_cannot_replace_a_builtin_command(installed, capsys):
    cmd = '''
import click, speechgan
@speechgan.hookimpl
def speechgan_register_commands(cli):
    @cli.command()
    def train():
        pass
'''
    installed("sg-hijack", "0.1", {"sg_hijack": cmd}, {"hijack": "sg_hijack"})
    assert main(["plugins", "--kind", "objective"]) == 0
    err = capsys.readouterr().err
    assert "plugin 'hijack' (from sg-hijack) raised in speechgan_register_commands: SpeechganError: command 'train' already exists" in err
