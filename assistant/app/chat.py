"""Chat sessions: follow-up questions resolved against earlier turns, without an LLM.

A follow-up such as "When was it broadcast?" names nothing the index can search for.
``contextualise`` detects that — the question has no name of its own, or leans on a
pronoun ("it", "he", "that", "there") or is very short — and adds the names and
content words of the most recent earlier question that had them. The session also
passes the articles cited in the previous answer, which retrieval ranks a little
higher, so the conversation stays on its story unless the user changes subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from assistant.answer.question import names
from assistant.kernel.answers import Answer
from assistant.kernel.text import QUERY_STOPWORDS, QUESTION_WORDS, terms, words

_PRONOUN = re.compile(r"\b(it|its|he|him|his|she|her|they|them|their|this|that|these|those|"
                      r"there|then|the interview|the meeting|the talks|the call)\b", re.IGNORECASE)


def depends_on_history(question: str) -> bool:
    """True when a question probably refers back to an earlier turn."""
    if names(question):
        return False  # it names its own subject
    return bool(_PRONOUN.search(question)) or len(terms(question)) <= 2


def contextualise(question: str, history: list[str] | tuple[str, ...] | Any) -> str:
    """The retrieval query for ``question`` given earlier questions (oldest first)."""
    if not history or not depends_on_history(question):
        return question
    for earlier in reversed(list(history)):
        context = [w for w in words(earlier)
                   if w not in QUERY_STOPWORDS and w not in QUESTION_WORDS]
        if context:
            return f"{question} ({' '.join(context)})"
    return question


class Asks(Protocol):
    """What a session needs of :class:`~assistant.Assistant` (which creates sessions)."""

    @property
    def ask(self) -> Callable[..., Answer]: ...

    @property
    def ask_stream(self) -> Callable[..., Iterator[str | Answer]]: ...


@dataclass
class Turn:
    question: str
    answer: Answer


@dataclass
class ChatSession:
    """A conversation with an :class:`~assistant.Assistant`; ``ask`` remembers turns."""

    assistant: Asks
    turns: list[Turn] = field(default_factory=list)

    def ask(self, question: str, **filters: Any) -> Answer:
        """Answer ``question`` in the context of the earlier turns."""
        history, boost = self._context(question)
        answer = self.assistant.ask(question, history=history, boost_docs=boost, **filters)
        self.turns.append(Turn(question, answer))
        return answer

    def ask_stream(self, question: str, **filters: Any) -> Iterator[str | Answer]:
        """``ask`` as it happens (``Assistant.ask_stream``): an LLM's draft pieces, then the
        answer, which becomes the turn."""
        history, boost = self._context(question)
        for item in self.assistant.ask_stream(question, history=history, boost_docs=boost,
                                              **filters):
            if isinstance(item, Answer):
                self.turns.append(Turn(question, item))
            yield item

    def _context(self, question: str) -> tuple[list[str], tuple[str, ...]]:
        """The earlier questions, and the articles the last answer cited when ``question``
        leans on it (retrieval favours them a little)."""
        history = [t.question for t in self.turns]
        boost: tuple[str, ...] = ()
        if self.turns and depends_on_history(question):
            boost = tuple(c.doc_id for c in self.turns[-1].answer.citations)
        return history, boost

    def clear(self) -> None:
        """Forget the conversation."""
        self.turns.clear()
