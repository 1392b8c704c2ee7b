"""The chat UI in a real browser (Debian Chromium via Playwright) on a real index of the seeds.

The app starts on an empty store, so the first page load indexes the seed folder the
way a first-time user sees it. Screenshots go to test-artifacts/, question→answer times
to test-artifacts/ui_timings.json.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant import ABSTAIN_TEXT, Assistant, NoIndexError, ui
from index.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEED_QUESTION = "On which TV channel did Macron speak about security guarantees for Russia?"
# a follow-up that names nothing itself: only the conversation says who "he" is
CONVERSATION = ("What did Josep Borrell say about security guarantees?", "Where did he say it?")
WAIT_MS = 240_000  # the first load indexes the seeds on a busy 2-core machine
TIMINGS: dict[str, float] = {}
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Assistant]]:
    """The UI served on 127.0.0.1 over an empty store that the first page load fills."""
    store = tmp_path_factory.mktemp("ui-store")
    assistant = Assistant(settings=Settings(store_dir=store))
    demo = ui.build(assistant, seeds=ROOT / "seeds")
    demo.queue()
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **ui.launch_options(assistant))
    yield f"http://127.0.0.1:{port}/", assistant
    demo.close()
    assistant.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "ui_timings.json").write_text(json.dumps(TIMINGS, indent=2))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_app(browser: Any, url: str) -> Any:
    """A fresh browser session on the app, with every alert/confirm dialog recorded."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(url)
    return pg


@pytest.fixture
def page(app: tuple[str, Assistant], browser: Any) -> Iterator[Any]:
    """The app, once its index is ready."""
    pg = open_app(browser, app[0])
    pg.wait_for_selector("#status :text('articles')", timeout=WAIT_MS)
    yield pg
    pg.context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ui_{name}.png"))


def ask(page: Any, question: str, label: str) -> Any:
    """Type a question, press Enter, wait for the finished answer; returns its bubble."""
    bots = page.locator("#chat [data-testid='bot']")
    before = bots.count()
    page.fill("#question textarea", question)
    started = time.perf_counter()
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        """n => document.querySelectorAll("#chat [data-testid='bot']").length > n
              && !document.querySelector('#chat .msg-pending')
              && document.querySelector('#question textarea').value === ''""",
        arg=before, timeout=WAIT_MS)
    TIMINGS[label] = round(time.perf_counter() - started, 2)
    print(f"question→answer in the browser ({label}): {TIMINGS[label]:.2f}s")
    return bots.last


# The highlighted sentence is on screen and inside the visible part of its scroll box.
MARK_IN_VIEW = """() => {
    const m = document.querySelector('#sources mark.hl');
    if (!m) return false;
    const r = m.getBoundingClientRect(), box = m.closest('.src-text').getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight
        && r.top >= box.top - 1 && r.top < box.bottom;
}"""


def test_first_load_indexes_the_seeds_with_visible_progress(
        app: tuple[str, Assistant], browser: Any) -> None:
    try:
        first_run = app[1].status().articles == 0
    except NoIndexError:
        first_run = True
    page = open_app(browser, app[0])
    if first_run:
        page.locator("#status .progress-level", has_text="indexing").wait_for(timeout=WAIT_MS)
        shot(page, "00_first_run_progress")
    page.wait_for_selector("#status :text('articles')", timeout=WAIT_MS)
    status = page.inner_text("#status")
    assert "5 articles" in status and "chunks" in status
    if first_run:
        assert "Indexed 5 seed article(s)" in status
    page.click("#outlets input")  # the outlet filter offers the outlets of the index
    page.get_by_role("option", name="Reuters").wait_for()
    page.keyboard.press("Escape")
    shot(page, "01_loaded")
    page.context.close()


def test_cited_answer_and_clicked_marker_highlights_the_sentence(
        page: Any, app: tuple[str, Assistant]) -> None:
    expected = app[1].ask(SEED_QUESTION)
    assert not expected.abstained
    bubble = ask(page, SEED_QUESTION, "seed question")
    assert bubble.locator("a.cite", has_text="[1]").count() >= 1
    shot(page, "02_answer")
    # last first: the panel opens on [1] by itself, so [1] must be clicked after another one
    for citation in reversed(expected.citations[:2]):
        bubble.locator("a.cite", has_text=f"[{citation.number}]").first.click()
        page.wait_for_function(
            "n => document.querySelector('#sources .src-article .num')?.textContent === `[${n}]`",
            arg=citation.number, timeout=30_000)
        assert page.locator("#sources mark.hl").inner_text().strip() == citation.quote.strip()
        assert citation.title in page.inner_text("#sources .src-article .src-title")
        page.wait_for_function(MARK_IN_VIEW, timeout=5_000)  # scrolled to the sentence
        shot(page, f"03_source_{citation.number}")
    panel = page.inner_text("#sources")
    if expected.reported_by > 1:
        assert f"reported by {expected.reported_by}" in panel
    if expected.as_of:
        assert f"as of {expected.as_of}" in panel
    copied = page.input_value("#copy-answer textarea")
    assert "[1]" in copied and expected.citations[0].title in copied


def test_unanswerable_question_abstains_with_closest_passages(page: Any) -> None:
    bubble = ask(page, "Who won the 2022 World Cup?", "abstention")
    text = bubble.inner_text()
    assert ABSTAIN_TEXT in text and "Closest passages" in text
    assert bubble.locator("a.cite").count() == 0
    shot(page, "04_abstain")


