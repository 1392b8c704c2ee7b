"""Typed, immutable results of the read path: answers, citations, conflicts.

A citation is built from chunk provenance (doc id + character offsets), never by
parsing the answer string: ``assistant.document(c.doc_id).text[c.start:c.end] == c.quote``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.kernel.records import Record as _Record

ABSTAIN_TEXT = "The indexed articles do not answer this question."


@dataclass(frozen=True)
class Filters(_Record):
    """What a question's evidence was restricted to (all empty: nothing), and what the date
    range left out. Dates are ISO days, both ends included; outlets match case-insensitively."""

    since: str | None = None
    until: str | None = None
    sources: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    include_undated: bool = False  # with a date range: keep the articles that have no date
    undated: int = 0  # undated articles the date range left out (kept, with include_undated)

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.sources or self.doc_ids)

    @property
    def dated(self) -> bool:
        """Whether a date range is set."""
        return bool(self.since or self.until)


@dataclass(frozen=True)
class Passage(_Record):
    """A retrieved chunk with its article's metadata and its retrieval scores."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    title: str
    source: str | None
    url: str | None
    published: str | None
    cluster_id: str
    sentences: tuple[tuple[int, int], ...]
    score: float = 0.0  # fused score (higher is better)
    dense: float = 0.0  # cosine similarity to the question
    rank: int = 0
    rerank: float | None = None  # the trained reranker's probability, when it ran


@dataclass(frozen=True)
class Citation(_Record):
    """One numbered source of an answer: the exact sentence in the exact article."""

    number: int
    doc_id: str
    title: str
    source: str | None
    url: str | None
    published: str | None  # the article's publish date (ISO)
    passage: str  # the chunk text the sentence was found in
    passage_start: int
    passage_end: int
    quote: str  # the supporting sentence, == article.text[start:end]
    start: int
    end: int
    cluster_id: str = ""
    resolved_dates: tuple[tuple[str, str], ...] = ()  # (expression, ISO date) in the quote
    score: float = 0.0
    # further sentences the answer quotes from the same article: one article, one marker
    also: tuple[Citation, ...] = ()

    @property
    def quotes(self) -> tuple[Citation, ...]:
        """Every sentence of this article the answer quotes (this one first)."""
        return (self, *self.also)


@dataclass(frozen=True)
class Claim(_Record):
    """One side of a conflict: what a set of sources says."""

    value: str
    citations: tuple[int, ...]  # citation numbers
    published: str | None = None


@dataclass(frozen=True)
class Conflict(_Record):
    """Sources disagree on a number, date or name for the same fact — or, with
    ``same_article``, one article states two different values for it."""

    kind: str  # "number" | "date" | "name" | "role"
    claims: tuple[Claim, ...]
    note: str = ""
    same_article: bool = False  # both claims come from one article: it contradicts itself


@dataclass(frozen=True)
class ShortAnswer(_Record):
    """The value asked for, copied from a cited sentence: ``article.text[start:end] == text``."""

    text: str
    kind: str  # what the question asks for: "name" | "date" | "number" | "place"
    citation: int  # the marker of the article it is copied from
    doc_id: str
    start: int
    end: int


@dataclass(frozen=True)
class Coverage(_Record):
    """What the index knows about who reported a story: one entry per cited article."""

    asked: str  # "outlets" | "count" | "first"
    reports: tuple[tuple[str, int, str | None], ...]  # (outlet, else the title; marker; published)


@dataclass(frozen=True)
class AnswerSentence(_Record):
    """One sentence of the answer and the citation numbers backing it."""

    text: str
    citations: tuple[int, ...]
    supported: bool = True
    support: float = 1.0
    short: bool = False  # the short answer (``Answer.short``), not a whole sentence


@dataclass(frozen=True)
class Answer(_Record):
    """The answer to one question."""

    question: str
    text: str  # sentences with their [n] markers
    abstained: bool
    citations: tuple[Citation, ...] = ()
    sentences: tuple[AnswerSentence, ...] = ()
    closest: tuple[Passage, ...] = ()  # when abstaining: the nearest passages, for the reader
    as_of: str | None = None  # latest publish date among the cited evidence
    reported_by: int = 0  # distinct articles cited (each outlet's copy of a story counts)
    independent: int = 0  # distinct stories cited: copies of one story count once
    outlets: tuple[str, ...] = ()  # distinct named outlets cited (articles without one are left out)
    conflicts: tuple[Conflict, ...] = ()
    short: ShortAnswer | None = None  # the fact asked for, first in ``text``
    coverage: Coverage | None = None  # "which outlets reported …": answered from the index
    answerer: str = "extractive"
    notes: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # generated sentences verification removed (LLM answerers)
    confidence: float = 0.0  # evidence score compared with Settings.abstain_threshold
    seconds: float = 0.0
    filters: Filters = Filters()  # the filters the question was asked with
    retrieved: tuple[Passage, ...] = field(default=(), repr=False)
