"""Small lexical tools shared by the answerers: what a question needs, the names it gives,
whether a text mentions them, overlap.

Words and terms, numbers, names and places as written come from ``assistant/kernel/text.py``,
dates as written from ``assistant/kernel/dates.py``: each is defined there once.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.kernel.dates import MONTH_RE, WHEN_RE, YEAR_RE
from assistant.kernel.text import (
    COUNT_RE,
    MONTH_ABBREVIATIONS,
    MONTHS,
    NAME_RE,
    PLACE_RE,
    QUERY_STOPWORDS,
    QUESTION_WORDS,
    WEEKDAYS,
    terms,
    words,
)

_CALENDAR = frozenset(MONTHS + MONTH_ABBREVIATIONS + WEEKDAYS)
_ASKS_YEAR = re.compile(r"\b(?:what|which) year\b", re.IGNORECASE)


def has_date(text: str) -> bool:
    return bool(WHEN_RE.search(text))


def names(text: str) -> set[str]:
    """Capitalised words that are not the first word of a sentence or a question word."""
    out: set[str] = set()
    for m in NAME_RE.finditer(text):
        start = m.start()
        before = text[:start].rstrip()
        first = not before or before[-1] in ".!?\"“‘:\n"
        for i, w in enumerate(m.group().split()):
            lw = w.lower()
            if ((i == 0 and first) or lw in QUERY_STOPWORDS or lw in QUESTION_WORDS or lw in _CALENDAR
                    or lw in ("of", "the")):
                continue
            out.add(lw.strip("’'"))
    return out


# Common short forms in news; a question's "US" is found as "United States" and back.
ALIASES = {"us": ("u.s", "united states", "american", "america", "washington"),
           "u.s": ("united states", "american"), "usa": ("united states", "american"),
           "uk": ("united kingdom", "britain", "british"), "eu": ("european union",),
           "un": ("united nations",), "kyiv": ("kiev",), "kiev": ("kyiv",),
           "kremlin": ("russia", "moscow", "putin"), "white": ("us", "biden")}


def mentions(text: str, name_parts: set[str]) -> bool:
    """Whether every name (lower-case word) occurs in ``text``, directly or by a common alias."""
    lowered, have = _vocabulary(text)
    for name in name_parts:
        if name in have:
            continue
        if any(a in have or f" {a} " in f" {lowered} " for a in ALIASES.get(name, ())):
            continue
        if any(v in have for v in variants(name)):
            continue
        return False
    return True


@lru_cache(maxsize=256)
def _vocabulary(text: str) -> tuple[str, frozenset[str]]:
    """(the text's words joined by spaces, the set of its words); cached because one answer asks
    about the same article texts many times."""
    lowered = " ".join(words(text))
    have = set(lowered.split())
    # "GPT-3" and "Spider-Man" are one word here but two name parts in the question
    have |= {part for w in have if "-" in w for part in w.split("-")}
    return lowered, frozenset(have)


def variants(name: str) -> list[str]:
    """Plural and demonym forms: russians -> russian, russian -> russia, ukrainian -> ukraine."""
    out = []
    if name.endswith("s"):
        out.append(name[:-1])
    if name.endswith("ian") or name.endswith("an"):
        out += [name[:-1], name[:-2] + "e", name[:-3] + "e", name[:-2]]
    return out


def need(question: str) -> str | None:
    """What kind of value the question asks for: 'date', 'number', 'place', 'name' or None."""
    q = question.lower()
    if re.search(r"\b(when|what date|which date|what day|which day|what year|which year|"
                 r"how long ago|since when)\b", q):
        return "date"
    if re.search(r"\bhow many (?:sources|outlets|reports|articles|media|news)", q):
        return None  # answered by who reports it (reported_by), not by a number in the text
    if re.search(r"\b(how many|how much|what number|what percentage|how old)\b", q):
        return "number"
    if re.search(r"\b(where|in which (?:city|country|town|place)|at which (?:venue|place))\b", q):
        return "place"
    if re.search(r"\b(who|whom|whose|(?:which|what)(?: \w+){0,2} (?:country|countries|city|channel|"
                 r"agency|outlet|station|newspaper|paper|president|leader|official|minister|"
                 r"organi[sz]ation|institute|company|spokesman|spokesperson))\b", q):
        return "name"
    return None


def names_a_time(question: str) -> bool:
    """Whether the question names a year or a month ("in 2019", "the March talks"): it is about that
    time, not about the latest news."""
    return bool(YEAR_RE.search(question) or MONTH_RE.search(question))


def satisfies(sentence: str, kind: str | None, question: str = "") -> bool:
    """Whether ``sentence`` holds a value of ``kind`` that the question does not already give."""
    if kind == "date":
        # "what year": only a year answers it, not the weekday of the event
        pattern = YEAR_RE if _ASKS_YEAR.search(question) else WHEN_RE
        return bool({m.group().lower() for m in pattern.finditer(sentence)}
                    - {m.group().lower() for m in pattern.finditer(question)})
    if kind == "number":
        # a count is not the day or year of a date ("announced on Tuesday, December 6")
        undated = WHEN_RE.sub(" ", sentence)
        return bool({m.group().lower() for m in COUNT_RE.finditer(undated)}
                    - {m.group().lower() for m in COUNT_RE.finditer(question)})
    if kind == "name":
        return bool(names(sentence) - names(question))
    if kind == "place":
        return bool({m.group(1).lower() for m in PLACE_RE.finditer(sentence)} - names(question))
    return False


def head_nouns(question: str) -> set[str]:
    """The stems a "which/what X" question asks about ("which news agency" -> news, agenc)."""
    m = re.search(r"\b(?:which|what)((?: [a-z]+){1,2})", question.lower())
    if not m:
        return set()
    return set(terms(m.group(1)))


def dice(a: set[str], b: set[str]) -> float:
    """Symmetric similarity of two term sets: 2|a∩b| / (|a| + |b|)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 0.0


def overlap(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
