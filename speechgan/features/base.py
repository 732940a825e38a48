"""The contract of a feature front-end (waveform -> features).

A front-end is an ``nn.Module`` whose windows and filterbanks are registered buffers (so
``.to(device)`` moves them and it can sit inside a loss; no global caches, see the
hifi-gan ``mel_basis`` cache whose key never matched). It declares the parameters that
define its output and a fingerprint of them: feature caches and checkpoints store the
fingerprint, and a mismatch at load or inference time is an error, not silent garbage.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import torch
from torch import nn

__all__ = ["FrontEnd"]


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
