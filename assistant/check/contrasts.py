"""Wordings that turn what a passage says into something else while keeping its words.

Word coverage and value agreement (``assistant.check.judge``) accept a claim whose words all
occur in the passage. These checks read the claim against the passage sentences it aligns
with and name the change:

- **order of roles**: the same two names joined by the same words, the other way round
  ("Spirit would buy JetBlue" against "JetBlue would buy Spirit"); a passive "by" on one side
  only is a change of voice, not of roles;
- **opposites**: a word whose opposite the passage states instead ("released" against
  "detained", "before" against "after", "higher" against "lower");
- **ordinals**: "second" where the passage says "first"; **weekdays** likewise ("Sunday"
  against "Saturday": the value checks leave weekdays out);
- **modality**: what the passage gives as planned, expected or possible stated as done or
  certain ("testified" against "are expected to testify", "will take" against "could take"),
  and a process the passages give as under way stated as ended ("signed" against "on the
  governor's desk", "approved" against "introduced");
- **overstatement**: a word that claims more than the passages say ("the only", "all",
  "always", "certainly"), or "the largest" where they say "one of the largest" or "the
  second-largest".

Each returns a short description of the change (shown in ``Support.mismatches``) or None.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

from assistant.kernel.text import MONTHS, STOPWORDS, WEEKDAYS, fold, stem_token, tokens

# Pairs of opposite words, as stems (``stem_token``): either side stated where the other is
# written is a change of meaning. Only words whose opposite is itself a plain word in news.
OPPOSITES = tuple(tuple(stem_token(w) for w in pair.split("/")) for pair in """
rise/fall rose/fell increase/decrease increased/decreased higher/lower more/less more/fewer
gain/loss won/lost win/lose victory/defeat released/detained freed/detained approve/reject
approved/rejected accepted/rejected convicted/acquitted guilty/innocent ban/allow banned/allowed
support/oppose supported/opposed open/closed up/down above/below before/after earlier/later
larger/smaller largest/smallest biggest/smallest best/worst most/least highest/lowest
tightening/easing tighten/ease tightened/eased strengthen/weaken expand/shrink expanded/shrank
northern/southern north/south eastern/western east/west import/export imports/exports buy/sell
bought/sold purchase/sell ahead/behind first/last start/end began/ended younger/older
minimum/maximum doubled/halved warmer/cooler hotter/colder success/failure passed/failed
legal/illegal positive/negative surge/plunge surged/plunged boost/cut raised/lowered hike/cut
higher/decrease lower/increase up/decrease down/increase high/low lift/tighten lifting/tightening
lifted/tightened admit/deny admitted/denied confirmed/denied win/loss wins/losses double/half
doubled/halved twice/half accidental/deliberate accidentally/deliberately accidental/intentional
narrow/widen narrowed/widened narrowing/widening surplus/deficit profit/loss stronger/weaker
slow/fast slow/swift slow/quick slow/rapid slowly/quickly slowly/rapidly slower/faster
near/far close/far inside/outside domestic/foreign domestic/international rural/urban
public/private temporary/permanent partial/full majority/minority cheap/expensive
cheaper/costlier rich/poor wealthy/poor heavy/light strong/weak easy/difficult early/late
include/exclude included/excluded join/leave joined/left hire/fire hired/fired enter/exit
arrive/depart arrived/departed attack/defend lead/trail leading/trailing offense/defense
offensive/defensive grow/shrink grew/shrank growing/shrinking upward/downward
optimistic/pessimistic bullish/bearish peaceful/violent survived/died alive/dead
defeated/lost defeating/losing beat/lost beating/losing agree/disagree agreed/disagreed
accept/refuse accepted/refused allow/prohibit allowed/prohibited left/right easy/hard
easier/harder easiest/hardest fastest/slowest strongest/weakest richest/poorest earliest/latest
""".split())
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)

ORDINALS = frozenset("""first second third fourth fifth sixth seventh eighth ninth tenth eleventh
twelfth 1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th""".split())

# Words that make the next few words planned, expected, possible or asked for rather than done.
_MODALS = frozenset(stem_token(w) for w in """may could might would should expected expects expect
plans planned planning plan proposed proposes propose considering consider hopes hoped hope aims
aimed aim seeks seeking sought wants wanted intends intended threatened threatens likely possible
possibly potentially scheduled slated due asked urged attempting attempt
trying try""".split())
_WILL = frozenset({"will", "won't", "shall"})
_SCOPE = 5  # words after a modal word, in its clause, that it governs
_CLAUSE = re.compile(r"[.,;:()·–—]\s|\s(?:and|but)\s")
_CALENDAR = frozenset(MONTHS) | frozenset(WEEKDAYS)
_WEEKDAYS = frozenset(WEEKDAYS)
_SAYING = frozenset(stem_token(w) for w in "said says say told tells tell according reported".split())
_NEAR = 16  # words between two names for one clause to join them
Words = list[tuple[str, str]]  # (surface, stem) of each word, as ``_tokens`` gives them


@lru_cache(maxsize=20_000)
def _tokens(text: str) -> tuple[tuple[str, str], ...]:
    """(surface, stem) of each word, hyphenated words split ("first-ever" -> first, ever)."""
    return tuple((w, stem_token(fold(w))) for w in tokens(text.replace("-", " ")))


@lru_cache(maxsize=20_000)
def _lowered(text: str) -> tuple[str, ...]:
    """The words of ``_tokens``, lower-cased: what the word-list checks compare."""
    return tuple(w.lower() for w, _ in _tokens(text))


def role_swap(claim: str, aligned: Sequence[str]) -> str | None:
    """Two names the claim joins by the same words as the passage, in the other order."""
    c_toks = _tokens(claim)
    for sentence in aligned:
        p_toks = _tokens(sentence)
        c_names, p_names = _names(c_toks), _names(p_toks)
        shared = [n for n in c_names if n in p_names]
        for i, a in enumerate(shared):
            for b in shared[i + 1:]:
                if _both_orders(c_names, a, b) or _both_orders(p_names, a, b):
                    continue  # a heading and its sentence: nothing to compare
                ca, cb, pa, pb = c_names[a][0], c_names[b][0], p_names[a][0], p_names[b][0]
                between_c = _between(c_toks, ca, cb)
                between_p = _between(p_toks, pa, pb)
                voice = ("by" in between_c) != ("by" in between_p)  # one side passive
                if ((ca < cb) == (pa < pb)) != voice:
                    continue  # same order in the same voice, or turned round by the voice
                joint = between_c & between_p - {"by"}
                # the same words join them (most of the claim's): one relation, turned round
                if joint and len(joint) * 2 >= len(between_c - {"by"}):
                    return f"roles of {c_toks[ca][0]} and {c_toks[cb][0]} swapped"
    return None


def _names(toks: tuple[tuple[str, str], ...]) -> dict[str, list[int]]:
    """Capitalised words (each word of "Tampa Bay Lightning") and where they occur."""
    out: dict[str, list[int]] = {}
    for i, (w, _) in enumerate(toks):
        low = w.lower()
        if w[:1].isupper() and low not in STOPWORDS and low not in _CALENDAR:
            out.setdefault(low, []).append(i)
    return out


def _both_orders(names: dict[str, list[int]], a: str, b: str) -> bool:
    return len({i < j for i in names[a] for j in names[b]}) > 1



def _between(toks: tuple[tuple[str, str], ...], i: int, j: int) -> set[str]:
    """The plain words between two names (no names, numbers or who said it), or none when the
    names are too far apart for one clause to join them."""
    lo, hi = sorted((i, j))
    if hi - lo > _NEAR:
        return set()
    return {s for w, s in toks[lo + 1 : hi] if w.lower() == "by" or (
        w.lower() not in STOPWORDS and w.isalpha() and w[:1].islower() and s not in _SAYING)}


def opposite(claim: str, aligned: Sequence[str]) -> str | None:
    """A claim word whose opposite the aligned passage sentences state, while never stating it."""
    c_stems = {s for _, s in _tokens(claim)}
    p_stems = {s for text in aligned for _, s in _tokens(text)}
    for stem in sorted(c_stems & _OPPOSITE.keys()):
        other = (_OPPOSITE[stem] & p_stems) - c_stems
        if other and stem not in p_stems:
            return f"{stem} vs {sorted(other)[0]}"
    return None


def ordinal(claim: str, aligned: Sequence[str]) -> str | None:
    """An ordinal ("second") the aligned sentences do not state while they state another, or
    that they state of something else: "came in second place" where the sentence says "third
    place" (and "second" of the weekend)."""
    if found := _another(claim, aligned, ORDINALS, "ordinal"):
        return found
    mine = _ranked(claim)
    theirs = {r for text in aligned for r in _ranked(text)}
    for rank, what in sorted(mine - theirs):
        other = sorted(r for r, w in theirs if w == what and (r, what) not in mine)
        if other:
            return f"ordinal {rank} {what} vs {other[0]} {what}"
    return None


