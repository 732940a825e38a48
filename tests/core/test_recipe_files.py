"""Recipe files that cannot be read: a message naming the file (and the including file),
from the library and from the command line, never a traceback."""

import pytest

from speechgan.cli import main
from speechgan.config import load_config
from speechgan.errors import ConfigError

from ..conftest import TINY_GAN, write_yaml


@pytest.fixture
def latin1_recipe(tmp_path):
    """A recipe saved as Latin-1: 'é' is the single byte 0xe9, on line 2 at byte offset 23."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes("# toy GAN\n# author: Ren\u00e9\nseed: 0\n".encode("latin-1"))
    return path


@pytest.fixture
def missing_include(tmp_path):
    """``recipes/a.yaml`` includes ``base.yaml``, which is not there."""
    return write_yaml(tmp_path / "recipes" / "a.yaml", {"include": "base.yaml", **TINY_GAN})


def test_a_recipe_that_is_not_utf8_names_file_line_byte_and_offset(latin1_recipe, registry):
    with pytest.raises(ConfigError) as info:
        load_config(latin1_recipe, registry=registry)
    assert str(info.value) == f"{latin1_recipe}:2: not UTF-8 text (byte 0xe9 at offset 23); save it as UTF-8"


def test_an_included_file_that_is_not_utf8_is_named(latin1_recipe, tmp_path, registry):
    recipe = write_yaml(tmp_path / "main.yaml", {"include": latin1_recipe.name})
    with pytest.raises(ConfigError, match=r"latin1\.yaml:2: not UTF-8 text \(byte 0xe9 at offset 23\)"):
        load_config(recipe, registry=registry)


def test_a_missing_include_names_the_including_recipe(missing_include, registry):
    with pytest.raises(ConfigError) as info:
        load_config(missing_include, registry=registry)
    looked_for = (missing_include.parent / "base.yaml").resolve()
    assert str(info.value) == f"{missing_include}: include: base.yaml: file not found (looked for {looked_for})"


@pytest.mark.parametrize("command", ["check", "train"])
def test_the_cli_reports_an_unreadable_recipe_without_a_traceback(latin1_recipe, missing_include, tmp_path,
                                                                  capsys, command):
    extra = ["--out", str(tmp_path / "run")] if command == "train" else []
    assert main([command, str(latin1_recipe), *extra]) == 2
    looked_for = (missing_include.parent / "base.yaml").resolve()
    assert main([command, str(missing_include), *extra]) == 2
    assert capsys.readouterr().err == (
        f"speechgan: error: {latin1_recipe}:2: not UTF-8 text (byte 0xe9 at offset 23); save it as UTF-8\n"
        "(run with --debug for the traceback)\n"
        f"speechgan: error: {missing_include}: include: base.yaml: file not found (looked for {looked_for})\n"
        "(run with --debug for the traceback)\n"
    )
    assert not (tmp_path / "run").exists()
