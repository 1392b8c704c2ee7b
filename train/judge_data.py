"""Synthetic (passage, claim, label) pairs for the learned judge, in the style of FactCC
(Kryściński et al., 2020), made from RealTime QA training-week articles.

A source sentence and a window of its article (the sentence with 0–2 neighbours on each
side) form the passage. Claims made from the sentence by meaning-keeping edits are
positives: the sentence itself, a clause of it, a compression (parenthetical, appositive or
leading time phrase dropped), two neighbouring sentences joined. Claims made by
meaning-changing edits are negatives: a number, date, ordinal or name swapped for one of
the same kind from the same article, negation added or removed, an antonym, two names
swapped (agent and patient), certainty changed ("will" / "may"), a hedged or partial quantity
overstated ("nearly 600" -> "more than 600", "some" -> "all"), a clause added from elsewhere in
the article, and a sentence the window does not contain (same article or another article on the
same question).

With ``outlets`` (``outlet_pairs``), positives also come in other outlets' words: a sentence of
another article on the same question whose names, numbers and nearly all content words sit in
the window, worded differently (news rewrites its wire copy), and the same sentence after a
meaning-changing edit is a negative. Other articles' sentences that say what the window says are
then no longer used as "foreign" or "unaddressed" negatives.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.kernel.text import terms
from train.weeks import Doc, Question

_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth", "last")
_NAME = re.compile(r"\b(?:[A-Z][a-z]+|[A-Z]{2,})(?:\s+(?:of\s+|de\s+|van\s+)?(?:[A-Z][a-z]+|[A-Z]{2,}))*\b")
_NOT_NAMES = set(_MONTHS) | set(_DAYS) | {
    "The", "A", "An", "He", "She", "It", "They", "We", "I", "In", "On", "At", "But", "And", "This",
    "That", "There", "His", "Her", "Their", "Its", "As", "For", "After", "Before", "When", "While",
    "If", "Our", "You", "Your", "Mr", "Ms", "Mrs", "Dr", "According", "Some", "Many", "Most",
    "Other", "Others", "One", "Two", "Three", "Last", "First", "Now", "Still", "Also", "By"}
_AUX = re.compile(r"\b(is|was|are|were|will|would|can|could|has|have|had|should|may|might|must)\b(?! not)")
_NEGATED = re.compile(r"\s(not|never)\b|n't\b")
# direction flips, both ways; each tuple lists inflections that correspond by position
_ANTONYMS = [
    ("raised", "cut"), ("raises", "cuts"), ("increase", "decrease"), ("increased", "decreased"),
    ("increases", "decreases"), ("rose", "fell"), ("rise", "fall"), ("rising", "falling"),
    ("won", "lost"), ("win", "lose"), ("wins", "loses"), ("approved", "rejected"),
    ("approve", "reject"), ("allowed", "banned"), ("allow", "ban"), ("accepted", "refused"),
    ("opened", "closed"), ("open", "closed"), ("gained", "lost"), ("higher", "lower"),
    ("more", "fewer"), ("before", "after"), ("above", "below"), ("largest", "smallest"),
    ("biggest", "smallest"), ("earlier", "later"), ("convicted", "acquitted"),
    ("started", "ended"), ("began", "ended"), ("supported", "opposed"), ("supports", "opposes"),
    ("bought", "sold"), ("buy", "sell"), ("hired", "fired"), ("joined", "left"),
    ("strengthened", "weakened"), ("expanded", "shrank"), ("best", "worst"),
    ("majority", "minority"), ("maximum", "minimum"), ("up", "down"), ("passed", "blocked"),
    ("arrested", "released"), ("guilty", "innocent"), ("highest", "lowest"), ("most", "least"),
    ("success", "failure"), ("agreed", "refused"), ("confirmed", "denied"), ("signed", "vetoed"),
    ("survived", "died"), ("lifted", "imposed"), ("added", "removed"), ("leads", "trails"),
]
_FLIP = {a: b for a, b in _ANTONYMS} | {b: a for a, b in _ANTONYMS}
_FLIP_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _FLIP), key=len, reverse=True)) + r")\b")


@dataclass(frozen=True)
class Pair:
    passage: str
    claim: str
    label: float
    kind: str


def names(text: str) -> list[str]:
    """Capitalised names in ``text`` (not a sentence's first word alone, not months or days)."""
    out = []
    for m in _NAME.finditer(text):
        words = m.group().split()
        lead = 0
        while lead < len(words) and words[lead] in _NOT_NAMES:
            lead += 1  # "On Sunday", "The Guardian": the capitalised function words are not the name
        if lead == len(words) or (m.start() == 0 and lead == 0 and len(words) == 1):
            continue
        out.append(" ".join(words[lead:]))
    return out


def _sub_once(pattern: re.Pattern[str], text: str, repl: Callable[[re.Match[str]], str | None],
              rng: random.Random) -> str | None:
    matches = list(pattern.finditer(text))
    rng.shuffle(matches)
    for m in matches:
        new = repl(m)
        if new is not None and new != m.group():
            return text[: m.start()] + new + text[m.end():]
    return None


# --- meaning-changing edits (negatives) ---------------------------------------------------
def swap_number(s: str, doc: Doc, rng: random.Random) -> str | None:
    pool = [n for n in _NUMBER.findall(doc.text) if not _YEAR.fullmatch(n)]

    def repl(m: re.Match[str]) -> str | None:
        if _YEAR.fullmatch(m.group()):
            return str(int(m.group()) + rng.choice((-3, -2, -1, 1, 2)))
        others = [n for n in pool if n != m.group()]
        if others and rng.random() < 0.6:
            return rng.choice(others)
        try:
            value = float(m.group().replace(",", ""))
        except ValueError:
            return None
        new = value * rng.choice((2, 3, 0.5)) if value > 10 else value + rng.choice((1, 2, 3))
        return f"{int(new):,}" if new == int(new) else f"{new:.1f}"

    return _sub_once(_NUMBER, s, repl, rng)


def swap_date(s: str, doc: Doc, rng: random.Random) -> str | None:
    for table in (_MONTHS, _DAYS):
        found = [t for t in table if re.search(rf"\b{t}\b", s)]
        if found:
            old = rng.choice(found)
            return re.sub(rf"\b{old}\b", rng.choice([t for t in table if t != old]), s, count=1)
    return None


def swap_ordinal(s: str, doc: Doc, rng: random.Random) -> str | None:
    pattern = re.compile(r"\b(" + "|".join(_ORDINALS) + r")\b", re.I)

    def repl(m: re.Match[str]) -> str:
        new = rng.choice([o for o in _ORDINALS if o != m.group().lower()])
        return new.capitalize() if m.group()[0].isupper() else new

    return _sub_once(pattern, s, repl, rng)


def swap_name(s: str, doc: Doc, rng: random.Random) -> str | None:
    mine = names(s)
    pool = [n for n in dict.fromkeys(names(doc.text))
            if n not in s and not any(n in m or m in n for m in mine)]
    if not mine or not pool:
        return None
    old = rng.choice(mine)
    same_size = [n for n in pool if len(n.split()) == len(old.split())] or pool
    return s.replace(old, rng.choice(same_size), 1)


def swap_roles(s: str, doc: Doc, rng: random.Random) -> str | None:
    mine = list(dict.fromkeys(names(s)))
    if len(mine) < 2:
        return None
    a, b = mine[0], mine[1]
    if a in b or b in a:
        return None
    return s.replace(a, "\x00").replace(b, a).replace("\x00", b)


def negate(s: str, doc: Doc, rng: random.Random) -> str | None:
    if _NEGATED.search(s):
        out = re.sub(r"\s(not|never)\b", "", s, count=1)
        return out.replace("n't", "", 1) if out == s else out
    return _sub_once(_AUX, s, lambda m: m.group() + " not", rng)


def antonym(s: str, doc: Doc, rng: random.Random) -> str | None:
    return _sub_once(_FLIP_RE, s, lambda m: _FLIP.get(m.group()), rng)


def add_clause(s: str, doc: Doc, rng: random.Random, window: set[str]) -> str | None:
    others = [t for t in doc.sentences if t not in window and 30 <= len(t) <= 160
              and t[0].isupper() and t.endswith(".")]
    if not others or not s.endswith("."):
        return None
    clause = rng.choice(others)[:-1]
    first = clause.split()[0]
    if first not in _NOT_NAMES:  # keep names capitalised
        clause = clause[0].lower() + clause[1:]
    return f"{s[:-1]}, {rng.choice(('and', 'after', 'because', 'while'))} {clause}."


# a certain statement made uncertain and the other way round ("will" / "may", "proposed" / "approved")
_MODAL = {"will": "may", "may": "will", "might": "will", "could": "will", "would": "will",
          "is expected to": "will", "are expected to": "will", "is likely to": "will",
          "plans to": "will", "is set to": "may", "proposed": "approved", "approved": "proposed",
          "considering": "approving"}
_MODAL_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _MODAL), key=len, reverse=True)) + r")\b")
# a hedged or partial quantity stated as more ("nearly 600" -> "more than 600", "some" -> "all")
_HEDGE_RE = re.compile(r"\b(nearly|almost|about|around|roughly|approximately|up to|at least|"
                       r"more than|less than|fewer than|over|under)(?=\s+\$?\d)"
                       r"|\b(some|many|several|most)(?=\s+[a-z]+s\b)|\bone of the(?=\s+\w+est\b)")
