"""Turn chosen sentences into an answer with numbered citations.

Citations are built from provenance (doc id + offsets) and numbered in order of first
use, one number per article: a second sentence of an already cited article is one more
quote of the same citation (``Citation.also``). A sentence repeated by other articles
(copies and rewrites of one story) cites each of them once, which is where "reported by
N outlets" comes from. ``assistant.answer.build`` makes the Answer of them, as for every
answerer: a short answer (the value asked for, copied from the first quoted sentence) opens
it with the marker of its article.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from assistant.answer.build import build_answer
from assistant.answer.readable import closed
from assistant.answer.sentences import Candidate, near_duplicates
from assistant.check.compare import fact_differences
from assistant.check.judge import SupportJudge
from assistant.kernel.answers import Answer, AnswerSentence, Citation, Passage
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


def _default_judge() -> SupportJudge:
    from assistant.check.judge import HeuristicJudge

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
    lead: str | None = None,
) -> Answer:
    """An ``Answer`` quoting ``chosen``; near-identical sentences in ``pool`` are cited too when
    ``judge`` (strict: every number, date and name stated; default the rules) says they back it.
    With ``lead`` (the query), the value it asks for inside ``chosen[0]`` opens the answer."""
    judge = judge or _default_judge()
    numbers: dict[str, int] = {}  # doc id -> its marker
    quoted: dict[str, dict[int, Candidate]] = {}  # doc id -> sentence start -> sentence
    sentences: list[AnswerSentence] = []
    articles: dict[str, Article | None] = {}

    def cite(c: Candidate) -> int:
        doc = c.passage.doc_id
        if doc not in numbers:
            articles[doc] = document(doc)
            numbers[doc] = len(numbers) + 1
            quoted[doc] = {}
        quoted[doc].setdefault(c.start, c)
        return numbers[doc]

    for c in chosen:
        docs = {c.passage.doc_id}
        backing = [c]
        for dup in near_duplicates(c.text, [o for o in pool if o.passage.doc_id not in docs]):
            if (dup.passage.doc_id not in docs and len(backing) < MAX_CITATIONS_PER_SENTENCE
                    and backs(judge, dup.text, c.text)):
                docs.add(dup.passage.doc_id)
                backing.append(dup)
        marks = tuple(dict.fromkeys(cite(b) for b in backing))
        # a quote the sentence boundary cut is closed
        sentences.append(AnswerSentence(closed(c.text), marks))
    citations = []
    for doc, n in numbers.items():
        quotes = [citation_for(q, n, articles[doc]) for q in quoted[doc].values()]
        citations.append(replace(quotes[0], also=tuple(quotes[1:])))
    return build_answer(question, sentences, citations, answerer=answerer, retrieved=retrieved, lead=lead)
