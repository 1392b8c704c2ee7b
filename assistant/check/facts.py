"""Checkable facts in a text: numbers, dates, names and roles, normalised for comparison.

The support judge (``assistant/check/judge.py``) and conflict detection ask the same question:
does this text state *this* value, and if not, does it state a *different* value of the same
kind? This module finds the values; ``assistant/check/compare.py`` answers the question.
Values are normalised so that surface variants compare equal: "3 December" /
"December 3" / "Dec. 3" -> ``--12-03``; "$10.4 billion" -> ``10400000000``; "U.S." / "US" ->
``us``; "the EU's head of diplomacy" -> role ``head of diplomacy of eu``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from assistant.kernel.dates import DATE_RE
from assistant.kernel.text import (
    CLAIM_STOPWORDS,
    MONTH_NUMBERS,
    NAMED_NUMBER_RE,
    NUMBER_RE,
    SCALES,
    TIME_RE,
    WEEKDAYS,
    WORD_NUMBERS,
    fold,
    quick_sentences,
    stem_token,
    token_spans,
)

KINDS = ("number", "date", "name", "role")
# words that deny what follows them ("no real solutions", "their lack of real solutions",
# "insufficient demand", "zero fatalities")
NEGATIONS = frozenset({"not", "no", "never", "nor", "cannot", "without", "none", "lack", "lacks",
                       "lacked", "lacking", "insufficient", "zero"})
# common words that open news sentences with a capital but name nobody
_OPENERS = frozenset("""officials authorities investigators police residents analysts critics
    experts officers firefighters witnesses scientists researchers doctors lawmakers prosecutors
    protesters voters workers leaders ministers sources reports observers rescuers soldiers
    troops rebels demonstrators students teachers parents fans players supporters opponents
    members citizens people organisers organizers prior earlier later today yesterday tomorrow
    last next many several still instead rather overall separately elsewhere shares prices""".split())
_NOT_NAMES = set(MONTH_NUMBERS) | set(WEEKDAYS)
# The states as US news abbreviates them after a lawmaker's party ("R-Fla.", "D-N.Y."):
# the place is the name ("Rick Scott of Florida"); a town stays as written ("D-Middletown").
_STATES = dict(pair.replace("_", " ").split("=") for pair in """Ala=Alabama Ariz=Arizona Ark=Arkansas
    Calif=California Colo=Colorado Conn=Connecticut Del=Delaware Fla=Florida Ga=Georgia
    Ill=Illinois Ind=Indiana Kan=Kansas Ky=Kentucky La=Louisiana Md=Maryland Mass=Massachusetts Mich=Michigan
    Minn=Minnesota Miss=Mississippi Mo=Missouri Mont=Montana Neb=Nebraska Nev=Nevada
    N.H=New_Hampshire N.J=New_Jersey N.M=New_Mexico N.Y=New_York N.C=North_Carolina
    N.D=North_Dakota Okla=Oklahoma Ore=Oregon Pa=Pennsylvania R.I=Rhode_Island
    S.C=South_Carolina S.D=South_Dakota Tenn=Tennessee Vt=Vermont Va=Virginia Wash=Washington
    W.Va=West_Virginia Wis=Wisconsin Wyo=Wyoming""".split())
_DECADE_RE = re.compile(r"(?<![\w.-])((?:1\d|20)\d0)s\b")  # "the 1800s", "the 1990s"
ROLE_HEADS = (
    "vice president|president|prime minister|foreign minister|minister|secretary-general|"
    "secretary general|secretary|head|chief executive|chief|ceo|chairman|chairwoman|chair|"
    "director|spokesman|spokeswoman|spokesperson|ambassador|governor|mayor|commissioner|"
    "chancellor|speaker|envoy|commander|founder|coach|captain|editor"
)
_ROLE_WORDS = {w for head in ROLE_HEADS.split("|") for w in head.split()}
# titles that precede a person's name ("French President Emmanuel Macron"); not "General",
# "Prime" or "Chief", which also open company names ("General Motors")
_TITLE_WORDS = frozenset("""president minister secretary chancellor governor mayor ambassador
    commissioner spokesman spokeswoman spokesperson ceo cfo cto chairman chairwoman director
    envoy commander speaker senator king queen prince princess pope""".split())

_ROLE_RE = re.compile(
    # owner: "EU's", "European Union's", "NFL", or a demonym ("French", "Russian")
    r"(?:(?P<owner>(?:[A-Z][\w.-]*\s+){0,2}[A-Z][\w.-]*(?=['’]s)|[A-Z]{2,}|[A-Z][a-z]+(?:an|ese|ish|ch|i))"
    r"(?:['’]s)?\s+)?"
    rf"\b(?P<head>(?i:{ROLE_HEADS}))\b(?P<of>(?:\s+(?:of|for)\s+(?:the\s+)?"
    r"(?:[A-Z][\w.-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w.-]*)*|[a-z]{3,}))*)"
)
_AUXILIARIES = frozenset("""is are was were be been being has have had do does did will would
    shall should can could may might must""".split())
_CONNECTORS = {"of", "the", "de", "du", "des", "la", "le", "van", "von", "der", "del", "da"}


@dataclass(frozen=True)
class Facts:
    """Normalised checkable values of one text by kind; ``surface`` maps them back to text."""

    numbers: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()  # ISO-like: "2021-02-07", "2021-02", "2021", "--12-03"
    names: frozenset[str] = frozenset()  # stemmed tokens: "tampa", "josep borrel"
    roles: frozenset[str] = frozenset()  # "head of diplomacy of european union"
    surface: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def of_kind(self, kind: str) -> frozenset[str]:
        """The values of one kind ("number", "date", "name" or "role")."""
        return {"number": self.numbers, "date": self.dates, "name": self.names,
                "role": self.roles}[kind]

    def items(self) -> list[tuple[str, str]]:
        """(kind, value) pairs in a stable order."""
        return [(k, v) for k in KINDS for v in sorted(self.of_kind(k))]

    def show(self, value: str) -> str:
        """The value as it was written."""
        return self.surface.get(value, value)


def _date_value(m: re.Match[str]) -> str:
    g = m.groupdict()
    if g["iso"]:
        return f"{g['iso']}-{g['im']}-{g['id']}"
    month, day = g["m1"] or g["m2"] or g["m3"], g["d1"] or g["d2"]
    year = g["y1"] or g["y2"] or g["y3"] or g["y4"] or ""
    if not month:
        return year
    mm = f"{MONTH_NUMBERS[fold(month)[:3]]:02d}"
    if not day:
        return f"{year}-{mm}"
    return f"{year or '-'}-{mm}-{int(re.sub(r'[a-z]', '', day)):02d}"


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _number_value(m: re.Match[str]) -> str:
    if m.group("word"):
        return str(WORD_NUMBERS[m.group("word").lower()])
    value = float(m.group("num").replace(",", ""))
    value *= SCALES[m.group("scale").lower()] if m.group("scale") else 1
    return str(int(value)) if value == int(value) else f"{value:.6g}"


def _name_runs(sentence: str) -> list[list[str]]:
    """Runs of capitalised tokens, unbroken by punctuation ("of"/"the" may join them)."""
    runs: list[list[str]] = [[]]
    toks = token_spans(sentence)
    prev_end = 0
    for i, m in enumerate(toks):
        tok, gap = m.group(), sentence[prev_end : m.start()]
        prev_end = m.end()
        head, dash, tail = tok.partition("-")
        if dash and head[:1].isupper() and tail[:1].islower():
            tok = head  # "the Nolan-directed film", "a Paris-based firm": the name is Nolan, Paris
        elif dash and head in ("D", "R", "I") and tail[:1].isupper():
            tok = _STATES.get(tail.rstrip("."), tail)  # "Sen. Rick Scott, R-Fla.": of Florida
        initial = i == 0 or any(c in gap for c in "\"“‘:;(")
        if gap.strip() and runs[-1]:
            runs.append([])  # punctuation ends a name: "Tampa, Florida" is two names
        low = fold(tok).rstrip(".")
        capital = any(c.isupper() for c in tok) and low not in _NOT_NAMES
        if initial and (low in CLAIM_STOPWORDS or low in _OPENERS or low.endswith("ly") or (
                len(low) >= 8 and low.endswith("ing") and low[-4] not in "jq")):
            capital = False  # a capital that only marks the sentence start ("Concerning")
        elif low in _AUXILIARIES:
            capital = False  # title case: "Gurnah Is Awarded" is a name and a verb, not one name
        nxt = next((t.group() for t in toks[i + 1 :] if fold(t.group()) not in _CONNECTORS), "")
        if capital or (runs[-1] and low in _CONNECTORS and any(c.isupper() for c in nxt)):
            runs[-1].append(tok)
            if tok.endswith(("'s", "’s")):
                runs.append([])  # "Pixar's Soul": the owner and the owned are two names
        elif runs[-1] and tok.isdigit() and len(tok) <= 3 and fold(runs[-1][-1]) not in _CONNECTORS:
            runs[-1].append(tok)  # "Toy Story 4", "Pixel 6": the number is part of the name
            runs.append([])
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _names(text: str) -> dict[str, str]:
    """Names found in ``text``: stemmed key -> surface."""
    found: dict[str, str] = {}
    for sentence in quick_sentences(text):
        for run in _name_runs(sentence):
            heads = [i for i, t in enumerate(run) if fold(t) in _TITLE_WORDS]
            if heads:  # "French President Emmanuel Macron" -> "Emmanuel Macron"; roles are apart
                rest = run[heads[-1] + 1 :]
                while rest and fold(rest[0]) in _ROLE_WORDS:
                    rest = rest[1:]  # "Secretary General of NATO"
                run = [] if rest and fold(rest[0]) in _CONNECTORS else rest
            while run and fold(run[-1]) in _CONNECTORS:
                run = run[:-1]
            while run and fold(run[0]) in _CONNECTORS | CLAIM_STOPWORDS:
                run = run[1:]
            if run:
                key = " ".join(stem_token(t) for t in run)
                found.setdefault(key, re.sub(r"['’]s$", "", " ".join(run)))
    return found


def _role_key(m: re.Match[str]) -> tuple[str, str] | None:
    """(normalised role, surface) of a role match, or None when it names no office."""
    owner, head, of = m.group("owner"), fold(m.group("head")), m.group("of") or ""
    shown = m.group()
    if owner and (fold(owner.split()[0]) in CLAIM_STOPWORDS or fold(owner) in _TITLE_WORDS):
        owner, shown = None, m.group()[m.start("head") - m.start() :]
    shown = re.sub(r"(?<=\w{3})\.$", "", shown)  # the sentence's full stop, not "U.S."
    if not owner and not of.strip():
        return None  # "the president said": too vague to compare
    words = [fold(w).replace(".", "") for w in re.findall(r"[\w.-]+", of)]
    parts = [head] + [w for w in words if w != "the"]
    if owner:
        parts += ["of", fold(owner).replace(".", "")]
    return " ".join(parts), shown


@lru_cache(maxsize=20_000)
def extract_facts(text: str) -> Facts:
    """Numbers, dates, names and roles stated in ``text``, normalised (see module doc).

    The result is cached and shared: treat it (and its ``surface`` dict) as read-only.
    """
    surface: dict[str, str] = {}
    found: dict[str, set[str]] = {k: set() for k in KINDS}

    def add(kind: str, value: str, text_: str) -> None:
        found[kind].add(value)
        surface.setdefault(value, text_.strip())

    rest = text
    for m in DATE_RE.finditer(text):
        add("date", _date_value(m), re.sub(r"(\w{4,})\.$", r"\1", m.group()))
        rest = _blank(rest, *m.span())
    for m in [*TIME_RE.finditer(rest), *NAMED_NUMBER_RE.finditer(rest)]:
        if m.re is NAMED_NUMBER_RE and fold(m.group().split()[0]) in CLAIM_STOPWORDS:
            continue  # "After 14 games": a sentence's first word, not a name's number
        rest = _blank(rest, *m.span(m.lastindex or 0))  # a time, or a number that is a name's
    for m in _DECADE_RE.finditer(rest):
        add("number", m.group(1), m.group())  # "the early 1800s": 1800, not 1900
    for m in NUMBER_RE.finditer(rest):
        add("number", _number_value(m), m.group())
    for sentence in quick_sentences(text):
        for m in _ROLE_RE.finditer(sentence):
            if (role := _role_key(m)) is not None:
                add("role", *role)
    for key, shown in _names(text).items():
        add("name", key, shown)
    return Facts(frozenset(found["number"]), frozenset(found["date"]), frozenset(found["name"]),
                 frozenset(found["role"]), surface)
