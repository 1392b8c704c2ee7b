"""assistant/app/seeding.py: on an empty store the UI indexes the seeds as the server starts —
before any page is requested — and says so in the server log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from assistant import Assistant
from assistant.app.seeding import SeedRun
from assistant.kernel.settings import Settings
from tests.helpers import free_port, stop

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"



def wait_for_line(log: Path, pattern: str, proc: subprocess.Popen[bytes], seconds: float) -> str:
    """The first log line matching ``pattern``, waiting for it without touching the server."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if m := re.search(f"^.*{pattern}.*$", text, re.M):
            return m[0]
        if proc.poll() is not None:
            pytest.fail(f"the UI exited with {proc.returncode}:\n{text}")
        time.sleep(0.25)
    pytest.fail(f"no log line matching {pattern!r} within {seconds:.0f}s:\n{log.read_text()}")


@pytest.mark.server
def test_server_start_indexes_the_seeds_before_any_page_is_requested(
        tmp_path: Path, embedder: object) -> None:
    store, log, port = tmp_path / "store", tmp_path / "ui.log", free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False",
           "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(store), "ui", "--port",
             str(port), "--seeds", str(SEEDS)], cwd=tmp_path, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        started = wait_for_line(log, "before the first question", proc, 240)
        assert started == f"assistant: indexing {SEEDS}/ (5 files) before the first question …"
        done = wait_for_line(log, "ready for questions", proc, 300)  # still no page requested
        assert re.fullmatch(rf"assistant: {re.escape(str(SEEDS))}/ indexed in [\d.]+s: 5 added, "
                            r"0 updated, 0 unchanged, 0 removed — ready for questions", done)
        reader = Assistant(settings=Settings(store_dir=store), model=embedder)
        try:
            assert reader.status().articles == 5
        finally:
            reader.close()
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=60)  # the first page request
        assert page.status_code == 200
    finally:
        stop(proc)


def test_a_store_with_articles_is_not_seeded_again(seeds_assistant: Assistant,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = SeedRun(seeds_assistant, SEEDS)
    assert run.start() is False
    run.wait()  # nothing to wait for
    assert run.message == "" and "indexing" not in capsys.readouterr().err