def _ranked(text: str) -> set[tuple[str, str]]:
    """(ordinal, the word after it) pairs of a text: ("second", "place")."""
    words = _lowered(text)
    return {(a, b) for a, b in pairwise(words) if a in ORDINALS and b not in STOPWORDS}


def weekday(claim: str, aligned: Sequence[str]) -> str | None:
    """A day of the week the aligned sentences do not state while they state another (the
    value checks leave weekdays out: articles of different days call one day differently)."""
    return _another(claim, aligned, _WEEKDAYS, "day")


def _another(claim: str, aligned: Sequence[str], words: frozenset[str], what: str) -> str | None:
    """A word of ``words`` in the claim that the aligned sentences replace by another of them."""
    mine = set(_lowered(claim)) & words
    theirs = {w for text in aligned for w in _lowered(text)} & words
    if mine - theirs and theirs - mine:
        return f"{what} {sorted(mine - theirs)[0]} vs {sorted(theirs - mine)[0]}"
    return None


def modality(claim: str, aligned: Sequence[str]) -> str | None:
    """Words the best aligned sentence gives as planned, possible or to come that the claim
    states as done, or as certain ("will take" where the passage says "could take")."""
    c_weak, c_will, _, c_unhedged = _modal_split(claim)
    governed = {s for _, s in c_weak + c_will}
    # stated as done: words of the claim's clauses with no modal word at all (a hedged clause,
    # "possible only on the condition that ...", may word its scope longer than the passage)
    done = {s for w, s in c_unhedged if w.isalpha() and w[:1].islower()
            and w.lower() not in STOPWORDS} - governed
    certain = _stems(c_will) - {s for _, s in c_weak}
    weak, will, plain, _ = (_stems(x) for x in _modal_split(aligned[0]))
    upgraded = ((weak | will) - plain) & done | (weak - will - plain) & certain
    return f"stated as done or certain: {', '.join(sorted(upgraded))}" if upgraded else None


