"""The shared text toolkit (assistant/kernel/text.py): what every layer agrees a month, a
stop-word, a stem and a sentence is."""

from __future__ import annotations

import pytest

from assistant.answer.question import has_date
from assistant.check.facts import extract_facts
from assistant.kernel.dates import parse_date
from assistant.kernel.text import (
    CLAIM_STOPWORDS,
    MONTH_NUMBERS,
    QUERY_STOPWORDS,
    STOPWORDS,
    WEEKDAYS,
    content_words,
    quick_sentences,
    split_sentences,
    stem,
    stem_token,
    terms,
)


def test_every_month_name_and_abbreviation_has_its_number() -> None:
    assert MONTH_NUMBERS["january"] == 1 and MONTH_NUMBERS["may"] == 5
    assert MONTH_NUMBERS["sept"] == MONTH_NUMBERS["sep"] == MONTH_NUMBERS["september"] == 9
    assert len(set(MONTH_NUMBERS.values())) == 12
    assert WEEKDAYS[0] == "monday"  # date.weekday() order: resolve_dates relies on it


@pytest.mark.parametrize("written", ["SEPTEMBER 5", "september 5", "Sept. 5", "sep 5"])
def test_a_month_name_in_any_case_is_a_date_in_a_question(written: str) -> None:
    assert has_date(f"What happened on {written}?")


def test_the_fact_checks_and_the_date_parser_read_the_same_months() -> None:
    assert extract_facts("It opened on Sept. 5, 2021.").dates == {"2021-09-05"}
    assert parse_date("Sept. 5, 2021") == "2021-09-05"
    assert extract_facts("Talks may resume.").dates == frozenset()  # the verb is not a month


def test_a_stem_matches_across_inflections() -> None:
    assert stem("medals") == stem("medal")
    assert stem("reported") == stem("reporting") == stem("reports")
    assert stem_token("Medals") == stem_token("medal")
    assert stem_token("EU's") == stem_token("EU") == "eu"
    assert stem_token("U.S.") == "us"
    assert terms("Who reported the medals?") == terms("report medal")


def test_stop_words_share_one_base_and_name_their_additions() -> None:
    assert STOPWORDS < QUERY_STOPWORDS and STOPWORDS < CLAIM_STOPWORDS
    assert "said" in QUERY_STOPWORDS and "said" not in CLAIM_STOPWORDS
    assert "however" in CLAIM_STOPWORDS and "however" not in QUERY_STOPWORDS
    assert content_words("However, the medals were won by Norway") == {"medal", "won", "norway"}
    assert "said" not in terms("Biden said it")


@pytest.mark.parametrize("text", ["Mr. Smith arrived.", "The U.S. Army met Dr. Smith on Dec. 3."])
def test_an_abbreviation_does_not_end_a_sentence(text: str) -> None:
    assert quick_sentences(text) == [text]
    assert split_sentences(text) == [(0, len(text))]


@pytest.mark.parametrize("text", [
    "The state will invite Florida Gov. Ron DeSantis to the summit.",
    "Army Sgt. Maria Lopez and Cpl. Dan Reyes were honoured on Monday.",
    "U.S. Sens. Jack Reed and Sheldon Whitehouse wrote to the agency.",
    "The Yankees signed J.D. Martinez, the designated hitter, on Friday."])
def test_a_title_or_initials_before_a_name_do_not_end_a_sentence(text: str) -> None:
    """The news abbreviations Punkt learned from the training weeks (``train/punkt.py``): the
    English tables alone cut each of these inside the name."""
    assert split_sentences(text) == [(0, len(text))]
    assert split_sentences(f"{text} The next sentence starts here.")[0] == (0, len(text))


def test_both_splitters_end_a_sentence_at_a_line_break() -> None:
    text = "First line without a stop\nSecond line. Third one."
    assert quick_sentences(text) == ["First line without a stop", "Second line.", "Third one."]
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "First line without a stop", "Second line.", "Third one."]


def test_split_sentences_gives_offsets_shifted_by_offset() -> None:
    text = "  One sentence here.  Another one.  "
    spans = split_sentences(text, offset=100)
    assert [text[s - 100 : e - 100] for s, e in spans] == ["One sentence here.", "Another one."]
