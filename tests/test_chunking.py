"""Sentence splitting and chunking keep exact offsets into the cleaned text."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.kernel.text import split_sentences
from index.chunking import chunk_article

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def test_sentences_of_a_news_paragraph() -> None:
    text = ("French President Emmanuel Macron said in an interview with TF1. The interview was "
            "recorded in the U.S. last week.\nA new line starts a new sentence")
    spans = split_sentences(text)
    got = [text[s:e] for s, e in spans]
    assert got == [
        "French President Emmanuel Macron said in an interview with TF1.",
        "The interview was recorded in the U.S. last week.",
        "A new line starts a new sentence",
    ]


def test_every_seed_chunk_matches_its_offsets_and_overlaps() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        chunks = chunk_article(path.stem, text, chunk_chars=500, overlap_sentences=1)
        assert chunks, path
        for c in chunks:
            assert text[c.start : c.end] == c.text
            assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for a, b in itertools.pairwise(chunks):
            if len(a.sentences) > 1:  # a one-sentence chunk cannot overlap without repeating
                assert b.sentences[0] == a.sentences[-1], "consecutive chunks share a sentence"
        covered = {s for c in chunks for s in c.sentences}
        assert covered == set(split_sentences(text)), "no sentence is lost"


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000),
    st.integers(min_value=100, max_value=1500),
    st.integers(min_value=0, max_value=3),
)
def test_offsets_invariant_holds_for_any_text(text: str, size: int, overlap: int) -> None:
    chunks = chunk_article("doc", text, chunk_chars=size, overlap_sentences=overlap)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text.strip() == c.text and c.text
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end
            assert "\n" not in text[s:e]
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_a_huge_sentence_is_cut_so_chunks_stay_bounded() -> None:
    text = "word " * 5000
    chunks = chunk_article("doc", text, chunk_chars=600)
    assert max(len(c.text) for c in chunks) <= 1200
    assert all(text[c.start : c.end] == c.text for c in chunks)
