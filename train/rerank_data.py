"""Reranker training groups mined from RealTime QA training weeks.

A group is one question with one positive text and ``GROUP - 1`` negatives; the reranker
learns to put the positive first (a softmax over the group, as listwise rerankers are
trained), because at answer time it ranks the sentences and passages retrieval found.
Texts are labelled by what they say, not by where they rank:
- positive: a sentence that states the correct choice *and* is about the question (shares
  at least two of its content words, or closely matches the quiz's evidence sentence), or
  the quiz's evidence sentence itself;
- hard negatives, hardest first: sentences about the question that state a wrong choice;
  with ``restating`` > 0, sentences of the positive's own article that restate the question
  (two or more of its words, no answer: the sentence an answer must not quote instead);
  the sentence just before or after a positive (the answer is in *this* sentence, not the
  one next to it); sentences sharing the most question words without the answer; and one
  sentence of another question's articles.
Passage groups do the same with ~600-character chunks: a chunk holding a positive sentence
against topical chunks without the correct choice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace

from assistant.kernel.text import content_words, stem_text
from assistant.models import with_title
from train.weeks import Doc, Question

GROUP = 8  # texts per group: 1 positive + 7 negatives
MAX_GROUPS = 4  # sentence groups per question (one per positive)
MIN_CHARS, MAX_CHARS = 25, 600
# Negatives per sentence group that restate the question from the positive's own article.
# Off by default: the shipped reranker (v2) was trained without them, and v4, trained with two
# (the rest of the recipe unchanged), ranked fewer validation groups right (see its model card).
RESTATING = 0


@dataclass(frozen=True)
class Group:
    qid: str
    query: str
    texts: tuple[str, ...]  # texts[0] is the positive
    kinds: tuple[str, ...]  # why each text is there: "pos", "evidence", "wrong_choice", ...
    unit: str  # "sentence" or "chunk"
    answer: str = ""  # the correct choice, which the positive states (``train.span``'s target)


def states(text: str, choice: str) -> bool:
    """Whether ``text`` states ``choice`` (whole words, stemmed, case and accents folded)."""
    phrase = stem_text(choice).strip()
    return bool(phrase) and f" {phrase} " in stem_text(text)


def f1(a: set[str], b: set[str]) -> float:
    """Dice (F1) of two word sets: how much of each the other holds."""
    common = len(a & b)
    return 0.0 if not common else 2 * common / (len(a) + len(b))


def _distinctive(q: Question, index: int) -> set[str]:
    """Content words of choice ``index`` that the question and the other choices lack
    ("sesame" of "Sesame seeds" among "Chia seeds", "Poppy seeds", ...)."""
    words = content_words(q.choices[index]) - content_words(q.question)
    for i, c in enumerate(q.choices):
        if i != index:
            words -= content_words(c)
    return words


def _question_words(q: Question) -> set[str]:
    words = content_words(q.question)
    for choice in q.choices:
        words -= content_words(choice)
    return words - {"which", "week", "this", "what", "who", "new"}


def _negatives(pools: dict[str, list[str]], rng: random.Random, k: int,
               restating: int = RESTATING) -> list[tuple[str, str]]:
    """``k`` negatives, hardest kinds first, each kind's texts in the order given."""
    out: list[tuple[str, str]] = []
    # restating negatives take one neighbour's place: with none, the groups are v2's
    quota = {"wrong_choice": 2, "restating": restating, "neighbour": 1 if restating else 2,
             "topical": k, "easy": 1}
    for kind in ("wrong_choice", "restating", "neighbour", "topical", "easy"):
        if not quota[kind]:
            continue
        texts = [t for t in pools.get(kind, []) if t not in {o for o, _ in out}]
        if kind != "topical":
            rng.shuffle(texts)
        out += [(t, kind) for t in texts[: min(quota[kind], k - len(out))]]
    return out[:k]


