"""Any llama-index LLM object as the generative answerer: ``Assistant(llm=...)``.

:class:`LlamaIndexBackend` puts a ``llama_index.core.llms.LLM`` (``OpenAILike``,
``LlamaCPP``, ``Ollama``, a hosted API's class, ...) behind the :class:`~assistant.answer.
backends.Backend` that :class:`~assistant.answer.llm.LLMAnswerer` streams from, so its answer
is verified sentence by sentence like the built-in backends' answers. The object is used as
configured (model, temperature, token limit); only ``stream_complete`` is called, on the
already formatted few-shot prompt. Stop strings are applied here, as the text arrives,
because not every LLM class takes a ``stop`` argument.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from assistant.answer.prompt import Prompt, estimate_tokens

if TYPE_CHECKING:
    from assistant.answer.llm import LLMAnswerer
    from assistant.kernel.settings import Settings


class LlamaIndexBackend:
    """A llama-index LLM object as a :class:`~assistant.answer.backends.Backend`."""

    def __init__(self, llm: Any) -> None:
        from llama_index.core.llms import LLM

        if not isinstance(llm, LLM):
            raise TypeError(f"llm must be a llama_index.core.llms.LLM, not {type(llm).__name__}")
        self.llm = llm
        model = getattr(llm.metadata, "model_name", "") or ""
        self.where = f"{type(llm).__name__}({model})" if model else type(llm).__name__
        self.lock = threading.Lock()  # one answer at a time per object, as a local model needs

    def count(self, text: str) -> int:
        return estimate_tokens(text)  # no tokenizer every LLM class offers; over-estimate

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        """Yield (text delta, finish reason or None) until a stop string, the end or ``deadline``."""
        text, sent, finish = "", 0, None
        with self.lock:
            for r in self.llm.stream_complete(prompt.text, formatted=True):
                text += r.delta or ""
                cut = min((i for s in prompt.stop if (i := text.find(s, sent)) >= 0), default=-1)
                if cut >= 0:
                    yield text[sent:cut], "stop"
                    return
                ready = len(text) - _held(text, prompt.stop)  # a stop string may be starting
                finish = _finish(r.raw)
                yield text[sent:ready], finish
                sent = ready
                if time.monotonic() > deadline:
                    yield "", "timeout"
                    return
            yield text[sent:], finish or "stop"  # what was held back: no stop string after all


def _held(text: str, stops: tuple[str, ...]) -> int:
    """How many characters at the end of ``text`` begin one of ``stops``."""
    return max((n for s in stops for n in range(1, len(s)) if text.endswith(s[:n])), default=0)


def _finish(raw: Any) -> str | None:
    """The finish reason in a streamed chunk (a dict from llama.cpp, an object from openai)."""
    choices = raw.get("choices") if isinstance(raw, dict) else getattr(raw, "choices", None)
    if not choices:
        return None
    first = choices[0]
    return first.get("finish_reason") if isinstance(first, dict) else getattr(
        first, "finish_reason", None)


def llm_answerer(llm: Any, settings: Settings,
                 embed: Callable[[list[str]], object] | None) -> LLMAnswerer:
    """The verified LLM answerer on ``llm``; named ``llama-index:<class>`` in answers."""
    from assistant.answer.llm import make_llm_answerer

    backend = LlamaIndexBackend(llm)
    return make_llm_answerer(f"llama-index:{type(llm).__name__}", settings, embed,
                             lambda: backend, backend.where)
