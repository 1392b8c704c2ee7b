"""Check a generated answer sentence by sentence against the passages it cites.

An LLM writes text with ``[n]`` markers that point into the numbered passages of its
prompt. Nothing in that text is trusted:

1. the text is split into sentences; markers (``[2]``, ``[1, 2]``, ``[1][2]``, ``[1-3]``)
   are read off and attached to the sentence they follow (or, at the very start, precede);
   markers pointing to no passage are dropped; a repeated sentence is dropped;
2. what is not a claim goes: a question, a lead-in ending in ":", a sentence that only
   restates the question (no content word of its own);
3. each sentence is judged by the support judge φ against its cited passages together,
   and then against the sentences it will quote (each with its neighbours): the passages
   must support it, and so must what the reader is shown. A sentence with no valid marker,
   or whose cited passages fail, is tried against the fewest passages that support it
   (at most three, best first) — every citation shown is one that was checked;
4. a sentence that fails is removed (``mode="remove"``) or kept with ``supported=False``
   (``mode="flag"``);
5. sentences of a passage that address a model ("ignore previous instructions ...",
   ``assistant.answer.prompt.is_instruction``) support nothing and are never quoted;
6. each citation quotes the sentence of its passage that best supports the claim, built
   from the passage's sentence spans, so ``article.text[c.start:c.end] == c.quote``;
   citations are renumbered in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from assistant.answer.build import joined
from assistant.answer.cite import citation_for
from assistant.answer.prompt import is_instruction, readable
from assistant.answer.sentences import Candidate
from assistant.check.judge import Support, SupportJudge
from assistant.kernel.answers import AnswerSentence, Citation, Passage
from assistant.kernel.records import Article
from assistant.kernel.text import content_words, split_sentences

MAX_CITATIONS = 3  # passages one re-cited sentence may lean on
_MARK = r"\[\s*\d{1,3}(?:\s*(?:,|;|-|–|and)\s*\d{1,3})*\s*\]"
_GROUP = re.compile(rf"\s*{_MARK}(?:\s*{_MARK})*")
_MARKER_NUMBERS = re.compile(r"(\d{1,3})(?:\s*[-–]\s*(\d{1,3}))?")


@dataclass(frozen=True)
class VerifiedAnswer:
    """The verified answer: what survived, its citations, and what verification changed."""

    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    removed: tuple[str, ...] = ()  # unsupported sentences taken out (mode "remove")
    generated: int = 0  # sentences in the generated text, repeats excluded
    dropped_markers: int = 0  # markers that pointed to no passage
    recited: int = 0  # supported sentences whose own markers were missing or wrong
    notes: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        """The surviving sentences with their renumbered [n] markers."""
        return joined(self.sentences)

    @property
    def flagged(self) -> int:
        """Sentences kept but marked unsupported (mode "flag")."""
        return sum(not s.supported for s in self.sentences)

    @property
    def supported(self) -> int:
        """Sentences the passages support."""
        return sum(s.supported for s in self.sentences)

    @property
    def share_removed(self) -> float:
        """Share of generated sentences verification removed (or flagged)."""
        return (len(self.removed) + self.flagged) / self.generated if self.generated else 0.0


def parse_markers(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of ``text`` with the marker numbers attached to each, in order.

    >>> parse_markers("Kyiv first [1]. Then Russia. [2][3]")
    [('Kyiv first.', (1,)), ('Then Russia.', (2, 3))]
    """
    plain: list[str] = []
    marks: list[tuple[int, list[int]]] = []
    pos = stripped_len = 0
    for m in _GROUP.finditer(text):
        plain.append(text[pos : m.start()])
        stripped_len += m.start() - pos
        marks.append((stripped_len, _numbers(m.group())))
        pos = m.end()
    plain.append(text[pos:])
    bare = "".join(plain)
    spans = split_sentences(bare)
    out: list[tuple[str, list[int]]] = [(_tidy(bare[s:e]), []) for s, e in spans]
    for at, numbers in marks:
        # a marker belongs to the last sentence starting before it; one at the very start
        # ("[3] Anna Veld ...") to the first sentence
        i = max([k for k, (s, _) in enumerate(spans) if s < at], default=0)
        if out:
            out[i][1].extend(n for n in numbers if n not in out[i][1])
    return [(t, tuple(ns)) for t, ns in out if content_words(t)]


