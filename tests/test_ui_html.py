"""HTML rendering of the chat UI: hostile article/user text stays text, highlights hit the quote."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from assistant.app import html as ui_html
from assistant.app import render
from assistant.app.uploads import safe_name
from assistant.kernel.answers import ABSTAIN_TEXT, Answer, AnswerSentence, Citation, Claim, Conflict, Passage
from assistant.kernel.records import Article, FileProblem, IndexReport, Status

HOSTILE = '<script>alert(1)</script> <img src=x onerror=alert(1)> "quoted" & \'single\''
OWN_TAGS = {"div", "span", "a", "mark", "b", "br", "ul", "ol", "li", "blockquote", "button"}


class _Tags(HTMLParser):
    """Collects the tags, attributes and visible text of a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.marked: list[str] = []
        self.hidden: list[str] = []  # text of elements with the hidden attribute
        self._in_mark = 0
        self._hidden_depth = 0  # open <div>s since a hidden one (0: not inside one)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_mark += tag == "mark"
        if self._hidden_depth or "hidden" in dict(attrs):
            self._hidden_depth += tag == "div"

    def handle_endtag(self, tag: str) -> None:
        self._in_mark -= tag == "mark"
        if self._hidden_depth and tag == "div":
            self._hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_mark:
            self.marked.append(data)
        if self._hidden_depth:
            self.hidden.append(data)


def parse(fragment: str) -> _Tags:
    p = _Tags()
    p.feed(fragment)
    p.close()
    return p


def assert_inert(fragment: str) -> _Tags:
    """Only our own tags, no event-handler attributes, no script URLs."""
    p = parse(fragment)
    for tag, attrs in p.tags:
        assert tag in OWN_TAGS, f"unexpected <{tag}> in {fragment!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event attribute {name} in {fragment!r}"
            assert "javascript:" not in (value or "").lower()
    return p


ARTICLE_TEXT = f"First {HOSTILE}. The cited sentence says 4,500 <b>people</b> came. Last one."
QUOTE = "The cited sentence says 4,500 <b>people</b> came."
START = ARTICLE_TEXT.index(QUOTE)


def citation(number: int = 1, **changes: object) -> Citation:
    fields: dict[str, object] = dict(
        number=number, doc_id="doc1", title=f"Title {HOSTILE}", source=f"Outlet {HOSTILE}",
        url=None, published="2022-12-05", passage=ARTICLE_TEXT, passage_start=0,
        passage_end=len(ARTICLE_TEXT), quote=QUOTE, start=START, end=START + len(QUOTE),
        resolved_dates=(("on <Sunday>", "2022-12-04"),))
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]


def answer(**changes: object) -> Answer:
    fields: dict[str, object] = dict(
        question=f"Q {HOSTILE}", text="unused: the UI renders sentences, not this string",
        abstained=False, citations=(citation(1), citation(2, doc_id="doc2")),
        sentences=(AnswerSentence(f"First {HOSTILE}.", (1,)), AnswerSentence(QUOTE, (1, 2))),
        as_of="2022-12-05", reported_by=2, outlets=(f"Outlet {HOSTILE}", "Reuters"),
        conflicts=(Conflict("number", (Claim("4,500 <b>", (1,)),
                                       Claim("5,000", (2,), "2022-12-06"))),),
        notes=(f"note {HOSTILE}",))
    fields.update(changes)
    return Answer(**fields)  # type: ignore[arg-type]


def article() -> Article:
    return Article(doc_id="doc1", title=f"Title {HOSTILE}", text=ARTICLE_TEXT, source="Outlet")


def test_highlight_marks_exactly_the_quote_and_escapes_all_three_parts() -> None:
    out = ui_html.highlighted(ARTICLE_TEXT, START, START + len(QUOTE))
    p = assert_inert(out)
    assert [t for t, _ in p.tags] == ["mark"]
    assert "".join(p.marked) == QUOTE
    assert "".join(p.text) == ARTICLE_TEXT


def test_highlight_clamps_offsets_outside_the_text() -> None:
    p = parse(ui_html.highlighted("abc", 2, 99))
    assert "".join(p.marked) == "c" and "".join(p.text) == "abc"