# A step that ends a process, as news writes it done (each group one step), and words that
# give such a process as still under way: a claim that a bill was "signed" or "approved"
# where the passages say it was "introduced" or is "on the desk" states the end as reached.
_DONE = tuple(frozenset(g.split("/")) for g in """signed/enacted
passed/approved/adopted
ratified
finalized/finalised/completed
convicted""".split())
_UNDERWAY = frozenset("""proposed proposes proposal introduced introduces pending awaiting awaits
desk submitted filed drafted draft weighing reviewing negotiating charged indicted accused""".split())


def unfinished(claim: str, passages: Sequence[str]) -> str | None:
    """A step that ends a process ("signed", "approved", "convicted") the passages never state,
    while they word the process as under way ("introduced", "on the desk", "charged")."""
    c_words = set(_lowered(claim))
    p_words = {w for text in passages for w in _lowered(text)}
    if not (underway := sorted(p_words & _UNDERWAY - c_words)):
        return None
    for group in _DONE:
        if (done := c_words & group) and not p_words & group:
            return f"stated as done: {sorted(done)[0]}, where the passage says {underway[0]}"
    return None


def _stems(toks: Words) -> set[str]:
    return {s for w, s in toks if w.lower() not in STOPWORDS}


def _modal_split(text: str) -> tuple[Words, Words, Words, Words]:
    """The words a modal word governs (the next ``_SCOPE`` of its clause) — under a word of
    possibility or plan, under "will" — the others, and the words of clauses with no modal
    word at all ("and" and "but" end a clause: "have signed a memorandum and may operate")."""
    weak: Words = []
    will: Words = []
    plain: Words = []
    unhedged: Words = []
    for clause in _CLAUSE.split(text):
        toks = _tokens(clause)
        under: dict[int, bool] = {}  # position -> governed by "will" only
        modals = [(i, w) for i, (w, s) in enumerate(toks) if _modal(w, s, i)]
        for i, w in modals:
            for j in range(i + 1, min(len(toks), i + 1 + _SCOPE)):
                under[j] = under.get(j, True) and w.lower() in _WILL
        for i, t in enumerate(toks):
            (plain if i not in under else will if under[i] else weak).append(t)
        if not modals:
            unhedged.extend(toks)
    return weak, will, plain, unhedged


