"""Turn chosen sentences into an answer with numbered citations.

Citations are built from provenance (doc id + offsets) and numbered in order of first
use; a sentence repeated by other articles (copies and rewrites of one story) cites
each of them once, which is where "reported by N outlets" comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.extractive import Candidate, near_duplicates
from assistant.facts import fact_differences
from assistant.support import SupportJudge
from assistant.types import Answer, AnswerSentence, Citation, Passage
from index.models import Article

MAX_CITATIONS_PER_SENTENCE = 6


def citation_for(c: Candidate, number: int, article: Article | None) -> Citation:
    """A citation of sentence ``c`` (numbered ``number``)."""
    p = c.passage
    dates: tuple[tuple[str, str], ...] = ()
    if article is not None:
        dates = tuple((d.text, d.date) for d in article.dates if c.start <= d.start and d.end <= c.end)
    return Citation(
        number=number, doc_id=p.doc_id, title=p.title, source=p.source, url=p.url,
        published=p.published, passage=p.text, passage_start=p.start, passage_end=p.end,
        quote=c.text, start=c.start, end=c.end, cluster_id=p.cluster_id, resolved_dates=dates,
        score=round(c.score, 4),
    )


def _default_judge() -> SupportJudge:
    from assistant.support import HeuristicJudge

    return HeuristicJudge(unstated=("number", "date", "name"))


def backs(judge: SupportJudge, passage: str, sentence: str) -> bool:
    """A copy is cited for a sentence only if it states the same facts: no number, date or
    name differs, and the support judge finds it supports the sentence."""
    return not fact_differences(sentence, passage) and bool(judge.judge([passage], sentence).supported)


def compose(
    question: str,
    chosen: Sequence[Candidate],
    pool: Sequence[Candidate],
    document: Callable[[str], Article | None],
    retrieved: Sequence[Passage] = (),
    answerer: str = "extractive",
    judge: SupportJudge | None = None,
) -> Answer:
    """An ``Answer`` quoting ``chosen``; near-identical sentences in ``pool`` are cited too when
    ``judge`` (strict: every number, date and name stated; default the rules) says they back it."""
    judge = judge or _default_judge()
    numbers: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    parts: list[str] = []
    articles: dict[str, Article | None] = {}

    def cite(c: Candidate) -> int:
        key = (c.passage.doc_id, c.start)
        if key not in numbers:
            if c.passage.doc_id not in articles:
                articles[c.passage.doc_id] = document(c.passage.doc_id)
            numbers[key] = len(citations) + 1
            citations.append(citation_for(c, numbers[key], articles[c.passage.doc_id]))
        return numbers[key]

    for c in chosen:
        docs = {c.passage.doc_id}
        backing = [c]
        for dup in near_duplicates(c.text, [o for o in pool if o.passage.doc_id not in docs]):
            if (dup.passage.doc_id not in docs and len(backing) < MAX_CITATIONS_PER_SENTENCE
                    and backs(judge, dup.text, c.text)):
                docs.add(dup.passage.doc_id)
                backing.append(dup)
        marks = tuple(cite(b) for b in backing)
        sentences.append(AnswerSentence(c.text, marks))
        parts.append(c.text.rstrip() + " " + "".join(f"[{n}]" for n in marks))
    dated = [c.published for c in citations if c.published]
    outlets = tuple(dict.fromkeys(c.source for c in citations if c.source))
    return Answer(
        question=question, text=" ".join(parts), abstained=False, citations=tuple(citations),
        sentences=tuple(sentences), as_of=max(dated) if dated else None,
        reported_by=len({c.doc_id for c in citations}),
        independent=len({c.cluster_id or c.doc_id for c in citations}), outlets=outlets,
        answerer=answerer, retrieved=tuple(retrieved),
    )
