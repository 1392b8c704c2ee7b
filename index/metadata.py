"""Metadata at the head of a file: header lines of .txt/.md articles and the head of a page.

Plain-text articles often start with lines such as ``Published: March 14, 2023`` or
``By Jane Doe | Harbor Gazette``. Read as text they would be indexed and cited as if the
article said them, and the date would be lost. ``read_header`` takes the block of such
lines at the very start of a file (optionally under one title line, or as ``---`` front
matter) as metadata and returns the body without it; the same words further down stay
text. Dates go through ``assistant.kernel.dates.parse_date``, the project's one date parser: a date it
cannot read unambiguously is left out with a remark naming its line, and the article is
still read. ``read_html_head`` does the same for a page's ``<head>`` and ``<h1>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from assistant.kernel.dates import parse_date
from index.cleaning import clean_field

# header label (lower case, '_' and '-' as spaces) -> the field it fills. "author" is read for
# the outlet or date after a '|' ("By Jane Doe | Harbor Gazette"); the article model has no
# author field. None: a header line that is read and left out (no field to keep it in).
_LABELS: dict[str, str | None] = {
    **dict.fromkeys(("title", "headline"), "title"),
    **dict.fromkeys(("published", "date", "published on", "published at", "publish date",
                     "publication date", "pubdate", "posted", "posted on"), "published"),
    **dict.fromkeys(("by", "author", "authors", "byline", "written by"), "author"),
    **dict.fromkeys(("source", "outlet", "publisher", "publication", "site"), "source"),
    **dict.fromkeys(("url", "link"), "url"),
    **dict.fromkeys(("updated", "last updated", "modified"), None),
}
_LABELLED = re.compile(r"(?P<label>[A-Za-z][A-Za-z _-]{0,24}?)\s*:\s*(?P<value>\S.*)")
_BYLINE = re.compile(r"(?:By|BY)\s+(?P<value>[A-Z].*)")  # "By Jane Doe | Harbor Gazette"
_BYLINE_PARTS = re.compile(r"\s+[|•·—–]\s+")
_DATE_LIKE = re.compile(r"\b(?:19|20)\d\d\b|\d[/.-]\d")  # a byline part that tries to be a date
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MAX_LINE = 300  # longer lines are text, not metadata
_HEAD_CHARS = 16_384  # where a header block must end
_UNSEEN = ["script", "style", "noscript", "template"]
_MARKUP = re.compile(r"<[A-Za-z/!?]|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z]\w*);")


@dataclass(frozen=True)
class Head:
    """What the head of a file says about its article, the text below it, and remarks
    ("line 2: ...") about header lines that could not be used."""

    body: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None  # YYYY-MM-DD
    remarks: tuple[str, ...] = ()


def read_header(text: str) -> Head:
    """Split a .txt/.md article into its leading header block (as metadata) and its body."""
    # only the top can hold the block: a large file is not split into lines as a whole
    lines = text[:_HEAD_CHARS].splitlines(keepends=True)
    rest = text[_HEAD_CHARS:]
    if rest and lines:
        rest = lines.pop() + rest  # a line cut by the limit is never read as a header
    first = _next_filled(lines, 0)
    if first < len(lines) and lines[first].strip() == "---":  # YAML-style front matter
        close = next((i for i in range(first + 1, min(len(lines), first + 50))
                      if lines[i].strip() == "---"), None)
        if close is None:
            return Head(body=text)
        entries = [(i + 1, *e) for i in range(first + 1, close)
                   if (e := _labelled(lines[i].strip(), front_matter=True))]
        return _head(entries, None, "".join(lines[close + 1:]) + rest)
    title_line, start = None, first
    if first < len(lines) and _entry(lines[first]) is None and _titleish(lines[first]):
        after = _next_filled(lines, first + 1)
        if after < len(lines) and _entry(lines[after]) is not None:
            title_line, start = _MD_HEADING.sub("", lines[first].strip(), count=1), after
    entries, end, i = [], start, start
    while i < len(lines) and (entry := _entry(lines[i])) is not None:
        entries.append((i + 1, *entry))
        end = i + 1
        i = _next_filled(lines, end)  # blank lines inside the block belong to it
    if not entries:
        return Head(body=text)
    return _head(entries, title_line, "".join(lines[end:]) + rest)


def read_html_head(html: str) -> Head:
    """Title, outlet, url and publish date of a page (the html itself stays the body).
    Titles are text: script and style contents dropped, tags removed, entities unescaped."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    tree.strip_tags(_UNSEEN)  # "<h1>Closed<script>alert(1)</script></h1>" is "Closed"

    def meta(*selectors: str) -> str | None:
        for sel in selectors:
            node = tree.css_first(sel)
            if node is None:
                continue
            attrs = node.attributes
            given = attrs.get("content") or attrs.get("datetime") or attrs.get("href")
            # attribute values and <title> (kept by the parser as raw text) may still carry
            # markup as text; an element's own text has been parsed already
            text = node.text() if given is None else given
            if given is not None or node.tag == "title":
                text = markup_to_text(text)
            if value := clean_field(text):
                return value
        return None

    published = meta('meta[property="article:published_time"]', 'meta[name="pubdate"]',
                     'meta[itemprop="datePublished"]', "time[datetime]")
    return Head(
        body=html, title=meta("h1", 'meta[property="og:title"]', "title"),
        source=meta('meta[property="og:site_name"]'),
        url=meta('meta[property="og:url"]', 'link[rel="canonical"]'),
        published=parse_date(published) if published else None)


