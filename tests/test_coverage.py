"""Questions about the coverage itself (assistant/answer/coverage.py, issue #15), on the real seeds."""

from __future__ import annotations

from assistant.answer.coverage import asks, line
from assistant.kernel.answers import Coverage

OUTLETS = "Which outlets reported Macron's TF1 interview?"


def test_coverage_questions_are_recognised() -> None:
    assert asks(OUTLETS) == "outlets"
    assert asks("How many outlets reported Macron's TF1 interview?") == "count"
    assert asks("When was Macron's TF1 interview first reported?") == "first"
    assert asks("Which news agency reported Borrell's remarks?") is None  # answered by the text
    assert asks("On which TV channel did Macron speak?") is None


def test_outlets_are_named_with_their_markers_and_untitled_outlets_by_title(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask(OUTLETS)
    assert answer.coverage is not None and answer.coverage.asked == "outlets"
    by_doc = {c.doc_id: c for c in answer.citations}
    reuters = by_doc["003_b638dfb737329836"]
    korrespondent = by_doc["004_80287d7f8de47a75"]
    untitled = by_doc["001_cbcefea2cfbb97a1"]  # no outlet known: named by its title
    assert reuters.source == "Reuters" and untitled.source is None
    assert answer.text.startswith("Reported by ")
    opening = answer.text.split(". ")[0]
    assert f"Reuters [{reuters.number}]" in opening
    assert f"korrespondent [{korrespondent.number}]" in opening
    assert f"“{untitled.title[:30]}" in opening and f"[{untitled.number}]" in opening
    assert all("TF1" in c.passage for c in answer.citations)  # each shown to report it


def test_how_many_outlets_counts_them(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("How many outlets reported Macron's TF1 interview?")
    names = {name for name, _, _ in answer.coverage.reports}
    assert len(names) >= 3
    assert answer.text.startswith(f"{len(names)} outlets reported it: ")
    assert "(copies of one story)" in answer.text.split("]. ")[0] + "]."  # one story, rewritten


def test_first_reported_gives_the_earliest_dated_article() -> None:
    dated = Coverage("first", (("Reuters", 1, "2022-12-04"), ("TASS", 2, "2022-12-03"),
                               ("“Untitled”", 3, None)))
    assert line(dated) == ("First reported on 2022-12-03 by TASS [2] (the earliest dated article; "
                           "1 of the 3 articles that report it have no date).")
    undated = Coverage("first", (("Reuters", 1, None),))
    assert line(undated) == "None of the 1 articles that report it is dated: Reuters [1]."


def test_first_reported_on_the_seeds_never_invents_a_date(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("When was Macron's TF1 interview first reported?")
    published = [c.published for c in answer.citations if c.published]
    if published:
        assert answer.text.startswith(f"First reported on {min(published)} by ")
    else:  # the articles that report it carry no publish date: it says so
        assert answer.text.startswith(f"None of the {len(answer.citations)} articles")
