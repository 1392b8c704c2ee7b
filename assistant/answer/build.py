"""The one place an :class:`Answer` is built from checked sentences and their citations.

Every answerer ends here: the extractive one with the sentences it quotes
(``assistant.answer.cite.compose``), the LLM answerers with the sentences verification kept
(``assistant.answer.verify``). What follows from the citations — the latest publish date
(``as_of``), the articles, stories and named outlets cited — and the fact-first short answer
are derived here once, so an answer says the same about its sources whoever wrote its
sentences. Two builders drifted apart before: LLM answers showed "0 independent stories",
doc ids where outlet names belong, and no short answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer import coverage, news
from assistant.answer.base import Evidence
from assistant.answer.readable import short_span
from assistant.kernel.answers import Answer, AnswerSentence, Citation, Conflict, Coverage, ShortAnswer


def fact_first(question: str) -> bool:
    """Whether the answer opens with the value asked for: not for questions about who reported
    something, which the outlets' own quotes answer."""
    return not (coverage.asks(question) or news.asks_who_reports(question))


def joined(sentences: Sequence[AnswerSentence]) -> str:
    """The answer text: each sentence with its markers; the short answer leads with a dash."""
    parts = []
    for s in sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        if s.short:
            parts.append(f"{s.text} {marks} —")
        else:
            parts.append(s.text + (" " + marks if marks else ""))
    return " ".join(parts)


def build_answer(evidence: Evidence, sentences: Sequence[AnswerSentence],
                 citations: Sequence[Citation], *, answerer: str, lead: str | None = None,
                 notes: tuple[str, ...] = (), removed: tuple[str, ...] = (),
                 confidence: float = 0.0, conflicts: tuple[Conflict, ...] = (),
                 reports: Coverage | None = None) -> Answer:
    """The answer to ``evidence``'s question of ``sentences`` (markers numbering ``citations``).
    With ``lead`` (the query), the value it asks for, copied from the quote backing the first
    sentence, opens the answer; with ``reports`` (a question about who reported it), the line
    naming them does. Each conflict's note follows ``notes``."""
    short = _short(lead, sentences, citations) if lead is not None else None
    if short is not None:
        sentences = (AnswerSentence(short.text, (short.citation,), short=True), *sentences)
    dated = [c.published for c in citations if c.published]
    independent = len({c.cluster_id or c.doc_id for c in citations})
    text = joined(sentences)
    return Answer(
        question=evidence.question, abstained=False, citations=tuple(citations),
        text=f"{coverage.line(reports, independent)} {text}" if reports else text,
        sentences=tuple(sentences), as_of=max(dated) if dated else None,
        reported_by=len({c.doc_id for c in citations}), independent=independent,
        outlets=tuple(dict.fromkeys(c.source for c in citations if c.source)),
        conflicts=conflicts, short=short, coverage=reports, answerer=answerer,
        notes=(*notes, *(c.note for c in conflicts)), removed=removed,
        confidence=confidence, filters=evidence.filters, retrieved=tuple(evidence.top),
    )


def _short(query: str, sentences: Sequence[AnswerSentence],
           citations: Sequence[Citation]) -> ShortAnswer | None:
    """The value ``query`` asks for inside the quote that backs the first sentence, if it has one."""
    if not sentences or not sentences[0].supported or not sentences[0].citations:
        return None
    number = sentences[0].citations[0]
    quote = next((c for c in citations if c.number == number), None)
    span = short_span(query, quote.quote) if quote is not None else None
    if quote is None or span is None:
        return None
    start, end, kind = span
    return ShortAnswer(quote.quote[start:end], kind, number, quote.doc_id, quote.start + start,
                       quote.start + end)
