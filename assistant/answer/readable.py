"""Answers a person can read: the fact first, sentences that stand on their own, closed quotes.

- ``short_span`` finds, inside a quoted sentence, the value a who/which/where/when/how-many
  question asks for (a name, a place, a date, a number), as offsets into the sentence. It
  only copies: the span is the sentence's own text, and when no single span clearly fits the
  asked kind (two new names, no date...) there is none and the answer starts with the quote.
- ``with_antecedent`` gives a sentence that opens with a pointer ("This is what Macron said
  …", "He added …") the sentence it points back to, so the quote says what "this" is.
- ``closed`` closes a quotation mark the sentence boundary cut off.
"""

from __future__ import annotations

import re

from assistant.answer.question import head_nouns, names, need, variants
from assistant.answer.sentences import Candidate
from assistant.check.facts import extract_facts
from assistant.kernel.dates import DATE_RE
from assistant.kernel.text import NUMBER_RE, PLACE_RE, QUERY_STOPWORDS, QUESTION_WORDS, terms, tokens, words

# A sentence that cannot stand alone: it opens by pointing back at the one before it.
_POINTER = re.compile(
    r"^\W*(?:(?:this|that|these|those|such)\s+(?:is|was|are|were|means|meant)\b|"
    r"(?:and\s+)?(?:he|she|they|it)\s+(?:also\s+)?(?:added|continued|went on|noted|stressed|"
    r"explained|clarified)\b|according to (?:him|her|them)\b|in (?:his|her|their) (?:opinion|view)\b)",
    re.IGNORECASE)
_PAIRS = (("“", "”"), ("‘", "’"), ("«", "»"))
NEAR = 2  # characters between two sentences of one paragraph
_WHO = re.compile(r"^\W*(?:who|whom|whose)\b|\b(?:with|by|to) whom\b", re.IGNORECASE)
_FULL_NAME = re.compile(r"[A-Z][\w’'-]+(?: [A-Z][\w’'-]+)+")  # "Joe Biden"; not "Paris Institute of …"


def points_back(text: str) -> bool:
    """Whether the sentence opens with a pointer to the one before it."""
    return bool(_POINTER.match(text))


def with_antecedent(c: Candidate) -> Candidate | None:
    """``c`` itself, or — when it opens with a pointer — ``c`` joined with the sentence right
    before it in the same passage; None when that sentence is not at hand."""
    if not points_back(c.text):
        return c
    p = c.passage
    before = [s for s, e in p.sentences if e <= c.start and 0 <= c.start - e <= NEAR]
    if not before or before[-1] < p.start:
        return None
    start = before[-1]
    prev = p.text[start - p.start : c.start - p.start].strip()
    if points_back(prev) or len(words(prev)) < 4 or prev.endswith("?"):
        return None
    return Candidate(p, start, c.end, p.text[start - p.start : c.end - p.start], c.score, c.coverage)


def closed(text: str) -> str:
    """``text`` with the quotation marks it opens and does not close closed at its end."""
    out = text.rstrip()
    for left, right in _PAIRS:
        if left == "‘":  # ’ is also an apostrophe: only a lone opening ‘ is closed
            if out.count("‘") > out.count("’"):
                out += right
            continue
        depth = 0
        for ch in out:
            depth = depth + 1 if ch == left else max(0, depth - 1) if ch == right else depth
        out += right * depth
    if out.count('"') % 2:
        out += '"'
    return out


def short_span(question: str, sentence: str, kind: str | None = None) -> tuple[int, int, str] | None:
    """(start, end, kind) of the value ``question`` asks for inside ``sentence``, or None.

    ``kind`` defaults to ``need(question)``, and must agree with the question's own
    question word ("How did the world react when …" asks for no date). A value the question
    already states does not count; among several new values the one next to the question's
    head noun ("which TV channel" -> the name after "channel") or its content words wins,
    otherwise there is none. Values listed together ("Finland and Sweden") are kept together.
    The sentence must share a word of what is asked beyond the names ("mediated", "phone").
    """
    kind = kind or need(question)
    if kind is None or kind not in _ASKS.get(_question_word(question), ()):
        return None
    if not asked_words(question, sentence, with_names=False):
        return None  # the sentence names things the question names, but says nothing asked
    if kind == "date":
        spans = _new_values(sentence, question, DATE_RE, "date")
    elif kind == "number":
        spans = _number_spans(sentence, question)
    else:
        spans = [_whole_word(sentence, s, e) for s, e in _name_spans(sentence, question, kind)]
    if not spans:
        return None
    near: tuple[int, int] | None = spans[0]
    if len({sentence[s:e].lower() for s, e in spans}) > 1:
        # the words the value should stand next to: the head noun, else the question's words
        # other than its names (a name beside the question's subject is not its answer)
        own = {t for n in names(question) for t in terms(n)}
        wanted = head_nouns(question) or set(terms(question)) - own
        near = _next_to(sentence, spans, wanted)
        if near is None and _WHO.search(question):  # "who": the one person named in full
            people = [(s, e) for s, e in spans if _FULL_NAME.fullmatch(sentence[s:e])]
            near = people[0] if len(people) == 1 else None
    if near is None:
        return None
    start, end = _listed(sentence, near, spans)
    return start, end, kind


# What each question word can ask for ("what"/"which" anything; "how" only "how many/much/old").
_ASKS = {"who": ("name",), "whom": ("name",), "whose": ("name",), "where": ("place", "name"),
         "when": ("date",), "what": ("name", "place", "date", "number"),
         "which": ("name", "place", "date", "number"), "how": ("number",)}
_QUESTION_WORD = re.compile(r"\b(who|whom|whose|where|when|what|which|how|why)\b", re.IGNORECASE)


