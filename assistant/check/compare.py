"""Comparing checkable facts: the same value in another form, or a different value of the same kind.

``assistant/check/facts.py`` finds the values a text states; this module decides whether a
text states a given value (``value_found``: the support judge's agreement; ``initialism``:
"FDA" for "Food and Drug Administration"), whether two
values differ (``differs``: a judge's mismatch), and which values two sentences about the same
thing disagree on (``fact_differences``: conflicting sources).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.check.facts import KINDS, Facts, extract_facts
from assistant.kernel.text import CLAIM_STOPWORDS, content_words, fold, stem_text, stem_token, tokens


def _date_parts(value: str) -> tuple[str | None, str | None, str | None]:
    if value.startswith("--"):
        month, day = value[2:].split("-")
        return None, month, day
    parts: list[str | None] = [*value.split("-"), None, None]
    return parts[0], parts[1], parts[2]


def _number_close(a: str, b: str) -> bool:
    x, y = float(a), float(b)
    return x == y or abs(x - y) <= 0.005 * max(abs(x), abs(y))  # "$10.4 billion" ~ "$10,389m"


def _role_parts(role: str) -> tuple[str, set[str]]:
    head, _, obj = role.partition(" of ")
    segments = [s.split() for s in obj.split(" of ") if s]
    words = {stem_token(w) for seg in segments for w in seg if w not in CLAIM_STOPWORDS}
    words |= {"".join(w[0] for w in seg) for seg in segments if len(seg) > 1}  # EU ~ European Union
    return head, words


def _roles_agree(a: str, b: str) -> bool:
    (ha, wa), (hb, wb) = _role_parts(a), _role_parts(b)
    return ha == hb and (wa <= wb or wb <= wa)


# A name's kind, guessed from its words, so that an event ("Academy Awards Ceremony") is not
# taken for a different value of a person, place or company ("Heath Ledger").
_EVENT_WORDS = frozenset(map(stem_token, """award awards ceremony election elections championship
    championships cup games olympics prize festival summit conference tournament draft bowl
    final finals season series oscars grand""".split()))


def is_entity(name: str) -> bool:
    """Whether a stemmed name is a person, place, company or work (too alike to tell apart),
    rather than an event or award category, which set the scene of a fact, not its value."""
    words = name.split()
    return words[0] != "best" and not _EVENT_WORDS.intersection(words)


def _comparable(a: str, b: str) -> bool:
    """Whether name ``b`` can stand where name ``a`` stands; "Q2" can for "Q3", not "Earnings"."""
    code = re.fullmatch(r"[a-z]\d{1,2}", a) is not None  # Q2, H1: codes compare with codes
    return is_entity(a) and is_entity(b) and (not code or any(c.isdigit() for c in b))


def _demonym(a: str, b: str) -> bool:
    """"Belgian" ~ "Belgium", "Russian" ~ "Russia" (stemmed, one word each)."""
    if " " in a or " " in b or not (a.endswith(("an", "ese", "ish", "i")) or
                                    b.endswith(("an", "ese", "ish", "i"))):
        return False
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                  min(len(a), len(b)))
    return common >= 4 and common >= min(len(a), len(b)) - 3


def _clipped(one: list[str], other: list[str]) -> bool:
    """A one-word name that is the clipped form of a word of the other (stemmed): "Cavs" for
    "Cavaliers", "Dems" for "Democrats"."""
    return len(one) == 1 and len(one[0]) >= 3 and any(
        len(t) >= len(one[0]) + 2 and t.startswith(one[0]) for t in other)


def name_variant(a: str, b: str) -> bool:
    """Whether stemmed names ``a`` and ``b`` may denote the same thing: the words of one are
    among the other's ("Biden" / "Joe Biden", "Wimbledon" / "Wimbledon Championships"), an
    initial standing for a word ("J. Biden"), a clipped word ("Cavs" / "Cavaliers"). Different
    numbers never match ("Toy Story 2")."""
    if _demonym(a, b):
        return True
    short, long_ = sorted((a.split(), b.split()), key=len)
    if {t for t in short if t.isdigit()} != {t for t in long_ if t.isdigit()}:
        return False
    if _clipped(short, long_) or _clipped(long_, short):
        return True
    return all(any(w == t or (len(w) == 1 and t.startswith(w)) for t in long_) for w in short)


def differs(kind: str, a: str, b: str) -> bool:
    """Whether ``b`` is a *different* value of the same kind as ``a`` (not just another form)."""
    if kind == "number":
        return not _number_close(a, b)
    if kind == "date":
        return any(x and y and x != y for x, y in zip(_date_parts(a), _date_parts(b), strict=True))
    if kind == "name":
        return _comparable(a, b) and not name_variant(a, b)
    return not _roles_agree(a, b)


# One country written as its initials or its adjective (stemmed, as names are kept):
# "U.S." where the passage says "American", "British" for "UK".
_COUNTRY_FORMS = (("us", "usa", "unit state", "american", "america"),
                  ("uk", "unit kingdom", "britain", "british"),
                  ("eu", "european union"), ("un", "unit nation"))
ALIASES = {form: tuple(f for f in forms if f != form) for forms in _COUNTRY_FORMS for form in forms}


def value_found(kind: str, value: str, facts: Facts, stemmed: str) -> float:
    """How far a text states ``value``: 1.0 stated, 0.5 a near variant (names), 0.0 absent.

    ``facts`` and ``stemmed`` are ``extract_facts`` and ``stem_text`` of that text.
    """
    if kind == "number":
        return float(any(_number_close(value, v) for v in facts.numbers))
    if kind == "date":
        want = _date_parts(value)
        years = {_date_parts(v)[0] for v in facts.dates}
        for have in map(_date_parts, facts.dates):
            if all(w is None or w == h or (i == 0 and h is None and w in years)
                   for i, (w, h) in enumerate(zip(want, have, strict=True))):
                return 1.0
        return 0.0
    if kind == "role":
        if any(_roles_agree(value, r) for r in facts.roles):
            return 1.0
        needed = _role_parts(value)[1] | {value.partition(" of ")[0]}
        return float(all(f" {w} " in stemmed for w in needed if len(w) > 1))
    if f" {value} " in stemmed or any(f" {a} " in stemmed for a in ALIASES.get(value, ())):
        return 1.0
    if " of " in value:  # "David Boucher of the Administration": both stated, apart or not
        parts = [p.removeprefix("the ") for p in value.split(" of ")]
        if all(p and value_found("name", p, facts, stemmed) == 1.0 for p in parts):
            return 1.0
    words = value.split()
    if any(set(words) <= set(n.split()) or _demonym(value, n) or _clipped(words, n.split())
           for n in facts.names):
        return 1.0  # reordered: "Jacques Delors Institute" in "Institute of Jacques Delors"
    # a shorter form that keeps the head ("Barty" for "Ashleigh Barty") is only half a match
    return 0.5 if any(words[-1] in n.split() and set(n.split()) <= set(words)
                      and 3 * len(n.split()) >= len(words) for n in facts.names) else 0.0


def slot(text: str, shown: str, reach: int = 2) -> set[str]:
    """Content words around a value's first mention: the role it plays in the sentence."""
    at = text.find(shown)
    if at < 0:
        return set()
    before, after = tokens(text[:at]), tokens(text[at + len(shown) :])
    return content_words(" ".join(before[-reach:] + after[:reach]))