_OVERSTATE = {"nearly": "more than", "almost": "more than", "about": "exactly", "around": "exactly",
              "roughly": "exactly", "approximately": "exactly", "up to": "at least",
              "at least": "exactly", "more than": "less than", "less than": "more than",
              "fewer than": "more than", "over": "under", "under": "over", "some": "all",
              "many": "all", "several": "all", "most": "all", "one of the": "the"}


def modality(s: str, doc: Doc, rng: random.Random) -> str | None:
    return _sub_once(_MODAL_RE, s, lambda m: _MODAL.get(m.group()), rng)


def overstate(s: str, doc: Doc, rng: random.Random) -> str | None:
    return _sub_once(_HEDGE_RE, s, lambda m: _OVERSTATE.get(m.group()), rng)


# --- meaning-keeping edits (positives) ----------------------------------------------------
def clause_of(s: str, rng: random.Random) -> str | None:
    parts = re.split(r",\s+(?:and|but|while|which|who)\s+|;\s+", s)
    head = parts[0].rstrip(",")
    if len(parts) < 2 or len(head.split()) < 6:
        return None
    return head.rstrip(".") + "."


def compress(s: str, rng: random.Random) -> str | None:
    options = []
    no_paren = re.sub(r"\s*\([^)]*\)", "", s)
    if no_paren != s:
        options.append(no_paren)
    m = re.match(r"^(?:On|In|Last|This|Earlier|Later)\b[^,]{0,40},\s+(.+)$", s)
    if m:
        options.append(m.group(1)[0].upper() + m.group(1)[1:])
    m = re.search(r",\s+(?:who|which)\s+[^,]{5,80},", s)
    if m:
        options.append(s[: m.start()] + s[m.end() - 1:].lstrip(",").lstrip())
        options[-1] = options[-1].replace("  ", " ")
    options = [o for o in options if len(o.split()) >= 6]
    return rng.choice(options) if options else None


