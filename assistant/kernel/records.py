"""Typed, immutable records of the write path: articles, chunks and the index report.

Provenance is data: every chunk knows its article and its character offsets into
the article's cleaned text, so ``article.text[chunk.start:chunk.end] == chunk.text``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any


def printable(text: str) -> str:
    """``text`` with its unprintable characters as escapes (``\\x1b``), for a terminal."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class Record:
    """Base of every result record: frozen dataclasses that turn into JSON-ready dicts."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True)
class RawArticle(Record):
    """An article as read from a file, before cleaning."""

    doc_id: str
    text: str
    title: str | None = None
    source: str | None = None
    url: str | None = None
    published: str | None = None  # ISO date, YYYY-MM-DD
    path: str | None = None
    is_html: bool = False


@dataclass(frozen=True)
class DatedSpan(Record):
    """A relative or absolute date expression inside an article, resolved to a day."""

    start: int
    end: int
    text: str
    date: str  # ISO date the expression refers to


@dataclass(frozen=True)
class Article(Record):
    """A cleaned article. ``text`` is what every offset refers to."""

    doc_id: str
    title: str
    text: str
    source: str | None = None
    url: str | None = None
    published: str | None = None
    path: str | None = None
    content_hash: str = ""
    cluster_id: str = ""
    dates: tuple[DatedSpan, ...] = ()


@dataclass(frozen=True)
class Chunk(Record):
    """A run of whole sentences of one article, with offsets into its cleaned text."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...] = ()  # (start, end) per sentence, article offsets

    @property
    def id(self) -> str:
        return f"{self.doc_id}::{self.index}"


@dataclass(frozen=True)
class FileProblem(Record):
    """One input that could not be indexed, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{printable(self.path)}: {self.reason}"


@dataclass(frozen=True)
class FileWarning(FileProblem):
    """An input that was indexed, with something its owner should fix (e.g. a repeated id)."""


@dataclass(frozen=True)
class RemovedArticle(Record):
    """An article that left the index in a run: which one, and the file it was read from."""

    doc_id: str
    title: str
    path: str | None = None  # the file it was read from (None: not recorded)

    @property
    def origin(self) -> str:
        """The folder it came from (its file's folder), or "" when no file was recorded."""
        return str(PurePath(self.path).parent) if self.path else ""

    @property
    def file_name(self) -> str:
        """The name of its file, or its id when no file was recorded."""
        return PurePath(self.path).name if self.path else self.doc_id


@dataclass(frozen=True)
class IndexReport(Record):
    """What one ``Assistant.index`` run did. ``removed`` counts ``removed_articles``: the
    articles that left the index — files gone from the run's folders, or, after a
    ``rebuild``, previous articles that the rebuild did not bring back."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0  # chunks written in this run
    embedded: int = 0  # chunks whose text had to be embedded (cache misses)
    reused: int = 0  # chunks whose embedding came from the cache (identical text)
    failed: tuple[FileProblem, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    repaired: int = 0  # articles repaired after an interrupted run
    warnings: tuple[FileProblem, ...] = ()  # inputs indexed with a remark; not failures
    restored: int = 0  # vectors Chroma had lost, restored from the manifest
    unfinished: tuple[str, ...] = ()  # files of an interrupted run's articles not read again
    keyword_shards: tuple[int, int] = (0, 0)  # keyword index shards (rebuilt, in the index)
    removed_articles: tuple[RemovedArticle, ...] = ()  # what left the index, by doc id
    rebuild: bool = False  # a rebuild: a new index of the run's paths and the store's uploads
    kept_uploads: int = 0  # articles of the store's uploads/ that a rebuild indexed again

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class Status(Record):
    """What the store holds."""

    articles: int
    chunks: int
    clusters: int
    store_dir: str
    size_bytes: int
    last_indexed: str | None
    backend: str
    sources: tuple[str, ...] = ()
    first_date: str | None = None
    last_date: str | None = None
    missing_vectors: int = 0  # passages the manifest has but the vector store lost