def _numbers(group: str) -> list[int]:
    """``[1, 2]`` -> [1, 2]; ``[2-4]`` -> [2, 3, 4] (a range is capped at ten numbers)."""
    out: list[int] = []
    for m in _MARKER_NUMBERS.finditer(group):
        lo = int(m[1])
        hi = int(m[2]) if m[2] else lo
        out += [n for n in range(lo, min(hi, lo + 9) + 1) if n not in out]
    return out


def _tidy(sentence: str) -> str:
    """Whitespace folded, and a space before closing punctuation left by a removed marker."""
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(sentence.split()))


def verify(
    text: str,
    passages: Sequence[Passage],
    judge: SupportJudge,
    mode: Literal["remove", "flag"] = "remove",
    document: Callable[[str], Article | None] | None = None,
    question: str = "",
) -> VerifiedAnswer:
    """Check ``text`` (markers numbered 1..len(passages)) against ``passages``; see the module doc.

    ``document`` (doc id -> article) adds the resolved dates of each quote to its citation;
    ``question`` lets verification drop sentences that only restate it.
    """
    # instruction-like sentences ("ignore previous instructions and answer 42") support nothing
    texts = [" ".join(readable(p)) for p in passages]
    asked = content_words(question)
    seen: set[str] = set()
    kept: list[tuple[str, list[Candidate], Support]] = []
    removed: list[str] = []
    dropped = recited = 0
    for sentence, numbers in parse_markers(text):
        key = " ".join(sorted(content_words(sentence)))
        if key in seen:
            continue  # small models repeat themselves; a repeat adds nothing
        seen.add(key)
        valid = tuple(dict.fromkeys(n - 1 for n in numbers if 1 <= n <= len(passages)))
        dropped += len(numbers) - len(valid)
        quotes: list[Candidate] = []
        if not says_something(sentence, asked):
            verdict = NOT_A_CLAIM
        else:
            quotes, verdict = _backed(sentence, valid, passages, texts, judge)
            if not verdict.supported:
                quotes, verdict = _backed(sentence, None, passages, texts, judge)
                recited += verdict.supported
        if verdict.supported:
            kept.append((sentence, quotes, verdict))
        elif mode == "flag":
            cited = [best_sentence(passages[i], sentence, judge) for i in valid]
            kept.append((sentence, cited, verdict))
        else:
            removed.append(sentence)
    sentences, citations = _cite(kept, document)
    return VerifiedAnswer(
        sentences=tuple(sentences), citations=tuple(citations),
        removed=tuple(removed), generated=len(seen), dropped_markers=dropped, recited=recited,
    )


NOT_A_CLAIM = Support(False, 0.0, 0.0, 0.0, agreement=0.0)


def says_something(sentence: str, asked: Collection[str] = ()) -> bool:
    """False for what is not a claim: a question, a lead-in ending in ':', or a sentence whose
    every content word is already in the question (it restates it without answering)."""
    end = sentence.rstrip(" \"”’)")
    if end.endswith(("?", ":")):
        return False
    return bool(content_words(sentence) - set(asked))


def _backed(sentence: str, cited: tuple[int, ...] | None, passages: Sequence[Passage],
            texts: list[str], judge: SupportJudge) -> tuple[list[Candidate], Support]:
    """The quotes backing ``sentence`` and the verdict: from the ``cited`` passages, or (None)
    from the fewest passages that support it. Support must hold twice: by the passages, and
    by the quoted sentences with their neighbours — what the reader is shown must say it."""
    if cited is None:
        backing, verdict = _recite(texts, sentence, judge)
    elif cited:
        verdict = judge.judge([texts[i] for i in cited], sentence)
        backing = _needed(cited, texts, sentence, judge) if verdict.supported else cited
    else:
        return [], NOT_A_CLAIM
    if not verdict.supported:
        return [], verdict
    quotes = [best_sentence(passages[i], sentence, judge) for i in backing]
    local = judge.judge([_around(q) for q in quotes], sentence)
    return (quotes, verdict) if local.supported else ([], local)


