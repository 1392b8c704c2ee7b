"""Answers a person can read (assistant/answer/readable.py, issue #15): the fact first, sentences
that stand alone, closed quotes, one marker per article — on the real seeds store."""

from __future__ import annotations

import re

import pytest

from assistant.answer.readable import closed, points_back, short_span

TF1 = "On which TV channel did Macron speak about guarantees for Russia?"
PHONE = "Who did Macron speak with by phone before going to Moscow?"


def _span(question: str, sentence: str) -> str | None:
    found = short_span(question, sentence)
    return sentence[found[0]:found[1]] if found else None


@pytest.mark.parametrize(("question", "sentence", "expected"), [
    (TF1, "This is what French President Emmanuel Macron said in an interview with the French TV "
          "channel TF1.", "TF1"),
    ("When was Macron's TF1 interview broadcast?", "French President Emmanuel Macron said in an "
     "interview with French TV station TF1 broadcast on 3 December, Reuters reports.", "3 December"),
    ("Where did Borrell give his speech?", "It is noted that during a speech at the forum of the Paris "
     "Institute of Jacques Delors, Borrell said that the conflict should be resolved.",
     "Paris Institute of Jacques Delors"),
    ("How many visitors did the lantern festival draw?", "The lantern festival in Quenton drew 4,500 "
     "visitors on Sunday.", "4,500 visitors"),
    (PHONE, "French President Emmanuel Macron had a telephone conversation with his American "
            "counterpart Joe Biden, during which they discussed the situation in Ukraine.", "Joe Biden"),
    # the count of the asked unit, not the other numbers around it
    ("How many wildfires have there been in Wales this year?", "There had been 420 fires in Wales "
     "this year, outstripping the 247 in the whole of 2021, and 200 the year before that.", "420 fires"),
    ("Which countries announced their intention to join NATO?", "Troops moved even after Finland "
     "and Sweden announced their intentions to join NATO.", "Finland and Sweden"),
    ("Which outlet reported the state visit?", "Correspondent.net previously reported the state visit.",
     "Correspondent.net"),
])
def test_the_short_answer_is_the_asked_kind_of_value_copied_from_the_sentence(
        question: str, sentence: str, expected: str) -> None:
    assert _span(question, sentence) == expected


@pytest.mark.parametrize(("question", "sentence"), [
    # two new names, neither next to what was asked: no confident span
    ("Who met in Geneva?", "Talks between Blinken and Lavrov followed a call by Scholz."),
    # the only name is the question's own (in another form)
    ("Sri Lankan President Gotabaya Rajapaksa fled to which country?",
     "Sri Lanka's President Gotabaya Rajapaksa, who fled the country, has resigned."),
    ("What did Macron say?", "Macron said the West must prepare."),  # asks for no kind of value
    # "when" inside a "how" question asks for no date
    ("How did the world react when Russia launched its operation?", "On February 24, Russia "
     "launched a military operation in Ukraine, which was followed by sanctions."),
    # names, but nothing of what is asked ("mediated")
    ("Who mediated the talks in Turkey?", "Borrell said Ukraine's chances of joining the European "
     "Union rise."),
])
def test_no_confident_span_means_no_short_answer(question: str, sentence: str) -> None:
    assert short_span(question, sentence) is None


def test_cut_quotes_are_closed_and_pointers_are_recognised() -> None:
    assert closed("Macron said, in an interview with the French TV “TF1”, “We must think.") == (
        "Macron said, in an interview with the French TV “TF1”, “We must think.”")
    assert closed("“Fine,” he said.") == "“Fine,” he said."
    assert closed("He said \"we will") == "He said \"we will\""
    assert points_back("This is what French President Emmanuel Macron said in an interview.")
    assert points_back("And he continued in his statements: “This issue …”")
    assert not points_back("This week Macron spoke to TF1.")


def test_tf1_answer_starts_with_the_channel_copied_from_the_article(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask(TF1)
    assert answer.short is not None and answer.short.text == "TF1"
    assert answer.text.startswith(f"TF1 [{answer.short.citation}] — ")
    article = seeds_assistant.document(answer.short.doc_id)
    assert article.text[answer.short.start:answer.short.end] == "TF1"  # provenance, not pasted text
    cited = next(c for c in answer.citations if c.number == answer.short.citation)
    assert cited.doc_id == answer.short.doc_id and cited.start <= answer.short.start < cited.end
    # the quote says what "This is what …" points back to
    quote = answer.sentences[1].text
    assert not quote.startswith("This is what") and "This is what" in quote
    assert "need for security guarantees" in quote


def test_who_question_starts_with_the_person_not_the_moscow_meeting(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask(PHONE)
    assert answer.text.startswith("Joe Biden [1] — French President Emmanuel Macron had a telephone "
                                  "conversation")
    assert answer.sentences[0].short and not answer.sentences[1].short


def test_one_article_one_marker_and_no_unclosed_quote(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    for question in (TF1, PHONE, "Which outlets reported Macron's TF1 interview?",
                     "What did Macron say on TF1 about Russia?", "What is Josep Borrell's role?"):
        answer = seeds_assistant.ask(question)
        docs = [c.doc_id for c in answer.citations]
        assert len(docs) == len(set(docs)), question  # one number per article
        numbers = {c.number for c in answer.citations}
        for s in answer.sentences:
            assert set(s.citations) <= numbers
            assert len(set(s.citations)) == len(s.citations)  # never [1][1]
            assert s.text.count("“") <= s.text.count("”"), s.text
        for c in answer.citations:  # every quoted sentence is still exact provenance
            text = seeds_assistant.document(c.doc_id).text
            assert all(text[q.start:q.end] == q.quote and q.number == c.number for q in c.quotes)
        assert not re.search(r"\[(\d+)\]\[\1\]", answer.text)