_SYNONYMS = {
    "said": "stated", "says": "states", "announced": "said", "about": "around", "roughly": "about",
    "approximately": "about", "nearly": "almost", "almost": "nearly", "large": "big", "big": "large",
    "start": "begin", "started": "began", "began": "started", "help": "assist", "helped": "assisted",
    "people": "individuals", "buy": "purchase", "bought": "purchased", "purchased": "bought",
    "showed": "indicated", "shows": "indicates", "told": "informed", "however": "but",
    "also": "additionally", "children": "kids", "kids": "children", "car": "vehicle",
    "officials": "authorities", "authorities": "officials", "attempt": "try", "tried": "attempted",
    "died": "passed away", "killed": "left dead", "U.S.": "United States", "US": "United States",
    "percent": "%", "million": "million", "received": "got", "got": "received", "needs": "requires",
    "needed": "required", "enough": "sufficient", "quickly": "rapidly", "rapidly": "quickly",
}
_SYN_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _SYNONYMS), key=len, reverse=True)) + r")(?=\W)")
_ADVERB = re.compile(r"\s(?:also|just|still|now|reportedly|currently|recently|really|already|even)\b")


def paraphrase(s: str, rng: random.Random) -> str | None:
    """A light meaning-keeping rewrite: synonyms, a leading time phrase moved to the end, an
    end-of-sentence attribution moved to the front, or filler adverbs dropped."""
    options = []
    swapped = _SYN_RE.sub(lambda m: _SYNONYMS[m.group()] if rng.random() < 0.7 else m.group(), s)
    if swapped != s:
        options.append(swapped)
    m = re.match(r"^((?:On|In|Last|Earlier|This)\s[^,]{2,30}),\s+(.+)\.$", s)
    if m and m.group(2).split()[0] not in ("he", "she", "it", "they"):
        rest = m.group(2)
        lead = m.group(1)
        options.append(f"{rest[0].upper() + rest[1:]} {lead[0].lower() + lead[1:]}.")
    m = re.match(r"^[“\"]?(.+?),?[”\"]?,\s+([A-Z][\w.\- ]{2,40}?)\s+(said|says|told \w+)\.$", s)
    if m and len(m.group(1).split()) >= 5:
        body = m.group(1).rstrip(",")
        options.append(f"{m.group(2)} {m.group(3)} that {body[0].lower() + body[1:]}.")
    dropped = _ADVERB.sub("", s)
    if dropped != s:
        options.append(dropped)
    return rng.choice(options) if options else None


