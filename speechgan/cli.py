"""The ``speechgan`` command line: thin, it parses, calls the library and prints.

Every user error (bad config, missing file, unknown component, broken plugin in strict
mode) exits with status 2 and a one-paragraph message; ``--debug`` adds the traceback.
Plugins add sub-commands through ``speechgan_register_commands``.
"""

from __future__ import annotations

import json
import shlex
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import config_to_yaml, load_config
from .errors import SpeechganError
from .plugins import ENV_STRICT, SpeechganPluginManager, get_plugin_manager, report_failures
from .registry import KINDS, PLURALS
from .signals import TrainingInterrupted

__all__ = ["build_cli", "main"]

EXIT_USER_ERROR = 2


class _Group(click.Group):
    """A group that refuses to let a plugin replace an existing command."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if name in self.commands:
            raise SpeechganError(f"command {name!r} already exists; a plugin cannot replace it")
        super().add_command(cmd, name)


def _pm(ctx: click.Context) -> SpeechganPluginManager:
    return ctx.find_root().obj


def build_cli(pm: SpeechganPluginManager) -> click.Group:
    """The command tree, with the commands plugins register."""

    @click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
    @click.option("--strict-plugins", is_flag=True, help=f"Make any plugin failure fatal (also {ENV_STRICT}=1).")
    @click.version_option(__version__, prog_name="speechgan")
    @click.pass_context
    def cli(ctx: click.Context, debug: bool, strict_plugins: bool) -> None:
        """speechgan: train generative adversarial networks on audio and speech."""
        ctx.obj = pm

    @cli.command()
    @click.argument("config", type=click.Path(path_type=Path))
    @click.argument("overrides", nargs=-1)
    @click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Run directory.")
    @click.option("--resume", is_flag=True, help="Continue the run in --out from checkpoints/last.pt.")
    @click.pass_context
    def train(ctx: click.Context, config: Path, overrides: tuple[str, ...], out: Path, resume: bool) -> None:
        """Train CONFIG (a recipe YAML) with optional dotted OVERRIDES (trainer.max_steps=200).

        Ctrl-C or SIGTERM: the current step finishes, checkpoints/last.pt is saved and the
        run stops with status 130 / 143 (a second Ctrl-C aborts at once).
        """
        from .run import train as run_train

        def report(stop: TrainingInterrupted) -> None:  # on the rank that saved, before any rank exits
            click.echo(_interrupted_report(stop, config, overrides, out), err=True)

        try:
            metrics = run_train(config, out, _pm(ctx).registry, overrides=overrides, resume=resume,
                                on_interrupted=report)
        except TrainingInterrupted as stop:
            ctx.exit(stop.exit_code)
        click.echo(f"run saved to {out}")
        if metrics:
            click.echo(json.dumps(metrics, indent=2))

    @cli.command()
    @click.argument("run_dir", type=click.Path(path_type=Path))
    @click.argument("overrides", nargs=-1)
    @click.option("--checkpoint", type=click.Path(path_type=Path), help="Default: RUN_DIR/checkpoints/last.pt.")
    @click.pass_context
    def evaluate(ctx: click.Context, run_dir: Path, overrides: tuple[str, ...], checkpoint: Path | None) -> None:
        """Evaluate a trained run with its config's metrics; writes RUN_DIR/metrics.json."""
        from .evaluate import evaluate_run

        metrics = evaluate_run(run_dir, registry=_pm(ctx).registry, checkpoint=checkpoint, overrides=overrides)
        click.echo(json.dumps(metrics, indent=2))

    @cli.command("export")
    @click.argument("run_dir", type=click.Path(path_type=Path))
    @click.option("--format", "fmt", required=True, type=click.Choice(["torchscript", "onnx"]), help="File format.")
    @click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="The file to write.")
    @click.option("--role", help="The generator role to export (default: the run's only one, or `generator`).")
    @click.option("--checkpoint", type=click.Path(path_type=Path), help="Default: RUN_DIR/checkpoints/last.pt.")
    @click.option("--no-ema", is_flag=True, help="Use the live generator weights, not their moving average.")
    @click.pass_context
    def export(ctx: click.Context, run_dir: Path, fmt: str, out: Path, role: str | None, checkpoint: Path | None,
               no_ema: bool) -> None:
        """Export RUN_DIR's generator to a TorchScript or ONNX file that runs without speechgan."""
        from .export import export_generator
        from .inference import load_run

        run = load_run(run_dir, registry=_pm(ctx).registry, checkpoint=checkpoint, ema=not no_ema)
        r = export_generator(run, out, fmt=fmt, role=role)
        sig = r.signature
        axes = "; ".join(f"{name} {dict(a)}" for name, a in sig.dynamic_axes.items())
        loader = "torch.jit.load(FILE)" if fmt == "torchscript" else "onnxruntime.InferenceSession(FILE)"
        click.echo(
            f"exported `{r.role}` ({r.generator}, {r.parameters:,} parameters, weight norm removed) from "
            f"{run.weights} to {r.path} ({fmt}, {r.path.stat().st_size / 1e6:.1f} MB) in {r.seconds:.1f} s\n"
            f"inputs {list(sig.input_names)} -> outputs {list(sig.output_names)}; dynamic axes: {axes}\n"
            f"checked on inputs of shape {[tuple(x.shape) for x in sig.check]}: max |exported - eager| = "
            f"{r.max_abs_diff:.2g}; load it with {loader}, no speechgan needed"
        )

    @cli.command()
    @click.argument("config", type=click.Path(path_type=Path))
    @click.argument("overrides", nargs=-1)
    @click.pass_context
    def check(ctx: click.Context, config: Path, overrides: tuple[str, ...]) -> None:
        """Validate CONFIG with OVERRIDES and print the fully resolved config."""
        click.echo(config_to_yaml(load_config(config, overrides, _pm(ctx).registry)), nl=False)

    @cli.command()
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.option("--kind", type=click.Choice(KINDS), help="Only this kind of component.")
    @click.pass_context
    def plugins(ctx: click.Context, as_json: bool, kind: str | None) -> None:
        """List every registered component by kind, with its provider and version."""
        pm = _pm(ctx)
        components = [c for c in pm.registry if kind is None or c.kind == kind]
        if as_json:
            out: dict[str, Any] = {
                "components": [c.as_dict() for c in components],
                "plugins": [
                    {"name": name, "distribution": dist, "version": version}
                    for name, (dist, version) in sorted(pm.distributions.items())
                ],
                "failures": [{"plugin": f.plugin, "where": f.where, "error": f"{type(f.error).__name__}: {f.error}"} for f in pm.failures],
            }
            click.echo(json.dumps(out, indent=2))
            return
        for k in KINDS:
            group = [c for c in components if c.kind == k]
            if not group:
                continue
            click.echo(f"{PLURALS[k]}:")
            width = max(len(c.name) for c in group)
            for c in group:
                click.echo(f"  {c.name:<{width}}  {c.description}  [{c.provider}]")
        for f in pm.failures:
            click.echo(f"failed: {f.message}")

    pm.call_each("speechgan_register_commands", cli=cli)
    return cli


