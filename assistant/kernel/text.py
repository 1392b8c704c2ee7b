"""The text toolkit every layer shares: calendar names, stop-words, stems, tokens and words,
numbers, names and places as written, sentences (dates as written: ``kernel/dates.py``).

Each of these is defined once so that the write path (chunking, date resolution), storage
(BM25 stemming), the fact checks and the answerers agree on what a month, a stop-word, a
stem, a number or a sentence is. Where two users need two forms of one thing (two
tokenisations, two number patterns, two sentence splitters), both are here, side by side,
with what each is for. Heavy parts (the Snowball stemmer, NLTK's Punkt) load on first use.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

# --- calendar names ---------------------------------------------------------------------

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
# in the order the date patterns try them: "sept" before "sep", so "Sept." matches whole
MONTH_ABBREVIATIONS = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sept", "sep", "oct",
                       "nov", "dec")
MONTH_NUMBERS = {name: number for number, full in enumerate(MONTHS, 1)
                 for name in (full, *(a for a in MONTH_ABBREVIATIONS if full.startswith(a)))}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# --- stop-words -------------------------------------------------------------------------

# Words that carry no topic anywhere: the common English function words (NLTK's list and a
# few more).
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom whose why will with would you your yours yourself yourselves s t don according
""".split())
# Matching a question to news sentences also skips the reporting verbs nearly every news
# sentence has ("said", "told") and a few prepositions.
QUERY_STOPWORDS = STOPWORDS | frozenset("said say says tell told per via upon among".split())
# Checking a claim also skips connectives, modals and "one": they state no checkable fact,
# and capitalised at a sentence start ("However", "One") they are not names.
CLAIM_STOPWORDS = STOPWORDS | frozenset("""may might must shall one ones however meanwhile
    moreover therefore thus although though since despite yet including following""".split())
# What a question asks with, not what it asks about.
QUESTION_WORDS = frozenset("what when where which who whom whose why how did does do is are was "
                           "were tell name give list".split())

# --- stems and tokens -------------------------------------------------------------------

_local = threading.local()


def stemmer() -> Any:
    """This thread's English Snowball stemmer (PyStemmer); BM25 hands it to bm25s.

    One per thread: a PyStemmer instance keeps state while it stems and must not be shared.
    """
    instance = getattr(_local, "stemmer", None)
    if instance is None:
        import Stemmer

        instance = _local.stemmer = Stemmer.Stemmer("english")
    return instance


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of one lower-case word ("medals" -> "medal", "reported" -> "report")."""
    return str(stemmer().stemWord(word))


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes: the form every fact comparison uses."""
    text = text.replace("’", "'")
    if text.isascii():  # nothing to strip: the common case, kept cheap
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


