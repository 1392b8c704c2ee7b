"""Typed, immutable results of the read path: answers, citations, conflicts.

A citation is built from chunk provenance (doc id + character offsets), never by
parsing the answer string: ``assistant.document(c.doc_id).text[c.start:c.end] == c.quote``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from index.models import Record as _Record

ABSTAIN_TEXT = "The indexed articles do not answer this question."


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


@dataclass(frozen=True)
class Claim(_Record):
    """One side of a conflict: what a set of sources says."""

    value: str
    citations: tuple[int, ...]  # citation numbers
    published: str | None = None


@dataclass(frozen=True)
class Conflict(_Record):
    """Sources disagree on a number, date or name for the same fact."""

    kind: str  # "number" | "date" | "name"
    claims: tuple[Claim, ...]
    note: str = ""


@dataclass(frozen=True)
class AnswerSentence(_Record):
    """One sentence of the answer and the citation numbers backing it."""

    text: str
    citations: tuple[int, ...]
    supported: bool = True
    support: float = 1.0


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
    answerer: str = "extractive"
    notes: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()  # generated sentences verification removed (LLM answerers)
    confidence: float = 0.0  # evidence score compared with Settings.abstain_threshold
    seconds: float = 0.0
    retrieved: tuple[Passage, ...] = field(default=(), repr=False)
