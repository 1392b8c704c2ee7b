"""A question-answering assistant for news articles that never says more than its sources.

>>> from assistant import Assistant
>>> a = Assistant(store_dir="store")
>>> a.index(["seeds"])                                            # doctest: +SKIP
>>> a.ask("On which TV channel did Macron speak about guarantees for Russia?")  # doctest: +SKIP

The names below are the public surface. They load on first use, so ``import assistant`` (and
``import assistant.kernel`` from the write path) stays instant and pulls in no layer above.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOME = {
    "Assistant": "assistant.app.assistant",
    "Support": "assistant.check.judge",
    **dict.fromkeys(("ABSTAIN_TEXT", "Answer", "AnswerSentence", "Citation", "Claim", "Conflict",
                     "Coverage", "Filters", "Passage", "ShortAnswer"), "assistant.kernel.answers"),
    **dict.fromkeys(("AssistantError", "BadQuestionError", "DiskFullError", "NoIndexError",
                     "StoreError", "StoreLockedError"), "assistant.kernel.errors"),
    **dict.fromkeys(("Article", "IndexReport", "Status"), "assistant.kernel.records"),
    "Settings": "assistant.kernel.settings",
}

__all__ = [
    "ABSTAIN_TEXT", "Answer", "AnswerSentence", "Article", "Assistant", "AssistantError",
    "BadQuestionError", "Citation", "Claim", "Conflict", "Coverage", "DiskFullError", "Filters",
    "IndexReport", "NoIndexError", "Passage", "Settings", "ShortAnswer", "Status", "StoreError",
    "StoreLockedError", "Support",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from assistant.app.assistant import Assistant
    from assistant.check.judge import Support
    from assistant.kernel.answers import (
        ABSTAIN_TEXT,
        Answer,
        AnswerSentence,
        Citation,
        Claim,
        Conflict,
        Coverage,
        Filters,
        Passage,
        ShortAnswer,
    )
    from assistant.kernel.errors import (
        AssistantError,
        BadQuestionError,
        DiskFullError,
        NoIndexError,
        StoreError,
        StoreLockedError,
    )
    from assistant.kernel.records import Article, IndexReport, Status
    from assistant.kernel.settings import Settings
