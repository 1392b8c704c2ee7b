"""A question-answering assistant for news articles that never says more than its sources.

>>> from assistant import Assistant
>>> a = Assistant(store_dir="store")
>>> a.index(["seeds"])                                            # doctest: +SKIP
>>> a.ask("On which TV channel did Macron speak about guarantees for Russia?")  # doctest: +SKIP
"""

from assistant.core import Assistant
from assistant.support import Support
from assistant.types import (
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
from index.errors import (
    AssistantError,
    BadQuestionError,
    DiskFullError,
    NoIndexError,
    StoreError,
    StoreLockedError,
)
from index.models import Article, IndexReport, Status
from index.settings import Settings

__all__ = [
    "ABSTAIN_TEXT", "Answer", "AnswerSentence", "Article", "Assistant", "AssistantError",
    "BadQuestionError", "Citation", "Claim", "Conflict", "Coverage", "DiskFullError", "Filters",
    "IndexReport", "NoIndexError", "Passage", "Settings", "ShortAnswer", "Status", "StoreError",
    "StoreLockedError", "Support",
]
