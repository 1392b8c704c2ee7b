"""What every answerer shares: the :class:`Evidence` retrieval hands over, the
:class:`Answerer` protocol, and the fixed abstention."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from assistant.kernel.answers import ABSTAIN_TEXT, Answer, Passage
from assistant.kernel.records import Article


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for one question."""

    question: str  # as the user asked it
    query: str  # with the conversation's context added (follow-ups)
    passages: list[Passage]  # every candidate, best first
    top: list[Passage]  # the top-k the answer is built from
    documents: dict[str, Article]  # doc id -> article, for the top passages' articles
    notes: tuple[str, ...] = ()
    story: Callable[[list[str]], list[Passage]] = field(default=lambda ids: [], repr=False)
    search: Callable[[str], list[Passage]] | None = field(default=None, repr=False)

    @property
    def articles(self) -> dict[str, str]:
        """doc id -> title and text of the top passages' articles (what sentences are read in)."""
        return {d: f"{a.title}\n{a.text}" for d, a in self.documents.items()}


class Answerer(Protocol):
    """Writes an answer from evidence."""

    name: str

    def answer(self, evidence: Evidence) -> Answer: ...


def abstain(evidence: Evidence, notes: tuple[str, ...] = (), confidence: float = 0.0) -> Answer:
    """The fixed "the articles don't say" answer, with the closest passages for the reader."""
    return Answer(question=evidence.question, text=ABSTAIN_TEXT, abstained=True,
                  closest=tuple(evidence.top[:3]), notes=evidence.notes + notes,
                  confidence=round(confidence, 4), retrieved=tuple(evidence.top))