def groups(q: Question, docs: dict[str, Doc], rng: random.Random, other: list[str],
           restating: int = RESTATING) -> Iterator[Group]:
    """The training groups of one question (``other``: sentences of other questions;
    ``restating``: negatives per group that restate the question)."""
    asked = _question_words(q)
    evidence = content_words(q.evidence) if q.evidence else set()
    wrong = [c for i, c in enumerate(q.choices) if i != q.answer]
    hint = _distinctive(q, q.answer)  # a negative never holds these: it may state the answer
    positives: list[tuple[str, str]] = []
    pools: dict[str, list[str]] = {"wrong_choice": [], "neighbour": [], "easy": list(other)}
    topical: list[tuple[int, str]] = []
    restating_pool: list[tuple[int, str]] = []  # topical sentences of an article holding a positive
    chunk_pos: list[str] = []
    chunk_neg: list[tuple[int, str]] = []
    for url in dict.fromkeys(q.urls):
        doc = docs.get(url)
        if doc is None:
            continue
        found: list[str] = []
        here: list[tuple[int, str]] = []
        for i, s in enumerate(doc.sentences):
            if not MIN_CHARS <= len(s) <= MAX_CHARS:
                continue
            words = content_words(s)
            overlap = len(words & asked)
            if states(s, q.correct):
                if overlap >= 2 or (evidence and f1(words, evidence) >= 0.35):
                    positives.append((s, "pos"))
                    found.append(s)
                    for j in (i - 1, i + 1):
                        if 0 <= j < len(doc.sentences) and not states(doc.sentences[j], q.correct) \
                                and not content_words(doc.sentences[j]) & hint \
                                and MIN_CHARS <= len(doc.sentences[j]) <= MAX_CHARS:
                            pools["neighbour"].append(doc.sentences[j])
            elif words & hint:
                continue
            elif any(states(s, w) for w in wrong) and overlap >= 1:
                pools["wrong_choice"].append(s)
            elif overlap >= 1:
                topical.append((overlap, s))
                here.append((overlap, s))
        if found:
            restating_pool += [t for t in here if t[0] >= 2]
        for c in doc.chunks:
            if any(s in c for s in found):
                chunk_pos.append(c)
            elif not states(c, q.correct) and not content_words(c) & hint:
                overlap = len(content_words(c) & asked)
                if overlap >= 1:
                    chunk_neg.append((overlap, c))
    if q.evidence and MIN_CHARS <= len(q.evidence) <= MAX_CHARS:
        positives.append((q.evidence, "evidence"))
    if not positives:
        return
    rng.shuffle(topical)  # equal overlaps in random order, then the most overlapping first
    topical.sort(key=lambda t: -t[0])
    pools["topical"] = [s for _, s in topical[:20]]
    if restating:
        rng.shuffle(restating_pool)
        restating_pool.sort(key=lambda t: -t[0])
        pools["restating"] = [s for _, s in restating_pool[:6]]
    rng.shuffle(positives)
    seen: set[str] = set()
    for text, kind in positives:
        if text in seen or len(seen) >= MAX_GROUPS:
            continue
        seen.add(text)
        negs = _negatives(pools, rng, GROUP - 1, restating)
        if len(negs) == GROUP - 1:
            yield Group(q.qid, q.question, (text, *(t for t, _ in negs)),
                        (kind, *(k for _, k in negs)), "sentence", q.correct)
    rng.shuffle(chunk_neg)
    chunk_neg.sort(key=lambda t: -t[0])
    if chunk_pos and len(chunk_neg) >= GROUP - 1:
        yield Group(q.qid, q.question, (rng.choice(chunk_pos), *(c for _, c in chunk_neg[: GROUP - 1])),
                    ("pos",) + ("topical",) * (GROUP - 1), "chunk", q.correct)


def build(questions: list[Question], docs: dict[str, Doc], seed: int = 13,
          restating: int = RESTATING, titled: bool = False) -> list[Group]:
    """Groups for every question, deterministic for a seed. ``titled``: each text is read
    with its article's title in front ("Title | sentence"), as the reranker would see it; a
    group whose positive has no known article (a quiz's own evidence sentence) is left out, so
    a missing title never tells the positive apart."""
    rng = random.Random(seed)
    pool = [s for d in docs.values() for s in d.sentences if 40 <= len(s) <= 300]
    out: list[Group] = []
    for q in questions:
        out.extend(groups(q, docs, rng, rng.sample(pool, min(3, len(pool))), restating))
    if not titled:
        return out
    title_of: dict[str, str] = {}
    for d in docs.values():
        for text in (*d.sentences, *d.chunks):
            title_of.setdefault(text, d.title.strip())
    return [replace(g, texts=tuple(with_title(title_of.get(t, ""), t) for t in g.texts))
            for g in out if title_of.get(g.texts[0])]
