"""The UI server's named HTTP API (``assistant/app/api.py``), through a real ``gradio_client``
and plain HTTP against a real server on 127.0.0.1 that indexes the seeds as it starts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Answer, Assistant
from assistant.app import ui
from assistant.kernel.settings import Settings
from tests.helpers import call_event

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
QUESTION = ui.EXAMPLES[0]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, embedder: object,
           serve_ui: Callable[..., str]) -> tuple[str, Assistant]:
    """The UI server over an empty store that indexes the seeds as it starts."""
    assistant = Assistant(settings=Settings(store_dir=tmp_path_factory.mktemp("api") / "store"),
                          model=embedder)
    return serve_ui(assistant, seeds=ROOT / "seeds"), assistant


@pytest.fixture(scope="module")
def client(served: tuple[str, Assistant]) -> Iterator[Any]:
    from gradio_client import Client

    c = Client(served[0], verbose=False, analytics_enabled=False)
    yield c
    c.close()


def quotes_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for c in answer["citations"] for q in (c, *c["also"])]


def test_view_api_lists_only_the_documented_endpoints(client: Any) -> None:
    info = client.view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask", "/status", "/index"}
    assert not info["unnamed_endpoints"]
    params = [p["parameter_name"] for p in info["named_endpoints"]["/ask"]["parameters"]]
    assert params == ["question", "since", "until", "sources", "include_undated"]


def test_ask_returns_the_cited_answer_as_data(client: Any, served: tuple[str, Assistant]) -> None:
    answer = client.predict(QUESTION, api_name="/ask")
    assert set(answer) == {f.name for f in fields(Answer)}  # the fields of `ask --json`
    assert not answer["abstained"] and answer["citations"]
    assistant = served[1]
    for q in quotes_of(answer):
        assert assistant.document(q["doc_id"]).text[q["start"]:q["end"]] == q["quote"]
    same = json.loads(json.dumps(assistant.ask(QUESTION).to_dict()))
    assert {k: v for k, v in answer.items() if k != "seconds"} == {
        k: v for k, v in same.items() if k != "seconds"}


def test_ask_applies_the_filters_by_name(client: Any) -> None:
    answer = client.predict(QUESTION, since="December 1, 2022", sources=["Reuters"],
                            include_undated=True, api_name="/ask")
    assert answer["filters"]["since"] == "2022-12-01"
    assert answer["filters"]["sources"] == ["Reuters"] and answer["filters"]["include_undated"]
    assert answer["citations"]
    for c in answer["citations"]:  # undated articles were asked for too
        assert c["source"] == "Reuters" and (c["published"] is None or c["published"] >= "2022-12-01")


@pytest.mark.parametrize(("args", "says"), [
    (("   ",), "the question is empty"),
    ((QUESTION, "next Tuesday-ish"), "since"),
    ((QUESTION, None, "2022-13-45"), "until"),
    (("why " * 600,), "the limit is 2,000"),
])
def test_bad_input_gets_a_message_not_a_traceback(client: Any, args: tuple[Any, ...],
                                                  says: str) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as e:
        client.predict(*args, api_name="/ask")
    assert says in str(e.value) and "Traceback" not in str(e.value)


def test_status_returns_the_index_status(client: Any, served: tuple[str, Assistant]) -> None:
    status = client.predict(api_name="/status")
    expected = json.loads(json.dumps(served[1].status().to_dict()))
    assert status["articles"] == expected["articles"] == 5
    assert {k: status[k] for k in ("chunks", "clusters", "sources", "first_date")} == {
        k: expected[k] for k in ("chunks", "clusters", "sources", "first_date")}


def test_curl_style_http_calls_ask_in_two_steps(served: tuple[str, Assistant]) -> None:
    """The README's curl example: POST /gradio_api/call/ask, then read its event stream."""
    with httpx.Client(base_url=served[0], timeout=120) as http:
        event = http.post("/gradio_api/call/ask",
                          json={"data": [QUESTION, None, None, [], False]}).raise_for_status()
        lines = http.get(f"/gradio_api/call/ask/{event.json()['event_id']}").text.splitlines()
    assert "event: complete" in lines
    data = json.loads(lines[lines.index("event: complete") + 1].removeprefix("data: "))
    assert data[0]["citations"] and data[0]["question"] == QUESTION


def test_index_takes_uploaded_files_and_returns_the_report(
        client: Any, served: tuple[str, Assistant], tmp_path: Path) -> None:
    from gradio_client import handle_file

    article = tmp_path / "quenton.txt"
    article.write_text("Title: Quenton bridge opens\nPublished: 2023-03-14\n\n"
                       "The Quenton council opened the new river bridge on Tuesday. "
                       "The bridge cost 40 million euros, the mayor said.\n")
    script = tmp_path / "notes.exe"
    script.write_bytes(b"MZ\x00\x01")
    report = client.predict([handle_file(str(article)), handle_file(str(script))],
                            api_name="/index")
    assert report["added"] == 1 and report["embedded"] >= 1
    assert [p["file"] for p in report["failed"]] == ["notes.exe"]
    assert client.predict(api_name="/status")["articles"] == 6
    answer = client.predict("How much did the Quenton bridge cost?", api_name="/ask")
    assert any("40 million euros" in q["quote"] for q in quotes_of(answer))


def test_index_without_files_says_what_to_send(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="no files"):
        client.predict([], api_name="/index")


def test_the_page_events_stay_callable_by_the_page(served: tuple[str, Assistant]) -> None:
    """Hidden from the API is not removed: the browser's question box still answers."""
    with httpx.Client(base_url=served[0], timeout=120) as http:
        result = call_event(http, "respond", [QUESTION, [], None, "", "", [], False])
    assert result["success"], result
