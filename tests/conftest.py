"""Shared fixtures: the real packaged model (loaded once), stores in tmp folders, the UI served
on 127.0.0.1; and the rule that a test marked ``server``, ``browser`` or ``llm`` is ``slow``,
so ``pytest -m "not slow"`` starts no server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant import Assistant
from assistant.kernel.settings import Settings
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
IMPLY_SLOW = ("server", "browser", "llm")


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: the added marker must count there
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts a server, a browser or an LLM is slow, whether or not it says so."""
    for item in items:
        if any(item.get_closest_marker(name) for name in IMPLY_SLOW):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="module")
def serve_ui() -> Iterator[Callable[..., str]]:
    """``serve_ui(assistant, seeds=None)`` serves the assistant's UI on 127.0.0.1 the way
    ``assistant ui`` does (``ui.launch``; ``seeds`` indexed from server start on an empty store)
    and returns its base URL ``http://127.0.0.1:<port>``. Each call starts another server; all of
    them, and their assistants, close after the module's last test, so a module-scoped fixture
    can share one server between tests."""
    from assistant.app import ui

    with ExitStack() as running:
        def serve(assistant: Assistant, seeds: Path | None = None) -> str:
            running.callback(assistant.close)
            port = free_port()
            running.callback(ui.launch(assistant, port=port, seeds=seeds, block=False).close)
            return f"http://127.0.0.1:{port}"

        yield serve
