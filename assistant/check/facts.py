"""Checkable facts in a sentence: numbers, dates, names and roles, normalised for comparison.

The support judge (``assistant/check/judge.py``) and conflict detection ask the same question:
does this text state *this* value, and if not, does it state a *different* value of the same
kind? Values are normalised so that surface variants compare equal: "3 December" /
"December 3" / "Dec. 3" -> ``--12-03``; "$10.4 billion" -> ``10400000000``; "U.S." / "US" ->
``us``; "the EU's head of diplomacy" -> role ``head of diplomacy of eu``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import Stemmer

_STEM = Stemmer.Stemmer("english")
KINDS = ("number", "date", "name", "role")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = _words(
    """a about above after again against all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves out
    over own same she should so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which
    while who whom whose why will with would you your yours yourself yourselves s t don
    according may might must shall one ones however meanwhile moreover therefore thus although
    though because since despite yet including following"""
)
NEGATIONS = frozenset({"not", "no", "never", "nor", "cannot", "without", "none"})
_MONTHS = {m: i for i, ms in enumerate(
    ["jan january", "feb february", "mar march", "apr april", "may", "jun june", "jul july",
     "aug august", "sep sept september", "oct october", "nov november", "dec december"], 1)
    for m in ms.split()}
# common words that open news sentences with a capital but name nobody
_OPENERS = _words("""officials authorities investigators police residents analysts critics
    experts officers firefighters witnesses scientists researchers doctors lawmakers prosecutors
    protesters voters workers leaders ministers sources reports observers rescuers soldiers
    troops rebels demonstrators students teachers parents fans players supporters opponents
    members citizens people organisers organizers prior earlier later today yesterday tomorrow
    last next many several still instead overall separately elsewhere shares prices""")
_NOT_NAMES = set(_MONTHS) | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                             "sunday"}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_WORD_NUMBERS = {w: i for i, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve")) if i > 1}
ROLE_HEADS = (
    "vice president|president|prime minister|foreign minister|minister|secretary-general|"
    "secretary general|secretary|head|chief executive|chief|ceo|chairman|chairwoman|chair|"
    "director|spokesman|spokeswoman|spokesperson|ambassador|governor|mayor|commissioner|"
    "chancellor|speaker|envoy|commander|founder|coach|captain|editor"
)
_ROLE_WORDS = {w for head in ROLE_HEADS.split("|") for w in head.split()}
# titles that precede a person's name ("French President Emmanuel Macron"); not "General",
# "Prime" or "Chief", which also open company names ("General Motors")
_TITLE_WORDS = _words("""president minister secretary chancellor governor mayor ambassador
    commissioner spokesman spokeswoman spokesperson ceo cfo cto chairman chairwoman director
    envoy commander speaker senator king queen prince princess pope""")

_MON = (r"(?:January|February|March|April|May|June|July|August|September|October|November|"
        r"December|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?)")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_DATE_RE = re.compile(
    rf"\b(?:(?P<iso>{_YEAR})-(?P<im>[01]\d)-(?P<id>[0-3]\d)"
    rf"|(?P<m1>{_MON})\s+(?P<d1>{_DAY})(?:\s*[–-]\s*{_DAY})?(?![\d,.]\d)(?:,?\s+(?P<y1>{_YEAR}))?"
    rf"|(?P<d2>{_DAY})(?:\s*[–-]\s*{_DAY})?\s+(?P<m2>{_MON})(?:,?\s+(?P<y2>{_YEAR}))?"
    rf"|(?P<m3>{_MON}),?\s+(?P<y3>{_YEAR})"
    rf"|(?P<y4>{_YEAR}))(?![\w-])"
)
_NUMBER_RE = re.compile(
    r"(?<![\w.-])[$€£¥]?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:st|nd|rd|th)?"
    r"(?:\s*(?P<scale>(?i:thousand|million|billion|trillion|bn))\b)?(?![\w-])"
    r"|\b(?P<word>(?i:" + "|".join(_WORD_NUMBERS) + r"))\b"
)
_TIME_RE = re.compile(r"\b\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?", re.IGNORECASE)
_NAMED_NUMBER_RE = re.compile(r"\b[A-Z][\w'-]*\s(\d{1,3})\b(?![.,:]\d)")  # "Toy Story 4"
_TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W_](?:[\w'’&-]*[^\W_])?")
_ROLE_RE = re.compile(
    # owner: "EU's", "European Union's", "NFL", or a demonym ("French", "Russian")
    r"(?:(?P<owner>(?:[A-Z][\w.-]*\s+){0,2}[A-Z][\w.-]*(?=['’]s)|[A-Z]{2,}|[A-Z][a-z]+(?:an|ese|ish|ch|i))"
    r"(?:['’]s)?\s+)?"
    rf"\b(?P<head>(?i:{ROLE_HEADS}))\b(?P<of>(?:\s+(?:of|for)\s+(?:the\s+)?"
    r"(?:[A-Z][\w.-]*(?:\s+(?:of\s+(?:the\s+)?)?[A-Z][\w.-]*)*|[a-z]{3,}))*)"
)
_AUXILIARIES = _words("""is are was were be been being has have had do does did will would
    shall should can could may might must""")
_CONNECTORS = {"of", "the", "de", "du", "des", "la", "le", "van", "von", "der", "del", "da"}
_SENTENCE_END = re.compile(r"(?<=[.!?…])([\"”’)]*)\s+(?=[\"“‘(]?[A-Z0-9])|\s*(?:\.\.\.|…)\s*|\n+")
_ABBREV = re.compile(r"(?:\b(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Prof|No|vs|Inc|Co|Corp"
                     r"|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.|(?:[A-Z]\.){2,})$")


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes: the form every comparison uses."""
    text = text.replace("’", "'")
    if text.isascii():  # nothing to strip: the common case, kept cheap
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Word tokens in original case; ``U.S.``, ``GPT-3`` and ``O'Neill`` stay whole."""
    return _TOKEN_RE.findall(text)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Light English stem of one token ("Medals" -> "medal", "U.S." -> "us", "EU's" -> "eu")."""
    word = fold(word).replace(".", "")
    return _STEM.stemWord(word[:-2] if word.endswith("'s") else word)


def content_words(text: str) -> set[str]:
    """Stems of the words that carry meaning: stop-words and punctuation removed."""
    return {stem(t) for t in tokens(text) if fold(t).replace(".", "") not in STOPWORDS}


@lru_cache(maxsize=50_000)
def stem_text(text: str) -> str:
    """All tokens stemmed and space-joined, padded with spaces for whole-phrase search."""
    return " " + " ".join(stem(t) for t in tokens(text)) + " "


def split_sentences(text: str) -> list[str]:
    """Sentences of a passage; '...' and line breaks also end one, abbreviations don't."""
    out: list[str] = []
    pending, pos = "", 0
    for m in _SENTENCE_END.finditer(text):
        piece = pending + text[pos : m.start()] + (m.group(1) or "")
        pos = m.end()
        if m.group(1) is not None and _ABBREV.search(piece.rstrip()):
            pending = piece + " "  # "Dr. Smith", "the U.S. Army": not a sentence end
            continue
        pending = ""
        if piece.strip():
            out.append(piece.strip())
    tail = (pending + text[pos:]).strip()
    return out + ([tail] if tail else [])


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
    mm = f"{_MONTHS[fold(month)[:3]]:02d}"
    if not day:
        return f"{year}-{mm}"
    return f"{year or '-'}-{mm}-{int(re.sub(r'[a-z]', '', day)):02d}"


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _number_value(m: re.Match[str]) -> str:
    if m.group("word"):
        return str(_WORD_NUMBERS[m.group("word").lower()])
    value = float(m.group("num").replace(",", ""))
    value *= _SCALE[m.group("scale").lower()] if m.group("scale") else 1
    return str(int(value)) if value == int(value) else f"{value:.6g}"


