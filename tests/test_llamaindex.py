"""The assistant in llama-index's terms (``assistant/app/llamaindex.py``): a retriever and a
query engine over the real seeds index, used the way a llama-index user's pipeline uses them."""

from __future__ import annotations

import pytest
from llama_index.core import SummaryIndex
from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

from assistant import ABSTAIN_TEXT, Assistant, BadQuestionError
from assistant.app import ui

QUESTION = ui.EXAMPLES[0]
PROVENANCE = {"doc_id", "start", "end", "title", "source", "published", "cluster_id"}
OWN_NOTE = "Our desk's note: the TF1 interview with Macron was recorded in the Elysee."


def assert_slices(assistant: Assistant, nodes: list[NodeWithScore]) -> None:
    for n in nodes:
        m = n.node.metadata
        assert set(m) >= PROVENANCE
        article = assistant.document(m["doc_id"])
        assert n.node.get_content() == article.text[m["start"]:m["end"]]
        assert m["title"] == article.title and m["published"] == article.published
        assert m["cluster_id"] == article.cluster_id


def test_retriever_returns_the_fused_passages_as_nodes(seeds_assistant: Assistant) -> None:
    retriever = seeds_assistant.as_retriever(similarity_top_k=3)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("Macron TF1 interview")
    fused = seeds_assistant.retriever.search("Macron TF1 interview", k=3)[:3]
    assert [(n.node.metadata["doc_id"], n.node.metadata["start"]) for n in nodes] == [
        (p.doc_id, p.start) for p in fused]
    assert [n.score for n in nodes] == [p.score for p in fused]
    assert_slices(seeds_assistant, nodes)
    # what an LLM reads of a node: the text with its title and outlet, not offsets and ids
    shown = nodes[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert nodes[0].node.metadata["title"] in shown and "doc_id" not in shown


def test_retriever_keeps_to_its_filters(seeds_assistant: Assistant) -> None:
    nodes = seeds_assistant.as_retriever(sources=["Reuters"]).retrieve("Macron security guarantees")
    assert nodes and {n.node.metadata["source"] for n in nodes} == {"Reuters"}
    with pytest.raises(BadQuestionError, match="since"):
        seeds_assistant.as_retriever(since="someday")


def test_query_engine_answers_with_the_cited_answer_and_its_passages(
        seeds_assistant: Assistant) -> None:
    engine = seeds_assistant.as_query_engine()
    assert isinstance(engine, BaseQueryEngine)
    response = engine.query(QUESTION)
    answer = seeds_assistant.ask(QUESTION)
    assert str(response) == answer.text and response.metadata["answer"].text == answer.text
    assert response.metadata["answer"].answerer == "extractive"
    assert answer.citations
    cited = {(q.doc_id, q.passage_start) for c in answer.citations for q in c.quotes}
    assert {(n.node.metadata["doc_id"], n.node.metadata["start"])
            for n in response.source_nodes} == cited
    assert_slices(seeds_assistant, response.source_nodes)
    for n in response.source_nodes:  # each node holds the sentence its marker quotes
        number = n.node.metadata["citation"]
        assert f"[{number}]" in str(response)
        c = next(c for c in answer.citations if c.number == number)
        assert any(q.quote in n.node.get_content() for q in c.quotes)


def test_query_engine_abstains_without_sources(seeds_assistant: Assistant) -> None:
    response = seeds_assistant.as_query_engine().query("What is the capital of Australia?")
    assert str(response) == ABSTAIN_TEXT and response.source_nodes == []


def test_our_retriever_fuses_with_the_users_own_nodes_the_llama_index_way(
        seeds_assistant: Assistant) -> None:
    theirs = SummaryIndex([TextNode(text=OWN_NOTE)]).as_retriever()
    fused = QueryFusionRetriever([seeds_assistant.as_retriever(similarity_top_k=4), theirs],
                                 llm=MockLLM(), num_queries=1, mode="reciprocal_rerank",
                                 similarity_top_k=5, use_async=False)
    engine = RetrieverQueryEngine.from_args(fused, llm=MockLLM(max_tokens=8))
    response = engine.query("Macron TF1 interview")
    texts = [n.node.get_content() for n in response.source_nodes]
    assert OWN_NOTE in texts
    ours = [n for n in response.source_nodes if "doc_id" in n.node.metadata]
    assert len(ours) == 4
    assert_slices(seeds_assistant, ours)


def test_async_query_gives_the_same_answer(seeds_assistant: Assistant) -> None:
    import asyncio

    engine = seeds_assistant.as_query_engine()
    assert str(asyncio.run(engine.aquery(QUESTION))) == str(engine.query(QUESTION))
