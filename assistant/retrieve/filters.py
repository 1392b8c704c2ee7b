"""Filters a reader sets on a question: read and described.

A question can be restricted to a date range, to outlets and (from Python) to articles.
``parse`` reads those values the same way from every surface — Python arguments, CLI flags,
UI fields — with dates going through :mod:`assistant.kernel.dates`, the one date parser: ISO days and
unambiguous forms ("March 14, 2023", "14/03/2023") are taken, "01/02/2022" is refused
with both readings, and so is a range that ends before it starts. ``describe`` is the line
every answer shows. Whether the filters left the question's topic out is judged with the
answers (``assistant.check.on_topic``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from assistant.kernel import dates
from assistant.kernel.answers import Filters
from assistant.kernel.errors import BadQuestionError


def parse(since: Any, until: Any, sources: Any, doc_ids: Any, include_undated: Any) -> Filters:
    """The filters of one question, or a ``BadQuestionError`` that says what to write."""
    start, end = _day("since", since), _day("until", until)
    if start and end and start > end:
        raise BadQuestionError(f"since {_shown(since, start)} is after until {_shown(until, end)} "
                               "— no day is in that range; swap the two dates")
    if not isinstance(include_undated, bool):
        raise BadQuestionError(f"include_undated must be True or False, not {include_undated!r}")
    return Filters(start, end, strings("sources", sources), strings("doc_ids", doc_ids),
                   include_undated=include_undated)


def _day(name: str, value: Any) -> str | None:
    """An ISO day from a date, or from text ``assistant.kernel.dates.parse_date`` reads one way only."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        if readings := dates.ambiguous(value):
            day_first, month_first = readings
            raise BadQuestionError(
                f"{name} {value.strip()!r} is ambiguous: {_long(day_first)} if the day comes "
                f"first, {_long(month_first)} if the month does — write {day_first} or "
                f"{month_first}")
        if day := dates.parse_date(value):
            return day
    raise BadQuestionError(f"{name} must be a date like 2022-12-05, not {value!r} "
                           "(March 14, 2023 and 14 March 2023 work too)")


def _long(iso: str) -> str:
    """"2022-02-01" -> "1 February 2022"."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def _shown(value: Any, iso: str) -> str:
    """The date as the reader wrote it, with its ISO day when that reads differently."""
    text = value.strip() if isinstance(value, str) else str(value)
    return iso if text == iso else f"{text!r} ({iso})"


def strings(name: str, value: Any) -> tuple[str, ...]:
    """A list-of-text argument as a tuple: None means none, one string means itself."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise BadQuestionError(f"{name} must be a list of text values, not {value!r}") from None
    if not all(isinstance(s, str) for s in items):
        raise BadQuestionError(f"{name} must be a list of text values")
    return items


def describe(f: Filters) -> str:
    """The filters as one line ("published since 2022-12-01 · outlet Reuters · 3 undated
    articles left out"); empty when none is set."""
    parts = []
    if f.since and f.until:
        parts.append(f"published {f.since} to {f.until}")
    elif f.since or f.until:
        parts.append(f"published {'since' if f.since else 'until'} {f.since or f.until}")
    if f.sources:
        parts.append(f"outlet{'s' if len(f.sources) > 1 else ''} {', '.join(f.sources)}")
    if f.doc_ids:
        more = f" and {len(f.doc_ids) - 3} more" if len(f.doc_ids) > 3 else ""
        parts.append(f"article{'s' if len(f.doc_ids) > 1 else ''} "
                     f"{', '.join(f.doc_ids[:3])}{more}")
    if f.dated and f.undated:
        n = f"{f.undated} undated article{'s' if f.undated > 1 else ''}"
        parts.append(f"{n} included" if f.include_undated else f"{n} left out")
    elif f.dated and f.include_undated:
        parts.append("undated articles included")
    return " · ".join(parts)


def undated_left_out(f: Filters) -> bool:
    """Whether the answer should offer to include the undated articles the range left out."""
    return f.dated and not f.include_undated and f.undated > 0
