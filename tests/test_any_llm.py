"""Any llama-index LLM object as the answerer (``assistant/answer/any_llm.py``): llama-index's
own classes on the packaged Gemma 3 270M — ``OpenAILike`` against an OpenAI-compatible server
on 127.0.0.1 (llama-cpp-python's, in a child process) and ``LlamaCPP`` (in a child process of
the test: it loads llama.cpp into the process that asks). What is checked is what a reader relies
on whatever the model writes (``tests/test_llm.check_cited``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata
from pydantic import Field

from assistant import Answer, Assistant
from assistant.answer.any_llm import LlamaIndexBackend
from assistant.answer.prompt import Prompt
from tests.test_llm import ITEMS, QUESTIONS, check_cited

ROOT = Path(__file__).resolve().parents[1]


class Pieces(CustomLLM):
    """A llama-index LLM that streams fixed pieces (for the stop-string rules alone)."""

    pieces: list[str] = Field(default_factory=list)  # a pydantic model field

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="pieces")

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text="".join(self.pieces))

    def stream_complete(self, prompt: str, formatted: bool = False,
                        **kwargs: Any) -> Iterator[CompletionResponse]:
        text = ""
        for piece in self.pieces:
            text += piece
            yield CompletionResponse(text=text, delta=piece)


def streamed(pieces: list[str]) -> tuple[str, list[str | None]]:
    items = list(LlamaIndexBackend(Pieces(pieces=pieces)).stream(
        Prompt("Q", (), ("\n", "Question:")), time.monotonic() + 60))
    return "".join(t for t, _ in items), [f for _, f in items]


def test_stop_strings_end_the_answer_even_when_split_between_pieces() -> None:
    assert streamed(["Macron spoke on TF1 [1].", "\nQuestion: what"]) == (
        "Macron spoke on TF1 [1].", [None, "stop"])
    text, _ = streamed(["It was TF1 [1]. Ques", "tion: and then?"])
    assert text == "It was TF1 [1]. "  # the held "Ques" never reached the answer
    assert streamed(["It was TF1.", " Quest"]) == ("It was TF1. Quest", [None, None, "stop"])


def test_only_llama_index_llms_are_taken() -> None:
    with pytest.raises(TypeError, match=r"llama_index\.core\.llms\.LLM"):
        LlamaIndexBackend(object())


# --- one Answer builder ---------------------------------------------------------------------


class Quoting(CustomLLM):
    """A llama-index LLM that writes given sentences, each with the markers of the prompt's
    passages that hold its quotes: the LLM is beside the point, the Answer built from what
    verification keeps is not."""

    says: list[tuple[str, list[str]]] = Field(default_factory=list)  # (sentence, its quotes)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="quoting")

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        block = prompt.rsplit("<passages>", 1)[1].split("</passages>", 1)[0]
        numbered = re.findall(r"^\[(\d+)\] (.*)$", block, re.MULTILINE)
        return CompletionResponse(text=" ".join(
            sentence + " " + "".join(dict.fromkeys(  # in the order of the quotes given
                f"[{n}]" for q in quotes for n, text in numbered if " ".join(q.split()) in text))
            for sentence, quotes in self.says))

    def stream_complete(self, prompt: str, formatted: bool = False,
                        **kwargs: Any) -> Iterator[CompletionResponse]:
        text = self.complete(prompt).text
        yield CompletionResponse(text=text, delta=text)


def sources_of(a: Answer) -> tuple[Any, ...]:
    """What an answer says about its sources, whoever wrote its sentences."""
    short = a.short and (a.short.text, a.short.kind, a.short.doc_id, a.short.start, a.short.end)
    return a.independent, a.outlets, a.reported_by, a.as_of, a.conflicts, short


# a date (short answer, one outlet), an outlet-less article, two outlets' copies, a conflict
@pytest.mark.parametrize("item", ["tf1-broadcast-date-1", "last-talks-date-1",
                                  "ukraine-condition-1", "borrell-role-1"])
def test_an_llm_answer_says_what_a_quoted_one_says_about_its_sources(
        item: str, seeds_assistant: Assistant, embedder: object) -> None:
    question = ITEMS[item].question
    quoted = seeds_assistant.ask(question)
    by_number = {c.number: c for c in quoted.citations}
    says = [(s.text, [q.quote for n in s.citations for q in by_number[n].quotes])
            for s in quoted.sentences if not s.short]
    a = Assistant(settings=seeds_assistant.settings, model=embedder, llm=Quoting(says=says))
    written = a.ask(question)
    assert written.answerer == "llama-index:Quoting" and not written.abstained
    generated = not quoted.conflicts  # sources that disagree are shown as quotes, not generated
    assert generated == (not any("answered from quotes" in n for n in written.notes))
    assert sources_of(written) == sources_of(quoted)
    assert set(written.outlets) <= {c.source for c in written.citations}  # names, never ids
    if written.short is not None:
        assert written.text.startswith(f"{written.short.text} [{written.short.citation}] —")
    check_cited(a, written, "llama-index:Quoting")


# --- the packaged Gemma ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def gemma_server() -> Iterator[tuple[str, str]]:
    """The packaged Gemma behind llama-cpp-python's OpenAI-compatible server on 127.0.0.1."""
    from assistant.answer.backends import packaged_gguf
    from assistant.answer.local_model import ModelProcess
    from assistant.answer.prompt import CONTEXT_TOKENS

    process = ModelProcess(packaged_gguf(), os.cpu_count() or 1, CONTEXT_TOKENS,
                           start_timeout=300)
    try:
        yield process.url(), process.key
    finally:
        process.close()


