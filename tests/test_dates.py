"""assistant/kernel/dates.py: date strings normalised, date expressions resolved against the publish day."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.kernel.dates import ambiguous, parse_date, resolve_dates
from assistant.kernel.records import RawArticle
from index.cleaning import clean_article

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def resolved(text: str, published: str | None) -> dict[str, str]:
    return {span.text: span.date for span in resolve_dates(text, published)}


def seed(name: str) -> tuple[str, str | None]:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    cleaned = clean_article(RawArticle(doc_id=name, text=path.read_text(encoding="utf-8")))
    return cleaned.text, cleaned.published


def test_seed_000_dates_resolve_against_the_publish_day() -> None:
    text, published = seed("000")
    assert published == "2022-12-05"
    spans = resolve_dates(text, published)
    for span in spans:  # offsets refer to the cleaned text
        assert text[span.start : span.end] == span.text
    got = {s.text: s.date for s in spans}
    assert got["Tuesday, December 6"] == "2022-12-06"
    assert got["The day before"] == "2022-12-05"  # the day before December 6, not before publication
    assert got["December 3"] == "2022-12-03"
    assert got["December 1"] == "2022-12-01"
    assert got["March 29"] == "2022-03-29"
    assert got["February 24"] == "2022-02-24"


def test_seed_002_weekday_with_date_and_earlier_dates() -> None:
    text, published = seed("002")
    got = resolved(text, published)
    assert got["Monday, February 7"] == "2022-02-07"
    assert got["February 2"] == "2022-02-02"
    assert got["January 31"] == "2022-01-31"


def test_without_publish_date_only_dates_with_a_year_resolve() -> None:
    text, published = seed("003")
    assert published is None
    got = resolved(text, None)
    assert got["17 December 2021"] == "2021-12-17"
    assert "3 December" not in got and "last week" not in got and "this week" not in got
    assert all(re.search(r"\d{4}", expression) for expression in got)


def test_seed_001_weekday_without_publish_date_is_not_invented() -> None:
    text, published = seed("001")
    assert published is None
    assert "Saturday" not in resolved(text, published)


@pytest.mark.parametrize(
    ("text", "published", "expression", "expected"),
    [
        ("He spoke yesterday.", "2022-12-05", "yesterday", "2022-12-04"),
        ("Talks resume today.", "2022-12-05", "today", "2022-12-05"),
        ("She arrives tomorrow.", "2022-12-05", "tomorrow", "2022-12-06"),
        ("It happened the day before yesterday.", "2022-12-05", "the day before yesterday",
         "2022-12-03"),
        ("He visited last week.", "2022-12-07", "last week", "2022-11-30"),
        ("Both said this week they are open.", "2022-12-07", "this week", "2022-12-07"),
        ("It closed two days ago.", "2022-12-07", "two days ago", "2022-12-05"),
        # a bare weekday is the latest such day on or before publication (2022-12-07 is a Wednesday)
        ("The vote was held on Monday.", "2022-12-07", "Monday", "2022-12-05"),
        ("The vote was held on Wednesday.", "2022-12-07", "Wednesday", "2022-12-07"),
        ("Netflix announced Sunday that it will return.", "2022-12-07", "Sunday", "2022-12-04"),
        ("They met last Wednesday.", "2022-12-07", "last Wednesday", "2022-11-30"),
        ("They meet next Tuesday.", "2022-12-07", "next Tuesday", "2022-12-13"),
        ("The ships will dock by Friday.", "2022-12-07", "Friday", "2022-12-09"),
        ("The day before, Macron spoke.", "2022-12-05", "The day before", "2022-12-04"),
        ("On 3 December he spoke.", "2022-12-05", "3 December", "2022-12-03"),
        ("On the 3rd of December he spoke.", "2022-12-05", "the 3rd of December", "2022-12-03"),
        ("Dec. 3 was cold.", "2022-12-05", "Dec. 3", "2022-12-03"),
        ("It was signed on June 12, 2019.", "2022-12-05", "June 12, 2019", "2019-06-12"),
        ("The date 2021-02-07 is ISO.", None, "2021-02-07", "2021-02-07"),
    ],
)
def test_expressions(text: str, published: str | None, expression: str, expected: str) -> None:
    assert resolved(text, published).get(expression) == expected


@pytest.mark.parametrize(
    ("published", "expression", "expected"),
    [
        ("2022-12-05", "December 8", "2022-12-08"),  # announced a few days ahead
        ("2022-01-10", "December 28", "2021-12-28"),  # last year's December, not next
        ("2022-12-20", "January 10", "2023-01-10"),  # >300 days back: the coming one
        ("2022-06-17", "June 12", "2022-06-12"),
        ("2024-03-05", "February 29", "2024-02-29"),
        ("2022-03-01", "February 29", None),  # no February 29 near 2022: nothing invented
    ],
)
def test_year_inference_picks_the_occurrence_nearest_publication(
    published: str, expression: str, expected: str | None
) -> None:
    assert resolved(f"It was decided on {expression}.", published).get(expression) == expected


def test_no_false_dates() -> None:
    text = ("You may 5 times refuse. Good Friday is a holiday. Sunday Times editors met. "
            "The 2008 summit and 1997 posture. Version 12 March-ready. Room 3.5 May.")
    got = resolved(text, "2022-12-05")
    assert "Friday" not in got and "Sunday" not in got
    assert not any("may" in e for e in got)
    assert "5 May" not in got


def test_day_before_counts_from_the_last_mentioned_date() -> None:
    got = resolve_dates("On March 3 the talks began. The day before, Kyiv warned.", "2022-12-05")
    assert [(s.text, s.date) for s in got] == [("March 3", "2022-03-03"),
                                             ("The day before", "2022-03-02")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022/06/12", "2022-06-12"),
        ("2022-06-12", "2022-06-12"),
        ("2022-06-12T10:00:00Z", "2022-06-12"),
        ("2022-06-12 10:00:00+02:00", "2022-06-12"),
        ("2022/06/17/16:34", "2022-06-17"),
        ("June 12, 2022", "2022-06-12"),
        ("Sunday, June 12, 2022", "2022-06-12"),
        ("12 June 2022", "2022-06-12"),
        ("Sun, 12 Jun 2022 10:00:00 GMT", "2022-06-12"),
        ("12.06.2022", "2022-06-12"),
        ("13/06/2022", "2022-06-13"),
        ("06/13/2022", "2022-06-13"),
        ("06/12/2022", None),  # ambiguous day/month: not guessed
        ("06-12-2022", None),
        ("13-06-2022", "2022-06-13"),
        ("05/05/2022", "2022-05-05"),  # both readings are the same day
        ("June 12", None),  # no year: not invented
        ("2022-02-30", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(value: str, expected: str | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(("value", "readings"), [
    ("01/02/2022", ("2022-02-01", "2022-01-02")),
    (" 3-4-2022 ", ("2022-04-03", "2022-03-04")),
    ("13/02/2022", None), ("05/05/2022", None), ("01.02.2022", None), ("2022-01-02", None),
    ("31/02/2022", None), ("March 14, 2023", None),
])
def test_ambiguous_names_both_readings_of_exactly_the_dates_parse_date_refuses(
        value: str, readings: tuple[str, str] | None) -> None:
    assert ambiguous(value) == readings
    assert (parse_date(value) is None) == (readings is not None or value == "31/02/2022")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.dates().map(date.isoformat)))
def test_resolve_dates_never_raises_and_spans_point_into_the_text(
    text: str, published: str | None
) -> None:
    for span in resolve_dates(text, published):
        assert text[span.start : span.end] == span.text
        assert date.fromisoformat(span.date)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["On", "Monday", "December", "3", "the", "day", "before", "2021",
                                 "yesterday", "last", "week", ",", "May", "17", "ago", "two"]),
                max_size=25))
def test_without_publish_date_every_resolved_expression_names_its_year(words: list[str]) -> None:
    for span in resolve_dates(" ".join(words), None):
        assert re.search(r"(19|20)\d\d", span.text)


@given(st.text(max_size=60))
def test_parse_date_never_raises(value: str) -> None:
    result = parse_date(value)
    assert result is None or date.fromisoformat(result)