# Two tokenisations: ``tokens`` keeps words as written (case, "U.S."), for the keyword index,
# fact spans and claim words; ``words`` lower-cases and drops possessives ("Russia’s" ->
# "russia"), for matching a question's words to sentences (``terms``: their stems, without
# stop-words and question words). Both feed stored indexes or measured answers.
_TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[^\W_](?:[\w'’&-]*[^\W_])?")
_WORD_RE = re.compile(r"[^\W_]+(?:[’'.-][^\W_]+)*", re.UNICODE)
_POSSESSIVE = re.compile(r"[’']s?$")


def tokens(text: str) -> list[str]:
    """Word tokens in original case; ``U.S.``, ``GPT-3`` and ``O'Neill`` stay whole."""
    return _TOKEN_RE.findall(text)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, possessives dropped ("Russia’s" -> "russia")."""
    return list(_words(text))


@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    # cached: one answer tokenises the same sentences for scoring, citing and comparing
    return tuple(_POSSESSIVE.sub("", w) if "'" in w or "’" in w else w
                 for w in _WORD_RE.findall(text.lower()))


def terms(text: str) -> list[str]:
    """Stemmed content words of ``words`` (no stop-words, no question words)."""
    return list(_terms(text))


@lru_cache(maxsize=8192)
def _terms(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _words(text) if w not in QUERY_STOPWORDS and w not in QUESTION_WORDS)


def token_spans(text: str) -> list[re.Match[str]]:
    """The matches of ``tokens``, for callers that need where each token is."""
    return list(_TOKEN_RE.finditer(text))


@lru_cache(maxsize=65536)
def stem_token(token: str) -> str:
    """Stem of one token as written ("Medals" -> "medal", "U.S." -> "us", "EU's" -> "eu")."""
    word = fold(token).replace(".", "")
    return stem(word[:-2] if word.endswith("'s") else word)


def content_words(text: str) -> set[str]:
    """Stems of the words that carry a claim's meaning: claim stop-words and punctuation removed."""
    return {stem_token(t) for t in tokens(text) if fold(t).replace(".", "") not in CLAIM_STOPWORDS}


@lru_cache(maxsize=50_000)
def stem_text(text: str) -> str:
    """All tokens stemmed and space-joined, padded with spaces for whole-phrase search."""
    return " " + " ".join(stem_token(t) for t in tokens(text)) + " "


# --- numbers, names and places as written -------------------------------------------------
# Two number patterns, as with the dates (``kernel/dates.py``): ``NUMBER_RE`` finds amounts the
# fact checks normalise and compare ("$10.4 billion", "4,500", "twelve"); ``COUNT_RE`` finds any
# count word or figure (also "hundreds", "dozen"), for the answerers' "how many" slot.

SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
WORD_NUMBERS = {w: i for i, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve")) if i > 1}
NUMBER_RE = re.compile(
    r"(?<![\w.-])[$€£¥]?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?:st|nd|rd|th)?"
    r"(?:\s*(?P<scale>(?i:thousand|million|billion|trillion|bn))\b)?(?![\w-])"
    r"|\b(?P<word>(?i:" + "|".join(WORD_NUMBERS) + r"))\b"
)
TIME_RE = re.compile(r"\b\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?", re.IGNORECASE)  # not an amount
NAMED_NUMBER_RE = re.compile(r"\b[A-Z][\w'-]*\s(\d{1,3})\b(?![.,:]\d)")  # "Toy Story 4": a name's
COUNT_RE = re.compile(r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                      r"hundred|thousand|million|billion|dozen)s?\b", re.IGNORECASE)
# a run of capitalised words ("Emmanuel Macron", "Bank of England"); ``names`` in
# ``assistant/answer/question.py`` drops sentence openers and calendar words from it
NAME_RE = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of\s+the\s+|of\s+)?[A-Z][\w’'-]*)*")
# a place after a preposition or "visit" ("in Moscow", "to the city of Kyiv"): group 1
PLACE_RE = re.compile(r"\b(?:in|at|to|from|near|visit|visits|visited|visiting)\s+(?:the\s+)?"
                      r"(?:[a-z]+\s+(?:of\s+)?(?:the\s+)?)?([A-Z][\w’'-]+)")

# --- sentences --------------------------------------------------------------------------
# Two splitters, because their users need different things and both feed stored or measured
# results. ``split_sentences`` (Punkt) gives exact offsets: chunk boundaries and the sentence
# spans answers quote are built from it, and changing it re-cuts every chunk.
# ``quick_sentences`` (a regex) gives sentence strings cheaply for the fact checks, which
# split every claim and passage on every question; it also ends a sentence at "...".

_LINE = re.compile(r"[^\n]+")
# A run that is still far too long for a sentence (tables, lists without stops) is
# cut at the last space before this many characters, so no chunk grows unbounded.
_MAX_SENTENCE = 1200


# Abbreviations of today's news that the English tables lack ("Gov.", "Capt."), learned by
# Punkt from the training weeks (``train/punkt.py``; model card beside the file).
NEWS_ABBREVIATIONS = Path(__file__).resolve().parents[1] / "models" / "punkt" / "abbreviations.txt"


@lru_cache(maxsize=1)
def english_punkt() -> Any:
    """Punkt with the English tables llama-index ships (found as llama-index finds them), so
    nothing is downloaded."""
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed: pip install -e .")
    cache = str(Path(next(iter(spec.submodule_search_locations))) / "_static" / "nltk_cache")
    if cache not in nltk.data.path:
        nltk.data.path.append(cache)
    return PunktTokenizer("english")


@lru_cache(maxsize=1)
def news_abbreviations() -> frozenset[str]:
    """The abbreviations added to the English tables (none when the file is missing)."""
    if not NEWS_ABBREVIATIONS.is_file():
        return frozenset()
    lines = NEWS_ABBREVIATIONS.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip())


def splitter_stamp() -> str:
    """What, besides this code, decides where sentences end: part of every article's content
    hash, so a store re-cuts its articles when the abbreviations change."""
    return "punkt+" + ",".join(sorted(news_abbreviations()))


@lru_cache(maxsize=1)
def _punkt() -> Any:
    """The English tables plus the news abbreviations (a separate tokenizer: the English one
    stays as shipped, for training)."""
    from nltk.tokenize.punkt import PunktTokenizer

    english_punkt()  # makes the tables findable
    tokenizer = PunktTokenizer("english")
    tokenizer._params.abbrev_types.update(news_abbreviations())
    return tokenizer


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """``(start, end)`` spans of the sentences of ``text`` by Punkt (shifted by ``offset``).

    Line breaks are hard boundaries too: news text often puts one sentence per line with no
    final stop. Spans never include surrounding whitespace and never cross a line break.
    """
    spans: list[tuple[int, int]] = []
    tokenizer = _punkt()
    for line in _LINE.finditer(text):
        base = line.start()
        for s, e in tokenizer.span_tokenize(line.group()):
            spans.extend(_cap(text, base + s, base + e))
    return [(s + offset, e + offset) for s, e in spans if text[s:e].strip()]


def _cap(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a run longer than ``_MAX_SENTENCE`` at spaces; strip whitespace at the edges."""
    out: list[tuple[int, int]] = []
    while end - start > _MAX_SENTENCE:
        cut = text.rfind(" ", start + 1, start + _MAX_SENTENCE)
        cut = cut if cut > start else start + _MAX_SENTENCE
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        out.append((start, end))
    return [(s, e) for s, e in (_strip(text, s, e) for s, e in out) if s < e]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


_SENTENCE_END = re.compile(r"(?<=[.!?…])([\"”’)]*)\s+(?=[\"“‘(]?[A-Z0-9])|\s*(?:\.\.\.|…)\s*|\n+")
_ABBREV = re.compile(
    r"(?:\b(?:[A-Z]|Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Prof|No|vs|Inc|Co|Corp|Ltd|"
    + "|".join(m.capitalize() for m in MONTH_ABBREVIATIONS) + r")\.|(?:[A-Z]\.){2,})$")


def quick_sentences(text: str) -> list[str]:
    """Sentences of a text as strings, by regex; '...' and line breaks also end one,
    abbreviations ("Dr.", "Jan.", "U.S.") don't."""
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
