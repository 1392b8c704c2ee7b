"""The support judge φ: is a sentence supported by a set of passages? No LLM, no NLI model.

``HeuristicJudge`` combines three signals:

1. **coverage** — share of the sentence's content words (stemmed, stop-words removed) that
   the passages contain;
2. **agreement** — share of the sentence's numbers, dates, names and roles
   (``assistant.check.facts``) that the passages state ("FDA" and "Food and Drug
   Administration" are one name). A value the passages do not state, while
   the passage sentences aligned with the claim state a *different* value of the same kind
   ("2020" where the sentence says "2021", "Glendale" where it says "Tampa"), is a
   **mismatch** and rejects the sentence outright. A number or date is also compared with the
   passage sentences that share the words around it in the claim, for a claim that joins
   several sentences. So does a flipped negation ("not", "no", "lack of", "has yet to",
   "instead of") reject, and so do the changes of meaning that keep the passage's words
   (``assistant.check.contrasts``: swapped roles, an opposite word, another ordinal or
   weekday, a plan stated as done, a process under way stated as ended, a word that claims
   more: "the only", "all", "one of the largest" made "the largest"). Three more read the
   claim as a whole: a number or date the passages state, but elsewhere than where the claim
   aligns, which states another; three or more content words in a row that no passage states
   (an added cause or detail); and, with ``grammar``, who does what to whom and who says it
   (``assistant.check.roles``, a dependency parse);
3. **similarity** — cosine between the sentence and its closest passage sentence, when an
   ``embed`` function is given (otherwise skipped and the weights renormalise).

A sentence is supported when it has no mismatch, its coverage reaches ``min_coverage`` and
the weighted score reaches ``threshold``; both defaults come from ``bench/calibrate_support.py``
on RGB ``en_fact`` (see ``HeuristicJudge``). Used by the eval suite (ALCE citation recall and
precision, ``assistant/check/citations.py``), by answer verification and by conflicting-source
detection (``facts_conflict``, from ``assistant/check/compare.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from assistant.check import contrasts, roles
from assistant.check.compare import differs, initialism, is_entity, slot, spelled_out, value_found
from assistant.check.facts import KINDS, NEGATIONS, Facts, extract_facts
from assistant.kernel.text import (
    CLAIM_STOPWORDS,
    content_words,
    fold,
    quick_sentences,
    stem_text,
    stem_token,
    tokens,
)

__all__ = ["Embed", "HeuristicJudge", "Support", "SupportJudge"]

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Support:
    """The verdict on one sentence; ``similarity`` is 0.0 when no embedder was given."""

    supported: bool
    score: float  # 0..1, the weighted blend compared with the threshold
    coverage: float  # share of the sentence's content words found in the passages
    similarity: float  # cosine to the closest passage sentence
    mismatches: tuple[str, ...] = ()  # e.g. "number 2021 vs 2020", "name Tampa vs Glendale"
    agreement: float = 1.0  # share of the sentence's facts the passages state
    evidence: str = ""  # the passage sentence best aligned with the claim

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


class SupportJudge(Protocol):
    """Decides whether ``passages`` (together) support ``sentence``."""

    def judge(self, passages: Sequence[str], sentence: str) -> Support: ...


@dataclass(frozen=True)
class _Unit:
    """One passage sentence, pre-processed once (cached by text)."""

    text: str
    words: frozenset[str]
    facts: Facts
    stems: str  # stem_text(text)
    negated: frozenset[str]  # content words under a negation ("will not expand" -> expand)


# two words that deny what follows them: "has yet to be charged", "instead of rejoining Twitter",
# "rather than riding home"
_NOT_YET = {("yet", "to"), ("instead", "of"), ("rather", "than")}


def _negated(text: str) -> frozenset[str]:
    toks = [fold(t) for t in tokens(text)]
    out: set[str] = set()
    for i, t in enumerate(toks):
        if (t, "".join(toks[i + 1 : i + 2])) in _NOT_YET:
            out |= {stem_token(w) for w in toks[i + 2 : i + 5]}
        # "not only" adds, and "no other Democrat" is "the only Democrat": neither denies
        if (t in NEGATIONS or t.endswith("n't")) and toks[i + 1 : i + 2] not in (["only"], ["other"]):
            out |= {stem_token(w) for w in toks[i + 1 : i + 4]}
    return frozenset(out)


@lru_cache(maxsize=20_000)
def _units(passage: str) -> tuple[_Unit, ...]:
    return tuple(
        _Unit(s, frozenset(content_words(s)), extract_facts(s), stem_text(s), _negated(s))
        for s in quick_sentences(passage) if content_words(s)
    )


class HeuristicJudge:
    """Coverage + fact agreement + optional embedding similarity; deterministic.

    Calibration (``bench/calibrate_support.py``, RGB en_fact: 100 questions, the sentences
    "{query}: {answer}." and the positive passage's own answer sentence, judged against
    ``positive`` and ``positive_wrong``; 400 judgements): accuracy 0.955 with the packaged
    all-MiniLM-L6-v2 and without (supported side 0.93, swapped side 0.98; 0.96, 0.95 and 0.97
    before the grammar, strength, added-words and displaced-value checks; the swapped-side
    misses are RGB records whose swapped passages still state the true answer).
    That side is decided by mismatches, not by the score, so ``threshold`` was chosen on the
    third side too (answer-free ``negative`` passages, 66 judgements, 0.97): 0.68 lies in the
    best band of both runs (0.64-0.76 without embeddings, 0.66-0.74 with);
    ``min_coverage`` 0.3-0.5 and the weights (0.4, 0.4, 0.2) tie or lead across the grid.
    """

    def __init__(
        self,
        embed: Embed | None = None,
        threshold: float = 0.68,
        min_coverage: float = 0.5,
        weights: tuple[float, float, float] = (0.4, 0.4, 0.2),
        align_ratio: float = 0.7,
        window: int = 1,
        unstated: tuple[str, ...] = (),
        max_evidence: int = 3,
        max_new_run: int | None = 3,
        grammar: bool = True,
    ) -> None:
        """``weights`` are (coverage, agreement, similarity). The aligned context is the passage
        sentences whose word overlap with the claim is at least ``align_ratio`` of the best one,
        plus ``window`` neighbours each side. ``unstated``: kinds ("number", "date", "name")
        whose values reject the sentence when the passages never state them, even with no
        different value in sight (names: people, places, companies, works only).
        ``max_new_run``: that many content words in a row that no passage states reject the
        sentence (an added cause or detail; None: no limit). ``grammar``: read who does what
        and who says it (``assistant.check.roles``), for claims that are not a passage's own
        words."""
        self.embed = embed
        self.threshold = threshold
        self.min_coverage = min_coverage
        self.weights = weights
        self.align_ratio = align_ratio
        self.window = window
        self.unstated = unstated
        self.max_evidence = max_evidence
        self.max_new_run = max_new_run
        self.grammar = grammar
        self._vectors: dict[str, np.ndarray] = {}

    def prepare(self, passages: Sequence[str], sentences: Sequence[str] = ()) -> None:
        """Embed passage sentences (and claims) in large batches ahead of many ``judge`` calls."""
        if self.embed is not None:
            self._embed([u.text for p in passages for u in _units(p)] + list(sentences))

    def judge(self, passages: Sequence[str], sentence: str) -> Support:
        """Whether the passages, read together, support ``sentence``."""
        words = content_words(sentence)
        per_passage = [_units(p) for p in passages]
        units = [u for us in per_passage for u in us]
        if not words or not units:
            return Support(False, 0.0, 0.0, 0.0, agreement=0.0)
        coverage = _cover(words, units, self.max_evidence) / len(words)
        claim, claim_stems = extract_facts(sentence), stem_text(sentence)
        pool_facts = _merge([extract_facts(p) for p in passages])
        pool_stems = "".join(stem_text(p) for p in passages)
        # and their hyphenated words' parts: "mid-October" states "October"
        parts_stems = pool_stems + "".join(stem_text(p.replace("-", " ")) for p in passages if "-" in p)
        found = {kv: value_found(*kv, pool_facts, pool_stems) for kv in claim.items()}
        spelled = spelled_out(sentence, passages)  # words of names the passages abbreviate
        for kv in [kv for kv, f in found.items() if kv[0] == "name" and f < 1.0]:
            if initialism(claim.show(kv[1]), spelled, passages):
                found[kv] = 1.0  # "FDA" for "Food and Drug Administration", or the reverse
        agreement = sum(found.values()) / len(found) if found else 1.0

        unsure = [kv for kv, f in found.items() if f < 1.0]
        context = words - {stem_token(t) for _, v in unsure for t in tokens(claim.show(v))}
        aligned = self._aligned(context or words, per_passage)
        mismatches = []
        for kv in unsure:
            if found[kv] and any(value_found(*kv, u.facts, u.stems) for u in aligned[0]):
                continue  # a variant ("Biden" for "Joe Biden") right where the claim aligns
            if m := (_mismatch(kv, claim, claim_stems, aligned[1])
                     or self._mismatch_nearby(kv, claim, claim_stems, sentence, per_passage)):
                mismatches.append(m)
            elif not found[kv] and kv[0] in self.unstated and (
                    kv[0] != "name" or is_entity(kv[1])):
                mismatches.append(f"{kv[0]} {claim.show(kv[1])} not stated")
        mismatches += _displaced(claim, claim_stems, found, aligned[0])
        if aligned[0] and (flip := _negation_flip(sentence, words, aligned[0][0], aligned[1])):
            mismatches.append(flip)
        mismatches += contrasts.find(sentence, [u.text for u in aligned[0]], [u.text for u in aligned[1]])
        if over := contrasts.overstated(sentence, passages):
            mismatches.append(over)
        if ended := contrasts.unfinished(sentence, passages):
            mismatches.append(ended)
        if self.max_new_run and len(run := _new_run(sentence, parts_stems, spelled)) >= self.max_new_run:
            mismatches.append(f"not in the passages: {' '.join(run)}")

        if (self.grammar and not mismatches and coverage >= self.min_coverage and "?" not in sentence
                and not _verbatim(sentence, passages)):  # a question states no roles
            mismatches += roles.find(sentence, [u.text for u in aligned[0]], [u.text for u in units])

        similarity = self._similarity(sentence, units) if self.embed else 0.0
        wc, wa, ws = self.weights
        parts = [(wc, coverage), (wa, agreement)] + ([(ws, similarity)] if self.embed else [])
        score = sum(w * x for w, x in parts) / sum(w for w, _ in parts)
        supported = not mismatches and coverage >= self.min_coverage and score >= self.threshold
        return Support(
            supported, round(score, 4), round(coverage, 4), round(similarity, 4),
            tuple(dict.fromkeys(mismatches)), round(agreement, 4),
            aligned[0][0].text if aligned[0] else "",
        )

    def _aligned(
        self, context: set[str], per_passage: list[tuple[_Unit, ...]]
    ) -> tuple[list[_Unit], list[_Unit]]:
        """Passage sentences sharing the most of the claim's words (best first), and the same
        with their ``window`` neighbours: the context where a different value contradicts."""
        scored = [(len(context & u.words), -p, -i) for p, us in enumerate(per_passage)
                  for i, u in enumerate(us)]
        best = max(o for o, _, _ in scored)
        if best == 0:
            return [], []
        top = sorted(x for x in scored if x[0] >= self.align_ratio * best)[::-1]
        core = [per_passage[-p][-i] for _, p, i in top]
        near = {(-p, j) for _, p, i in top
                for j in range(max(0, -i - self.window), -i + self.window + 1)}
        wide = core + [per_passage[p][j] for p, j in sorted(near)
                       if j < len(per_passage[p]) and per_passage[p][j] not in core]
        return core, wide

    def _mismatch_nearby(self, kv: tuple[str, str], claim: Facts, claim_stems: str, sentence: str,
                         per_passage: list[tuple[_Unit, ...]]) -> str | None:
        """A number or date against the passage sentences that share the words around it in
        the claim, when the claim joins several sentences and aligns as a whole with another
        ("… on Monday, August 29, with backup windows on September 3" where the backup windows'
        sentence says September 2)."""
        kind, value = kv
        if kind not in ("number", "date"):
            return None
        shown = claim.show(value)
        near = slot(sentence, shown, reach=5) - {stem_token(t) for t in tokens(shown)}
        return _mismatch(kv, claim, claim_stems, self._aligned(near, per_passage)[0]) if near else None

    def _embed(self, texts: list[str]) -> None:
        assert self.embed is not None
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            if len(self._vectors) + len(new) > 100_000:
                self._vectors.clear()  # bounded memory for long eval runs
            self._vectors.update(zip(new, np.asarray(self.embed(new), dtype=np.float32), strict=True))

    def _similarity(self, sentence: str, units: list[_Unit]) -> float:
        self._embed([sentence] + [u.text for u in units])
        claim = self._vectors[sentence]
        sims = np.array([self._vectors[u.text] for u in units]) @ claim
        return float(np.clip(sims.max(), 0.0, 1.0))


def _cover(words: set[str], units: list[_Unit], k: int) -> int:
    """How many claim words the best ``k`` passage sentences cover (greedy set cover): a claim
    may combine a few sentences, not pick its words from all over the passages."""
    left, covered = set(words), 0
    for _ in range(k):
        gain, best = max(((len(left & u.words), i) for i, u in enumerate(units)), default=(0, -1))
        if gain == 0:
            break
        covered += gain
        left -= units[best].words
    return covered


def _merge(facts: list[Facts]) -> Facts:
    surface: dict[str, str] = {}
    for f in facts:
        surface.update({k: v for k, v in f.surface.items() if k not in surface})
    numbers, dates, names, roles = (frozenset[str]().union(*(f.of_kind(k) for f in facts))
                                    for k in KINDS)
    return Facts(numbers, dates, names, roles, surface)


def _mismatch(kv: tuple[str, str], claim: Facts, claim_stems: str,
              aligned: list[_Unit]) -> str | None:
    """The claim's missing value against a different value the aligned context states."""
    kind, value = kv
    digits = any(c.isdigit() for c in value)
    others = [(unit, other) for unit in aligned for other in sorted(unit.facts.of_kind(kind))
              if not value_found(kind, other, claim, claim_stems) and differs(kind, value, other)]
    # prefer a value of the same shape: "Kourou vs Baikonur" over "Kourou vs Ariane 5"
    others.sort(key=lambda uo: any(c.isdigit() for c in uo[1]) != digits)
    return f"{kind} {claim.show(value)} vs {others[0][0].facts.show(others[0][1])}" if others else None


