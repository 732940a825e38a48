"""Shared fixture of the corpus tests: a command group that only the corpus plugin adds commands to."""

from __future__ import annotations

import click
import pytest

from speechgan.plugins import get_plugin_manager
from speechgan_plugins.audio import corpus as corpus_plugin


@pytest.fixture
def cli() -> click.Group:
    """A bare top-level group with the corpus plugin's ``corpus`` command (synth, voices, digits)."""

    @click.group()
    def root() -> None:
        pass

    pm = get_plugin_manager(entry_points=False, plugins=[("corpus", corpus_plugin)])
    pm.hook.speechgan_register_commands(cli=root)
    assert pm.failures == []
    return root
