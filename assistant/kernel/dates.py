"""Dates: normalise date strings and resolve the date expressions inside an article.

News is written relative to its publication day ("on Tuesday", "the day before",
"December 3"). ``resolve_dates`` turns those expressions into ISO days, anchored on the
publish date, so a question about "what happened on December 5" can find "the day
before" in an article written on December 6. Without a publish date only expressions
that carry their own year are resolved: a date is never invented.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from assistant.kernel.records import DatedSpan
from assistant.kernel.text import MONTH_ABBREVIATIONS, MONTH_NUMBERS, MONTHS, WEEKDAYS

# --- dates as written --------------------------------------------------------------------
# Two patterns, because their users ask different things (as with the two sentence splitters in
# ``kernel/text.py``): ``DATE_RE`` finds calendar dates ("3 December", "Dec. 3, 2022", "2022",
# "2022-12-03") whose values the fact checks normalise and compare; ``WHEN_RE`` finds whatever
# can answer "when" (those, and weekdays, "yesterday", "this week", a month alone) for the
# answerers. ``resolve_dates`` below has its own patterns, with named parts, to turn them into days.

_MONTH_WORD = (r"(?:" + "|".join(m.capitalize() for m in MONTHS)
               + r"|(?:" + "|".join(a.capitalize() for a in MONTH_ABBREVIATIONS) + r")\.?)")
_DAY_NUMBER = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR_NUMBER = r"(?:1[89]\d\d|20\d\d)"
DATE_RE = re.compile(
    rf"\b(?:(?P<iso>{_YEAR_NUMBER})-(?P<im>[01]\d)-(?P<id>[0-3]\d)"
    rf"|(?P<m1>{_MONTH_WORD})\s+(?P<d1>{_DAY_NUMBER})(?:\s*[–-]\s*{_DAY_NUMBER})?(?![\d,.]\d)"
    rf"(?:,?\s+(?P<y1>{_YEAR_NUMBER}))?"
    rf"|(?P<d2>{_DAY_NUMBER})(?:\s*[–-]\s*{_DAY_NUMBER})?\s+(?P<m2>{_MONTH_WORD})(?:,?\s+(?P<y2>{_YEAR_NUMBER}))?"
    rf"|(?P<m3>{_MONTH_WORD}),?\s+(?P<y3>{_YEAR_NUMBER})"
    rf"|(?P<y4>{_YEAR_NUMBER}))(?![\w-])"
)
YEAR_RE = re.compile(rf"\b{_YEAR_NUMBER}\b")
_MONTHS_AND_SHORT = MONTHS + MONTH_ABBREVIATIONS
_FULL_MONTHS = [m for m in MONTHS if m != "may"]  # "may" alone is a verb too
MONTH_RE = re.compile(r"\b(?:" + "|".join(_FULL_MONTHS) + r")\b", re.IGNORECASE)
WHEN_RE = re.compile(
    r"\b(?:(?:" + "|".join(_MONTHS_AND_SHORT) + r")\.?\s+\d{1,2}\b|\d{1,2}\s+(?:"
    + "|".join(_MONTHS_AND_SHORT) + r")\b|(?:" + "|".join(WEEKDAYS) + r")\b|(?:19|20)\d\d\b|"
    r"\d{4}-\d\d-\d\d|yesterday|today|tomorrow|the day before|last week|this week|"
    r"(?:" + "|".join(_FULL_MONTHS) + r")\b)", re.IGNORECASE)
# the normalised value of a date that names a day (the fact checks' "2022-03-29", "--03-29")
DAY_VALUE_RE = re.compile(r"(?:\d{4}|-)-\d\d-\d\d")

# --- resolving dates against the publish day ------------------------------------------------

_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10}

# Month names are matched capitalised only, so the verb "may" never becomes a date.
_MONTH = r"(?P<month>" + "|".join(m.capitalize() for m in MONTHS + MONTH_ABBREVIATIONS) + r")\.?"
_WEEKDAY = r"(?P<weekday>" + "|".join(d.capitalize() for d in WEEKDAYS) + ")"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?![.,]?\d)"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

# (kind, pattern, guard). No pattern starts with \b: a literal first token lets `re` skip
# ahead fast (10x on a large corpus); word boundaries are checked in code instead.
# Lowercase patterns run on a lowercased copy, and only if their guard word occurs at all.
_PATTERNS: list[tuple[str, re.Pattern[str], str | None]] = [
    ("iso", re.compile(r"(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"), None),
    ("absolute", re.compile(rf"{_MONTH}\s+{_DAY}\b(?:,?\s+{_YEAR}\b)?"), None),
    ("absolute", re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH}\b(?:,?\s+{_YEAR}\b)?"), None),
    ("weekday", re.compile(rf"{_WEEKDAY}\b(?!\s+(?:Night|Times))"), None),
    ("before_yesterday", re.compile(r"the day before yesterday\b"), "yesterday"),
    ("anchor-1", re.compile(r"(?:the day before|the previous day|a day earlier|the day prior)\b"),
     "day"),
    ("anchor+1", re.compile(r"(?:the day after|the next day|the following day|a day later)\b"),
     "day"),
    ("yesterday", re.compile(r"yesterday\b"), "yesterday"),
    ("today", re.compile(r"(?:today|tonight|this (?:morning|afternoon|evening))\b"), None),
    ("tomorrow", re.compile(r"tomorrow\b"), "tomorrow"),
    ("last_week", re.compile(r"last week\b"), "week"),
    ("this_week", re.compile(r"this week\b"), "week"),
    ("next_week", re.compile(r"next week\b"), "week"),
    ("days_ago", re.compile(
        r"(?P<n>\d{1,2}|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+days?\s+ago\b"),
     "ago"),
]
_CASED = {"iso", "absolute", "weekday"}  # run on the original text
_MONTH_PREFIX = re.compile(rf"{_WEEKDAY},?\s+$")
_DAY_PREFIX = re.compile(rf"(?:{_WEEKDAY},?\s+)?(?:the\s+)?$")
_REL_BEFORE = re.compile(r"(?P<rel>last|next|this past|this)\s+$", re.I)
# "Good Friday", "Super Tuesday" name a feast or an event, not a day near publication.
_NAMED_DAY = re.compile(
    r"\b(?:Good|Black|Cyber|Ash|Super|Holy|Maundy|Palm|Easter|Bloody|Giving|Fat|Shrove)\s+$"
)
# A bare weekday is the last such day before publication ("announced Sunday") unless the
# clause is about the future ("will dock by Wednesday").
_FUTURE = re.compile(
    r"\b(?:will|shall|won't|(?:is|are|was|were) (?:expected|scheduled|due|set|going) to|"
    r"plans? to|until|till)\b|'ll\b", re.I)
_ABSOLUTE = [pattern for kind, pattern, _ in _PATTERNS if kind == "absolute"]
# 12.06.2022 (dots: day first), 06/12/2022 and 06-12-2022 (slashes, dashes: either order)
_NUMERIC = re.compile(r"(\d{1,2})([./-])(\d{1,2})\2(\d{4})")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class _Hit(NamedTuple):
    start: int
    end: int
    kind: str
    fields: dict[str, str | None]


def parse_date(value: str) -> str | None:
    """Normalise a free-form date string ('2022/06/12', ISO datetime, 'June 12, 2022',
    RFC 2822) to 'YYYY-MM-DD'; None when it is not a full, valid date."""
    value = value.strip()
    if not value:
        return None
    m = re.match(r"(\d{4})[-/.]?(\d{1,2})[-/.]?(\d{1,2})(?:$|[T\s/_])", value)
    if m:
        return _iso(int(m[1]), int(m[2]), int(m[3]))
    m = _NUMERIC.fullmatch(value)
    if m:  # 12.06.2022 is day-first; with slashes only an unambiguous order is accepted
        first, second, year = int(m[1]), int(m[3]), int(m[4])
        if m[2] == ".":
            return _iso(year, second, first)
        if ambiguous(value):
            return None
        day, month = (first, second) if first > 12 else (second, first)
        return _iso(year, month, day)
    for pattern in _ABSOLUTE:
        m = pattern.search(value)
        if m and m["year"]:
            return _iso(int(m["year"]), MONTH_NUMBERS[m["month"].lower()], int(m["day"]))
    try:
        return parsedate_to_datetime(value).date().isoformat()
    except (TypeError, ValueError, IndexError):
        return None


def ambiguous(value: str) -> tuple[str, str] | None:
    """The two days a date like '01/02/2022' can be, day first and month first
    (('2022-02-01', '2022-01-02')); None when it is not such a date or reads one way only
    ('13/02/2022', '05/05/2022'). ``parse_date`` refuses exactly these."""
    m = _NUMERIC.fullmatch(value.strip())
    if not m or m[2] == ".":
        return None
    first, second, year = int(m[1]), int(m[3]), int(m[4])
    day_first, month_first = _iso(year, second, first), _iso(year, first, second)
    if day_first and month_first and day_first != month_first:
        return day_first, month_first
    return None


def resolve_dates(text: str, published: str | None) -> tuple[DatedSpan, ...]:
    """Find date expressions in ``text`` and resolve each to an ISO day.

    ``published`` (YYYY-MM-DD) anchors relative expressions and dates without a year;
    "the day before" counts from the most recently mentioned date, else the publish day.
    """
    anchor = to_date(published)
    spans: list[DatedSpan] = []
    last: date | None = None
    for hit in _matches(text):
        day = _resolve(hit, anchor, last)
        if day is None:
            continue
        last = day
        spans.append(DatedSpan(hit.start, hit.end, text[hit.start : hit.end], day.isoformat()))
    return tuple(spans)


def _matches(text: str) -> list[_Hit]:
    """Non-overlapping date expressions in text order, preferring the longest."""
    low = text.translate(_LOWER)  # ASCII-only lowering keeps every offset
    found: list[tuple[int, int, int, _Hit]] = []
    for rank, (kind, pattern, guard) in enumerate(_PATTERNS):
        cased = kind in _CASED
        if guard and guard not in low:
            continue
        for m in pattern.finditer(text if cased else low):
            start, fields = m.start(), m.groupdict()
            if start and (text[start - 1].isalnum()
                          or (text[start].isdigit() and text[start - 1] in "-/.,:")):
                continue  # inside a word or a number
            before = text[max(0, start - 16) : start]
            if kind == "absolute":  # widen to "Tuesday, December 6" / "the 3rd of May"
                prefix = (_DAY_PREFIX if text[start].isdigit() else _MONTH_PREFIX).search(before)
                if prefix and prefix.group(0):
                    start, fields["weekday"] = start - len(prefix.group(0)), prefix["weekday"]
            elif kind == "weekday":
                if _NAMED_DAY.search(before):
                    continue
                if r := _REL_BEFORE.search(before):
                    start, fields["rel"] = start - len(r.group(0)), r["rel"].lower()
                elif _FUTURE.search(_clause_before(text, start)):
                    fields["rel"] = "coming"
            hit = _Hit(start, m.end(), kind, fields)
            found.append((start, start - m.end(), rank, hit))
    chosen: list[_Hit] = []
    end = -1
    for start, _, _, hit in sorted(found, key=lambda f: f[:3]):
        if start >= end:
            chosen.append(hit)
            end = hit.end
    return chosen


def _clause_before(text: str, start: int) -> str:
    """The words before ``start`` back to the sentence start (at most 120 characters)."""
    window = text[max(0, start - 120) : start]
    return re.split(r"[.!?;\n]\s", window)[-1]


def _resolve(hit: _Hit, anchor: date | None, last: date | None) -> date | None:
    kind, f = hit.kind, hit.fields
    if kind in ("iso", "absolute"):
        month = f["month"] or ""
        month_number = int(month) if month.isdigit() else MONTH_NUMBERS[month.rstrip(".").lower()]
        day = int(f["day"] or 0)
        if f["year"]:
            return to_date(_iso(int(f["year"]), month_number, day))
        return _infer_year(month_number, day, anchor) if anchor else None
    if anchor is None:
        return None  # relative expressions need the publish date
    if kind in ("anchor-1", "anchor+1"):
        return (last or anchor) + timedelta(days=-1 if kind == "anchor-1" else 1)
    if kind == "days_ago":
        n = f["n"] or "1"
        return anchor - timedelta(days=int(n) if n.isdigit() else _NUMBERS[n])
    if kind == "weekday":
        target = WEEKDAYS.index((f["weekday"] or "").lower())
        rel = f.get("rel") or ""
        if rel == "next":
            return anchor + timedelta(days=(target - anchor.weekday() - 1) % 7 + 1)
        if rel == "coming":  # "will meet on Friday": the Friday on or after publication
            return anchor + timedelta(days=(target - anchor.weekday()) % 7)
        back = (anchor.weekday() - target) % 7
        if rel in ("last", "this past") and back == 0:
            back = 7  # "last Monday" written on a Monday means a week ago
        return anchor - timedelta(days=back)
    offsets = {"before_yesterday": -2, "yesterday": -1, "today": 0, "tomorrow": 1,
               "last_week": -7, "this_week": 0, "next_week": 7}
    return anchor + timedelta(days=offsets[kind])


def _infer_year(month: int, day: int, anchor: date) -> date | None:
    """The occurrence of month/day nearest the publish day: the most recent past one
    (up to a few days ahead, for announced events) unless that is more than ~300 days
    back, in which case the coming one."""
    candidates = [d for y in (anchor.year - 1, anchor.year, anchor.year + 1)
                  if (d := to_date(_iso(y, month, day))) is not None]
    past = [d for d in candidates if d <= anchor + timedelta(days=7)]
    if past and (anchor - past[-1]).days <= 300:
        return past[-1]
    future = [d for d in candidates if d > anchor]
    return future[0] if future else (past[-1] if past else None)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def to_date(value: str | None) -> date | None:
    """The day of an ISO date string ("2022-12-05", or a longer timestamp), None if it is none."""
    if not value:
        return None
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