def shows(bubble: Any, answer: Any) -> bool:
    """The chat bubble shows exactly this answer (its sentences, or the abstention)."""
    shown = " ".join(bubble.inner_text().split())
    if answer.abstained:
        return ABSTAIN_TEXT in shown
    return all(" ".join(s.text.split()) in shown for s in answer.sentences)


def test_follow_up_question_uses_the_conversation(page: Any, app: tuple[str, Assistant]) -> None:
    first, follow_up = CONVERSATION
    session = app[1].chat()
    session.ask(first)
    expected, alone = session.ask(follow_up), app[1].ask(follow_up)
    ask(page, first, "before follow-up")
    bubble = ask(page, follow_up, "follow-up")
    assert shows(bubble, expected)
    if alone.text != expected.text:
        assert not shows(bubble, alone)
    if expected.citations:  # markers of the earlier answer still open that answer's sources
        page.locator("#chat [data-testid='bot']").first.locator("a.cite").first.click()
        page.wait_for_function("() => !!document.querySelector('#sources a[href=\"#cite-0-1\"]')")
        assert page.inner_text("#sources .src-article .num") == "[1]"
    assert page.locator("#chat [data-testid='user']").count() == 2
    shot(page, "05_follow_up")


def test_example_button_asks_and_clear_forgets_the_conversation(
        page: Any, app: tuple[str, Assistant]) -> None:
    first, follow_up = CONVERSATION
    assert first in ui.EXAMPLES
    page.get_by_role("button", name=first).click()
    page.wait_for_function("() => !!document.querySelector('#chat a.cite')", timeout=WAIT_MS)
    assert page.locator("#chat [data-testid='user']").inner_text().strip() == first
    page.click("#clear")
    page.wait_for_function("() => !document.querySelector('#chat [data-testid=\"user\"]')")
    assert "Sources appear here" in page.inner_text("#sources")
    # after clearing, the follow-up has no earlier turn to lean on: it is asked on its own
    expected = app[1].ask(follow_up)
    bubble = ask(page, follow_up, "after clear")
    assert shows(bubble, expected)


def test_bad_filter_shows_a_message_not_a_traceback(page: Any, app: tuple[str, Assistant]) -> None:
    page.fill("#since textarea, #since input", "last tuesday")
    page.fill("#question textarea", SEED_QUESTION)
    page.press("#question textarea", "Enter")
    toast = page.locator(".toast-body", has_text="since must be a date")
    toast.first.wait_for(timeout=WAIT_MS)
    bubble = page.locator("#chat [data-testid='bot']").last
    assert "since must be a date like 2022-12-05, not 'last tuesday'" in bubble.inner_text()
    assert bubble.locator("a.cite").count() == 0
    shot(page, "06_bad_filter")
    assert "Traceback" not in page.content()
    assert page.input_value("#question textarea") == SEED_QUESTION  # kept, to fix and resend
    page.fill("#since textarea, #since input", "2022-12-01")  # fixed: the filter now applies
    expected = app[1].ask(SEED_QUESTION, since="2022-12-01")
    bubble = ask(page, SEED_QUESTION, "with since filter")
    if expected.abstained:
        assert ABSTAIN_TEXT in bubble.inner_text()
    else:
        assert bubble.locator("a.cite").count() == sum(len(s.citations) for s in expected.sentences)


def test_uploaded_hostile_article_is_indexed_and_shown_as_text(
        page: Any, app: tuple[str, Assistant], tmp_path: Path) -> None:
    hostile = tmp_path / "zorblax festival (draft).json"
    # the cited sentence sits far down a long article: the panel must scroll to it
    filler = "".join(f"Bulletin item {i}: the council repaired the road on street {i}.\n\n"
                     for i in range(40))
    hostile.write_text(json.dumps({
        "title": f"Zorblax festival {SCRIPT}", "source": f"Quenton Post {IMG}",
        "published": "2022-12-04",
        "text": filler + f"The Zorblax lantern festival in Quenton drew 4,500 visitors on Sunday "
                f"{SCRIPT}.\n\n"
                f"Organisers said the parade {IMG} with ${{1+1}} and {{{{7*7}}}} floats was the "
                "largest in the town's history.\n"}))
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    page.set_input_files("#upload input[type=file]", [str(hostile), str(empty)])
    report = page.locator("#upload-report")
    report.locator(":text('1 added')").wait_for(timeout=WAIT_MS)
    assert "zorblax_festival_draft_.json" in report.inner_text()
    assert "empty.txt: empty file" in report.inner_text()
    uploads = Path(app[1].settings.store_dir) / "uploads"
    saved = sorted(p.name for p in uploads.iterdir())
    assert saved == ["empty.txt", "zorblax_festival_draft_.json"]  # sanitised names
    shot(page, "07_uploaded")

    bubble = ask(page, "How many visitors did the Zorblax lantern festival draw?", "upload")
    bubble.locator("a.cite").first.click()
    page.wait_for_function(MARK_IN_VIEW, timeout=5_000)
    assert page.eval_on_selector("#sources .src-text", "box => box.scrollTop") > 0
    shot(page, "08_hostile_source")
    assert page.dialogs == []
    shown = page.inner_text("#chat") + page.inner_text("#sources")
    assert SCRIPT in shown  # the payload is shown as text ...
    article = page.inner_text("#sources .src-article")
    assert IMG in article and "${1+1}" in article and "{{7*7}}" in article  # no template evaluation
    for where in ("#chat", "#sources", "#upload-report"):  # ... and never became markup
        assert page.locator(f"{where} script, {where} img").count() == 0
