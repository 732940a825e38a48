"""``speechgan preprocess CONFIG``: compute a recipe's front-end features once, in parallel.

For each of ``data.train`` and ``data.valid`` whose dataset sets ``cache_dir``, the
dataset is built with the recipe's ``features:`` front-end, which fills
``cache_dir/<front-end fingerprint>/`` over all CPU cores (``--workers`` to choose).
Training then reads the cached features; a changed front-end parameter changes the
fingerprint, so stale features are never reused.
"""

from __future__ import annotations

from pathlib import Path

import click

from speechgan import hookimpl
from speechgan.build import build_component
from speechgan.config import load_config
from speechgan.errors import ConfigError
from speechgan.schema import ComponentSpec

__all__ = ["speechgan_register_commands"]


def _cache_results(dataset: object) -> list:
    parts = [dataset.a, dataset.b] if hasattr(dataset, "a") and hasattr(dataset, "b") else [dataset]  # unpaired
    return [part.cache_result for part in parts if getattr(part, "cache_result", None) is not None]


@hookimpl
def speechgan_register_commands(cli: click.Group) -> None:
    @cli.command()
    @click.argument("config", type=click.Path(path_type=Path))
    @click.argument("overrides", nargs=-1)
    @click.option("--workers", type=click.IntRange(min=1), help="Processes (default: every CPU core).")
    @click.pass_context
    def preprocess(ctx: click.Context, config: Path, overrides: tuple[str, ...], workers: int | None) -> None:
        """Fill the feature cache of CONFIG's datasets (those with args.cache_dir)."""
        registry = ctx.find_root().obj.registry
        cfg = load_config(config, overrides, registry)
        if cfg.features is None:
            raise ConfigError(f"{config}: preprocess computes the `features:` front-end, and this recipe has none")
        features = build_component(registry, "feature", cfg.features, path="features")
        sections = [(p, s) for p, s in (("data.train", cfg.data.train), ("data.valid", cfg.data.valid)) if s is not None]
        cached = [(p, s) for p, s in sections if s.args.get("cache_dir")]
        if not cached:
            raise ConfigError(f"{config}: no dataset sets args.cache_dir (e.g. data.train.args.cache_dir=cache/)")
        for path, spec in cached:
            args = spec.args | ({"num_workers": workers} if workers else {})
            dataset = build_component(registry, "dataset", ComponentSpec(name=spec.name, args=args), path=path,
                                      injected={"features": features})
            results = _cache_results(dataset)
            n = sum(r.n_files for r in results)
            computed = sum(r.n_computed for r in results)
            seconds = sum(r.seconds for r in results)
            wall = sum(r.wall_time for r in results)
            click.echo(
                f"{path}: {n} files ({computed} computed, {n - computed} reused), {seconds:.1f} s of audio in "
                f"{wall:.1f} s ({seconds / max(wall, 1e-9):.0f}x real time) -> "
                f"{Path(spec.args['cache_dir']) / features.fingerprint}"
            )