@pytest.mark.llm
def test_openai_like_pointed_at_a_local_server_answers_verified(
        gemma_server: tuple[str, str], seeds_assistant: Assistant, embedder: object) -> None:
    from llama_index.llms.openai_like import OpenAILike

    url, key = gemma_server
    llm = OpenAILike(model="gemma-3-270m", api_base=url, api_key=key, is_chat_model=False,
                     context_window=2048, max_tokens=128, temperature=0.0)
    a = Assistant(settings=seeds_assistant.settings, model=embedder, llm=llm)
    for question in QUESTIONS:
        check_cited(a, a.ask(question), "llama-index:OpenAILike")
    # the same object as a query engine's answerer: the response is the verified answer
    response = seeds_assistant.as_query_engine(llm=llm).query(QUESTIONS[0])
    answer = response.metadata["answer"]
    check_cited(seeds_assistant, answer, "llama-index:OpenAILike")
    assert str(response) == answer.text and response.source_nodes
    for n in response.source_nodes:
        m = n.node.metadata
        assert seeds_assistant.document(m["doc_id"]).text[m["start"]:m["end"]] == n.node.text


CHILD = textwrap.dedent("""
    import json, os, sys
    from llama_index.llms.llama_cpp import LlamaCPP
    from assistant import Assistant
    from assistant.answer.backends import packaged_gguf

    llm = LlamaCPP(model_path=str(packaged_gguf()), temperature=0.0, max_new_tokens=128,
                   context_window=2048, model_kwargs={"n_threads": os.cpu_count() or 1},
                   verbose=False)
    a = Assistant(store_dir=sys.argv[1], llm=llm)
    answers = []
    for question in json.loads(sys.argv[2]):
        answer = a.ask(question)
        texts = {c.doc_id: a.document(c.doc_id).text for c in answer.citations}
        answers.append({**answer.to_dict(), "exact": all(
            texts[q.doc_id][q.start:q.end] == q.quote for c in answer.citations
            for q in c.quotes)})
    print(json.dumps(answers))
""")


@pytest.mark.llm
def test_llama_cpp_class_answers_verified(seeds_assistant: Assistant) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(seeds_assistant.settings.store_dir),
                           json.dumps(QUESTIONS[:1])], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    answers = json.loads(done.stdout.splitlines()[-1])
    assert len(answers) == 1
    for answer in answers:
        assert answer["answerer"] == "llama-index:LlamaCPP" and answer["exact"]
        assert not answer["abstained"] and answer["citations"]
        numbers = [c["number"] for c in answer["citations"]]
        assert numbers == list(range(1, len(numbers) + 1))
        for s in answer["sentences"]:  # every sentence shown is supported by what it cites
            assert s["supported"] and s["citations"] and set(s["citations"]) <= set(numbers)
        assert not any(r in answer["text"] for r in answer["removed"])
