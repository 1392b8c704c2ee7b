"""The chat UI under load: 8 clients asking 50 questions each through Gradio's HTTP API.

The UI is served on 127.0.0.1 over a real index of the seeds (real model, real Chroma);
``bench.ui_load`` drives it with ``gradio_client`` exactly as a browser tab's question box
does. Figures go to test-artifacts/ui_load.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.app import render
from assistant.kernel.settings import Settings
from bench import ui_load

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CLIENTS, PER_CLIENT = 8, 50
MAX_SECONDS = 420  # no request starts later; at ~6 answers/s the run takes about a minute


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: object,
           serve_ui: Callable[..., str]) -> tuple[str, Assistant]:
    """The UI on 127.0.0.1 over the indexed seeds."""
    assistant = Assistant(settings=Settings(store_dir=tmp_path_factory.mktemp("load-store")),
                          model=embedder)
    report = assistant.index([ROOT / "seeds"])
    assert report.added == 5 and not report.failed
    return serve_ui(assistant) + "/", assistant


def test_concurrent_clients_all_get_the_answer_a_single_user_gets(
        served: tuple[str, Assistant]) -> None:
    url, assistant = served
    questions = ui_load.default_questions()
    alone = {q: assistant.ask(q) for q in questions}  # what one user asking alone is told
    assert any(a.abstained for a in alone.values()) and any(a.citations for a in alone.values())

    report = ui_load.run(url, questions, clients=CLIENTS, per_client=PER_CLIENT,
                         max_seconds=MAX_SECONDS, timeout=120)
    summary = report.summary()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "ui_load.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"\n{report.completed} answers to {CLIENTS} concurrent clients in "
          f"{summary['wall_seconds']}s: p50 {summary['latency_p50']}s, "
          f"p95 {summary['latency_p95']}s, {summary['throughput_per_s']} answers/s, "
          f"{report.errors} errors")

    assert report.errors == 0, report.error_messages
    assert report.skipped == 0 and report.completed == CLIENTS * PER_CLIENT
    # every reply is either cited or the abstention, never an empty or half-streamed bubble
    assert report.cited + report.abstained == report.completed
    for question, expected in alone.items():
        outcome = "abstained" if expected.abstained else "cited"
        assert set(report.outcomes[question]) == {outcome}, question
        # answering many sessions at once neither mixes up answers nor changes them
        assert report.answers[question] == {render.answer(expected)}, question


def test_load_generator_command_prints_a_json_summary(served: tuple[str, Assistant]) -> None:
    url, _ = served
    done = subprocess.run(
        [sys.executable, "-m", "bench.ui_load", "--url", url, "--clients", "2",
         "--questions", "2", "--max-seconds", "120"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["requests"] == summary["completed"] == 4 and summary["errors"] == 0
    assert summary["latency_p50"] is not None and summary["throughput_per_s"] > 0
