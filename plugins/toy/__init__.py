"""The 2-D mixture benchmark: ring and grid datasets, MLPs and the mode-coverage metric."""

from speechgan import hookimpl

from .mixtures import Grid25, Ring8
from .mlp import MLPDiscriminator, MLPGenerator
from .modes import ModeCoverage

__all__ = ["Ring8", "Grid25", "MLPGenerator", "MLPDiscriminator", "ModeCoverage"]


@hookimpl
def speechgan_register_datasets(register):  # type: ignore[no-untyped-def]
    register("ring8", Ring8)
    register("grid25", Grid25)


@hookimpl
def speechgan_register_generators(register):  # type: ignore[no-untyped-def]
    register("mlp", MLPGenerator)


@hookimpl
def speechgan_register_discriminators(register):  # type: ignore[no-untyped-def]
    register("mlp", MLPDiscriminator)


@hookimpl
def speechgan_register_metrics(register):  # type: ignore[no-untyped-def]
    register("mode_coverage", ModeCoverage)