def fact_differences(a: str, b: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Per kind, the values only ``a`` states against different values only ``b`` states.

    As many such values on each side are paired in order of mention ("Tampa, Florida" /
    "Glendale, Arizona"); otherwise only values in the same slot (sharing a nearby word:
    "played in Tampa" / "played in Glendale"), so extra context ("spoke in Paris") is not
    mistaken for a conflict. Roles are always compared.
    """
    fa, fb = extract_facts(a), extract_facts(b)
    sa, sb = stem_text(a), stem_text(b)
    out = []
    for kind in KINDS:
        def only(f: Facts, text: str, other: Facts, stemmed: str, kind: str = kind) -> list[str]:
            values = [v for v in f.of_kind(kind) if not value_found(kind, v, other, stemmed)
                      and (kind != "name" or is_entity(v))]
            return sorted(values, key=lambda v: (text.find(f.show(v)), v))

        only_a, only_b = only(fa, a, fb, sb), only(fb, b, fa, sa)
        if kind == "role":
            candidates = [(x, y) for x in only_a for y in only_b]
        elif len(only_a) == len(only_b):
            candidates = list(zip(only_a, only_b, strict=True))
        else:
            candidates = [(x, y) for x in only_a for y in only_b
                          if slot(a, fa.show(x)) & slot(b, fb.show(y))]
        pairs = [(x, y) for x, y in candidates if differs(kind, x, y)]
        left = tuple(dict.fromkeys(fa.show(x) for x, _ in pairs))
        right = tuple(dict.fromkeys(fb.show(y) for _, y in pairs))
        if pairs:
            out.append((kind, left, right))
    return out


def facts_conflict(a: str, b: str) -> list[str]:
    """For two sentences about the same thing, the number/date/name/role values that differ.

    >>> facts_conflict("Super Bowl LV was played in Tampa, Florida.",
    ...                "Super Bowl LV was played in Glendale, Arizona.")
    ['name Florida / Tampa vs Arizona / Glendale']
    """
    return [f"{k} {' / '.join(x)} vs {' / '.join(y)}" for k, x, y in fact_differences(a, b)]


_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:and|of|the|for|&)\s+)*[A-Z][\w'’-]*)+")
_ACRONYM = re.compile(r"\b[A-Z]{3,6}\b")


def _initials(text: str) -> dict[str, set[str]]:
    """Initialisms a text spells out: "Food and Drug Administration" -> {"FDA": {"food", "drug",
    "administration"}}, for each run of three or more capitalised words ("US Food and Drug
    Administration" gives "USFDA", "UFD", "FDA", …)."""
    out: dict[str, set[str]] = {}
    for m in _CAPITALISED_RUN.finditer(text):
        caps = [w for w in m.group().split() if w[:1].isupper()]
        for i in range(len(caps)):
            for j in range(i + 3, len(caps) + 1):
                out.setdefault("".join(w[0] for w in caps[i:j]), set()).update(
                    fold(w) for w in caps[i:j])
    return out


def initialism(name: str, spelled: set[str], passages: Sequence[str]) -> bool:
    """A claim's name that is an initialism the passages spell out ("FDA"), or a spelled-out
    name whose initialism the passages write ("Drug Administration" of "Food and Drug
    Administration", where the passage says "FDA"). ``spelled``: ``spelled_out`` of the claim."""
    if _ACRONYM.fullmatch(name):
        return name in _initials(" ".join(passages))
    return {fold(w) for w in name.split()} <= spelled


def spelled_out(sentence: str, passages: Sequence[str]) -> set[str]:
    """The words of the sentence's spelled-out names whose initialisms the passages write."""
    written = set(_ACRONYM.findall(" ".join(passages)))
    return {w for acronym, spelled in _initials(sentence).items() if acronym in written
            for w in spelled}
