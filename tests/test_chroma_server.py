"""Scale-out: the same index and answers against a real `chroma run` server on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.kernel.settings import Settings
from tests.helpers import free_port, stop, wait_until_up


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, seconds=60)
        yield port
    finally:
        stop(proc)


@pytest.mark.server
def test_index_and_ask_through_a_chroma_server(chroma_server, tmp_path, embedder, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(store_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=chroma_server)
    a = Assistant(settings=settings, model=embedder)
    report = a.index([seeds_copy])
    assert report.added == 5 and not report.failed
    status = a.status()
    assert status.backend == f"http://127.0.0.1:{chroma_server}" and status.articles == 5
    assert not (tmp_path / "local" / "chroma").exists(), "no embedded Chroma when a server is set"
    answer = a.ask("On which TV channel did Macron speak about guarantees for Russia?")
    assert "TF1" in answer.text
    for c in answer.citations:
        assert a.document(c.doc_id).text[c.start : c.end] == c.quote
    again = a.index([seeds_copy])
    assert again.unchanged == 5 and again.embedded == 0
    # The vectors really live in the server: a fresh client sees them.
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    assert client.get_collection("news").count() == status.chunks


def test_unreachable_server_gives_a_clear_error(tmp_path, embedder, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    from assistant.kernel.errors import StoreError

    settings = Settings(store_dir=tmp_path / "local", chroma_host="127.0.0.1", chroma_port=free_port())
    with pytest.raises(StoreError, match="cannot open the Chroma store"):
        Assistant(settings=settings, model=embedder).index([seeds_copy])
