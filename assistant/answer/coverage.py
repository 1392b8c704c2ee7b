"""Questions about the coverage itself, answered from what the index knows about the articles.

"Which outlets reported X?" names the outlets of the articles that report it (an article
with no known outlet is named by its title), "How many outlets reported X?" counts them,
"When was X first reported?" gives the earliest publish date among them. The articles are
the answer's citations — each quoted in its own words, so each is shown to report X — and
the opening line is built from their metadata (``Answer.coverage``), never from guesses.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from assistant.kernel.answers import Citation, Coverage

MOST = 6  # articles quoted for a coverage question (each in its own words)
_OUTLETS = (r"(?:outlets|sources|media|newspapers|papers|"
            r"news (?:outlets|agencies|sites|media|organi[sz]ations))")
_FIRST = re.compile(r"\b(?:when|what day|which day|what date)\b.*\bfirst\b.*\b(?:report|publish|cover)"
                    r"|\b(?:which|what) (?:outlet|source|media|newspaper|paper)s?\b.*\bfirst\b.*\b"
                    r"(?:report|publish|cover)", re.IGNORECASE)
_COUNT = re.compile(rf"\bhow many {_OUTLETS}\b", re.IGNORECASE)
_WHICH = re.compile(rf"\b(?:which|what) (?:other )?{_OUTLETS}\b", re.IGNORECASE)


def asks(question: str) -> str | None:
    """"first", "count" or "outlets" for a question about who reported something, else None."""
    if _FIRST.search(question):
        return "first"
    if _COUNT.search(question):
        return "count"
    if _WHICH.search(question):
        return "outlets"
    return None


def reports(citations: Sequence[Citation], asked: str) -> Coverage | None:
    """What the cited articles (each quoted reporting it) say about who reported it, from their
    metadata; the answer opens with its ``line``."""
    if not citations:
        return None
    return Coverage(asked, tuple((c.source or _titled(c.title), c.number, c.published)
                                 for c in citations))


def line(coverage: Coverage, independent: int = 0) -> str:
    """The sentence that answers the coverage question, with the articles' markers."""
    groups: dict[str, list[int]] = {}
    for name, number, _ in coverage.reports:
        groups.setdefault(name, []).append(number)
    named = _join([f"{name} {''.join(f'[{n}]' for n in numbers)}" for name, numbers in groups.items()])
    articles = len(coverage.reports)
    copies = ("" if not 0 < independent < articles else " (copies of one story)" if independent == 1
              else f" ({independent} independent stories)")
    if coverage.asked == "count":
        return f"{len(groups)} outlet{'s' if len(groups) != 1 else ''} reported it: {named}{copies}."
    if coverage.asked == "first":
        dated = sorted((d, name, n) for name, n, d in coverage.reports if d)
        if not dated:
            return f"None of the {articles} articles that report it is dated: {named}."
        day, name, n = dated[0]
        undated = articles - len(dated)
        rest = (f"; {undated} of the {articles} articles that report it have no date"
                if undated else "")
        return f"First reported on {day} by {name} [{n}] (the earliest dated article{rest})."
    return f"Reported by {named}{copies}."


def _titled(title: str) -> str:
    """An article without a known outlet, named by its (shortened) title."""
    return "“" + textwrap.shorten(" ".join(title.split()), 70, placeholder="…") + "”"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