def _name_runs(sentence: str) -> list[list[str]]:
    """Runs of capitalised tokens, unbroken by punctuation ("of"/"the" may join them)."""
    runs: list[list[str]] = [[]]
    toks = list(_TOKEN_RE.finditer(sentence))
    prev_end = 0
    for i, m in enumerate(toks):
        tok, gap = m.group(), sentence[prev_end : m.start()]
        prev_end = m.end()
        initial = i == 0 or any(c in gap for c in "\"“‘:;(")
        if gap.strip() and runs[-1]:
            runs.append([])  # punctuation ends a name: "Tampa, Florida" is two names
        low = fold(tok).rstrip(".")
        capital = any(c.isupper() for c in tok) and low not in _NOT_NAMES
        if initial and (low in STOPWORDS or low in _OPENERS or low.endswith("ly") or (
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
    for sentence in split_sentences(text):
        for run in _name_runs(sentence):
            heads = [i for i, t in enumerate(run) if fold(t) in _TITLE_WORDS]
            if heads:  # "French President Emmanuel Macron" -> "Emmanuel Macron"; roles are apart
                rest = run[heads[-1] + 1 :]
                while rest and fold(rest[0]) in _ROLE_WORDS:
                    rest = rest[1:]  # "Secretary General of NATO"
                run = [] if rest and fold(rest[0]) in _CONNECTORS else rest
            while run and fold(run[-1]) in _CONNECTORS:
                run = run[:-1]
            while run and fold(run[0]) in _CONNECTORS | STOPWORDS:
                run = run[1:]
            if run:
                key = " ".join(stem(t) for t in run)
                found.setdefault(key, re.sub(r"['’]s$", "", " ".join(run)))
    return found


def _role_key(m: re.Match[str]) -> tuple[str, str] | None:
    """(normalised role, surface) of a role match, or None when it names no office."""
    owner, head, of = m.group("owner"), fold(m.group("head")), m.group("of") or ""
    shown = m.group()
    if owner and (fold(owner.split()[0]) in STOPWORDS or fold(owner) in _TITLE_WORDS):
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
    for m in _DATE_RE.finditer(text):
        add("date", _date_value(m), re.sub(r"(\w{4,})\.$", r"\1", m.group()))
        rest = _blank(rest, *m.span())
    for m in [*_TIME_RE.finditer(rest), *_NAMED_NUMBER_RE.finditer(rest)]:
        rest = _blank(rest, *m.span(m.lastindex or 0))  # a time, or a number that is a name's
    for m in _NUMBER_RE.finditer(rest):
        add("number", _number_value(m), m.group())
    for sentence in split_sentences(text):
        for m in _ROLE_RE.finditer(sentence):
            if (role := _role_key(m)) is not None:
                add("role", *role)
    for key, shown in _names(text).items():
        add("name", key, shown)
    return Facts(frozenset(found["number"]), frozenset(found["date"]), frozenset(found["name"]),
                 frozenset(found["role"]), surface)


# --- comparing values -------------------------------------------------------------------

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
    words = {stem(w) for seg in segments for w in seg if w not in STOPWORDS}
    words |= {"".join(w[0] for w in seg) for seg in segments if len(seg) > 1}  # EU ~ European Union
    return head, words


def _roles_agree(a: str, b: str) -> bool:
    (ha, wa), (hb, wb) = _role_parts(a), _role_parts(b)
    return ha == hb and (wa <= wb or wb <= wa)


# A name's kind, guessed from its words, so that an event ("Academy Awards Ceremony") is not
# taken for a different value of a person, place or company ("Heath Ledger").
_EVENT_WORDS = frozenset(map(stem, _words("""award awards ceremony election elections championship
    championships cup games olympics prize festival summit conference tournament draft bowl
    final finals season series oscars grand""")))


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


def name_variant(a: str, b: str) -> bool:
    """Whether stemmed names ``a`` and ``b`` may denote the same thing: the words of one are
    among the other's ("Biden" / "Joe Biden", "Wimbledon" / "Wimbledon Championships"), an
    initial standing for a word ("J. Biden"). Different numbers never match ("Toy Story 2")."""
    if _demonym(a, b):
        return True
    short, long_ = sorted((a.split(), b.split()), key=len)
    if {t for t in short if t.isdigit()} != {t for t in long_ if t.isdigit()}:
        return False
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
    if f" {value} " in stemmed:
        return 1.0
    words = value.split()
    if any(set(words) <= set(n.split()) or _demonym(value, n) for n in facts.names):
        return 1.0  # reordered: "Jacques Delors Institute" in "Institute of Jacques Delors"
    # a shorter form that keeps the head ("Barty" for "Ashleigh Barty") is only half a match
    return 0.5 if any(words[-1] in n.split() and set(n.split()) <= set(words)
                      and 3 * len(n.split()) >= len(words) for n in facts.names) else 0.0


def _slot(text: str, shown: str, reach: int = 2) -> set[str]:
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
                          if _slot(a, fa.show(x)) & _slot(b, fb.show(y))]
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