def _question_word(question: str) -> str:
    """The question's first question word ("On which TV channel …" -> which)."""
    m = _QUESTION_WORD.search(question)
    if m is None:
        return ""
    word = m.group(1).lower()
    if word == "how" and not re.match(r"how (?:many|much|old)\b", question[m.start():], re.I):
        return "how?"  # "how did …": a manner, no value
    return word


def _whole_word(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span widened to the whole written word: "Correspondent.net", not "Correspondent"."""
    def inside(i: int) -> bool:
        return sentence[i].isalnum() or (sentence[i] in ".-’'&" and 0 < i < len(sentence) - 1
                                         and sentence[i - 1].isalnum() and sentence[i + 1].isalnum())
    while start > 0 and inside(start - 1):
        start -= 1
    while end < len(sentence) and inside(end):
        end += 1
    return start, end


def _listed(sentence: str, span: tuple[int, int], spans: list[tuple[int, int]]) -> tuple[int, int]:
    """``span`` with the values listed right beside it ("Finland and Sweden", "Tampa, Florida"
    stays one list)."""
    start, end = span
    for s, e in sorted(spans):
        if s >= end and re.fullmatch(r"(?:,\s*|\s+and\s+|,\s*and\s+)", sentence[end:s]):
            end = e
    for s, e in sorted(spans, reverse=True):
        if e <= start and re.fullmatch(r"(?:,\s*|\s+and\s+|,\s*and\s+)", sentence[e:start]):
            start = s
    return start, end


def asked_words(question: str, sentence: str, with_names: bool = True) -> int:
    """How many of the question's content words the sentence has, a compound counting for
    its last part ("telephone" for "phone"); ``with_names=False`` counts only the words that are
    not names (what is asked about them: "broadcast", "phone", "mediated")."""
    have = words(sentence)
    stems = set(terms(sentence))
    skip = set() if with_names else names(question)
    return sum(1 for w in words(question)
               if w not in QUERY_STOPWORDS and w not in QUESTION_WORDS and w not in skip
               and (bool(set(terms(w)) & stems)
                    or (len(w) >= 4 and any(v.endswith(w) for v in have))))


def _new_values(sentence: str, question: str, pattern: re.Pattern[str], kind: str) -> list[tuple[int, int]]:
    asked = extract_facts(question).of_kind(kind)
    out = []
    for m in pattern.finditer(sentence):
        value = extract_facts(m.group()).of_kind(kind)
        if value and not value <= asked:
            out.append((m.start(), m.end() - (1 if m.group().endswith(".") else 0)))
    return out


def _number_spans(sentence: str, question: str) -> list[tuple[int, int]]:
    """Counts the question does not give, each with the unit the question counts ("4,500
    visitors", "two draft agreements"); when some carry that unit, only those."""
    dates = [m.span() for m in DATE_RE.finditer(sentence)]
    asked = extract_facts(question).numbers
    unit = re.search(r"\bhow (?:many|much)\s+([\w-]+)(?:\s+([\w-]+))?", question, re.IGNORECASE)
    units = [w.lower() for w in (unit.groups() if unit else ()) if w and w.lower() not in
             QUERY_STOPWORDS and w.lower() not in QUESTION_WORDS]
    out, counted = [], []
    for m in NUMBER_RE.finditer(sentence):
        if any(s <= m.start() < e for s, e in dates):
            continue  # the day or year of a date is not a count
        if extract_facts(m.group()).numbers <= asked and m.group().strip():
            continue
        end = m.end()
        for _ in units:  # the unit words that follow, as many as the question has
            word = re.match(r"\s+([\w-]+)", sentence[end:])
            if not word or not any(_same_word(word.group(1).lower(), u) for u in units):
                break
            end += word.end()
        out.append((m.start(), end))
        if end > m.end():
            counted.append((m.start(), end))
    return counted or out


def _same_word(a: str, b: str) -> bool:
    """One word, or one the last part of the other ("fires" / "wildfires")."""
    short, long_ = sorted((a, b), key=len)
    return terms(a) == terms(b) or (len(short) >= 4 and long_.endswith(short))


def _name_spans(sentence: str, question: str, kind: str) -> list[tuple[int, int]]:
    asked = _question_words(question)
    places = {m.group(1).lower() for m in PLACE_RE.finditer(sentence)} if kind == "place" else set()
    out = []
    for surface in dict.fromkeys(extract_facts(sentence).surface.get(v, v)
                                 for v in extract_facts(sentence).names):
        at = sentence.find(surface)
        if at < 0:
            continue
        parts = {w.lower().strip("’'") for w in surface.split()}
        if parts & asked:
            continue  # the question's own names are not its answer
        if kind == "place" and not parts & places:
            continue
        after = sentence[at + len(surface) :]
        if (len(parts) == 1 and re.match(r"\s+[a-z]", after)
                and re.search(r"(?:an|ese|ish|ch|ic|i)$", surface)):
            continue  # "his American counterpart", "Olympic sports body": an adjective
        out.append((at, at + len(surface)))
    return sorted(out)


def _question_words(question: str) -> set[str]:
    """The question's words and their name forms ("Sri Lankan" -> sri, lankan, lanka): a name
    made of them is the question's own, not its answer."""
    out = {w for w in words(question) if w not in QUERY_STOPWORDS}
    return out | {v for w in out for v in variants(w)} | names(question)


def _next_to(sentence: str, spans: list[tuple[int, int]], wanted: set[str]) -> tuple[int, int] | None:
    """The one span with a wanted word among the two words before or after it."""
    hits = []
    for s, e in spans:
        around = tokens(sentence[:s])[-2:] + tokens(sentence[e:])[:2]
        if set(terms(" ".join(around))) & wanted:
            hits.append((s, e))
    return hits[0] if len(hits) == 1 else None