def _displaced(claim: Facts, claim_stems: str, found: dict[tuple[str, str], float],
               core: list[_Unit]) -> list[str]:
    """A number or date the passages state somewhere, but not in the sentences the claim aligns
    with, which state a different one the claim leaves out: "$2 billion" taken from the
    sentence before where the aligned sentence says "$1 billion"."""
    out = []
    for kind, value in found:
        if kind not in ("number", "date") or found[kind, value] < 1.0 or not core:
            continue
        if any(value_found(kind, value, u.facts, u.stems) for u in core):
            continue
        if m := _mismatch((kind, value), claim, claim_stems, core):
            out.append(m)
    return out


# a passage word may be a claim word behind a prefix: "avoided" is stated by "unavoidable"
_PREFIXES = ("un", "in", "im", "dis", "non", "re", "pre", "mis")
_NOT_NEW = CLAIM_STOPWORDS | NEGATIONS | contrasts.STRONGER


def _new_run(sentence: str, pool_stems: str, spelled: set[str]) -> list[str]:
    """The longest run of the sentence's content words (stop-words skipped) that no passage
    states: an added cause or consequence ("… and announced a nationwide curfew"). The words of
    a name the passages write as its initials (``spelled``: "Food and Drug Administration"
    where they say "FDA") are stated."""
    best: list[str] = []
    run: list[str] = []
    for t in tokens(sentence.rpartition("?")[2]):  # "{question}?: {answer}" claims the answer
        if fold(t).replace(".", "") in _NOT_NEW:
            continue  # stop-words, and negations and quantifiers: other checks read those
        stem = stem_token(t)
        if (f" {stem} " in pool_stems or fold(t) in spelled
                or any(f" {p}{stem}" in pool_stems for p in _PREFIXES)):
            run = []
        else:
            run.append(t)
            if len(run) > len(best):
                best = list(run)
    return best


def _verbatim(sentence: str, passages: Sequence[str]) -> bool:
    """The claim is a passage's own words (a quote, a copy): its grammar is the passage's."""
    said = " ".join(tokens(sentence.lower()))
    return any(said in " ".join(tokens(p.lower())) for p in passages)


def _negation_flip(sentence: str, words: set[str], unit: _Unit, near: list[_Unit]) -> str | None:
    """"NATO will expand" against "NATO will not expand", or the reverse: one side negates
    words the other states, and has no negation at all. The claim is read against the best
    aligned sentence ``unit``; a negation the claim shares with an aligned sentence or its
    neighbour (``near``) is stated ("awarded $500,000 but no punitive damages" from two
    sentences)."""
    claim_neg = _negated(sentence)
    if not claim_neg and unit.negated & words:
        flipped = unit.negated & words
    elif (claim_neg and not unit.negated and claim_neg & unit.words
          and not any(claim_neg & u.negated for u in near)):
        flipped = claim_neg & unit.words
    else:
        return None
    return f"negation on {', '.join(sorted(flipped))}"
