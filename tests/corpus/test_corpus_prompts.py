"""The CMU ARCTIC prompt list shipped as package data, and its parser."""

from __future__ import annotations

import importlib.resources

import pytest

from speechgan.errors import DataError
from speechgan_plugins.audio.corpus_synth import Prompt, load_prompts, parse_prompts


def test_shipped_prompts_are_the_cmu_arctic_list() -> None:
    prompts = load_prompts()
    assert len(prompts) == 1132
    assert sum(p.id.startswith("arctic_a") for p in prompts) == 593
    assert sum(p.id.startswith("arctic_b") for p in prompts) == 539
    assert prompts[0] == Prompt("arctic_a0001", "Author of the danger trail, Philip Steels, etc.")
    assert prompts[593] == Prompt("arctic_b0001", prompts[593].text)
    assert prompts[-1] == Prompt("arctic_b0539", "You were making them talk shop, Ruth charged him.")
    assert len({p.id for p in prompts}) == 1132


def test_prompt_file_and_provenance_are_package_data() -> None:
    folder = importlib.resources.files("speechgan_plugins.audio")
    assert folder.joinpath("cmuarctic.data").is_file()
    assert "Kominek" in folder.joinpath("CMUARCTIC_PROVENANCE.md").read_text(encoding="utf-8")


def test_parser_reads_festival_lines_and_skips_blank_ones() -> None:
    text = '( arctic_a0001 "Hello, world." )\n\n(arctic_b0002  "It\'s (not) odd."  )\n'
    assert parse_prompts(text) == [
        Prompt("arctic_a0001", "Hello, world."),
        Prompt("arctic_b0002", "It's (not) odd."),
    ]


def test_parser_names_file_and_line_of_a_bad_line() -> None:
    with pytest.raises(DataError, match=r"^prompts.txt:2: expected \( <id> \"<text>\" \), got 'arctic_a0002 no quotes'$"):
        parse_prompts('( arctic_a0001 "fine" )\narctic_a0002 no quotes\n', source="prompts.txt")
