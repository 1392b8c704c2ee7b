"""What the top of an article says about itself: its title, its outlet and a dateline.

A page may give its title as the first line, repeat it under breadcrumbs, sign it
"Title – Reuters", or open the body with "New York (CNN) —". These rules take the title and
the outlet out of those forms, so neither is cited as if the article said it
(``index/cleaning.py`` calls them after removing page furniture).
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
_BREADCRUMB = re.compile(r"^(?:home|main page|main)(?:\s*[›»>/|]\s*|(?=[A-Z]))", _I)
_OUTLETS = (
    "Reuters|AP|Associated Press|AFP|Agence France-Presse|CNN|CNN Business|BBC|BBC News|"
    "TASS|RIA Novosti|Interfax|Bloomberg|UPI|Al Jazeera|The Guardian|Guardian|NPR|Politico|"
    "Axios|USA TODAY|USA Today|Fox News|NBC News|CBS News|ABC News|Euronews|DW|France 24|"
    "Ukrinform|The Kyiv Independent|Kyiv Independent|The New York Times|The Washington Post"
)
_TITLE_SOURCE = re.compile(r"\s+(?:[–—-]|\|)\s+([^–—|]{2,40})$")
_DATELINE_ALONE = re.compile(
    rf"^(?:[A-Z][\w.'-]*(?:[ ,]+[A-Z][\w.'-]*){{0,3}}\s+)?\(?({_OUTLETS})\)?\s*[—–-]\s*$")
_DATELINE = re.compile(  # an outlet in parentheses: "(CNN)", "London (CNN Business)", "(AP) —"
    rf"^(?:[A-Z][\w.'-]*(?:[ ,]+[A-Z][\w.'-]*){{0,3}}\s+)?\(({_OUTLETS}|[A-Z]{{2,6}}"
    r"(?: [A-Z][a-z]+)?)\)\s*(?:[—–-]\s*)?(?=\S)")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“A-ZА-Я0-9])")
_ABBREVIATION = re.compile(  # "Roe v. Wade", "Lt. Uhura", "Jan. 6" do not end a sentence
    r"(?:^|\W)(?:[A-Za-z]|Mr|Mrs|Ms|Dr|Lt|St|Gen|Sen|Rep|Gov|Jr|Sr|vs|No|Jan|Feb|Mar|Apr|Aug|"
    r"Sept?|Oct|Nov|Dec|U\.S|U\.K)\.[\"”’)]*$")
_HEADLINE_END = re.compile(r"[.!?…:;,][\"”’')»]*$")


def is_headline(line: str) -> bool:
    words = line.split()
    return (3 <= len(words) <= 25 and len(line) <= 160 and not _HEADLINE_END.search(line)
            and not line[0].islower())


def take_title(paragraphs: list[list[str]], given: str) -> tuple[str, list[list[str]]]:
    """The title and the body without it: the given title, or a headline-like first line.
    Breadcrumbs and truncated teasers ('HomeWorldRussia needs...') above it are dropped."""
    lines = [(i, j) for i, p in enumerate(paragraphs[:4]) for j in range(len(p))][:4]
    drop: set[tuple[int, int]] = set()
    for n, (i, j) in enumerate(lines):
        line = paragraphs[i][j]
        following = paragraphs[lines[n + 1][0]][lines[n + 1][1]] if n + 1 < len(lines) else ""
        teaser = line.removesuffix("...").removesuffix("…").rstrip()
        if _DATELINE_ALONE.match(line):
            break  # "New York CNN —" is no headline; strip_dateline takes it
        if _BREADCRUMB.match(line) or (line != teaser and 15 <= len(teaser) <= 200
                                       and teaser[-15:] in following):
            drop.add((i, j))
        elif not given and is_headline(line) and len(paragraphs) > 1:
            given = line
            drop.add((i, j))
            break
        elif _norm(line) in (_norm(given), _norm(_TITLE_SOURCE.sub("", given))):
            drop.add((i, j))  # the page repeats its title as the first line
        else:
            break
    body = [[ln for j, ln in enumerate(p) if (i, j) not in drop] for i, p in enumerate(paragraphs)]
    return given, [p for p in body if p]


def split_title_source(title: str, paragraphs: list[list[str]]) -> tuple[str, str | None]:
    """'Title – Reuters' -> ('Title', 'Reuters') when the suffix is an outlet: a known one,
    one after '|', or one the body cites as reporting. 'Title – Macron' stays whole."""
    m = _TITLE_SOURCE.search(title)
    if not m:
        return title, None
    name = m[1].strip()
    body = " ".join(" ".join(p) for p in paragraphs)
    reports = re.search(rf"\b{re.escape(name)} (?:reports|reported)\b|\breports {re.escape(name)}\b",
                        body)
    if re.fullmatch(_OUTLETS, name) or "|" in m[0] or reports:
        return title[: m.start()].strip(), name
    return title, None


def strip_dateline(paragraphs: list[list[str]]) -> str | None:
    """Remove a leading 'New York CNN —' / '(CNN)' dateline; return the outlet it names."""
    if not paragraphs:
        return None
    first = paragraphs[0]
    if m := _DATELINE_ALONE.match(first[0]):
        first.pop(0)
        if not first:
            paragraphs.pop(0)
        return m[1]
    if m := _DATELINE.match(first[0]):
        first[0] = first[0][m.end():]
        return m[1].strip()
    return None


def first_sentence(body: str, limit: int = 90) -> str:
    """The first sentence, cut at a word boundary near ``limit`` characters with '…'.
    Short lines before it (bylines such as 'Patrick Ryan', 'USA TODAY') are passed over."""
    lines = body.strip().split("\n")
    line = next((ln for ln in lines if len(ln.split()) >= 6), lines[0])
    first = line
    for end in SENTENCE_END.finditer(line):
        if not _ABBREVIATION.search(line, max(0, end.start() - 8), end.start()):
            first = line[: end.start()]
            break
    first = first.rstrip(". ")
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:–— ") + "…"


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).casefold().strip()
