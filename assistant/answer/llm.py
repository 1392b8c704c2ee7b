"""Generative answers: an LLM writes the answer, verification decides what is shown.

The text comes from a backend (``assistant/answer/backends.py``: the packaged Gemma served
by a child process, or any OpenAI-compatible server); ``assistant/answer/registry.py`` picks it.

What an LLM answer may say (``LLMAnswerer.write``, then ``LLMAnswerer.check`` as the stage
after it; ``stream`` runs both for callers of the answerer alone):

1. The extractive answer is computed first (it is cheap; ``Assistant.ask`` hands over the one
   its pass composed). If it abstains — evidence below the calibrated threshold, or the
   question names something no article mentions — the LLM answerer abstains too, without
   asking the model: weak evidence does not become fluent text. When the sources disagree
   (conflicts) or the question compares event dates, the computed extractive answer is
   returned as is: generation would hide the disagreement or guess the order.
2. Otherwise the model completes ``assistant.answer.prompt`` over the best passages (those the
   extractive answer quotes first) and ``assistant.answer.verify`` keeps only the sentences the
   cited passages support, with exact quotes as citations. ``assistant.answer.build`` makes the
   Answer of them as it does for quotes: the value asked for first, outlets and stories counted.
3. If no sentence survives, the extractive answer is shown with the note
   "the generated answer was not supported by its sources; showing quoted evidence instead".
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from assistant.answer.backends import Backend, LLMError, scrub
from assistant.answer.base import Evidence
from assistant.answer.build import build_answer, fact_first
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.prompt import CONTEXT_TOKENS, build
from assistant.answer.verify import VerifiedAnswer, verify
from assistant.check.choice import make_judge
from assistant.kernel.answers import Answer, Passage
from assistant.kernel.errors import AssistantError
from assistant.kernel.settings import Settings

PROMPT_PASSAGES = 4  # a 270M model copies from a few passages well and from many badly
FALLBACK_NOTE = ("the generated answer was not supported by its sources; "
                 "showing quoted evidence instead")


@dataclass(frozen=True)
class Draft:
    """What the model wrote, before verification: its text and the passages its markers number."""

    text: str
    passages: tuple[Passage, ...]
    cut: bool = False  # stopped by the token or time limit (cut back to whole sentences)


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

    def answer(self, evidence: Evidence, quoted: Answer | None = None) -> Answer:
        """The verified answer (see the module docstring)."""
        final: Answer | None = None
        for item in self.stream(evidence, quoted):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, evidence: Evidence, quoted: Answer | None = None) -> Iterator[str | Answer]:
        """Raw text deltas while generating, then the final verified Answer: ``write`` and
        ``check`` in turn. ``quoted`` is the extractive answer to ``evidence`` when the caller
        has it already."""
        quoted = replace(quoted or self.fallback.answer(evidence), answerer=self.name)
        for item in self.write(evidence, quoted):
            yield self.check(evidence, quoted, item) if isinstance(item, Draft) else item

    def write(self, evidence: Evidence, quoted: Answer) -> Iterator[str | Draft | Answer]:
        """The model's text as it arrives (``str`` deltas), then the whole :class:`Draft` for
        ``check``; only the quoted answer when nothing is to be generated (it abstains, the
        sources disagree, or events are compared by date)."""
        quoted = replace(quoted, answerer=self.name)
        if quoted.abstained:
            yield quoted
            return
        if quoted.conflicts or evidence.parts:
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
                           f"{scrub(str(e), self.settings)}{hint}") from None
        yield Draft(whole_sentences(text) if cut else text, prompt.passages, cut)

    def check(self, evidence: Evidence, quoted: Answer, draft: Draft) -> Answer:
        """The stage after writing: each sentence of ``draft`` verified against the passages it
        cites (``assistant.answer.verify``); the quoted answer when none holds."""
        checked = verify(draft.text, draft.passages, self.judge, self.settings.unsupported,
                         evidence.article, question=evidence.query)
        return self._compose(evidence, checked, replace(quoted, answerer=self.name), draft.cut)

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
        lead = evidence.query if fact_first(evidence.question) else None
        return build_answer(evidence, checked.sentences, checked.citations, answerer=self.name,
                            lead=lead, notes=tuple(notes), removed=checked.removed)


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


def make_llm_answerer(name: str, settings: Settings, embed: Callable[[list[str]], object] | None,
                      load: Callable[[], Backend], where: str) -> LLMAnswerer:
    """An LLM answerer on the backend ``load`` returns; the model loads on the first question."""
    # A generated claim must not bring a number, date or name its passages never state.
    judge = make_judge(settings, embed, strict=True)  # type: ignore[arg-type]
    return LLMAnswerer(name, settings, ExtractiveAnswerer(settings), judge, load, where)
