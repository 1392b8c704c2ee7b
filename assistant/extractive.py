"""The default answerer: no LLM. It quotes the sentences that answer the question.

Each candidate sentence of the retrieved passages is scored on
- how much of the question's content it covers (terms weighted by rarity among the
  candidates, so "TF1" counts more than "Russia"),
- the same coverage over its surrounding passage (context),
- the passage's dense similarity to the question,
- whether it holds the kind of value asked for (a date for "when", a number for
  "how many", a name for "who").
The best sentence (and a second one when it adds what the first lacks) becomes the
answer. The evidence score decides abstention: below ``Settings.abstain_threshold``
— or when the question names something no passage mentions — the assistant says so.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from assistant import lexical
from assistant.types import Passage


@dataclass(frozen=True)
class Candidate:
    """One sentence of one retrieved passage, with offsets into its article."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0
    coverage: float = 0.0


@dataclass(frozen=True)
class Selection:
    """What the extractive answerer chose, before citations are numbered."""

    sentences: tuple[Candidate, ...]
    evidence: float  # 0..1, compared with the abstention threshold
    missing: tuple[str, ...]  # question names no passage mentions


def candidates(passages: list[Passage]) -> list[Candidate]:
    """Every distinct sentence of the passages (a sentence in two overlapping chunks once)."""
    seen: set[tuple[str, int]] = set()
    out: list[Candidate] = []
    for p in passages:
        for s, e in p.sentences:
            if (p.doc_id, s) in seen:
                continue
            seen.add((p.doc_id, s))
            out.append(Candidate(p, s, e, p.text[s - p.start : e - p.start]))
    return out


def select(question: str, passages: list[Passage], max_sentences: int = 2) -> Selection:
    """Score the sentences of ``passages`` against ``question`` and pick the answer."""
    q_terms = set(lexical.terms(question))
    pool = candidates(passages)
    if not pool or not q_terms:
        return Selection((), 0.0, ())
    sent_terms = [set(lexical.terms(c.text)) for c in pool]
    df = Counter(t for ts in sent_terms for t in ts & q_terms)
    weight = {t: math.log(1 + (len(pool) + 1) / (1 + df.get(t, 0))) for t in q_terms}
    total = sum(weight.values())
    passage_terms = {p.chunk_id: set(lexical.terms(p.text)) for p in passages}
    kind = lexical.need(question)
    best_dense = max(p.dense for p in passages) or 1.0
    scored: list[Candidate] = []
    for c, ts in zip(pool, sent_terms, strict=True):
        cov = sum(weight[t] for t in q_terms & ts) / total
        ctx = sum(weight[t] for t in q_terms & passage_terms[c.passage.chunk_id]) / total
        fits = lexical.satisfies(c.text, kind) if kind else True
        score = 0.5 * cov + 0.15 * ctx + 0.25 * (c.passage.dense / best_dense) + 0.1 * fits
        scored.append(Candidate(c.passage, c.start, c.end, c.text, score, cov))
    scored.sort(key=lambda c: (-c.score, c.passage.rank, c.start))
    first = scored[0]
    chosen = [first]
    covered = q_terms & set(lexical.terms(first.text))
    for c in scored[1:max(1, 12)]:
        if len(chosen) >= max_sentences:
            break
        adds = (q_terms & set(lexical.terms(c.text))) - covered
        if (c.score >= 0.8 * first.score and adds and not _same(c.text, first.text)):
            chosen.append(c)
            covered |= adds
    missing = _missing_names(question, passages)
    evidence = 0.55 * first.coverage + 0.45 * max(0.0, first.passage.dense)
    return Selection(tuple(sorted(chosen, key=lambda c: (c.passage.rank, c.start))), evidence, missing)


def _same(a: str, b: str) -> bool:
    return lexical.overlap(set(lexical.terms(a)), set(lexical.terms(b))) >= 0.6


def _missing_names(question: str, passages: list[Passage]) -> tuple[str, ...]:
    """Names in the question that appear in none of the passages or their titles."""
    asked = lexical.names(question)
    if not asked:
        return ()
    seen = set()
    for p in passages:
        seen.update(lexical.words(p.text))
        seen.update(lexical.words(p.title))
    stems = {lexical.terms(w)[0] if lexical.terms(w) else w for w in seen}
    return tuple(sorted(n for n in asked if n not in seen and
                        (lexical.terms(n)[0] if lexical.terms(n) else n) not in stems))


def near_duplicates(sentence: str, others: list[Candidate], threshold: float = 0.6) -> list[Candidate]:
    """Sentences of other articles that say (nearly) the same thing as ``sentence``."""
    mine = set(lexical.terms(sentence))
    out = []
    for c in others:
        theirs = set(lexical.terms(c.text))
        if lexical.overlap(mine, theirs) >= threshold and len(mine & theirs) >= 4:
            out.append(c)
    return out
