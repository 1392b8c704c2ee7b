"""The chat UI in a real browser (Debian Chromium via Playwright) on a real index of the seeds.

The app starts on an empty store, so it indexes the seed folder from server start, the
way a first-time user sees it. Screenshots go to test-artifacts/, question→answer times
to test-artifacts/ui_timings.json.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import ABSTAIN_TEXT, Assistant, NoIndexError
from assistant.app import render, ui
from assistant.kernel.settings import Settings

pytestmark = [pytest.mark.browser, pytest.mark.server]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEED_QUESTION = "On which TV channel did Macron speak about security guarantees for Russia?"
# five articles, each quoted: a source panel taller than any window
MANY_SOURCES = "Which outlets reported that Russia needs security guarantees?"
OUTLETS_QUESTION = "Which outlets reported Macron's TF1 interview?"
# the window sizes a new user tried (issue #15): two desktops and a phone
WINDOWS = [(1440, 1022), (1280, 720), (390, 844)]
# a follow-up that names nothing itself: only the conversation says who "he" is
CONVERSATION = ("What did Josep Borrell say about security guarantees?", "Where did he say it?")
WAIT_MS = 240_000  # the first load indexes the seeds on a busy 2-core machine
TIMINGS: dict[str, float] = {}
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory,
        serve_ui: Callable[..., str]) -> Iterator[tuple[str, Assistant]]:
    """The UI served on 127.0.0.1 over an empty store that it fills with the seeds (with its
    own model, loaded as a first-time user's server loads it)."""
    assistant = Assistant(settings=Settings(store_dir=tmp_path_factory.mktemp("ui-store")))
    yield serve_ui(assistant, seeds=ROOT / "seeds") + "/", assistant
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


def open_app(browser: Any, url: str, width: int = 1440, height: int = 900) -> Any:
    """A fresh browser session on the app, with every alert/confirm dialog recorded."""
    context = browser.new_context(viewport={"width": width, "height": height})
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


def test_first_load_shows_the_seeds_indexed_from_server_start(
        app: tuple[str, Assistant], browser: Any) -> None:
    try:
        indexing = app[1].status().articles < 5
    except NoIndexError:
        indexing = True
    page = open_app(browser, app[0])
    if indexing:  # the server started indexing; the page shows how far it got
        page.wait_for_selector("#status .progress-level, #status :text('articles')",
                               timeout=WAIT_MS)
        shot(page, "00_first_run_progress")
    page.wait_for_selector("#status :text('articles')", timeout=WAIT_MS)
    status = page.inner_text("#status")
    assert "5 articles" in status and "chunks" in status
    assert "Indexed 5 seed article(s)" in status
    note = page.inner_text("#upload-note")  # which metadata each format can carry
    assert "Published:" in note and "By … | Outlet" in note and ".html" in note
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


def test_answer_starts_with_the_short_answer_and_its_marker(page: Any, app: tuple[str, Assistant]) -> None:
    expected = app[1].ask(SEED_QUESTION)
    assert expected.short is not None and expected.short.text == "TF1"
    bubble = ask(page, SEED_QUESTION, "fact first")
    shown = " ".join(bubble.locator(".msg-a").inner_text().split())
    assert shown.startswith(f"TF1 [{expected.short.citation}] — The West must consider"), shown
    assert "This is what" in shown and not shown.startswith("This is what")
    shot(page, "02b_fact_first")
    # the short answer's marker opens the article it was copied from, its sentence highlighted
    bubble.locator("a.cite", has_text=f"[{expected.short.citation}]").first.click()
    page.wait_for_function(MARK_IN_VIEW, timeout=30_000)
    assert "TF1" in page.inner_text("#sources mark.hl")
    article = app[1].document(expected.short.doc_id)
    assert article.title in page.inner_text("#sources .src-article .src-title")


def test_outlets_question_names_the_outlets_with_their_markers(
        page: Any, app: tuple[str, Assistant]) -> None:
    expected = app[1].ask(OUTLETS_QUESTION)
    assert expected.coverage is not None
    bubble = ask(page, OUTLETS_QUESTION, "outlets")
    shown = " ".join(bubble.locator(".msg-a").inner_text().split())
    assert shown.startswith("Reported by ")
    opening = shown.split(". ")[0]
    for c in expected.citations:  # every article by its outlet, or by its title without one
        name = c.source or c.title[:30]
        assert name in opening and f"[{c.number}]" in opening, (name, opening)
    assert "Reuters" in opening and "korrespondent" in opening
    shot(page, "02c_outlets")
    untitled = next(c for c in expected.citations if not c.source)
    bubble.locator(".coverage a.cite", has_text=f"[{untitled.number}]").click()
    page.wait_for_function(
        "n => document.querySelector('#sources .src-article .num')?.textContent === `[${n}]`",
        arg=untitled.number, timeout=30_000)
    assert page.locator("#sources mark.hl").inner_text().strip() == untitled.quote.strip()


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


# What a click at the centre of the element's first line would land on, if not the element
# or something in it (a title of two lines has a gap in the middle of its bounding box).
COVERED_BY = """el => {
    const r = el.getClientRects()[0];
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (hit && el.contains(hit)) return '';
    return hit ? `<${hit.tagName.toLowerCase()} id="${hit.id}" class="${hit.className}">`
               + ` at ${Math.round(r.top)} of ${innerHeight}` : `nothing at ${Math.round(r.top)}`;
}"""


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


# Resolves once the page and the source panel have stopped scrolling (for 3 checks in a row).
SCROLLING_DONE = """() => new Promise(done => {
    let last = '', same = 0;
    const check = () => {
        const panel = document.getElementById('sources'),
              text = document.querySelector('#sources .src-text');
        const now = `${window.scrollY} ${panel.scrollTop} ${text ? text.scrollTop : ''}`;
        same = now === last ? same + 1 : 0;
        last = now;
        if (same >= 3) done(true); else setTimeout(check, 60);
    };
    check();
})"""


def shows_citation(page: Any, number: int) -> None:
    """Wait until the source panel shows citation ``number``, scrolled to its sentence."""
    page.wait_for_function(
        "n => document.querySelector('#sources .src-article .num')?.textContent === `[${n}]`",
        arg=number, timeout=30_000)
    page.wait_for_function(MARK_IN_VIEW, timeout=5_000)
    page.evaluate(SCROLLING_DONE)


@pytest.mark.parametrize(("width", "height"), WINDOWS, ids=[f"{w}x{h}" for w, h in WINDOWS])
def test_every_source_item_can_be_clicked_at_every_window_size(
        app: tuple[str, Assistant], browser: Any, width: int, height: int) -> None:
    page = open_app(browser, app[0], width, height)
    page.wait_for_selector("#status :text('articles')", timeout=WAIT_MS)
    expected = app[1].ask(MANY_SOURCES)
    assert len(expected.citations) >= 3
    if width <= 768:  # on a phone the sidebar is a full-screen drawer: it starts closed
        page.wait_for_function("() => !document.querySelector('#sidebar.open')", timeout=10_000)
    ask(page, MANY_SOURCES, f"many sources {width}x{height}")
    shot(page, f"11_many_sources_{width}x{height}")
    items = page.locator("#sources .src-item a.src-link")
    assert items.count() == len(expected.citations)
    for i, citation in enumerate(expected.citations):
        item = items.nth(i)
        item.scroll_into_view_if_needed()
        covered = item.evaluate(COVERED_BY)
        assert not covered, f"source [{citation.number}] is covered by {covered}"
        item.click(timeout=10_000)  # a real click: fails if another element would take it
        shows_citation(page, citation.number)
        assert page.locator("#sources mark.hl").inner_text().strip() == citation.quote.strip()
    shot(page, f"12_last_source_{width}x{height}")
    # Only the panel scrolled to those sources (nothing the user cannot scroll back): with
    # the page scrolled to its top, the panel's top is in view again. The panel is taller
    # than its box and scrolls inside it, ending above the copy box.
    page.evaluate("() => window.scrollTo(0, 0)")
    panel = page.locator("#sources")
    box, copy_box = panel.bounding_box(), page.locator("#copy-answer").bounding_box()
    assert box["y"] >= 0
    assert panel.evaluate("p => p.scrollHeight > p.clientHeight + 50")
    assert box["y"] + box["height"] <= copy_box["y"]
    if width > 768:  # on a desktop both fit in the window, beside the chat
        assert copy_box["y"] + copy_box["height"] <= height
    if width <= 768:  # the filters are still one tap away
        page.click("#sidebar .toggle-button")
        page.locator("#since").wait_for()
        page.wait_for_function("() => !!document.querySelector('#sidebar.open')")
    page.context.close()


@pytest.mark.parametrize(("width", "height"), WINDOWS, ids=[f"{w}x{h}" for w, h in WINDOWS])
def test_notices_do_not_cover_the_source_card(
        app: tuple[str, Assistant], browser: Any, width: int, height: int) -> None:
    page = open_app(browser, app[0], width, height)
    page.wait_for_selector("#status :text('articles')", timeout=WAIT_MS)
    ask(page, SEED_QUESTION, f"before notice {width}x{height}")
    # scrolled down as far as the Ask button allows: as much of the sources in view as can be
    page.eval_on_selector("#ask", "b => b.scrollIntoView({block: 'start'})")
    page.click("#ask")  # nothing typed: a warning
    toast = page.locator(".toast-body", has_text="Type a question first.")
    toast.wait_for(timeout=30_000)
    page.wait_for_timeout(700)  # it has slid in
    notice, card = toast.bounding_box(), page.locator("#sources .src-article").bounding_box()
    assert notice["y"] >= 0 and notice["y"] + notice["height"] <= height  # seen ...
    assert card["y"] < height  # ... while the card is in view too
    assert not overlaps(notice, card)
    if width > 768:  # beside the chat, not over the sources column at all
        assert not overlaps(notice, page.locator("#sources").bounding_box())
    shot(page, f"13_notice_{width}x{height}")
    page.context.close()


def test_each_answer_copies_itself_and_the_copy_box_follows_the_clicked_citation(
        page: Any, app: tuple[str, Assistant]) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"],
                                   origin=app[0].rstrip("/"))
    session = app[1].chat()
    answers = [session.ask(SEED_QUESTION), session.ask(MANY_SOURCES)]
    assert all(len(a.citations) >= 2 for a in answers)
    ask(page, SEED_QUESTION, "copy: first answer")
    ask(page, MANY_SOURCES, "copy: second answer")
    bubbles = page.locator("#chat [data-testid='bot']")
    copy_box_shows = """text => document.querySelector('#copy-answer textarea').value
                                  .trim().split(/\\s+/).join(' ') === text"""
    flat = [" ".join(render.answer(a).split()) for a in answers]
    page.wait_for_function(copy_box_shows, arg=flat[1], timeout=5_000)  # the latest answer
    for turn in (0, 1, 0):  # a marker of an answer puts that answer in the copy box
        bubbles.nth(turn).locator("a.cite", has_text="[2]").first.click()
        shows_citation(page, 2)
        page.wait_for_function(copy_box_shows, arg=flat[turn], timeout=10_000)
        assert answers[turn].citations[1].title in page.inner_text("#sources .src-article")
    shot(page, "14_copy_box_follows_first_answer")
    for turn in (0, 1):  # each answer's own button copies that answer with its sources
        button = bubbles.nth(turn).locator("button.copy-btn")
        assert button.inner_text() == "Copy answer"
        button.click()
        page.wait_for_function("b => b.textContent.startsWith('Copied')",
                               arg=button.element_handle(), timeout=5_000)
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied == render.answer(answers[turn])
        assert "Sources:" in copied and "[2]" in copied


def test_answer_shows_its_filters_and_the_checkbox_includes_undated_articles(
        page: Any, app: tuple[str, Assistant]) -> None:
    page.fill("#since textarea, #since input", "2022-12-01")
    left_out = app[1].ask(SEED_QUESTION, since="2022-12-01")
    assert left_out.abstained and left_out.filters.undated == 3  # the dated seeds never name it
    shown = " ".join(ask(page, SEED_QUESTION, "undated left out").inner_text().split())
    assert ABSTAIN_TEXT in shown
    assert ("Filters: published since 2022-12-01 · 3 undated articles left out — tick “Include "
            "undated articles” to include them") in shown
    shot(page, "09_filters_undated_left_out")
    page.check("#include-undated input[type=checkbox]")
    included = app[1].ask(SEED_QUESTION, since="2022-12-01", include_undated=True)
    assert not included.abstained
    bubble = ask(page, SEED_QUESTION, "undated included")
    shown = " ".join(bubble.inner_text().split())
    assert "Filters: published since 2022-12-01 · 3 undated articles included" in shown
    assert "TF1" in shown and ABSTAIN_TEXT not in shown
    assert bubble.locator("a.cite").count() == sum(len(s.citations) for s in included.sentences)
    shot(page, "10_filters_undated_included")
