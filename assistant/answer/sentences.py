"""The default answerer: no LLM. It quotes the sentences that answer the question.

Each candidate sentence of the retrieved passages is scored on
- how much of the question's content it covers (terms weighted by rarity among the
  candidates, so "TF1" counts more than "Russia"),
- the same coverage over its surrounding passage (context),
- the passage's dense similarity to the question,
- whether it holds the kind of value asked for (a date for "when", a number for
  "how many", a name for "who");
- with the reranker on (the default), the trained cross-encoder's probability that it
  answers the question, for the 8 best by the rules above (``_blend``);
- how recent its article is, against the newest retrieved one: of sentences that answer
  alike, the newer article's is quoted (``Settings.recency_weight``, ``_freshness``).
The best sentence (and a second one when it adds what the first lacks) becomes the
answer. The evidence score decides abstention: below ``Settings.abstain_threshold``
— or when the question names something no passage mentions — the assistant says so.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.answer.question import (
    head_nouns,
    mentions,
    names,
    names_a_time,
    need,
    overlap,
    satisfies,
)
from assistant.kernel.answers import Passage
from assistant.kernel.dates import to_date
from assistant.kernel.text import terms, words


@dataclass(frozen=True)
class Candidate:
    """One sentence of one retrieved passage, with offsets into its article."""

    passage: Passage
    start: int
    end: int
    text: str
    score: float = 0.0
    coverage: float = 0.0  # the evidence score: question coverage near the sentence + similarity


@dataclass(frozen=True)
class Selection:
    """What the extractive answerer chose, before citations are numbered."""

    sentences: tuple[Candidate, ...]
    evidence: float  # 0..1, compared with the abstention threshold
    missing: tuple[str, ...]  # question names no passage mentions
    ranked: tuple[Candidate, ...] = ()  # every usable sentence, best first


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


MIN_WORDS = 6  # shorter "sentences" are headings and captions, not answers


def _answers_nothing(text: str) -> bool:
    """A question ("Which show was green-lit for a new season?") answers no question."""
    return text.rstrip(" \"'”’)").endswith("?")


def select(question: str, passages: list[Passage], max_sentences: int = 2,
           articles: dict[str, str] | None = None, kind: str | None = None,
           names_in_sentence: bool = False,
           learned: Callable[[list[Candidate]], Sequence[float]] | None = None,
           learned_weight: float = 0.5, recency_weight: float = 0.0) -> Selection:
    """Score the sentences of ``passages`` against ``question`` and pick the answer.

    ``articles`` (doc id -> title and text) lets a sentence count names its article
    mentions elsewhere ("he" in the sentence, "Macron" two paragraphs up). ``kind``
    overrides the kind of value the question is taken to ask for; ``names_in_sentence``
    requires the question's names in the sentence itself (one event of several). ``learned``
    (candidate sentences -> probabilities, the trained reranker) blends its sentence score into
    the rules', with weight ``learned_weight``. ``recency_weight`` takes from each sentence's score that much
    times how much less fresh its article is than the newest (``_freshness``), unless the question
    names a year or month.
    """
    q_terms = set(terms(question))
    pool = [c for c in candidates(passages)
            if len(words(c.text)) >= MIN_WORDS and not _answers_nothing(c.text)]
    if not pool or not q_terms:
        return Selection((), 0.0, ())
    sent_terms = [set(terms(c.text)) for c in pool]
    df = Counter(t for ts in sent_terms for t in ts & q_terms)
    weight = {t: math.log(1 + (len(pool) + 1) / (1 + df.get(t, 0))) for t in q_terms}
    for t in head_nouns(question) & q_terms:  # "which agency": the agency matters most
        weight[t] *= 2
    total = sum(weight.values())

    def cover(ts: set[str]) -> float:
        return sum(weight[t] for t in q_terms & ts) / total

    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(pool):
        by_doc.setdefault(c.passage.doc_id, []).append(i)
    kind = kind or need(question)
    asked = _name_parts(question)
    best_dense = max(p.dense for p in passages) or 1.0
    scored: list[tuple[Candidate, bool, bool]] = []
    for i, (c, ts) in enumerate(zip(pool, sent_terms, strict=True)):
        local = ts | _neighbour_terms(i, pool, sent_terms, by_doc)
        cov, loc = cover(ts), cover(local)
        fits = satisfies(c.text, kind, question) if kind else True
        where = c.text if names_in_sentence else (
            (articles or {}).get(c.passage.doc_id) or _neighbour_text(i, pool, by_doc))
        names_ok = mentions(where, asked) if asked else True
        score = 0.45 * cov + 0.2 * loc + 0.2 * (c.passage.dense / best_dense) + 0.15 * fits
        evidence = 0.5 * loc + 0.5 * max(0.0, c.passage.dense)
        scored.append((Candidate(c.passage, c.start, c.end, c.text, score, evidence), fits, names_ok))
    if learned is not None:
        scored = _blend(scored, learned, learned_weight)
    if recency_weight and not names_a_time(question):
        fresh = _freshness(passages)
        scored = [(replace(c, score=c.score - recency_weight * (1 - fresh.get(c.passage.doc_id, 1.0))),
                   fits, ok) for c, fits, ok in scored]
    scored.sort(key=lambda x: (-x[0].score, x[0].passage.rank, x[0].start))
    missing = _unmentioned(asked, passages, articles or {})
    usable = [c for c, fits, names_ok in scored if fits and names_ok]
    if not usable:
        return Selection((), 0.0, missing)
    first = usable[0]
    chosen = [first]
    covered = q_terms & set(terms(first.text))
    for c in usable[1:12]:
        if len(chosen) >= max_sentences:
            break
        adds = (q_terms & set(terms(c.text))) - covered
        gain = sum(weight[t] for t in adds) / total
        if c.score >= 0.8 * first.score and gain >= 0.2 and not _same(c.text, first.text):
            chosen.append(c)
            covered |= adds
    return Selection(tuple(chosen), first.coverage, missing, tuple(usable))


LEARNED_POOL = 8  # the rules' best sentences the reranker scores (the rest rank below them)


def _blend(scored: list[tuple[Candidate, bool, bool]], learned: Callable[[list[Candidate]], Sequence[float]],
           weight: float) -> list[tuple[Candidate, bool, bool]]:
    """Rule scores blended with the reranker's probabilities for the ``LEARNED_POOL`` best
    usable sentences; the others get the lowest probability seen, so they stay below. (Scoring every
    sentence costs twice the time for 0.3 points of RealTime QA dev; the 12 best instead of 8, a
    third more time for the same share of right answers there and on held-out training weeks.)"""
    usable = [i for i, (_, fits, ok) in enumerate(scored) if fits and ok]
    best = sorted(usable, key=lambda i: -scored[i][0].score)[:LEARNED_POOL]
    probs = dict(zip(best, (float(p) for p in learned([scored[i][0] for i in best])), strict=True))
    floor = min(probs.values(), default=0.0)
    return [(replace(c, score=(1 - weight) * c.score + weight * probs.get(i, floor)), fits, ok)
            for i, (c, fits, ok) in enumerate(scored)]


HALF_LIFE_DAYS = 90  # an article this much older than the newest retrieved one is half as fresh


def _freshness(passages: list[Passage]) -> dict[str, float]:
    """doc id -> 0.5 ** (days older than the newest retrieved article / ``HALF_LIFE_DAYS``): 1 for
    the newest. News supersedes itself (this year's pick for a post over the one of five years
    ago), so of two sentences that answer alike the newer one should be quoted. Undated articles
    are left out (not known to be older, they lose nothing); with fewer than two publish days among
    the passages, nothing is fresher than anything."""
    days = {p.doc_id: day.toordinal() for p in passages if (day := to_date(p.published)) is not None}
    if len(set(days.values())) < 2:
        return {}
    newest = max(days.values())
    return {d: 0.5 ** ((newest - day) / HALF_LIFE_DAYS) for d, day in days.items()}


def _neighbour_ids(i: int, pool: list[Candidate], by_doc: dict[str, list[int]]) -> list[int]:
    """Indexes of the two sentences before and after sentence ``i`` in its article."""
    same = by_doc[pool[i].passage.doc_id]
    ordered = sorted(same, key=lambda j: pool[j].start)
    k = ordered.index(i)
    return [ordered[j] for j in (k - 2, k - 1, k + 1, k + 2) if 0 <= j < len(ordered)
            and abs(pool[ordered[j]].start - pool[i].start) < 1500]


def _neighbour_terms(i: int, pool: list[Candidate], pool_terms: list[set[str]],
                     by_doc: dict[str, list[int]]) -> set[str]:
    out: set[str] = set()
    for j in _neighbour_ids(i, pool, by_doc):
        out |= pool_terms[j]
    return out


def _neighbour_text(i: int, pool: list[Candidate], by_doc: dict[str, list[int]]) -> str:
    """The sentence, its neighbours, its passage and its article's title: where names must be."""
    parts = [pool[i].text] + [pool[j].text for j in _neighbour_ids(i, pool, by_doc)]
    return " ".join([*parts, pool[i].passage.text, pool[i].passage.title])