@given(st.text(max_size=80), st.integers(0, 90), st.integers(0, 90))
def test_any_text_highlights_to_inert_html_with_the_same_text(text: str, a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    p = assert_inert(ui_html.highlighted(text, start, end))
    assert "".join(p.text) == text
    assert "".join(p.marked) == text[start:end]


def test_answer_message_escapes_sentences_and_links_markers_to_their_turn() -> None:
    out = ui_html.answer_message(answer(), turn=3)
    p = assert_inert(out)
    hrefs = [attrs["href"] for tag, attrs in p.tags if tag == "a"]
    assert hrefs == ["#cite-3-1", "#cite-3-1", "#cite-3-2"]
    text = "".join(p.text)
    assert HOSTILE in text and "as of 2022-12-05" in text and "reported by 2 sources" in text


def test_streaming_shows_only_the_first_sentences_without_the_footer() -> None:
    text = "".join(parse(ui_html.answer_message(answer(), turn=0, upto=1)).text)
    assert "First" in text and "cited sentence" not in text and "as of" not in text


def test_finished_answer_has_a_copy_button_with_its_plain_text_and_sources() -> None:
    a = answer()
    p = assert_inert(ui_html.answer_message(a, turn=0))
    buttons = [attrs for tag, attrs in p.tags if tag == "button"]
    assert len(buttons) == 1 and buttons[0]["type"] == "button"  # never submits anything
    copied = "".join(p.hidden)  # what the page script copies, unescaped by the browser
    assert copied == render.answer(a)
    assert HOSTILE in copied and "Sources:" in copied and "[2] Title" in copied
    streaming = parse(ui_html.answer_message(a, turn=0, upto=1))
    assert not any(tag == "button" for tag, _ in streaming.tags) and not streaming.hidden


def test_abstention_shows_the_message_notes_and_escaped_closest_passages() -> None:
    passage = Passage(chunk_id="d::0", doc_id="d", text=f"Nearby {HOSTILE}", start=0, end=10,
                      title=f"T {HOSTILE}", source=None, url=None, published=None, cluster_id="d",
                      sentences=())
    a = answer(abstained=True, text=ABSTAIN_TEXT, citations=(), sentences=(), closest=(passage,),
               notes=("the articles never mention: cup",), conflicts=())
    text = "".join(assert_inert(ui_html.answer_message(a, 0)).text)
    assert ABSTAIN_TEXT in text and "Closest passages" in text and f"Nearby {HOSTILE}" in text
    assert "never mention: cup" in text
    copied = "".join(parse(ui_html.answer_message(a, 0)).hidden)
    assert copied == render.answer(a) and f"Nearby {HOSTILE}"[:40] in copied
    panel = "".join(assert_inert(ui_html.sources_panel(a, 0)).text)
    assert f"T {HOSTILE}" in panel and f"Nearby {HOSTILE}" in panel


def test_sources_panel_shows_the_active_article_highlighted_and_every_source() -> None:
    out = ui_html.sources_panel(answer(), turn=1, active=1, article=article())
    p = assert_inert(out)
    assert "".join(p.marked) == QUOTE
    text = "".join(p.text)
    assert text.count(f"Title {HOSTILE}") == 3  # the open article and both list items
    assert f"Outlet {HOSTILE}" in text and "“on <Sunday>” = 2022-12-04" in text
    assert "as of 2022-12-05" in text and "reported by 2 sources" in text
    hrefs = [attrs["href"] for tag, attrs in p.tags if tag == "a"]
    assert "#cite-1-2" in hrefs  # the second source can be opened from the list


def test_sources_panel_sets_conflicting_claims_side_by_side_with_their_citations() -> None:
    p = assert_inert(ui_html.sources_panel(answer(), turn=0, active=1, article=article()))
    text = "".join(p.text)
    assert "Sources disagree on a number" in text and "4,500 <b>" in text and "5,000" in text
    claims = [attrs for tag, attrs in p.tags if tag == "div" and attrs.get("class") == "claim"]
    assert len(claims) == 2


def test_changed_article_falls_back_to_the_cited_passage() -> None:
    changed = Article(doc_id="doc1", title="t", text="Completely rewritten since.", source=None)
    p = parse(ui_html.sources_panel(answer(), 0, 1, changed))
    assert "".join(p.marked) == QUOTE and "rewritten" not in "".join(p.text)


def test_status_and_upload_report_escape_names_and_reasons() -> None:
    status = Status(articles=5, chunks=31, clusters=2, store_dir="/s", size_bytes=1,
                    last_indexed="2022-12-05 10:00:00", backend="b", sources=(HOSTILE,))
    text = "".join(assert_inert(ui_html.status_panel(status)).text)
    assert "5 articles" in text and "31 chunks" in text and "2 stories" in text
    failed = FileProblem(f"{HOSTILE}.json", f"bad {HOSTILE}")
    report = IndexReport(added=1, failed=(failed,))
    out = ui_html.upload_report(report, [FileProblem("evil<b>.exe", "only .txt …"), failed],
                                [f"new {HOSTILE}.md"])
    text = "".join(assert_inert(out).text)
    assert f"1 added, 0 updated, 0 unchanged: new {HOSTILE}.md" in text
    assert "2 file(s) not indexed" in text
    assert f"{HOSTILE}.json: bad {HOSTILE}" in text and "evil<b>.exe" in text


def test_safe_name_strips_directories_and_rejects_what_cannot_be_indexed() -> None:
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\win\\evil.md") == "evil.md"
    assert safe_name("my article (1).JSON") == "my_article_1_.json"
    assert safe_name("<script>x</script>.html") == "script_.html"
    assert safe_name(".hidden.txt") == "hidden.txt"
    for bad in ("..", ".", "", "/", "notes.exe", "archive.tar.gz", "a.txt/.."):
        assert safe_name(bad) is None, bad


def test_answers_and_abstentions_show_their_filters_as_text() -> None:
    from assistant.kernel.answers import Filters

    dated = Filters(since="2022-12-01", sources=(f"Outlet {HOSTILE}",), undated=3)
    for shown in (answer(filters=dated), answer(abstained=True, text=ABSTAIN_TEXT, filters=dated)):
        text = " ".join("".join(assert_inert(ui_html.answer_message(shown, 0)).text).split())
        assert (f"Filters: published since 2022-12-01 · outlet Outlet {HOSTILE} · 3 undated "
                "articles left out — tick “Include undated articles” to include them") in text
    kept = Filters(since="2022-12-01", include_undated=True, undated=3)
    text = "".join(parse(ui_html.answer_message(answer(filters=kept), 0)).text)
    assert "3 undated articles included" in text and "tick" not in text
    assert "Filters:" not in "".join(parse(ui_html.answer_message(answer(), 0)).text)


def test_short_answer_leads_with_its_marker_and_coverage_names_outlets_with_links() -> None:
    from assistant.kernel.answers import Coverage, ShortAnswer

    short = ShortAnswer("4,500", "number", 1, "doc1", START + QUOTE.index("4,500"),
                        START + QUOTE.index("4,500") + 5)
    answer_message_text = ui_html.answer_message(answer(
        sentences=(AnswerSentence("4,500", (1,), short=True), AnswerSentence(QUOTE, (1, 2))),
        short=short), turn=0)
    p = assert_inert(answer_message_text)
    shown = " ".join("".join(p.text).split())
    assert shown.startswith("4,500 [1] — The cited sentence says 4,500 <b>people</b> came. [1][2]")
    assert answer_message_text.count('href="#cite-0-1"') == 2
    reports = ((f"Outlet {HOSTILE}", 1, None), ("“A title”", 2, None))
    covered = answer(coverage=Coverage("outlets", reports))
    p = assert_inert(ui_html.answer_message(covered, turn=3))
    opening = f"Reported by Outlet {HOSTILE} [1] and “A title” [2]."
    assert " ".join("".join(p.text).split()).startswith(opening)
    assert sum(1 for tag, attrs in p.tags if attrs.get("href") == "#cite-3-2") >= 2


def test_a_self_contradicting_article_is_not_shown_as_sources_disagreeing() -> None:
    same = Conflict("role", (Claim("head of diplomacy", (1,)), Claim("President of Parliament", (1,))),
                    note="this article contradicts itself on the role [1]: …", same_article=True)
    panel = "".join(parse(ui_html.sources_panel(answer(conflicts=(same,)), 0)).text)
    assert "This article contradicts itself on a role" in panel and "Sources disagree" not in panel
    bubble = "".join(parse(ui_html.answer_message(answer(conflicts=(same,)), 0)).text)
    assert "an article contradicts itself (1)" in bubble and "sources disagree" not in bubble
    assert "contradicts itself (role)" in render.answer(answer(conflicts=(same,)))


def test_every_quoted_sentence_of_a_cited_article_is_listed_and_highlighted() -> None:
    first = ARTICLE_TEXT.index("Last one.")
    also = citation(1, quote="Last one.", start=first, end=first + len("Last one."))
    cited = citation(1, also=(also,))
    panel = ui_html.sources_panel(answer(citations=(cited,)), 0, active=1, article=article())
    p = parse(panel)
    assert QUOTE in "".join(p.marked) and "Last one." in "".join(p.marked)
    assert panel.count('<mark class="hl">') == 1 and panel.count('<mark class="hl-also">') == 1
