"""News awareness: event dates, "which came first" questions, and conflicting sources.

- ``order_parts`` recognises questions that compare two events ("Which came first, A
  or B?"); each event is answered on its own and the answer lists them in date order,
  dated by the resolved date expressions of the quoted sentences (never invented: an
  undated event is said to be undated).
- ``is_recency`` recognises "What is the latest on ...?": among sentences that answer
  nearly as well as the best, the most recent evidence wins.
- ``planned_only`` notices a question about what happened at an event the articles only
  announce ("What did they agree on February 7?" asked of articles published before
  February 7 that say the meeting "will be held"): the articles cannot know the outcome.
- ``unmentioned_dates`` lists days a question names ("the March 29 talks") that no
  retrieved article mentions: such articles are about another event.
- ``conflicts`` finds sentences that answer the same question but state a different
  number, date, name or role (the support module's fact comparison tells them apart),
  so the answer can show both claims instead of silently picking one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer.question import dice, names, overlap
from assistant.answer.sentences import Candidate
from assistant.check.compare import fact_differences, slot
from assistant.check.facts import extract_facts
from assistant.kernel.dates import DAY_VALUE_RE
from assistant.kernel.records import Article
from assistant.kernel.text import terms

_ORDER = re.compile(
    r"^(?:which|what|who)\b[^,:?]*\b(?:first|earlier|later|last|before|after)\b[^,:?]*[,:]\s*"
    r"(?P<a>.+?)\s+or\s+(?P<b>.+?)\??$", re.IGNORECASE)
_ORDER_TAIL = re.compile(
    r"^(?P<head>.+?),\s*(?P<a>[^,]+?)\s+or\s+(?P<b>[^,]+?)\??$", re.IGNORECASE)
_LATER = re.compile(r"\b(later|last|latest|most recent|after)\b", re.IGNORECASE)
_RECENCY = re.compile(r"\b(latest|most recent|newest|recent developments?|last update)\b",
                      re.IGNORECASE)
_ROLE_QUESTION = re.compile(r"\b(role|job|position|title|post|who is|is \w+ the)\b", re.IGNORECASE)
_WHO_REPORTS = re.compile(r"\b(?:which|how many|what|other) (?:sources|outlets|reports|media|"
                          r"articles|news \w+|newspapers)\b|\bconfirm|\bcorroborat|\breported by",
                          re.IGNORECASE)
_OUTCOME_QUESTION = re.compile(r"\b(did|was|were|had)\b", re.IGNORECASE)
_PLAN_WORDS = re.compile(r"\b(due|plan\w*|schedul\w*|expect\w*|going|will|would|intend\w*|"
                         r"set to|announc\w*)\b", re.IGNORECASE)
_TO_COME = re.compile(r"\b(will|shall|is due|are due|is expected|are expected|plans? to|"
                      r"is scheduled|are scheduled|is set to|are set to|to be held)\b", re.IGNORECASE)
SAME_CLAIM = 0.5  # share of the smaller sentence's other content words two claims must share


def order_parts(question: str) -> tuple[str, str, bool] | None:
    """(event A, event B, asks_for_later) for a question comparing two events, else None."""
    q = question.strip()
    m = _ORDER.match(q)
    if m is None:
        tail = _ORDER_TAIL.match(q)
        if tail is None or not re.search(r"\b(first|earlier|later|before|after)\b", tail["head"], re.I):
            return None
        m = tail
    a, b = m["a"].strip(" ,.?"), m["b"].strip(" ,.?")
    if len(terms(a)) + len(terms(b)) < 2:
        return None
    return a, b, bool(_LATER.search(q.split(",")[0].split(":")[0]))


def is_recency(question: str) -> bool:
    """True for "what is the latest on ..." questions."""
    return bool(_RECENCY.search(question))


def event_date(c: Candidate, article: Article | None) -> str | None:
    """The date a quoted sentence speaks of: its first resolved date expression, if any."""
    if article is None:
        return None
    for d in article.dates:
        if c.start <= d.start and d.end <= c.end:
            return d.date
    return None


def evidence_date(c: Candidate, article: Article | None) -> str | None:
    """The event date of a sentence, else its article's publish date."""
    return event_date(c, article) or c.passage.published


Disagreement = tuple[Candidate, str, tuple[str, ...], tuple[str, ...]]


def conflicts(first: Candidate, ranked: Sequence[Candidate], question: str,
              kind: str | None, limit: int = 3) -> list[Disagreement]:
    """Sentences that answer like ``first`` but state a different value.

    Returns (sentence, kind, values in ``first``, values in it). Two sentences are about
    the same fact when, the differing values aside, they share most content words —
    or, for a question about someone's role, when they come from one article. Names the
    question gives are never a differing value, and unless the question asks for a name,
    two names differ only when they stand in the same part of their sentences.
    """
    wanted = {"date": {"date"}, "number": {"number"}, "name": {"name", "role"},
              "place": {"name"}}.get(
        kind or "", {"number", "date", "name", "role"})
    role_question = bool(_ROLE_QUESTION.search(question))
    if role_question:
        wanted = wanted | {"role"}
    out = []
    mine = set(terms(first.text))
    asked = names(question)
    for c in ranked:
        if c is first or c.text == first.text:
            continue
        # A role given elsewhere in the same article may not repeat the question's words.
        same_article = role_question and c.passage.doc_id == first.passage.doc_id
        if c.score < 0.6 * first.score and not same_article:
            continue
        for diff_kind, left, right in differences(first.text, c.text, asked, kind):
            if diff_kind not in wanted:
                continue
            values = set(terms(" ".join(left + right)))
            theirs = set(terms(c.text))
            same_claim = overlap(mine - values, theirs - values) >= SAME_CLAIM
            same_person = diff_kind == "role" and same_article and not _named(right, c.text)
            if same_claim or same_person:
                out.append((c, diff_kind, left, right))
                break
        if len(out) >= limit:
            break
    return out


