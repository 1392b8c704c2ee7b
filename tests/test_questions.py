"""Questions a user can type or a caller can pass: every one gets an answer (or an honest
abstention) or a ``BadQuestionError`` that says what to fix — never a traceback.

Product decision for questions that are not in English: the model and the seeds are
English, so such a question is answered like any other — it may be answered from
matching text, and otherwise the assistant abstains; it never errors.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.kernel.answers import ABSTAIN_TEXT, Answer
from assistant.kernel.errors import BadQuestionError

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "What did Macron say about security guarantees for Russia?"


def assert_sensible(a: Assistant, answer: Answer) -> None:
    """An abstention says so and cites nothing; an answer's citations resolve exactly."""
    if answer.abstained:
        assert answer.text == ABSTAIN_TEXT and not answer.citations
        return
    assert answer.citations, "an answer without a source"
    for c in answer.citations:
        assert a.document(c.doc_id).text[c.start : c.end] == c.quote


def cited(answer: Answer) -> list[tuple[str, int, int]]:
    return [(c.doc_id, c.start, c.end) for c in answer.citations]


# --- refused, with a message that says what to fix ---------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"question": ""}, "the question is empty", id="empty"),
    pytest.param({"question": "  \n\t \u00a0\u3000 "}, "the question is empty", id="whitespace"),
    pytest.param({"question": "\x00\x01\x1b\x7f\u200b"}, "the question is empty",
                 id="control-chars-only"),
    pytest.param({"question": "why " * 25_000}, "the limit is 2,000", id="100k-chars"),
    pytest.param({"question": None}, "must be text, not NoneType", id="none"),
    pytest.param({"question": 42}, "must be text, not int", id="int"),
    pytest.param({"question": b"What did Macron say?"}, "must be text, not bytes", id="bytes"),
    pytest.param({"since": 123}, "since must be a date like 2022-12-05", id="since=123"),
    pytest.param({"since": "yesterday-ish"}, "since must be a date", id="since=yesterday-ish"),
    pytest.param({"until": "2022-13-45"}, "until must be a date", id="until=2022-13-45"),
    pytest.param({"since": "2023-01-01", "until": "2022-01-01"},
                 "since 2023-01-01 is after until 2022-01-01", id="inverted-range"),
    pytest.param({"since": "01/02/2022"}, "is ambiguous", id="since=01/02/2022"),
    pytest.param({"doc_ids": [1, 2]}, "doc_ids must be a list of text values", id="doc_ids=[1,2]"),
    pytest.param({"sources": ["TASS", 5]}, "sources must be a list of text", id="sources=[str,5]"),
    pytest.param({"sources": 5}, "sources must be", id="sources=5"),
    pytest.param({"history": [1, 2]}, "history", id="history=[1,2]"),
    pytest.param({"boost_docs": 5}, "boost_docs", id="boost_docs=5"),
])
def test_bad_question_or_filter_says_what_to_fix(seeds_assistant: Assistant,
                                                 kwargs: dict[str, Any], message: str) -> None:
    call = {"question": QUESTION, **kwargs}
    with pytest.raises(BadQuestionError, match=message) as raised:
        seeds_assistant.ask(**call)
    assert "\n" not in str(raised.value)


def test_none_filters_mean_no_filter(seeds_assistant: Assistant) -> None:
    plain = seeds_assistant.ask(QUESTION)
    assert cited(seeds_assistant.ask(QUESTION, sources=None, doc_ids=None)) == cited(plain)  # type: ignore[arg-type]


def test_a_generator_of_sources_still_filters(seeds_assistant: Assistant) -> None:
    answer = seeds_assistant.ask(QUESTION, sources=(s for s in ["no-such-outlet"]))  # type: ignore[arg-type]
    assert answer.abstained and "no indexed article matches the filters" in answer.notes