NEGATIVE_EDITS = {"number": swap_number, "date": swap_date, "ordinal": swap_ordinal,
                  "name": swap_name, "roles": swap_roles, "negation": negate, "antonym": antonym,
                  "modality": modality, "overstated": overstate}


def _window(doc: Doc, i: int, rng: random.Random) -> tuple[str, set[str]]:
    lo = max(0, i - rng.randint(0, 2))
    hi = min(len(doc.sentences), i + 1 + rng.randint(0, 2))
    part = doc.sentences[lo:hi]
    return " ".join(part), set(part)


def pairs_for(doc: Doc, i: int, rng: random.Random, foreign: list[str]) -> list[Pair]:
    """One positive and one negative claim made from sentence ``i`` of ``doc``."""
    s = doc.sentences[i]
    passage, window = _window(doc, i, rng)
    out: list[Pair] = []
    positive = rng.choice(("exact", "clause", "compress", "join", "paraphrase", "paraphrase"))
    claim = {"exact": s, "clause": clause_of(s, rng), "compress": compress(s, rng),
             "paraphrase": paraphrase(s, rng)}.get(positive)
    if claim is None and positive != "join":  # fall back to any meaning-keeping edit that applies
        fallbacks = (("paraphrase", paraphrase), ("compress", compress), ("clause", clause_of))
        positive, claim = next(((kind, c) for kind, make in fallbacks if (c := make(s, rng)) is not None),
                               (positive, None))
    if positive == "join" and i + 1 < len(doc.sentences) and doc.sentences[i + 1] in window:
        nxt = doc.sentences[i + 1]
        if s.endswith(".") and nxt[:1].isupper() and len(s) + len(nxt) < 320:
            claim = f"{s[:-1]}, and {nxt[0].lower() + nxt[1:] if nxt.split()[0] not in _NOT_NAMES else nxt}"
    if claim:
        out.append(Pair(passage, claim, 1.0, positive))
    else:
        out.append(Pair(passage, s, 1.0, "exact"))
    kinds = [*NEGATIVE_EDITS, "added_clause", "unaddressed", "foreign"]
    rng.shuffle(kinds)
    for kind in kinds:
        if kind == "added_clause":
            claim = add_clause(s, doc, rng, window)
        elif kind == "unaddressed":
            outside = [t for t in doc.sentences if t not in window and len(t) >= 40]
            claim = rng.choice(outside) if outside else None
        elif kind == "foreign":
            claim = rng.choice(foreign) if foreign else None
        else:
            claim = NEGATIVE_EDITS[kind](s, doc, rng)
        if claim and claim != s and claim not in passage:
            out.append(Pair(passage, claim, 0.0, kind))
            break
    return out


