import pytest

from speechgan.errors import DuplicateComponentError, UnknownComponentError
from speechgan.registry import KINDS, Registry


class Gen:
    """A generator for tests.

    More text."""


def test_add_and_get_records_provider_and_description():
    reg = Registry()
    comp = reg.add("generator", "gen", Gen, plugin="mine", distribution="my-dist", version="1.2")
    assert reg.get("generator", "gen") is comp
    assert comp.description == "A generator for tests."
    assert comp.provider == "mine (my-dist 1.2)"
    assert reg.names("generator") == ["gen"]
    assert ("generator", "gen") in reg


def test_unknown_name_lists_close_matches_and_available():
    reg = Registry()
    for name in ("hifigan_v1", "hifigan_v2", "melgan"):
        reg.add("generator", name, Gen)
    with pytest.raises(UnknownComponentError) as err:
        reg.get("generator", "hifigan_v4")
    assert str(err.value) == (
        "unknown generator 'hifigan_v4'. Did you mean 'hifigan_v2' or 'hifigan_v1'? "
        "Available generators: hifigan_v1, hifigan_v2, melgan"
    )


def test_unknown_name_in_empty_kind_says_nothing_is_installed():
    with pytest.raises(UnknownComponentError, match=r"Available metrics: none \(is the plugin"):
        Registry().get("metric", "mcd")


def test_duplicate_names_both_providers_and_poisons_the_name():
    reg = Registry()
    reg.add("loss", "hinge", Gen, plugin="first", distribution="a-dist", version="1")
    with pytest.raises(DuplicateComponentError) as err:
        reg.add("loss", "hinge", Gen, plugin="second", distribution="b-dist", version="2")
    msg = str(err.value)
    assert "loss 'hinge' is registered by two plugins: first (a-dist 1) and second (b-dist 2)" in msg
    # neither provider wins silently: using the name is the same error
    with pytest.raises(DuplicateComponentError, match="first .* and second"):
        reg.get("loss", "hinge")


@pytest.mark.parametrize("bad", ["Upper", "1abc", "with space", ""])
def test_invalid_names_are_rejected(bad):
    with pytest.raises(ValueError, match="invalid generator name"):
        Registry().add("generator", bad, Gen, plugin="p")


def test_unknown_kind_and_non_callable():
    with pytest.raises(ValueError, match="unknown component kind 'widget'"):
        Registry().add("widget", "x", Gen)
    with pytest.raises(TypeError, match="is not callable"):
        Registry().add("generator", "x", 42)  # type: ignore[arg-type]


def test_iteration_is_by_kind_then_name():
    reg = Registry()
    reg.add("metric", "b", Gen)
    reg.add("generator", "z", Gen)
    reg.add("generator", "a", Gen)
    assert [(c.kind, c.name) for c in reg] == [("generator", "a"), ("generator", "z"), ("metric", "b")]
    assert KINDS[0] == "generator"
