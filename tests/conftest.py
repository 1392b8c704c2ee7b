"""Shared fixtures: the real packaged model (loaded once) and stores in tmp folders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant
from assistant.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder() -> object:
    """all-MiniLM-L6-v2 from the PyPI packages with the default backend, loaded once per test
    run (tests of the other backend load it themselves)."""
    from assistant.storage.embedding import make_embedder

    return make_embedder(Settings())


@pytest.fixture
def make_assistant(tmp_path: Path, embedder: object) -> Callable[..., Assistant]:
    """Build assistants on stores under tmp_path, sharing the loaded model."""

    def make(store: str = "store", **overrides: object) -> Assistant:
        return Assistant(settings=Settings(store_dir=tmp_path / store, **overrides),  # type: ignore[arg-type]
                         model=embedder)

    return make


@pytest.fixture(scope="session")
def seeds_assistant(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[Assistant]:
    """One assistant with the five seeds indexed, shared by read-only tests."""
    store = tmp_path_factory.mktemp("seeds-store")
    a = Assistant(settings=Settings(store_dir=store), model=embedder)
    report = a.index([SEEDS])
    assert report.added == 5 and not report.failed
    yield a
    a.close()


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds folder."""
    target = tmp_path / "articles"
    shutil.copytree(SEEDS, target)
    return target
