"""Labelled (question, text) pairs for the reranker, mined from RealTime QA training weeks.

For each question, every sentence and chunk of its search results is labelled by what it
says, not by where it ranks:
- positive: a sentence that states the correct choice *and* is about the question (shares
  at least two of its content words, or closely matches the quiz's evidence sentence);
- hard negatives: sentences about the question that state a wrong choice, or none; other
  sentences of the article holding a positive; a few easy ones from other questions.
Chunks are positive when they hold a positive sentence. The correct choice is never the
only signal, so a sentence that merely mentions "Buffalo Bills" is not a positive.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from assistant.facts import content_words, stem_text
from train.weeks import Doc, Question

MAX_POS, MAX_NEG, MAX_CHUNK_POS, MAX_CHUNK_NEG, EASY = 4, 10, 2, 6, 2


@dataclass(frozen=True)
class Pair:
    qid: str
    query: str
    text: str
    label: float
    kind: str  # sentence/chunk and why: "pos", "wrong_choice", "same_doc", "topical", "easy"


def states(text: str, choice: str) -> bool:
    """Whether ``text`` states ``choice`` (whole words, stemmed, case and accents folded)."""
    phrase = stem_text(choice).strip()
    return bool(phrase) and f" {phrase} " in stem_text(text)


def _f1(a: set[str], b: set[str]) -> float:
    common = len(a & b)
    return 0.0 if not common else 2 * common / (len(a) + len(b))


def _question_words(q: Question) -> set[str]:
    words = content_words(q.question)
    for choice in q.choices:
        words -= content_words(choice)
    return words - {"which", "week", "this", "what", "who", "new"}


def pairs(q: Question, docs: dict[str, Doc], rng: random.Random,
          other: list[str]) -> Iterator[Pair]:
    """The labelled pairs of one question (``other``: sentences of other questions)."""
    asked = _question_words(q)
    evidence = content_words(q.evidence) if q.evidence else set()
    wrong = [c for i, c in enumerate(q.choices) if i != q.answer]
    pos, neg = [], []
    chunk_pos, chunk_neg = [], []
    for url in dict.fromkeys(q.urls):
        doc = docs.get(url)
        if doc is None:
            continue
        doc_pos = []
        for i, s in enumerate(doc.sentences):
            if len(s) < 25 or len(s) > 600:
                continue
            words = content_words(s)
            overlap = len(words & asked)
            right = states(s, q.correct)
            if right and (overlap >= 2 or (evidence and _f1(words, evidence) >= 0.35)):
                doc_pos.append(i)
                pos.append(s)
            elif not right and any(states(s, w) for w in wrong) and overlap >= 1:
                neg.append((s, "wrong_choice"))
            elif not right and overlap >= 2:
                neg.append((s, "topical"))
        if doc_pos:
            others = [j for j in range(len(doc.sentences)) if j not in doc_pos
                      and not states(doc.sentences[j], q.correct) and len(doc.sentences[j]) >= 25]
            neg += [(doc.sentences[j], "same_doc") for j in rng.sample(others, min(2, len(others)))]
        for c in doc.chunks:
            right = states(c, q.correct)
            overlap = len(content_words(c) & asked)
            if right and any(states(c, p) or p in c for p in pos[-len(doc_pos):] if doc_pos):
                chunk_pos.append(c)
            elif not right and overlap >= 2:
                chunk_neg.append(c)
    if not pos:
        return
    rng.shuffle(pos)
    rng.shuffle(neg)
    seen: set[str] = set()
    for text in pos[:MAX_POS]:
        if text not in seen:
            seen.add(text)
            yield Pair(q.qid, q.question, text, 1.0, "sentence:pos")
    # wrong-choice negatives first: they teach what the answer is not
    neg.sort(key=lambda n: n[1] != "wrong_choice")
    for text, kind in neg[:MAX_NEG]:
        if text not in seen:
            seen.add(text)
            yield Pair(q.qid, q.question, text, 0.0, f"sentence:{kind}")
    for text in rng.sample(other, min(EASY, len(other))):
        yield Pair(q.qid, q.question, text, 0.0, "sentence:easy")
    rng.shuffle(chunk_pos)
    rng.shuffle(chunk_neg)
    for text in chunk_pos[:MAX_CHUNK_POS]:
        yield Pair(q.qid, q.question, text, 1.0, "chunk:pos")
    for text in chunk_neg[:MAX_CHUNK_NEG]:
        yield Pair(q.qid, q.question, text, 0.0, "chunk:topical")


def build(questions: list[Question], docs: dict[str, Doc], seed: int = 13) -> list[Pair]:
    """Pairs for every question, deterministic for a seed."""
    rng = random.Random(seed)
    pool = [s for d in docs.values() for s in d.sentences if 40 <= len(s) <= 300]
    out: list[Pair] = []
    for q in questions:
        sample = rng.sample(pool, min(50, len(pool)))
        out.extend(pairs(q, docs, rng, sample))
    return out


_WS = re.compile(r"\s+")
