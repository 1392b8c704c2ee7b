"""Sentence-aware chunking with exact character offsets.

Sentences come from ``split_sentences`` in ``assistant/kernel/text.py``: NLTK's Punkt model,
which llama-index ships inside its package (``llama_index/core/_static/nltk_cache``), so
nothing is downloaded; line breaks are hard boundaries too. Invariant:
``text[c.start:c.end] == c.text`` for every chunk, and every sentence span lies inside
exactly the article text it was cut from.
"""

from __future__ import annotations

from assistant.kernel.records import Chunk
from assistant.kernel.text import split_sentences


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
