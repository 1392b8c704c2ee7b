"""The first stages of one question's pass: parse what was asked, then retrieve its evidence.

``Assistant.ask_stream`` runs the pass in order — parse → retrieve (with filters) → compose
(the quoted answer; an LLM writes from it) → check (on topic under filters; an LLM's sentences
against their sources) → news and the Answer (``assistant.answer.build``). Each stage takes
what the one before returned. Retrieval hands everything the later stages read down as data
in :class:`~assistant.answer.base.Evidence` — the articles of every passage, the passages of
their stories, a "which came first" question's events searched alone and, under filters, what
the whole index finds — so no later stage reaches back into the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.answer import news
from assistant.answer.base import Evidence
from assistant.app.chat import contextualise
from assistant.kernel.answers import Filters
from assistant.kernel.settings import Settings
from assistant.retrieve import filters as filtering
from assistant.retrieve.retriever import Retriever, check_question


@dataclass(frozen=True)
class Asked:
    """One question as parsed: the text, the retrieval query, the filters, favoured articles."""

    question: str  # as the user asked it, normalised
    query: str  # with the conversation's context added (follow-ups)
    filters: Filters
    boost_docs: tuple[str, ...] = ()

    @property
    def filtered(self) -> bool:
        """Whether a date range or outlets restrict it (doc ids alone: the caller chose the
        articles, and the topic is theirs)."""
        return self.filters.dated or bool(self.filters.sources)


def parse(question: str, since: Any, until: Any, sources: Sequence[str], doc_ids: Sequence[str],
          include_undated: bool | None, history: Sequence[str], boost_docs: Sequence[str],
          settings: Settings) -> Asked:
    """The question checked and its filters read (a ``BadQuestionError`` says what to fix)."""
    question = check_question(question, settings.max_question_chars)
    if include_undated is None:
        include_undated = settings.include_undated
    filters = filtering.parse(since, until, sources, doc_ids, include_undated)
    history = filtering.strings("history", history)
    return Asked(question, contextualise(question, history), filters,
                 filtering.strings("boost_docs", boost_docs))


def retrieve(retriever: Retriever, asked: Asked, settings: Settings) -> Evidence:
    """What retrieval finds for ``asked`` among the articles passing its filters, with all that
    answering it reads; for a filtered question also what the whole index finds
    (``Evidence.unfiltered``, for the on-topic check), the query embedded once for both."""
    vector = retriever.embed_query(asked.query)
    evidence = _evidence(retriever, asked, settings, vector)
    if asked.filtered:
        whole = replace(asked, filters=Filters())
        evidence = replace(evidence, unfiltered=_evidence(retriever, whole, settings, vector))
    return evidence


def _evidence(retriever: Retriever, asked: Asked, settings: Settings, vector: Any) -> Evidence:
    k = settings.candidates
    filters = asked.filters
    passages = retriever.search(asked.query, filters, k=k, boost_docs=asked.boost_docs,
                                query_vector=vector)
    top = passages[: settings.top_k]
    notes = ("no indexed article matches the filters",) if filters.active and not passages else ()
    compared = news.order_parts(asked.question)
    parts = tuple((part, retriever.search(part, filters, k=k)) for part in compared[:2]) \
        if compared else ()
    stories = retriever.stories(p.cluster_id for p in passages)
    shown = (passages, *stories.values(), *(found for _, found in parts))
    library = {d: a for d in dict.fromkeys(p.doc_id for ps in shown for p in ps)
               if (a := retriever.manifest.article(d)) is not None}
    documents = {d: library[d] for d in dict.fromkeys(p.doc_id for p in top) if d in library}
    allowed = retriever.allowed_docs(filters)
    return Evidence(asked.question, asked.query, passages, top, documents, notes,
                    filters=replace(filters, undated=retriever.undated(filters)), library=library,
                    stories=stories, allowed=None if allowed is None else frozenset(allowed),
                    parts=parts)
