"""Asking questions of the seeds: cited answers, exact offsets, abstention, filters, bad input."""

from __future__ import annotations

import re

import pytest

from assistant import ABSTAIN_TEXT, Answer, BadQuestionError

# One factual question per seed article, phrased as a reader would, with a word the
# answer must contain and the article it must cite.
FACTS = [
    ("Where did Borrell speak about security guarantees?", "Jacques Delors", "000_59035ac7a78f4fad"),
    ("How many draft agreements did Russia submit to the United States and NATO?", "two",
     "001_cbcefea2cfbb97a1"),
    ("When will Macron and Putin meet in Moscow?", "February 7", "002_bce7acdd8eae0ae1"),
    ("What does the Institute for the Study of War say Russia wants from the West?",
     "preemptive concessions", "003_b638dfb737329836"),
    ("Who will receive Macron on a state visit?", "Biden", "004_80287d7f8de47a75"),
]


def assert_well_cited(assistant, answer: Answer) -> None:  # type: ignore[no-untyped-def]
    """Every marker resolves, numbering follows first use, quotes match article offsets."""
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    numbers = [c.number for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    assert set(markers) == set(numbers), "no dangling marker, no unused citation"
    first_use = list(dict.fromkeys(markers))
    assert first_use == sorted(first_use), "numbered in order of first use"
    for c in answer.citations:
        article = assistant.document(c.doc_id)
        assert article.text[c.start : c.end] == c.quote
        assert article.text[c.passage_start : c.passage_end] == c.passage
        assert c.passage_start <= c.start < c.end <= c.passage_end
        assert c.title == article.title and c.published == article.published


@pytest.mark.parametrize(("question", "expected", "doc_id"), FACTS)
def test_factual_question_cites_the_right_sentence(seeds_assistant, question, expected, doc_id) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask(question)
    assert not answer.abstained, answer.notes
    assert expected.lower() in answer.text.lower()
    assert any(c.doc_id == doc_id and expected.lower() in c.quote.lower() for c in answer.citations)
    assert_well_cited(seeds_assistant, answer)


def test_issue_example_tf1(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("On which TV channel did Macron speak about guarantees for Russia?")
    assert "TF1" in answer.text and not answer.abstained
    assert len({c.doc_id for c in answer.citations}) >= 2, "the story's copies are cited too"
    assert_well_cited(seeds_assistant, answer)
    as_json = answer.to_dict()
    assert as_json["citations"][0]["quote"] == answer.citations[0].quote


@pytest.mark.parametrize("question", [
    "Who won the 2022 World Cup?",
    "What did Olaf Scholz say about security guarantees for Russia?",
    "How many tanks did Germany send to Ukraine?",
])
def test_unanswerable_question_abstains(seeds_assistant, question) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask(question)
    assert answer.abstained and answer.text == ABSTAIN_TEXT
    assert not answer.citations and answer.closest, "the reader still sees the closest passages"


def test_filters_restrict_the_evidence(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    question = "What did Macron say about security guarantees for Russia?"
    dated = seeds_assistant.ask(question, since="2022-12-01")
    assert dated.citations and all(c.published and c.published >= "2022-12-01" for c in dated.citations)
    early = seeds_assistant.ask(question, until="2022-03-01")
    assert all(c.published and c.published <= "2022-03-01" for c in early.citations)
    reuters = seeds_assistant.ask(question, sources=["reuters"])
    assert {c.source for c in reuters.citations} <= {"Reuters"}
    nothing = seeds_assistant.ask(question, since="2030-01-01")
    assert nothing.abstained and "no indexed article matches the filters" in nothing.notes


@pytest.mark.parametrize(("question", "message"), [
    ("", "empty"), ("   \n\t ", "empty"), ("x" * 10_001, "limit"), (None, "must be text"),
])
def test_bad_questions_get_a_clear_message(seeds_assistant, question, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestionError, match=message):
        seeds_assistant.ask(question)


def test_bad_filter_values_name_the_field(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuestionError, match="since"):
        seeds_assistant.ask("What did Macron say?", since="last tuesday-ish")
    with pytest.raises(BadQuestionError, match="sources"):
        seeds_assistant.ask("What did Macron say?", sources=[5])


def test_non_english_question_is_handled(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("Что сказал Макрон о гарантиях безопасности для России?")
    # The articles are English: a Russian question either abstains or answers with valid citations.
    assert answer.abstained or answer.citations
    assert_well_cited(seeds_assistant, answer)


def test_control_characters_are_ignored(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("Who will receive\x00 Macron on a\x1b state visit?")
    assert "Biden" in answer.text


def test_a_count_is_not_the_day_of_a_date() -> None:
    from assistant.answer.question import satisfies

    question = "How many people attended the speech?"
    assert not satisfies("This was announced on Tuesday, December 6, 2022.", "number", question)
    assert satisfies("About 300 people attended on Tuesday, December 6.", "number", question)
