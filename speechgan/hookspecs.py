"""Every hook a speechgan plugin can implement, grouped by lifecycle.

Project name and entry-point group: ``speechgan``. A plugin is a module (or object) with
functions marked ``@speechgan.hookimpl`` whose names match the specs below. Hooks are
called with keyword arguments; an implementation may accept any subset of them (pluggy's
opt-in arguments), and hooks only ever grow by new arguments, so old plugins keep working.

Registration hooks
------------------
``speechgan_register_<kind>s(register)`` is called once, when the registry is first
needed. ``register(name, factory, description=None)`` adds one component:

* ``name``: unique within the kind; lower case letters, digits, ``_``, ``-``, ``.``.
* ``factory``: a class or function called with the component's keyword arguments from the
  config (``args:``). Its signature is the component's config schema: every parameter must
  be keyword-passable and typed, and is validated when the config loads.
* ``description``: one line for ``speechgan plugins``; defaults to the first line of the
  factory's docstring.

A hook may call ``register`` any number of times. If it raises, nothing it registered in
that call is kept and the plugin is reported by name (fatal in strict mode).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:  # click is only needed by the CLI
    import click

__all__ = ["hookspec", "hookimpl", "Register"]

PROJECT = "speechgan"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class Register(Protocol):
    """The callback a registration hook receives."""

    def __call__(
        self, name: str, factory: Callable[..., Any], description: str | None = None
    ) -> None: ...


# -- components ---------------------------------------------------------------------------


@hookspec
def speechgan_register_generators(register: Register) -> None:
    """Register generator ``nn.Module`` classes (or builder functions returning one).

    A generator maps the objective's conditioning input (noise, a mel-spectrogram, the
    features of another speaker, an image...) to a fake sample. Size presets (say
    ``hifigan_v1``) are separate names whose factories fill in the defaults.
    """


@hookspec
def speechgan_register_discriminators(register: Register) -> None:
    """Register discriminator (or critic) ``nn.Module`` factories.

    What a discriminator returns is agreed between it and the objective that uses it:
    plain logits, or logits plus intermediate feature maps for feature matching.
    """


@hookspec
def speechgan_register_features(register: Register) -> None:
    """Register feature front-ends: ``nn.Module``s from waveform to features.

    Windows and filterbanks are registered buffers, so a front-end moves to the training
    device and can sit inside a loss. A front-end exposes its parameters and a
    fingerprint of them, and an ``inverse`` where one exists.
    """


@hookspec
def speechgan_register_losses(register: Register) -> None:
    """Register losses: adversarial criteria, regularizers and auxiliary losses.

    An adversarial criterion is a factory returning an object with
    ``discriminator_loss(real, fake)`` and ``generator_loss(fake)`` on discriminator outputs
    (logits, or a list of them for several sub-discriminators);
    auxiliary losses are ``nn.Module``s or callables returning a scalar tensor.
    """


@hookspec
def speechgan_register_objectives(register: Register) -> None:
    """Register training objectives: what a GAN family computes in its D and G steps.

    An objective declares the generator and discriminator roles it needs and the names of
    the loss terms it returns, with their default weights; see
    :class:`speechgan.objective.Objective` for the full contract.
    """


@hookspec
def speechgan_register_datasets(register: Register) -> None:
    """Register datasets: factories returning a ``torch.utils.data.Dataset``.

    The trainer batches items with the default collate function unless the dataset has a
    ``collate`` method. A dataset that holds its data in tensors may fetch whole batches
    instead: its ``__getitems__(indices)`` receives a batch's indices as one (B,) long
    tensor (:mod:`speechgan.loader`) and returns what ``collate`` receives.
    """


@hookspec
def speechgan_register_metrics(register: Register) -> None:
    """Register evaluation metrics.

    A metric factory returns an object whose ``__call__(run)`` computes numbers from a
    trained run (see :mod:`speechgan.evaluate`) and returns ``{name: float}``; metric
    names land flat in ``metrics.json``.
    """


@hookspec
def speechgan_register_callbacks(register: Register) -> None:
    """Register trainer callbacks (objects with optional ``on_*`` methods).

    A config enables them under ``trainer.callbacks``; see
    :class:`speechgan.callbacks.Callback` for the events.
    """


# -- command line -------------------------------------------------------------------------


@hookspec
def speechgan_register_commands(cli: "click.Group") -> None:
    """Add sub-commands to the ``speechgan`` command line.

    ``cli`` is the top-level :class:`click.Group`; decorate functions with ``@cli.command()``
    or call ``cli.add_command``. Raise :class:`speechgan.SpeechganError` for user errors so
    the CLI prints a short message and exits non-zero.
    """