def _restates(claim: str, passage: str, share: float = 0.7) -> bool:
    """The passage's words cover ``share`` of the claim's content words: it may well say it."""
    mine = set(terms(claim))
    return bool(mine) and len(mine & set(terms(passage))) / len(mine) >= share


# An other outlet's sentence is taken as saying what the window says when the window holds its
# names and numbers and at least COVERED of its content words, and it is not a near copy of the
# aligned sentence (at most REWORDED of their words shared), so its wording is really another.
COVERED, REWORDED = 0.85, 0.8
MIN_SHARED = 0.4  # ... and shares this much with that one sentence (not a sum of scattered words)
# They are found for one article in six (~2.3k positives among ~116k pairs), and they are what the
# synthetic positives lack (real rewording): each is used this many times.
OUTLET_REPEAT = 3


def outlet_pairs(doc: Doc, others: list[Doc], rng: random.Random, limit: int = 3) -> list[Pair]:
    """Up to ``limit`` (window of ``doc``, other outlet's sentence) positives, each with one
    negative made by a meaning-changing edit of that sentence (its values swapped for
    ``doc``'s, so the edit cannot be told by words the window lacks)."""
    mine = doc.sentences[:60]
    if not mine:
        return []
    mine_terms = [set(terms(s)) for s in mine]
    found: list[tuple[str, str]] = []
    for other in others:
        for claim in other.sentences[:40]:
            if not (50 <= len(claim) <= 300 and claim.endswith(".")):
                continue
            ct = set(terms(claim))
            if len(ct) < 6:
                continue
            best = max(range(len(mine)), key=lambda i: len(ct & mine_terms[i]))
            window = " ".join(mine[max(0, best - 1) : best + 2])
            shared = len(ct & mine_terms[best]) / len(ct | mine_terms[best])
            if (claim in window or not MIN_SHARED <= shared <= REWORDED
                    or not _restates(claim, window, COVERED)
                    or not set(_NUMBER.findall(claim)) <= set(_NUMBER.findall(window))
                    or any(n not in window for n in names(claim))):
                continue
            found.append((window, claim))
    out: list[Pair] = []
    for window, claim in rng.sample(found, min(limit, len(found))):
        out.append(Pair(window, claim, 1.0, "outlet"))
        kinds = list(NEGATIVE_EDITS)
        rng.shuffle(kinds)
        for kind in kinds:
            edited = NEGATIVE_EDITS[kind](claim, doc, rng)
            if edited and edited != claim and edited not in window:
                out.append(Pair(window, edited, 0.0, f"outlet_{kind}"))
                break
    return out


def build(questions: list[Question], docs: dict[str, Doc], per_doc: int = 4,
          seed: int = 17, outlets: bool = False) -> list[Pair]:
    """Pairs from up to ``per_doc`` sentences of every article; deterministic for a seed. With
    ``outlets``, also other outlets' wordings of each article's sentences (``outlet_pairs``), and no
    negative that the passage's words may well state (``_restates``)."""
    rng = random.Random(seed)
    topic: dict[str, list[str]] = {}  # url -> sentences of other articles on the same question
    peers: dict[str, list[str]] = {}  # url -> other articles on the same question
    for q in questions:
        for u in q.urls:
            topic.setdefault(u, []).extend(
                s for v in q.urls if v != u and v in docs for s in docs[v].sentences[:40]
                if 40 <= len(s) <= 250)
            peers.setdefault(u, []).extend(v for v in q.urls if v != u and v in docs
                                           and docs[v].title != docs[u].title)
    out: list[Pair] = []
    for url in sorted(docs):
        doc = docs[url]
        usable = [i for i, s in enumerate(doc.sentences) if 50 <= len(s) <= 300 and s.endswith(".")]
        for i in rng.sample(usable, min(per_doc, len(usable))):
            made = pairs_for(doc, i, rng, topic.get(url, [])[:200])
            if outlets:
                made = [p for p in made if p.kind not in ("foreign", "unaddressed")
                        or not _restates(p.claim, p.passage)]
            out.extend(made)
        if outlets:
            others = [docs[v] for v in dict.fromkeys(peers.get(url, []))]
            out.extend(OUTLET_REPEAT * outlet_pairs(doc, others, rng))
    rng.shuffle(out)
    return out