# --- answered (or abstained), never an error ----------------------------------------------------
def test_question_at_the_length_limit_is_answered(seeds_assistant: Assistant) -> None:
    limit = seeds_assistant.settings.max_question_chars
    question = (QUESTION + " ") * (limit // len(QUESTION) + 1)
    assert_sensible(seeds_assistant, seeds_assistant.ask(question[: limit - 1].rstrip()))
    with pytest.raises(BadQuestionError):
        seeds_assistant.ask(question[: limit + 1] + "x")


@pytest.mark.parametrize("noisy", [
    "What did\x00 Macron\x07 say about security\x1b guarantees for Russia?\x7f",
    "\u202eWhat did Macron say about security guarantees for Russia?\u202c",
    "What did Macron say about security guarantees for Russia? 🤔🇫🇷",
    "  what did   MACRON say about\tsecurity guarantees for Russia  ",
], ids=["control-chars", "bidi-marks", "emoji", "spacing-and-case"])
def test_noise_around_a_question_does_not_change_the_answer(seeds_assistant: Assistant,
                                                            noisy: str) -> None:
    plain = seeds_assistant.ask(QUESTION)
    assert not plain.abstained
    answer = seeds_assistant.ask(noisy)
    assert_sensible(seeds_assistant, answer)
    assert cited(answer) == cited(plain)


@pytest.mark.parametrize("question", [
    "Что сказал Макрон о гарантиях безопасности для России?",
    "Qu'a dit Macron à TF1 sur les garanties de sécurité pour la Russie ?",
    "Was sagte Borrell über Sicherheitsgarantien für die Ukraine?",
    "马克龙对俄罗斯的安全保障说了什么？",
    "🤔❓",
    "???",
    "'; DROP TABLE docs; --",
], ids=["russian", "french", "german", "chinese", "emoji-only", "punctuation-only", "sql"])
def test_unusual_questions_answer_or_abstain(seeds_assistant: Assistant, question: str) -> None:
    answer = seeds_assistant.ask(question)
    assert_sensible(seeds_assistant, answer)
    assert seeds_assistant.status().articles == 5  # nothing was harmed


@pytest.mark.parametrize("filters", [
    {"sources": ["x' OR 1=1 --"]},
    {"doc_ids": ["../../etc/passwd", "$or"]},
    {"since": "2030-01-01"},
], ids=["sql-source", "odd-doc-ids", "future"])
def test_filters_matching_nothing_abstain_and_say_why(seeds_assistant: Assistant,
                                                      filters: dict[str, Any]) -> None:
    answer = seeds_assistant.ask(QUESTION, **filters)
    assert answer.abstained and "no indexed article matches the filters" in answer.notes


def test_filter_values_in_other_shapes_work(seeds_assistant: Assistant) -> None:
    """A tuple or a single string where a list is expected; a date in another format."""
    doc = cited(seeds_assistant.ask(QUESTION))[0][0]
    for doc_ids in ([doc], (doc,), doc):
        answer = seeds_assistant.ask(QUESTION, doc_ids=doc_ids)
        assert {d for d, _, _ in cited(answer)} == {doc}
    answer = seeds_assistant.ask(QUESTION, since="1 January 2020", until="2030-12-31")
    assert not answer.abstained


# --- through the CLI: exit 2 and one line on stderr ---------------------------------------------
@pytest.fixture(scope="module")
def cli(seeds_assistant: Assistant) -> Any:
    base = [sys.executable, "-m", "assistant.app.cli", "--store-dir",
            str(seeds_assistant.settings.store_dir), "--embedder", "onnx"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=300, cwd=ROOT)

    return run


@pytest.mark.parametrize(("args", "message"), [
    (("ask", ""), "the question is empty"),
    (("ask", " \t "), "the question is empty"),
    (("ask", "why " * 25_000), "the limit is 2,000"),
    (("ask", QUESTION, "--since", "yesterday-ish"), "since must be a date"),
    (("ask", QUESTION, "--until", "31/31/2022"), "until must be a date"),
], ids=["empty", "blank", "100k-chars", "bad-since", "bad-until"])
def test_cli_refuses_a_bad_question_in_one_line(cli: Any, args: tuple[str, ...],
                                                message: str) -> None:
    run = cli(*args)
    assert run.returncode == 2
    assert run.stderr.startswith("assistant: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert not run.stdout


@pytest.mark.slow
def test_cli_answers_a_non_english_question_as_json(cli: Any) -> None:
    run = cli("ask", "--json", "Что сказал Макрон о гарантиях безопасности для России?")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["abstained"] or answer["citations"]
    assert answer["question"] == "Что сказал Макрон о гарантиях безопасности для России?"