def _interrupted_report(stop: TrainingInterrupted, config: Path, overrides: Sequence[str], out: Path) -> str:
    """Where an interrupted run saved, and the command that continues it."""
    head = f"speechgan: {stop}; saved {stop.checkpoint}"
    if stop.step >= stop.max_steps:
        return f"{head}\ntraining is complete; the final evaluation was skipped: speechgan evaluate {shlex.quote(str(out))}"
    command = shlex.join(["speechgan", "train", str(config), *overrides, "--out", str(out), "--resume"])
    launcher = f" (under torchrun, with {stop.world_size} processes as before)" if stop.world_size > 1 else ""
    return f"{head}\nresume with{launcher}: {command}"


def _global_flags(argv: Sequence[str]) -> tuple[bool, bool]:
    """``--debug`` / ``--strict-plugins`` before the sub-command (needed before parsing)."""
    debug = strict = False
    for arg in argv:
        if not arg.startswith("-"):
            break
        debug |= arg == "--debug"
        strict |= arg == "--strict-plugins"
    return debug, strict


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``speechgan`` console command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug, strict = _global_flags(argv)
    try:
        pm = get_plugin_manager(strict=True if strict else None)
        cli = build_cli(pm)
        report_failures(pm)
        rv = cli.main(args=argv, prog_name="speechgan", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except SpeechganError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"speechgan: error: {exc}", err=True)
        if not debug:
            click.echo("(run with --debug for the traceback)", err=True)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        click.echo("interrupted; the last checkpoint is intact", err=True)
        return 130


def run() -> None:  # pragma: no cover - console script wrapper
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