def _unmentioned(asked: set[str], passages: list[Passage], articles: dict[str, str]) -> tuple[str, ...]:
    """The question's names that neither the passages nor the rest of their articles mention (a
    name may be in another paragraph of the article; the articles are read only when needed)."""
    found = " ".join(p.text + " " + p.title for p in passages)
    missing = {n for n in asked if not mentions(found, {n})}
    if missing and articles:
        whole = " ".join(articles.get(d, "") for d in dict.fromkeys(p.doc_id for p in passages))
        missing = {n for n in missing if not mentions(whole, {n})}
    return tuple(sorted(missing))


def _name_parts(text: str) -> set[str]:
    """Capitalised names as single lower-case words ("Putin-Macron" -> putin, macron)."""
    out: set[str] = set()
    for name in names(text):
        out.update(p for p in name.replace("’s", "").replace("'s", "").split("-") if len(p) > 1)
    return out


def _same(a: str, b: str) -> bool:
    return overlap(set(terms(a)), set(terms(b))) >= 0.6


def near_duplicates(sentence: str, others: list[Candidate], threshold: float = 0.7) -> list[Candidate]:
    """Sentences of other articles that contain (nearly) everything ``sentence`` says.

    At least ``threshold`` of the sentence's content terms must recur in the other one;
    callers still check with the support judge that no fact differs.
    """
    mine = set(terms(sentence))
    out = []
    for c in others:
        theirs = set(terms(c.text))
        if mine and len(mine & theirs) / len(mine) >= threshold and len(mine & theirs) >= 4:
            out.append(c)
    return out