def markup_to_text(value: str) -> str:
    """The text of a metadata value that carries markup: script and style contents dropped,
    tags removed, entities unescaped ("closed<script>alert(1)</script>" -> "closed")."""
    if not _MARKUP.search(value):
        return value
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(value)
    tree.strip_tags(_UNSEEN)
    return tree.root.text() if tree.root is not None else ""


def url_outlet(url: str | None) -> str | None:
    """The outlet a url names: its host without ``www.`` (None without a usable url)."""
    try:
        host = urlsplit(url).hostname if url else None
    except ValueError:  # e.g. "http://[::1": the url is kept, it just names no outlet
        return None
    return host.removeprefix("www.") if host else None


def _head(entries: list[tuple[int, str, str]], title: str | None, body: str) -> Head:
    """Fold (line number, field, value) header entries into a ``Head``: the first value of
    a field wins (a ``Title:`` line over the ``title`` line above the block), and a date
    ``parse_date`` cannot read becomes a remark."""
    fields: dict[str, str] = {}
    remarks: list[str] = []

    def date(number: int, value: str) -> None:
        if day := parse_date(value):
            fields.setdefault("published", day)
        else:
            shown = (clean_field(value) or "")[:60]
            remarks.append(f"line {number}: date {shown!r} is not a full, unambiguous date")

    for number, field, value in entries:
        if field == "published":
            date(number, value)
        elif field == "author":  # the author itself has no field; what follows '|' may
            for part in _BYLINE_PARTS.split(value)[1:]:
                if _DATE_LIKE.search(part):
                    date(number, part)
                else:
                    fields.setdefault("source", part)
        elif field == "source" and re.match(r"https?://", value):
            fields.setdefault("url", value)
        elif field:
            fields.setdefault(field, value)
    url = clean_field(fields.get("url"))
    return Head(body=body, title=clean_field(fields.get("title", title)), url=url,
                source=clean_field(fields.get("source")) or url_outlet(url),
                published=fields.get("published"), remarks=tuple(remarks))


def _entry(line: str) -> tuple[str, str] | None:
    """(field, value) of a header line ("Published: ...", "By Jane Doe | Outlet"), else None."""
    line = line.strip()
    if not line or len(line) > _MAX_LINE:
        return None
    if entry := _labelled(line):
        return entry
    m = _BYLINE.fullmatch(line)
    name = _BYLINE_PARTS.split(m["value"])[0] if m else ""
    if m and len(name.split()) <= 5 and not line.endswith("."):  # not "By Tuesday, the ..."
        return "author", line
    return None


def _labelled(line: str, front_matter: bool = False) -> tuple[str, str] | None:
    """A "Label: value" line whose label names a known field (any key in front matter,
    where unknown ones are read and dropped)."""
    m = _LABELLED.fullmatch(line)
    if m is None:
        return None
    label = re.sub(r"[\s_-]+", " ", m["label"]).strip().lower()
    if label not in _LABELS:
        return ("", m["value"]) if front_matter else None
    field, value = _LABELS[label], m["value"].strip()
    if front_matter:
        value = value.strip("'\"")
    return (field or "", value)


def _titleish(line: str) -> bool:
    """A line that can be a headline above the header block: short, not a sentence."""
    line = line.strip()
    return 0 < len(line) <= 200 and not line.endswith((".", ":", ","))


def _next_filled(lines: list[str], i: int) -> int:
    """The index of the first non-blank line at or after ``i`` (len(lines) if none)."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i
