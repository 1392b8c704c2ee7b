"""The UI with the local model, in a real browser: killing the model's process costs at most the
question it was answering, which shows one line saying so; the chat keeps answering."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import pytest

from assistant import Assistant
from tests.test_llm import QUESTIONS, llm_copy
from tests.test_local_model import alive, model_of
from tests.test_ui import WAIT_MS, ask, browser, open_app, shot

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.llm]
__all__ = ["browser"]  # the fixture, shared with test_ui

STOPPED = "the local model stopped (signal 9, SIGKILL)"


@pytest.fixture(scope="module")
def app(seeds_assistant: Assistant, embedder: object,
        serve_ui: Callable[..., str]) -> tuple[str, Assistant]:
    llama = llm_copy(seeds_assistant, embedder, answerer="llama-cpp")
    return serve_ui(llama) + "/", llama


def cited(bubble: Any) -> bool:
    return bubble.locator("a.cite").count() > 0


def test_the_chat_answers_on_after_the_model_is_killed_between_and_during_answers(
        app: tuple[str, Assistant], browser: Any) -> None:
    url, llama = app
    page = open_app(browser, url)
    page.wait_for_selector("#status :text('articles')", timeout=WAIT_MS)
    assert cited(ask(page, QUESTIONS[0], "local model up"))
    model = model_of(llama)

    first = model.process.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)  # between two questions: the next one starts it again
    assert cited(ask(page, QUESTIONS[1], "after a kill between questions"))
    second = model.process.pid
    assert second not in (None, first)

    page.fill("#question textarea", QUESTIONS[1])
    page.press("#question textarea", "Enter")
    page.wait_for_selector("#chat .msg-a:has-text(' ') + .msg-pending", timeout=WAIT_MS)
    os.kill(second, signal.SIGKILL)  # the draft is on screen: the model is writing
    error = page.locator("#chat .msg-error").last
    error.wait_for(timeout=WAIT_MS)
    assert STOPPED in error.inner_text()
    assert not alive(second)
    shot(page, "local_model_killed")

    assert cited(ask(page, QUESTIONS[0], "after a kill mid-answer"))
    assert model.process.pid not in (None, second)
    assert page.locator("#chat .msg-error").count() == 1  # only the question it was writing
