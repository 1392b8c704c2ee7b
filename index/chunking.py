"""Sentence-aware chunking with exact character offsets.

Sentences come from NLTK's Punkt model, which llama-index ships inside its package
(``llama_index/core/_static/nltk_cache``), so nothing is downloaded. Line breaks are
hard boundaries too: news text often puts one sentence per line with no final stop.
Invariant: ``text[c.start:c.end] == c.text`` for every chunk, and every sentence
span lies inside exactly the article text it was cut from.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.kernel.records import Chunk

_LINE = re.compile(r"[^\n]+")
# A run that is still far too long for a sentence (tables, lists without stops) is
# cut at the last space before this many characters, so no chunk grows unbounded.
_MAX_SENTENCE = 1200


@lru_cache(maxsize=1)
def _punkt() -> Any:
    """Punkt with the English tables llama-index ships (found as llama-index finds them)."""
    import nltk
    from nltk.tokenize.punkt import PunktTokenizer

    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llama-index-core is not installed: pip install -e .")
    cache = str(Path(next(iter(spec.submodule_search_locations))) / "_static" / "nltk_cache")
    if cache not in nltk.data.path:
        nltk.data.path.append(cache)
    return PunktTokenizer("english")


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text`` (shifted by ``offset``).

    Spans never include surrounding whitespace and never cross a line break.
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


def chunk_article(
    doc_id: str, text: str, chunk_chars: int = 600, overlap_sentences: int = 1
) -> list[Chunk]:
    """Group whole sentences into chunks of about ``chunk_chars`` characters.

    Consecutive chunks share ``overlap_sentences`` sentences so that an answer
    spanning a boundary is still found in one chunk. A single sentence longer than
    ``chunk_chars`` becomes a chunk on its own.
    """
    sentences = split_sentences(text)
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while j < len(sentences) and sentences[j][1] - sentences[i][0] <= chunk_chars:
            j += 1
        group = tuple(sentences[i:j])
        start, end = group[0][0], group[-1][1]
        chunks.append(Chunk(doc_id, len(chunks), start, end, text[start:end], group))
        if j >= len(sentences):
            break
        # Step forward, keeping the overlap but always making progress.
        i = max(j - overlap_sentences, i + 1)
    return chunks
