"""Streaming: an LLM's draft shows while it is written, then the verified answer replaces it.

``Assistant.ask_stream`` yields the draft as text pieces and ends with the very Answer
``ask`` returns; the UI's chat handler renders each piece and ends on the cited answer.
An extractive answer has no draft: it comes whole, at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant
from assistant.app import html, render, ui
from eval.schema import load_items

ROOT = Path(__file__).resolve().parents[1]
ITEMS = {item.id: item for item in load_items(ROOT / "eval" / "seeds.jsonl")}
GENERATED = ITEMS["russia-demand-missiles-1"].question  # the LLM writes this one (no conflict)
CHECKING = "Checking the draft against its sources"


def same(a: Answer, b: Answer) -> bool:
    """Equal but for the time each took."""
    return replace(a, seconds=0.0) == replace(b, seconds=0.0)


def bubbles(assistant: Assistant, question: str) -> tuple[list[str], list[Any]]:
    """What the chat's last bubble showed at each step of the UI's handler, and its last outputs."""
    shown, outputs = [], []
    for outputs in ui._Handlers(assistant, None).respond(question, [], None, "", "", [], False):
        shown.append(outputs[0][-1]["content"])  # read now: the handler reuses the chat list
    return shown, list(outputs)


@pytest.fixture
def llama(seeds_assistant: Assistant, embedder: object) -> Iterator[Assistant]:
    """The llama-cpp assistant, having just answered ``GENERATED`` once. llama.cpp's output for
    a prompt it evaluates whole can differ from its output for the same prompt found in its
    cache (batched vs single-token arithmetic flips a greedy pick), so the answers compared
    here all come from the cache, as every repeat of a question does."""
    a = Assistant(settings=seeds_assistant.settings, model=embedder, answerer="llama-cpp")
    a.ask(GENERATED)
    yield a
    a.close()


def test_an_extractive_answer_comes_whole(seeds_assistant: Assistant) -> None:
    items = list(seeds_assistant.ask_stream(GENERATED))
    assert len(items) == 1 and isinstance(items[0], Answer)
    assert same(items[0], seeds_assistant.ask(GENERATED))


def test_the_ui_shows_an_extractive_answer_at_once(seeds_assistant: Assistant) -> None:
    shown, (_, session, panel, plain, question) = bubbles(seeds_assistant, GENERATED)
    answer = session.turns[-1].answer
    assert shown == [html.pending_message(), html.answer_message(answer, 0)]  # nothing between
    assert plain == render.answer(answer) and question == "" and "cite-0-1" in panel


@pytest.mark.llm
@pytest.mark.slow
def test_ask_stream_yields_the_draft_then_the_answer_ask_returns(llama: Assistant) -> None:
    *drafts, final = llama.ask_stream(GENERATED)
    assert len(drafts) > 1 and all(isinstance(d, str) for d in drafts)
    assert isinstance(final, Answer) and final.answerer == "llama-cpp"
    assert same(final, llama.ask(GENERATED))


@pytest.mark.llm
@pytest.mark.slow
def test_the_ui_shows_the_draft_as_it_is_written_then_the_verified_answer(
        llama: Assistant) -> None:
    shown, (_, session, panel, plain, question) = bubbles(llama, GENERATED)
    answer = session.turns[-1].answer
    drafts = shown[1:-1]
    assert shown[0] == html.pending_message() and len(drafts) > 1
    assert all(CHECKING in d for d in drafts)
    texts = [d.split("</div>")[0] for d in drafts]  # the draft text grows piece by piece
    assert all(later.startswith(earlier) for earlier, later in pairwise(texts))
    # the verified, cited answer replaces the draft (verification may have dropped sentences)
    assert shown[-1] == html.answer_message(answer, 0) and CHECKING not in shown[-1]
    assert same(answer, llama.ask(GENERATED))
    assert plain == render.answer(answer) and question == "" and "cite-0-1" in panel
