"""The digits classifier, trained once per test session into a temporary cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechgan_plugins.image.classifier import DigitsClassifier, load_digits_classifier


@pytest.fixture(scope="session")
def classifier_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speechgan_cache")


@pytest.fixture(autouse=True)
def _cache_env(classifier_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the user's ~/.cache/speechgan."""
    monkeypatch.setenv("SPEECHGAN_CACHE", str(classifier_cache))


@pytest.fixture(scope="session")
def digits_classifier(classifier_cache: Path) -> DigitsClassifier:
    """The classifier with the default settings (trained on first use, seconds)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SPEECHGAN_CACHE", str(classifier_cache))
        return load_digits_classifier()
