"""index/metadata.py: header lines of .txt/.md files and a page's head become the article's
title, outlet, url and date — read from real files, and carried to the citations of a real
index run with the packaged model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import Assistant
from assistant.kernel.records import FileProblem, FileWarning, RawArticle
from index.metadata import read_header
from index.readers import iter_articles

BRIDGE = ("The Kestrel Harbor bridge was closed on Tuesday after inspectors found cracks in two "
          "of its support beams.\n\nTraffic is diverted through the Marsh Road tunnel, and the "
          "city expects the repairs to take six weeks.\n")
SCRIPT = "<script>alert(1)</script>"


def read(path: Path) -> tuple[list[RawArticle], list[FileProblem]]:
    items = list(iter_articles([path]))
    return ([i for i in items if isinstance(i, RawArticle)],
            [i for i in items if isinstance(i, FileProblem)])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- .txt and .md header blocks ------------------------------------------------------------

def test_txt_header_lines_become_metadata_and_leave_the_text(tmp_path: Path) -> None:
    path = write(tmp_path / "bridge.txt",
                 "Kestrel Harbor bridge closed\n"
                 "Published: March 14, 2023\n"
                 "By Jane Doe | Harbor Gazette\n"
                 "URL: https://www.harborgazette.com/bridge\n\n" + BRIDGE
                 + "\nSource: the city's road department.\n")
    [a], problems = read(path)
    assert not problems
    assert (a.title, a.published, a.source, a.url) == (
        "Kestrel Harbor bridge closed", "2023-03-14", "Harbor Gazette",
        "https://www.harborgazette.com/bridge")
    assert a.text.lstrip().startswith("The Kestrel Harbor bridge was closed")
    for header in ("Published:", "Jane Doe", "URL:", "Kestrel Harbor bridge closed\n"):
        assert header not in a.text
    assert "Source: the city's road department." in a.text  # not at the top: it is text


@pytest.mark.parametrize(("line", "published"), [
    ("Date: 2023-03-14", "2023-03-14"),
    ("Published on: 14 March 2023, 09:30 GMT", "2023-03-14"),
    ("Posted: Tue, 14 Mar 2023 10:00:00 +0000", "2023-03-14"),
    ("Published: 2023-03-14T08:30:00+02:00", "2023-03-14"),
    ("By: Jane Doe | March 14, 2023", "2023-03-14"),
])
def test_header_dates_parse_the_one_way_dates_parse(tmp_path: Path, line: str, published: str) -> None:
    [a], problems = read(write(tmp_path / "a.txt", f"{line}\nSource: Reuters\n\n{BRIDGE}"))
    assert not problems and a.published == published and a.source == "Reuters"
    assert a.text.lstrip().startswith("The Kestrel Harbor bridge")


@pytest.mark.parametrize("value", ["03/04/2023", "March 2023", "last Tuesday", "2023-02-30"])
def test_a_header_date_that_cannot_be_parsed_warns_with_file_and_line(tmp_path: Path,
                                                                      value: str) -> None:
    path = write(tmp_path / "vague.txt", f"Bridge closed\nSource: Harbor Gazette\nDate: {value}\n\n"
                 + BRIDGE)
    [a], problems = read(path)
    assert a.published is None and a.source == "Harbor Gazette" and "Date:" not in a.text
    [warning] = problems
    assert isinstance(warning, FileWarning) and warning.path == str(path)
    assert f"line 3: date {value!r} is not a full, unambiguous date" in warning.reason
    assert "2023-03-14" in warning.reason  # says how to write it


def test_markdown_heading_and_front_matter_are_metadata(tmp_path: Path) -> None:
    [a], _ = read(write(tmp_path / "h.md", "# Bridge *closed*\n\nPublished: 2023-03-14\n"
                        "Author: Jane Doe\nSource: Harbor Gazette\n\n" + BRIDGE))
    assert (a.title, a.published, a.source) == ("Bridge *closed*", "2023-03-14", "Harbor Gazette")
    assert "Author" not in a.text and "Jane Doe" not in a.text
    [b], _ = read(write(tmp_path / "f.md", '---\ntitle: "Bridge closed"\ndate: 2023-03-14\n'
                        "tags: [roads]\nlink: https://harborgazette.com/b\n---\n\n" + BRIDGE))
    assert (b.title, b.published, b.url) == ("Bridge closed", "2023-03-14", "https://harborgazette.com/b")
    assert b.source == "harborgazette.com"  # the url's outlet, as for JSON records
    assert "---" not in b.text and "tags" not in b.text


def test_lines_that_only_look_like_headers_stay_text(tmp_path: Path) -> None:
    text = ("The bridge closed on Tuesday.\nSource: the road department\n\n"
            "By Tuesday evening, the bridge was closed and all traffic was diverted.\n")
    [a], problems = read(write(tmp_path / "plain.txt", text))
    assert not problems and a.text == text and a.source is None and a.title is None


def test_a_file_of_header_lines_only_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.txt", "Title: Bridge closed\nPublished: 2023-03-14\n\n")
    articles, [problem] = read(path)
    assert not articles and problem.path == str(path)
    assert "no article text" in problem.reason


# --- html -----------------------------------------------------------------------------------

def test_html_title_is_text_without_script_tags_or_entities(tmp_path: Path) -> None:
    page = write(tmp_path / "page.html",
                 f"<html><head><title>Kestrel Harbor bridge closed{SCRIPT}</title></head>"
                 f"<body><p>{BRIDGE}</p></body></html>")
    [a], _ = read(page)
    assert a.title == "Kestrel Harbor bridge closed"
    h1 = write(tmp_path / "h1.html",
               f"<html><body><h1>Kestrel <b>Harbor</b> bridge closed{SCRIPT}<style>h1{{}}</style>"
               f"</h1><p>{BRIDGE}</p></body></html>")
    assert read(h1)[0][0].title == "Kestrel Harbor bridge closed"
    og = write(tmp_path / "og.html",
               '<html><head><meta property="og:title" content="Harbor &amp;amp; bridge '
               '&lt;i&gt;closed&lt;/i&gt;"><meta property="og:url" '
               'content="https://harborgazette.com/b"></head>'
               f"<body><p>{BRIDGE}</p></body></html>")
    [c], _ = read(og)
    assert c.title == "Harbor & bridge closed" and c.url == "https://harborgazette.com/b"


# --- through a real index run ----------------------------------------------------------------

def test_header_metadata_reaches_the_citation(tmp_path: Path,
                                              make_assistant: Callable[..., Assistant]) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write(folder / "bridge.txt", "Kestrel Harbor bridge closed\nPublished: March 14, 2023\n"
          "By Jane Doe | Harbor Gazette\n\n" + BRIDGE)
    write(folder / "ferry.txt", "Ferry timetable\nDate: 03/04/2023\n\nThe Kestrel ferry will run "
          "every twenty minutes while the bridge is shut, the operator Bluewater Lines said.\n")
    write(folder / "page.html", f"<html><head><title>Night market hours{SCRIPT}</title></head>"
          "<body><p>The Quenton night market will stay open until 2 a.m. on Fridays from "
          "April, the town council said.</p></body></html>")
    a = make_assistant()
    report = a.index([folder])
    assert report.added == 3 and not report.failed  # the vague date did not stop the file
    [warning] = report.warnings
    assert warning.path.endswith("ferry.txt") and "line 2: date '03/04/2023'" in warning.reason

    answer = a.ask("How long will the repairs of the Kestrel Harbor bridge take?")
    assert not answer.abstained and "six weeks" in answer.text
    cited = answer.citations[0]
    assert (cited.title, cited.source, cited.published) == (
        "Kestrel Harbor bridge closed", "Harbor Gazette", "2023-03-14")
    assert "Published" not in a.document(cited.doc_id).text
    assert ("Tuesday", "2023-03-14") in a.ask(
        "When was the Kestrel Harbor bridge closed?").citations[0].resolved_dates
    # the date reached the store's filters: the bridge article is the one dated in March
    assert a.ask("Why was the Kestrel Harbor bridge closed?", since="2023-03-01").citations
    assert a.status().first_date == "2023-03-14"

    market = a.ask("Until what time will the Quenton night market stay open on Fridays?")
    assert market.citations and market.citations[0].title == "Night market hours"


def test_a_header_url_leaves_each_file_its_own_article(tmp_path: Path,
                                                       make_assistant: Callable[..., Assistant]) -> None:
    """The id of a .txt article stays its file name: a header url neither merges it with a
    JSON record of that url nor lets another folder's same-named file replace it."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    write(first / "bridge.txt", "URL: https://harborgazette.com/bridge\n\n" + BRIDGE)
    write(first / "feed.jsonl", '{"url": "https://harborgazette.com/bridge", "text": "The Kestrel '
          'Harbor bridge is closed."}\n')
    write(second / "bridge.txt", "URL: https://harborgazette.com/ferry\n\nThe Kestrel ferry will "
          "run every twenty minutes while the bridge is shut, the operator said.\n")
    a = make_assistant()
    assert a.index([first]).added == 2
    assert a.index([second]).added == 1
    assert a.status().articles == 3


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Published: March 14, 2023", "Date: 03/04/2023", "By Ann Lee | Post",
                                 "---", "# Title", "Source: Reuters", "", "Plain sentence here.",
                                 "title: x", "URL: http://[::1"]), max_size=8),
       st.text(max_size=80))
def test_any_text_splits_into_metadata_and_a_tail_of_itself(lines: list[str], tail: str) -> None:
    text = "\n".join(lines) + "\n" + tail
    head = read_header(text)
    assert text.endswith(head.body)  # the body is the file below the block, unchanged
    assert head.published is None or len(head.published) == 10