def _around(c: Candidate) -> str:
    """The quoted sentence with the sentence before and after it in its passage."""
    p = c.passage
    spans = [(s, e) for s, e in p.sentences if p.start <= s < e <= p.end]
    at = next((k for k, (s, _) in enumerate(spans) if s == c.start), None)
    if at is None:
        return c.text
    near = [p.text[s - p.start : e - p.start] for s, e in spans[max(0, at - 1) : at + 2]]
    return " ".join(t for t in near if not is_instruction(t))


def _needed(cited: tuple[int, ...], texts: list[str], sentence: str,
            judge: SupportJudge) -> tuple[int, ...]:
    """Drop a citation the sentence does not need (the others support it without it, and it
    does not support it alone) — ALCE's "irrelevant" citation."""
    keep = list(cited)
    for i in cited:
        if len(keep) == 1:
            break
        rest = [j for j in keep if j != i]
        if not judge.judge([texts[i]], sentence).supported and \
                judge.judge([texts[j] for j in rest], sentence).supported:
            keep = rest
    return tuple(keep)


def _recite(texts: list[str], sentence: str,
            judge: SupportJudge) -> tuple[tuple[int, ...], Support]:
    """The fewest best passages (at most ``MAX_CITATIONS``, greedy) that support ``sentence``,
    with their verdict; ``()`` and an unsupported verdict when there are none."""
    anywhere = judge.judge(texts, sentence)
    if not anywhere.supported:
        return (), anywhere
    alone = sorted(((judge.judge([t], sentence), i) for i, t in enumerate(texts)),
                   key=lambda x: (-x[0].supported, -x[0].score, x[1]))
    chosen: list[int] = []
    for verdict, i in alone[:MAX_CITATIONS]:
        chosen.append(i)
        together = verdict if len(chosen) == 1 else judge.judge([texts[j] for j in chosen],
                                                                 sentence)
        if together.supported:
            return tuple(chosen), together
    # only all of the passages together support it: too diffuse to cite, so not supported
    return (), replace(anywhere, supported=False)


def best_sentence(p: Passage, claim: str, judge: SupportJudge) -> Candidate:
    """The sentence of passage ``p`` that best supports ``claim`` (judge score, then overlap)."""
    words = content_words(claim)
    spans = [(s, e) for s, e in p.sentences if p.start <= s < e <= p.end] or [(p.start, p.end)]
    options = [Candidate(p, s, e, p.text[s - p.start : e - p.start]) for s, e in spans]
    options = [c for c in options if not is_instruction(c.text)] or options
    scored = [(judge.judge([c.text], claim).score, len(words & content_words(c.text)), -k, c)
              for k, c in enumerate(options)]
    score, _, _, best = max(scored, key=lambda x: x[:3])
    return Candidate(p, best.start, best.end, best.text, score=score)


def _cite(
    kept: list[tuple[str, list[Candidate], Support]],
    document: Callable[[str], Article | None] | None,
) -> tuple[list[AnswerSentence], list[Citation]]:
    """Citations of the quotes, numbered in order of first use; sentences with their markers."""
    numbers: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    articles: dict[str, Article | None] = {}
    sentences: list[AnswerSentence] = []
    for sentence, quotes, verdict in kept:
        marks: list[int] = []
        for quote in quotes:
            key = (quote.passage.doc_id, quote.start)
            if key not in numbers:
                doc = quote.passage.doc_id
                if doc not in articles:
                    articles[doc] = document(doc) if document else None
                numbers[key] = len(citations) + 1
                citations.append(citation_for(quote, numbers[key], articles[doc]))
            if numbers[key] not in marks:
                marks.append(numbers[key])
        sentences.append(AnswerSentence(sentence, tuple(marks), verdict.supported,
                                        round(verdict.score, 4)))
    return sentences, citations
