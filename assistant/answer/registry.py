"""Which answerer writes the answer: ``Settings.answerer`` names one.

``extractive`` (the default) quotes the articles and needs no LLM; ``llama-cpp`` and ``openai``
generate with an LLM and are verified sentence by sentence against their citations
(``assistant/answer/llm.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from assistant.answer.base import Answerer
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.kernel.errors import AssistantError
from assistant.kernel.records import Article
from assistant.kernel.settings import Settings


def make_answerer(settings: Settings, document: Callable[[str], Article | None],
                  embed: Callable[[list[str]], object] | None = None) -> Answerer:
    """The answerer ``settings.answerer`` names (LLM ones import their extras lazily)."""
    if settings.answerer == "extractive":
        return ExtractiveAnswerer(settings, document)
    try:
        from assistant.answer.llm import make_llm_answerer
    except ImportError as e:  # pragma: no cover - assistant/answer/llm.py is part of the package
        raise AssistantError(f"the {settings.answerer!r} answerer is not available: {e}") from e
    return make_llm_answerer(settings, ExtractiveAnswerer(settings, document), embed)
