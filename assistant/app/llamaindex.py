"""The assistant in llama-index's own terms: a retriever and a query engine.

``Assistant.as_retriever(similarity_top_k=...)`` returns a :class:`NewsRetriever`, a
``BaseRetriever`` whose ``NodeWithScore``s are the fused passages ``ask`` reads (vector and
keyword rankings fused, reranked when a reranker is on). ``Assistant.as_query_engine(llm=None)``
returns a :class:`NewsQueryEngine`, a ``BaseQueryEngine`` whose response text is the cited
answer and whose ``source_nodes`` are the cited passages (``response.metadata["answer"]`` is
the whole :class:`~assistant.kernel.answers.Answer`).

Every node carries its provenance as metadata: ``doc_id``, ``start``, ``end`` (offsets into the
article's text, so ``node.get_content() == article.text[start:end]``), ``title``, ``source``,
``published``, ``cluster_id`` and ``url``. Offsets and ids are left out of what an LLM or an
embedding model reads of a node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.kernel.answers import Answer, Citation, Filters, Passage

# ``assistant`` below is an ``Assistant`` (not imported: it imports this module)
# provenance for programs, not words for a model to read
_HIDDEN = ["doc_id", "start", "end", "cluster_id", "url", "citation"]


def node(text: str, doc_id: str, start: int, end: int, about: Passage | Citation,
         score: float, **extra: Any) -> NodeWithScore:
    """A node for the article slice ``[start:end]`` (``text``) with its provenance."""
    metadata = {"doc_id": doc_id, "start": start, "end": end, "title": about.title,
                "source": about.source, "published": about.published,
                "cluster_id": about.cluster_id, "url": about.url, **extra}
    return NodeWithScore(node=TextNode(
        id_=f"{doc_id}::{start}-{end}", text=text, metadata=metadata,
        excluded_llm_metadata_keys=_HIDDEN, excluded_embed_metadata_keys=_HIDDEN),
        score=score)


def passage_node(p: Passage) -> NodeWithScore:
    return node(p.text, p.doc_id, p.start, p.end, p, p.score)


def cited_nodes(answer: Answer) -> list[NodeWithScore]:
    """The passages an answer cites, once each, in marker order (``citation``: the marker)."""
    nodes: dict[tuple[str, int], NodeWithScore] = {}
    for c in answer.citations:
        for q in c.quotes:
            nodes.setdefault((q.doc_id, q.passage_start), node(
                q.passage, q.doc_id, q.passage_start, q.passage_end, q, c.score,
                citation=c.number))
    return list(nodes.values())


class NewsRetriever(BaseRetriever):
    """The top ``similarity_top_k`` fused passages for a query, among the articles
    ``filters`` keeps."""

    def __init__(self, assistant: Any, similarity_top_k: int, filters: Filters,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.assistant, self.similarity_top_k, self.filters = assistant, similarity_top_k, filters

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self.assistant.retriever.search(query_bundle.query_str, self.filters,
                                                   k=self.similarity_top_k)
        return [passage_node(p) for p in passages[: self.similarity_top_k]]


class NewsQueryEngine(BaseQueryEngine):
    """Answers with ``assistant.ask`` (its answerer, its filters): the cited answer as the
    response, the cited passages as ``source_nodes``."""

    def __init__(self, assistant: Any, filters: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(callback_manager=kwargs.pop("callback_manager", None))
        self.assistant, self.filters = assistant, filters

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self.assistant.ask(query_bundle.query_str, **self.filters)
        return Response(response=answer.text, source_nodes=cited_nodes(answer),
                        metadata={"answer": answer})

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        import asyncio

        return await asyncio.to_thread(self._query, query_bundle)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}


def filters_of(since: Any = None, until: Any = None, sources: Sequence[str] = (),
               include_undated: bool | None = None, default_undated: bool = False) -> Filters:
    """The filters a retriever applies, checked as ``ask`` checks them."""
    from assistant.retrieve import filters as filtering

    undated = default_undated if include_undated is None else include_undated
    return filtering.parse(since, until, sources, (), undated)