def unmentioned_dates(question: str, articles: Sequence[Article]) -> tuple[str, ...]:
    """Days the question names ("the March 29 talks") that none of ``articles`` mentions.

    A day in the question picks out one event; articles that never mention that day —
    in words or by a relative date resolved against their publish date ("on Tuesday") —
    are about another event, so the answer must not come from them. Years alone and
    weekdays are too loose to check.
    """
    asked = extract_facts(question)
    days = [d for d in asked.dates if DAY_VALUE_RE.fullmatch(d)]
    if not days:
        return ()
    stated: set[str] = set()
    for a in articles:
        stated |= extract_facts(f"{a.title}\n{a.text}").dates
        stated |= {span.date for span in a.dates}
    month_days = {d[-5:] for d in stated if DAY_VALUE_RE.fullmatch(d)}

    def mentioned(day: str) -> bool:
        return day in stated if not day.startswith("--") else day[-5:] in month_days

    return tuple(asked.surface.get(d, d) for d in sorted(days) if not mentioned(d))


def planned_only(question: str, c: Candidate, article: Article | None) -> str | None:
    """The event date, when ``question`` asks what happened (past tense, not about plans) and
    the quoted sentence only announces the event (future tense) for the day its article was
    published or later."""
    if not _OUTCOME_QUESTION.search(question) or _PLAN_WORDS.search(question):
        return None
    if not _TO_COME.search(c.text) or not c.passage.published:
        return None
    day = event_date(c, article)
    return day if day and day >= c.passage.published[:10] else None


def asks_who_reports(question: str) -> bool:
    """True for "which outlets report ...", "how many sources say ...", "who confirms ..."."""
    return bool(_WHO_REPORTS.search(question))


def other_outlets(question: str, chosen: list[Candidate], pool: Sequence[Candidate],
                  most: int = 3) -> list[Candidate]:
    """Add other articles' own sentences making the first claim (one per article).

    Used when the reader asks who reports something: every outlet is quoted in its own
    words, so each quote is supported by its own citation. A sentence qualifies when it
    covers the question nearly as well as the first, shares its wording in part, and
    states no different number, date or name.
    """
    first = chosen[0]
    asked = set(terms(question))
    mine = set(terms(first.text))
    bar = 0.6 * len(asked & mine)
    docs = {c.passage.doc_id for c in chosen}
    out = list(chosen)
    for c in sorted(pool, key=lambda c: -len(asked & set(terms(c.text)))):
        if len(out) >= most:
            break
        theirs = set(terms(c.text))
        if (c.passage.doc_id in docs or len(asked & theirs) < max(bar, 2)
                or dice(mine, theirs) < 0.25
                or differences(first.text, c.text, names(question))):
            continue
        docs.add(c.passage.doc_id)
        out.append(c)
    return out


def differences(a: str, b: str, asked: set[str], kind: str | None = None
                ) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """``compare.fact_differences`` of two sentences answering one question, without the name
    differences that are no second value: the question's own names (``asked``, lower-case
    words), and — unless the question asks for a name (``kind``) — names that do not stand
    in the same part of their sentences."""
    out = []
    for diff_kind, left, right in fact_differences(a, b):
        if diff_kind == "name":
            left, right = _apart(left, asked), _apart(right, asked)
            if not left or not right or (kind not in ("name", "place")
                                         and not _same_slot(a, b, left, right)):
                continue
        out.append((diff_kind, left, right))
    return out


def _apart(values: tuple[str, ...], asked: set[str]) -> tuple[str, ...]:
    """The names that are not the question's own: "Macron" in one rewrite and "the French
    leader" in another is the question's subject written two ways, not a second value."""
    return tuple(v for v in values if not {w.lower().strip("’'") for w in v.split()} & asked)


def _same_slot(a: str, b: str, left: tuple[str, ...], right: tuple[str, ...]) -> bool:
    """Whether a name of ``a`` and one of ``b`` play the same part in their sentences (share a
    word next to them: "played in Tampa" / "played in Glendale"). Rewrites of a claim name
    different people and places in different parts ("Macron said …" / "Western countries
    should …"); only names in the same part state different values of one fact."""
    return any(slot(a, x) & slot(b, y) for x in left for y in right)


def _named(roles: tuple[str, ...], text: str) -> bool:
    """Whether each role is followed by a name ("French President Emmanuel Macron"): then it
    is that person's role, not a second title for the person asked about."""
    return all(re.search(re.escape(r) + r"\s+[A-Z]", text) for r in roles)
