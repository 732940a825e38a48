"""The contract of a feature front-end (waveform -> features).

A front-end is an ``nn.Module`` whose windows and filterbanks are registered buffers (so
``.to(device)`` moves them and it can sit inside a loss; no global caches, see the
hifi-gan ``mel_basis`` cache whose key never matched). It declares the parameters that
define its output and a fingerprint of them: feature caches and checkpoints store the
fingerprint, and a mismatch at load or inference time is an error, not silent garbage.

A front-end that extends another (a log of a magnitude, a DCT of a log-mel) takes its own
arguments and passes the rest on: :func:`passes_args_to` gives its ``__init__`` the full,
typed signature that config validation and ``help()`` read, without repeating it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import nn

__all__ = ["FrontEnd", "passes_args_to"]

Init = TypeVar("Init", bound=Callable[..., None])


def passes_args_to(target: type) -> Callable[[Init], Init]:
    """Declare that ``__init__(self, *, own=..., **kwargs)`` passes ``kwargs`` on to ``target``.

    The decorated ``__init__`` gets the signature and type hints of its own keyword
    arguments followed by every keyword argument of ``target.__init__``, with their types
    and defaults, and no ``**kwargs``: :func:`speechgan.config.signature` then checks each
    one by name and type (an unknown key is reported, not swallowed by ``**kwargs``).
    """

    def declare(init: Init) -> Init:
        own = inspect.signature(init)
        passed = [
            p for p in inspect.signature(target.__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in own.parameters
        ]
        kept = [p for p in own.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        init.__signature__ = own.replace(parameters=kept + passed)  # type: ignore[attr-defined]
        hints = {**typing.get_type_hints(target.__init__, include_extras=True),
                 **typing.get_type_hints(init, include_extras=True)}
        init.__annotations__ = {p.name: hints[p.name] for p in kept + passed if p.name in hints} | {"return": None}
        return init

    return declare


class FrontEnd(nn.Module):
    """Base class of feature front-ends.

    Subclasses set ``sample_rate`` and ``hop_length`` (samples per frame; 1 for the
    waveform itself), implement :meth:`forward` and :attr:`params`, and override
    :meth:`inverse` where an inverse exists.
    """

    sample_rate: int
    hop_length: int

    def forward(self, wave: torch.Tensor) -> torch.Tensor:  # (B, T) or (T,) -> (B, C, N) or (C, N)
        raise NotImplementedError

    @property
    def params(self) -> dict[str, Any]:
        """JSON-serialisable parameters that fully define the output."""
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        """A short hash of the class and :attr:`params`: equal iff the features are."""
        blob = json.dumps({"class": type(self).__name__, **self.params}, sort_keys=True, default=str)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    @property
    def has_inverse(self) -> bool:
        return type(self).inverse is not FrontEnd.inverse

    def inverse(self, features: torch.Tensor) -> torch.Tensor:
        """Features back to a waveform, where the front-end has an inverse."""
        raise NotImplementedError(f"front-end {type(self).__name__} has no inverse")

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items())
