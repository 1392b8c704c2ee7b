"""Filters a reader can see: every answer shows them, a date range says what undated articles
it left out (and includes them on request), dates are read one way, and filters that leave
only off-topic passages make the assistant abstain. Real model, real store of the seeds."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assistant import ABSTAIN_TEXT, Assistant, BadQuestionError, Filters
from assistant.app import render
from assistant.kernel.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TF1 = "On which TV channel did Macron speak about security guarantees for Russia?"
PHONE = "What did Macron and Biden discuss on the phone?"
GUARANTEES = "What did Macron say about security guarantees for Russia?"


def outlets_and_days(answer: Any) -> set[tuple[str | None, str | None]]:
    return {(c.source, c.published) for c in answer.citations}


# --- every answer shows its filters ---------------------------------------------------------------
def test_every_answer_carries_the_filters_it_was_asked_with(seeds_assistant: Assistant) -> None:
    answer = seeds_assistant.ask(GUARANTEES, since="2022-12-01", until="2022-12-31",
                                 sources=["Reuters", "korrespondent"])
    assert answer.filters == Filters("2022-12-01", "2022-12-31", ("Reuters", "korrespondent"),
                                     undated=2)
    text = render.answer(answer)
    assert ("filters: published 2022-12-01 to 2022-12-31 · outlets Reuters, korrespondent · "
            "2 undated articles left out") in text
    assert json.loads(json.dumps(answer.to_dict()))["filters"]["since"] == "2022-12-01"
    plain = seeds_assistant.ask(GUARANTEES)
    assert not plain.filters.active and "filters:" not in render.answer(plain)


def test_an_abstention_shows_its_filters_too(seeds_assistant: Assistant) -> None:
    answer = seeds_assistant.ask(GUARANTEES, since="2030-01-01")
    assert answer.abstained and "no indexed article matches the filters" in answer.notes
    assert "filters: published since 2030-01-01 · 3 undated articles left out" in render.answer(answer)


# --- undated articles: counted, and included on request -------------------------------------------
def test_a_date_filter_says_how_many_undated_articles_it_left_out(seeds_assistant: Assistant) -> None:
    answer = seeds_assistant.ask(TF1, since="2022-12-01")
    assert answer.filters.undated == 3  # 3 of the 5 seeds have no date
    assert all(c.published for c in answer.citations)
    shown = render.answer(answer, include_hint=render.CLI_INCLUDE_HINT)
    assert "3 undated articles left out (--include-undated includes them)" in shown
    reuters = seeds_assistant.ask(TF1, since="2022-12-01", sources=["Reuters"])
    assert reuters.filters.undated == 1  # only the outlet's own undated article is counted
    assert seeds_assistant.ask(TF1, sources=["Reuters"]).filters.undated == 0  # no date range


def test_include_undated_searches_the_articles_without_a_date(seeds_assistant: Assistant) -> None:
    left_out = seeds_assistant.ask(TF1, since="2022-12-01")
    assert left_out.abstained  # the dated articles never name the channel
    included = seeds_assistant.ask(TF1, since="2022-12-01", include_undated=True)
    assert not included.abstained and "TF1" in included.text
    assert any(c.published is None for c in included.citations)
    assert all(c.published is None or c.published >= "2022-12-01" for c in included.citations)
    assert "3 undated articles included" in render.answer(included)


def test_include_undated_is_a_setting_and_an_environment_variable(
        seeds_assistant: Assistant, embedder: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INCLUDE_UNDATED", "1")
    settings = Settings(store_dir=seeds_assistant.settings.store_dir)
    assert settings.include_undated
    a = Assistant(settings=settings, model=embedder)
    try:
        answer = a.ask(TF1, since="2022-12-01")
        assert answer.filters.include_undated and not answer.abstained and "TF1" in answer.text
        assert a.ask(TF1, since="2022-12-01", include_undated=False).abstained  # per question
    finally:
        a.close()


# --- dates are read one way, and refused with a reason ----------------------------------------------
@pytest.mark.parametrize("written", [
    "2022-12-01", "December 1, 2022", "1 December 2022", "Dec 1, 2022", "2022/12/01",
    "01.12.2022", "2022-12-01T09:30:00", date(2022, 12, 1),
], ids=str)
def test_unambiguous_dates_are_accepted_in_any_common_form(seeds_assistant: Assistant,
                                                           written: Any) -> None:
    assert seeds_assistant.ask(GUARANTEES, since=written).filters.since == "2022-12-01"


def test_a_slashed_date_is_taken_when_only_one_reading_is_a_date(seeds_assistant: Assistant) -> None:
    assert seeds_assistant.ask(GUARANTEES, until="12/31/2022").filters.until == "2022-12-31"
    assert seeds_assistant.ask(GUARANTEES, until="31/12/2022").filters.until == "2022-12-31"


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"since": "01/02/2022"}, "since '01/02/2022' is ambiguous: 1 February 2022 if the day comes "
                              "first, 2 January 2022 if the month does — write 2022-02-01 or 2022-01-02"),
    ({"until": "3/4/2022"}, "write 2022-04-03 or 2022-03-04"),
    ({"since": "2023-01-01", "until": "2022-01-01"},
     "since 2023-01-01 is after until 2022-01-01 — no day is in that range; swap the two dates"),
    ({"since": "March 14, 2023", "until": "2023-01-01"},
     "since 'March 14, 2023' (2023-03-14) is after until 2023-01-01"),
    ({"since": "last tuesday"}, "since must be a date like 2022-12-05, not 'last tuesday'"),
    ({"include_undated": "yes"}, "include_undated must be True or False"),
], ids=["ambiguous", "ambiguous-short", "inverted", "inverted-words", "not-a-date", "undated-flag"])
def test_a_bad_date_filter_is_refused_saying_why(seeds_assistant: Assistant, kwargs: dict[str, Any],
                                                 expected: str) -> None:
    with pytest.raises(BadQuestionError) as raised:
        seeds_assistant.ask(GUARANTEES, **kwargs)
    assert expected in str(raised.value) and "\n" not in str(raised.value)


# --- filters that leave only off-topic passages: abstain, and say so ---------------------------------
OFF_TOPIC = [
    pytest.param(PHONE, {"sources": ["Reuters"]}, id="phone-call-reuters"),  # issue #15
    pytest.param("What does Russia require Ukraine to commit to?", {"sources": ["Reuters"]},
                 id="neutrality-reuters"),
    pytest.param("When was the last face-to-face round of talks between Russia and Ukraine?",
                 {"sources": ["korrespondent"]}, id="talks-korrespondent"),
    pytest.param("On what condition does Ukraine say negotiations with Russia are possible?",
                 {"until": "2022-03-01"}, id="condition-until"),
    pytest.param("The progress of which talks on Ukraine was Macron expected to build on?",
                 {"since": "2022-12-01"}, id="normandy-since"),
]


@pytest.mark.parametrize(("question", "filters"), OFF_TOPIC)
def test_filters_that_leave_only_off_topic_passages_abstain(
        seeds_assistant: Assistant, question: str, filters: dict[str, Any]) -> None:
    whole = seeds_assistant.ask(question)
    assert not whole.abstained, "the index does answer it, outside the filters"
    answer = seeds_assistant.ask(question, **filters)
    assert answer.abstained and answer.text == ABSTAIN_TEXT and not answer.citations
    note = next(n for n in answer.notes if n.startswith("the filters left nothing on topic"))
    for c in whole.citations:  # says where the answer is: outside the filters
        assert (c.published or "undated") in note
    assert answer.closest, "the reader still sees the closest passages inside the filters"
    assert answer.filters.active


def test_an_llm_answerer_is_not_asked_when_the_filters_left_the_topic_out(
        seeds_assistant: Assistant, embedder: object) -> None:
    # nothing listens on port 9: asking the model would fail with an error, not abstain
    a = Assistant(settings=Settings(store_dir=seeds_assistant.settings.store_dir, answerer="openai",
                                    llm_base_url="http://127.0.0.1:9/v1", llm_timeout=5),
                  model=embedder)
    try:
        answer = a.ask(PHONE, sources=["Reuters"])
        assert answer.abstained and answer.answerer == "openai"
        assert any(n.startswith("the filters left nothing on topic") for n in answer.notes)
    finally:
        a.close()


ON_TOPIC = [
    pytest.param(TF1, {"sources": ["Reuters"]}, "TF1", id="tf1-reuters"),
    pytest.param("Under what condition did Macron say Russia could be given security guarantees?",
                 {"sources": ["Reuters"]}, "negotiations", id="condition-reuters"),
    pytest.param("When did Russia launch its military operation in Ukraine?",
                 {"since": "2022-12-01"}, "February 24", id="invasion-since"),
    pytest.param(PHONE, {"until": "2022-03-01"}, "telephone conversation", id="phone-call-until"),
    pytest.param("Where did the last face-to-face round of talks between Russia and Ukraine take place?",
                 {"since": "2022-12-01"}, "Turkey", id="talks-since"),
]


@pytest.mark.parametrize(("question", "filters", "said"), ON_TOPIC)
def test_filters_that_keep_the_topic_still_answer(seeds_assistant: Assistant, question: str,
                                                  filters: dict[str, Any], said: str) -> None:
    answer = seeds_assistant.ask(question, **filters)
    assert not answer.abstained and said in answer.text
    for source, published in outlets_and_days(answer):
        assert source in filters.get("sources", [source])
        if "since" in filters or "until" in filters:
            assert published and filters.get("since", "") <= published <= filters.get("until", "9")


# --- the command line -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli(seeds_assistant: Assistant) -> Any:
    base = [sys.executable, "-m", "assistant.app.cli", "--store-dir",
            str(seeds_assistant.settings.store_dir)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, timeout=300, cwd=ROOT)

    return run


@pytest.mark.slow
def test_cli_shows_the_filters_and_includes_undated_articles_on_request(cli: Any) -> None:
    run = cli("ask", TF1, "--since", "December 1, 2022")
    assert run.returncode == 0, run.stderr
    assert ("filters: published since 2022-12-01 · 3 undated articles left out "
            "(--include-undated includes them)") in run.stdout
    run = cli("ask", TF1, "--since", "2022-12-01", "--include-undated", "--json")
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["filters"]["include_undated"] and answer["filters"]["undated"] == 3
    assert not answer["abstained"] and "TF1" in answer["text"]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "message"), [
    (("--since", "01/02/2022"), "since '01/02/2022' is ambiguous"),
    (("--since", "2023-01-01", "--until", "2022-01-01"), "since 2023-01-01 is after until 2022-01-01"),
], ids=["ambiguous", "inverted"])
def test_cli_refuses_a_bad_date_in_one_line(cli: Any, args: tuple[str, ...], message: str) -> None:
    run = cli("ask", GUARANTEES, *args)
    assert run.returncode == 2 and not run.stdout
    assert run.stderr.startswith("assistant: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
