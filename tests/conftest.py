"""Fixtures shared by the whole suite: where things are, one real model loaded once, and a fake one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.fail(f"{SHARED_DIR} is missing: the suite needs ../shared beside the checkout")
    return SHARED_DIR


@pytest.fixture(scope="session")
def embedder():
    """The real model, loaded once for the whole run."""
    from index.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def fake_embedder():
    """Deterministic vectors without a model (tests/fakes.py), for tests that need vectors but not meaning."""
    from tests.fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture(scope="session")
def seed_services(tmp_path_factory, embedder, repo_root):
    """Services over an index of the real seed corpus, built once into a temporary folder."""
    from bot.services import Services
    from bot.settings import Settings

    index_dir = tmp_path_factory.mktemp("seed-index")
    services = Services(Settings(corpus_dir=repo_root / "corpus", index_dir=index_dir, _env_file=None), embedder)
    services.reindex()
    return services