def _modal(word: str, stem: str, i: int) -> bool:
    """Whether the ``i``-th word of a clause makes what follows possible, planned or to come."""
    month = word == "May" and i > 0  # "May" inside a clause is the month
    return (stem in _MODALS and not month) or word.lower() in _WILL


# Words that claim more than a passage may: a claim using one needs the passage to use it, or
# a word of its group ("the only payout" where the passage says "among the first").
_STRONGER = tuple(frozenset(g.split("/")) for g in """only/sole/solely/exclusively/alone
all/every/entire/whole/everyone/everything/everybody/entirely/completely/fully
never/none/nobody/ever
always
certain/certainly/definitely/guaranteed/surely/undoubtedly/sure
unanimous/unanimously""".split())
STRONGER = frozenset().union(*_STRONGER)


_TIMING_OR_TOTAL = re.compile(r"\bonly (?=after|when|once|then|until)|\bin all(?=$| (?:to|for|from|and|"
                              r"but|over|after|since|across|between|this|last)\b)")


def overstated(claim: str, passages: Sequence[str]) -> str | None:
    """A word that makes the claim stronger than the passages word it ("the only", "all",
    "always", "certainly"), or a superlative the passages give as "one of the …"."""
    # "first-ever" is "the first": no more than "for the first time"; "came only after years
    # of lobbying" times it, "$520 million in all" is a total
    c_text = " ".join(_lowered(claim)).replace("first ever", "first")
    c_text = _TIMING_OR_TOTAL.sub("", c_text)
    p_text = " ".join(w for text in passages for w in _lowered(text))
    c_words, p_words = set(c_text.split()), set(p_text.split())
    for group in _STRONGER:
        if (mine := c_words & group) and not p_words & group:
            return f"overstated: {sorted(mine)[0]}"
    both = _superlative(c_text) & _superlative(p_text)
    if "one of" in p_text and "one of" not in c_text and both:
        return f"overstated: {sorted(both)[0]}, where the passage says one of several"
    for sup in sorted(both - {"best", "worst"}):  # "his lowest" for "his second-lowest" ("best"
        # is too common a word to tell "third-best week" from "best-reviewed show")
        ranks = {f"{o} {m}{sup}" for o in ORDINALS - {"first", "1st"} for m in ("", "most ", "least ")}
        if (said := [r for r in ranks if r in p_text]) and not any(r in c_text for r in ranks):
            return f"overstated: {sup}, where the passage says {said[0]}"
    return None


def _superlative(text: str) -> set[str]:
    """Superlatives of a text of lower-case words: the word after "most" or "least", "best" and
    "worst" ("best-selling"), and words ending in -est ("largest")."""
    words = text.split()
    after_most = {b for a, b in pairwise(words) if a in ("most", "least")}
    return after_most | {w for w in words if w in ("best", "worst") or (
        len(w) > 4 and w.endswith("est") and w not in _NOT_SUPERLATIVE)}


_NOT_SUPERLATIVE = frozenset("interest request protest contest suggest arrest harvest forest "
                             "invest digest honest modest latest manifest".split())


def find(claim: str, aligned: Sequence[str], near: Sequence[str] = ()) -> list[str]:
    """Every change of meaning these checks find in ``claim`` against the ``aligned`` sentences
    (best aligned first); the weekday against them and their neighbours (``near``: "took a step
    on Wednesday evening. After getting close, Bitcoin crossed …")."""
    if not aligned:
        return []
    found = (role_swap(claim, aligned), opposite(claim, aligned), ordinal(claim, aligned),
             weekday(claim, near or aligned), modality(claim, aligned))
    return [f for f in found if f]
