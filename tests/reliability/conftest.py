"""Fixtures for the reliability suite: the scale, a way to record figures, and private copies of the corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.reliability import report


@pytest.fixture(scope="session")
def scale() -> str:
    """normal (moderate sizes, every `make test`) or full (RELIABILITY_SCALE=full: thousands of inputs)."""
    return report.scale()


@pytest.fixture(scope="session")
def record():
    """record(area, {figure: value, ...}): figures go to the JSON report before the test asserts on them."""
    return report.record


def copy_corpus(repo_root: Path, folder: Path) -> Path:
    """The seed corpus (documents and manifest.toml) copied where a test may change it."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in (repo_root / "corpus").iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    return folder
