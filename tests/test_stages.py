"""One question, one pass (``assistant/app/stages.py``, ``Assistant.ask_stream``): retrieval hands
the later stages data, never a way back into the store; the quoted answer is composed once per
question; an LLM's draft is checked as a stage of its own, after it is written."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest

from assistant import Assistant
from assistant.answer.base import STORY_ARTICLES
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.llm import Draft, LLMAnswerer
from assistant.app import stages
from tests.test_any_llm import Quoting
from tests.test_llm import ITEMS


def retrieved(a: Assistant, question: str, **filters: Any) -> Any:
    asked = stages.parse(question, filters.get("since"), None, filters.get("sources", ()), (),
                         None, (), (), a.settings)
    return stages.retrieve(a.retriever, asked, a.settings)


def test_evidence_is_data_that_needs_no_store(seeds_assistant: Assistant) -> None:
    evidence = retrieved(seeds_assistant, ITEMS["order-moscow-tf1-1"].question)
    assert not [f.name for f in fields(evidence) if callable(getattr(evidence, f.name))]
    assert len(evidence.parts) == 2 and all(found for _, found in evidence.parts)
    shown = [*evidence.passages, *(p for ps in evidence.stories.values() for p in ps),
             *(p for _, found in evidence.parts for p in found)]
    assert {p.doc_id for p in shown} == set(evidence.library)
    for p in shown[:3]:
        assert evidence.article(p.doc_id) == seeds_assistant.document(p.doc_id)


@pytest.mark.parametrize("filters", [{}, {"sources": ["Reuters", "korrespondent"]}])
def test_the_story_of_cited_articles_is_every_passage_of_their_other_articles(
        seeds_assistant: Assistant, filters: dict[str, Any]) -> None:
    """``Evidence.story`` (where copies of a quote are looked for) gives, for any cited
    articles, every passage of the other articles of their stories, at most
    ``STORY_ARTICLES`` of them, in chunk order, kept to the filters."""
    evidence = retrieved(seeds_assistant, ITEMS["tf1-channel-1"].question, **filters)
    cluster = {p.doc_id: p.cluster_id for p in evidence.passages}
    docs = sorted(cluster)
    assert len(docs) >= 2
    manifest = seeds_assistant.retriever.manifest
    seen_story = False
    for n in (1, 2, 3):
        for ids in itertools.combinations(docs, n):
            story = evidence.story(list(ids))
            mates = {p.doc_id for p in story}
            assert not mates & set(ids)
            assert len(mates) <= STORY_ARTICLES
            assert all(p.cluster_id in {cluster[d] for d in ids} for p in story)
            assert [p.chunk_id for p in story] == sorted(p.chunk_id for p in story)
            assert evidence.allowed is None or mates <= evidence.allowed
            for d in mates:  # each article whole
                assert {p.chunk_id for p in story if p.doc_id == d} == manifest.chunk_ids([d])
            seen_story = seen_story or bool(story)
    assert seen_story, "no cited article has a story: the test shows nothing"


def counting(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[int]:
    calls: list[int] = []
    original: Callable[..., Any] = getattr(cls, name)

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


def test_a_filtered_llm_question_is_quoted_once_and_checked_after_writing(
        seeds_assistant: Assistant, embedder: object, monkeypatch: pytest.MonkeyPatch) -> None:
    question = ITEMS["tf1-broadcast-date-1"].question
    quoted = seeds_assistant.ask(question, since="2022-12-01", include_undated=True)
    says = [(s.text, [q.quote for c in quoted.citations for q in c.quotes if c.number in s.citations])
            for s in quoted.sentences if not s.short]
    a = Assistant(settings=seeds_assistant.settings, model=embedder, llm=Quoting(says=says))
    composed = counting(monkeypatch, ExtractiveAnswerer, "compose")
    checked = counting(monkeypatch, LLMAnswerer, "check")
    written = a.ask(question, since="2022-12-01", include_undated=True)
    # the filtered evidence once (the LLM writes from it), the whole index once (on topic?)
    assert len(composed) == 2 and len(checked) == 1
    assert written.answerer == "llama-index:Quoting" and written.filters == quoted.filters
    assert not any("quote" in n for n in written.notes)  # generated, then verified
    # writing ends with the unverified draft: the check is the next stage's
    answerer = a.answerer()
    assert isinstance(answerer, LLMAnswerer)
    evidence = retrieved(a, question)
    *_, draft = answerer.write(evidence, a._extractive().answer(evidence))
    assert isinstance(draft, Draft) and draft.text.startswith(says[0][0])


def test_a_filtered_question_is_retrieved_in_one_stage_its_query_embedded_once(
        seeds_assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The filtered search and the whole index's (for the on-topic check) come from one
    retrieval stage, handed down in ``Evidence.unfiltered``; the answer is the same as before."""
    from assistant.retrieve.retriever import Retriever

    question = ITEMS["tf1-channel-1"].question
    embedded = counting(monkeypatch, Retriever, "embed_query")
    searched = counting(monkeypatch, Retriever, "search")
    evidence = retrieved(seeds_assistant, question, sources=["Reuters"])
    assert len(embedded) == 1 and len(searched) == 2
    assert evidence.unfiltered is not None and evidence.unfiltered.unfiltered is None
    assert evidence.unfiltered.allowed is None and evidence.allowed is not None
    whole = retrieved(seeds_assistant, question)
    assert evidence.unfiltered.passages == whole.passages and whole.unfiltered is None
