"""Cite the chosen sentences: check which copies back them, then number the citations.

Citations are built from provenance (doc id + offsets) and numbered in order of first
use, one number per article: a second sentence of an already cited article is one more
quote of the same citation (``Citation.also``). A sentence repeated by other articles
(copies and rewrites of one story) cites each of them once, which is where "reported by
N outlets" comes from: ``backing`` is the check that a copy states what the sentence says.
``assistant.answer.build`` makes the Answer of the sentences and citations, as for every
answerer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from assistant.answer.base import Evidence
from assistant.answer.readable import closed
from assistant.answer.sentences import Candidate, near_duplicates
from assistant.check.compare import fact_differences
from assistant.check.judge import SupportJudge
from assistant.kernel.answers import AnswerSentence, Citation
from assistant.kernel.records import Article

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


def backs(judge: SupportJudge, passage: str, sentence: str) -> bool:
    """A copy is cited for a sentence only if it states the same facts: no number, date or
    name differs, and the support judge finds it supports the sentence."""
    return not fact_differences(sentence, passage) and bool(judge.judge([passage], sentence).supported)


def backing(chosen: Sequence[Candidate], pool: Sequence[Candidate],
            judge: SupportJudge) -> list[list[Candidate]]:
    """The check of quoted sentences: each of ``chosen`` with the near-identical sentences of other
    articles in ``pool`` that ``judge`` (strict: every number, date and name stated) says back
    it, at most ``MAX_CITATIONS_PER_SENTENCE`` articles a sentence."""
    out = []
    for c in chosen:
        docs = {c.passage.doc_id}
        backed = [c]
        for dup in near_duplicates(c.text, [o for o in pool if o.passage.doc_id not in docs]):
            if (dup.passage.doc_id not in docs and len(backed) < MAX_CITATIONS_PER_SENTENCE
                    and backs(judge, dup.text, c.text)):
                docs.add(dup.passage.doc_id)
                backed.append(dup)
        out.append(backed)
    return out


def cite(evidence: Evidence, backed: Sequence[Sequence[Candidate]]
         ) -> tuple[list[AnswerSentence], list[Citation]]:
    """The answer's sentences (each quoted sentence with the markers of what backs it) and their
    citations, one number per article in order of first use."""
    numbers: dict[str, int] = {}  # doc id -> its marker
    quoted: dict[str, dict[int, Candidate]] = {}  # doc id -> sentence start -> sentence
    sentences: list[AnswerSentence] = []
    for sentence in backed:
        for b in sentence:
            doc = b.passage.doc_id
            numbers.setdefault(doc, len(numbers) + 1)
            quoted.setdefault(doc, {}).setdefault(b.start, b)
        marks = tuple(dict.fromkeys(numbers[b.passage.doc_id] for b in sentence))
        # a quote the sentence boundary cut is closed
        sentences.append(AnswerSentence(closed(sentence[0].text), marks))
    citations = []
    for doc, n in numbers.items():
        quotes = [citation_for(q, n, evidence.article(doc)) for q in quoted[doc].values()]
        citations.append(replace(quotes[0], also=tuple(quotes[1:])))
    return sentences, citations
