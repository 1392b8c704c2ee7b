"""Articles from .json and .jsonl files: one record each, a list of them, or a wrapper.

A file holds records, a list of records, ``{"articles": [...]}`` or RealTime QA's
``{"search_result": [...]}``; a .jsonl file one value per line. A record's id is its url,
else its ``id`` field scoped by its file (``feed#7``), else its position (``feed#3``). An id
repeated inside one file keeps both records (the later under a suffixed id) and yields a
``FileWarning``; broken lines or records are summed up in one ``FileProblem`` per file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.kernel.dates import parse_date
from assistant.kernel.records import FileProblem, FileWarning, RawArticle
from index.cleaning import clean_field
from index.folders import utf8
from index.metadata import url_outlet

_TEXT_KEYS = ("text", "body", "content", "article")
_TITLE_KEYS = ("title", "headline")
_URL_KEYS = ("url", "link")
_DATE_KEYS = ("date", "published", "publish_date", "published_at", "pubDate")
_SOURCE_KEYS = ("source", "outlet", "publisher", "site")
_ID_KEYS = ("id", "doc_id")
_LIST_KEYS = ("articles", "search_result")


def read_records(text: str, path: Path, source: str, stem: str,
                 lines: bool) -> Iterator[RawArticle | FileProblem]:
    """Articles of a .json or .jsonl file, with one summary problem for bad records and one
    warning for ids repeated inside the file."""
    found = 0
    bad: list[str] = []  # "line K: reason" per broken line or record
    ids: set[str] = set()  # doc ids given out in this file
    repeated: list[str] = []  # "'7' (record 3) kept as 'feed#7-2'" per repeated id
    if lines:
        values: list[tuple[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    values.append((str(number), json.loads(line)))
                except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, nesting
                    bad.append(f"line {number}: {getattr(exc, 'msg', None) or str(exc)[:60]}")
    else:
        try:
            values = [("", json.loads(text))]
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, nesting
            where = (f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError)
                     else str(exc)[:60])
            yield FileProblem(str(path), f"not valid JSON ({where}) — "
                              "fix it, or write one record per line as .jsonl")
            return
    for tag, value in values:
        for rec_tag, record in _expand(value, tag):
            article = _record(record, stem, rec_tag, source)
            if isinstance(article, RawArticle):
                found += 1
                if article.doc_id in ids and article.url is None:  # a url is deduplicated instead
                    n = 2
                    while f"{article.doc_id}-{n}" in ids:
                        n += 1
                    new_id = f"{article.doc_id}-{n}"
                    where = f"{'line' if lines else 'record'} {rec_tag.split('.')[0]}".strip()
                    own = article.doc_id.removeprefix(f"{stem}#")  # as the record gives it
                    repeated.append(f"{own!r} ({where}) kept as {new_id!r}")
                    article = replace(article, doc_id=new_id)
                ids.add(article.doc_id)
                yield article
            elif article is not None:
                where = f"{'line' if lines else 'record'} {rec_tag.split('.')[0]}".strip()
                bad.append(f"{where}: {article}")
    summary = f"{len(bad)} broken {'lines' if lines else 'records'} (first at {bad[0]})" if bad else ""
    if not found:
        yield FileProblem(str(path), "no articles found (expected records with a text field)"
                          + (f"; {summary}" if bad else ""))
    elif bad:
        yield FileProblem(str(path), summary + " — the other records were read")
    if repeated:
        more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
        yield FileWarning(str(path), f"repeated record id {'; '.join(repeated[:3])}{more}"
                          " — every record was indexed; give each record its own id")


def _expand(value: Any, tag: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Records inside one JSON value: itself, a list, or a wrapper with a list field."""
    if isinstance(value, dict) and depth < 2 and not any(k in value for k in _TEXT_KEYS):
        value = next((value[k] for k in _LIST_KEYS if isinstance(value.get(k), list)), value)
    if isinstance(value, list) and depth < 2:
        for i, item in enumerate(value):
            yield from _expand(item, f"{tag}.{i}" if tag else str(i), depth + 1)
        return
    yield tag, value


def _record(rec: Any, stem: str, tag: str, source: str) -> RawArticle | str | None:
    """One record as an article; a reason string when malformed; None when not an article.
    Its id: the url, else the record's id field scoped by the file, else its position."""
    if not isinstance(rec, dict):
        return "not a JSON object"
    text = next((rec[k] for k in _TEXT_KEYS if rec.get(k) is not None), None)
    if text is None:
        return None  # e.g. a question line in a QA file: nothing to index, nothing wrong
    if not isinstance(text, str):
        return f"text is a {type(text).__name__}, not a string"
    text = utf8(text)
    if not text.strip():
        return None

    def first_str(keys: tuple[str, ...]) -> str | None:
        for k in keys:
            v = rec.get(k)
            if isinstance(v, dict):
                v = v.get("name")
            if isinstance(v, str) and (value := clean_field(utf8(v))):
                return value
            if isinstance(v, int) and not isinstance(v, bool) and k in _ID_KEYS:
                return str(v)
        return None

    url = first_str(_URL_KEYS)
    raw_date = first_str(_DATE_KEYS)
    own_id = first_str(_ID_KEYS)
    # an id field is scoped by its file: two feeds numbering their records 1, 2, ... are
    # four articles, not two (a url is global: the same page in two feeds is one article)
    doc_id = url or (f"{stem}#{own_id}" if own_id else f"{stem}#{tag}" if tag else stem)
    return RawArticle(
        doc_id=doc_id, text=text, url=url, path=source,
        title=first_str(_TITLE_KEYS), published=parse_date(raw_date) if raw_date else None,
        source=first_str(_SOURCE_KEYS) or url_outlet(url))
