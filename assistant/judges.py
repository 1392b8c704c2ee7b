"""Which judge decides support, and which reranker orders evidence: one place for both choices.

``Settings.support_judge`` picks the support judge every caller uses — answer verification of
LLM answers, copies cited as backing, the eval's citation metrics and ``Assistant.supports``:
``rules`` (φ, ``assistant.support.HeuristicJudge``) or ``learned`` (the trained verifier,
``assistant.learned.LearnedJudge``, with the rules' number/date/name mismatch as a hard veto).
Conflicts are found by that mismatch comparison itself (``assistant.news.conflicts``): two
sentences disagree when they state different values for the same fact, which no support
score says. ``Settings.reranker`` turns the trained reranker on or off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.support import HeuristicJudge, SupportJudge
from index.settings import Settings

STRICT = ("number", "date", "name")  # values a generated claim or a backing copy must state


def make_judge(settings: Settings, embed: Callable[[list[str]], Any] | None = None,
               strict: bool = False) -> SupportJudge:
    """The support judge ``settings.support_judge`` names. ``strict``: the claim's numbers,
    dates and names must be stated by the passages, not merely not contradicted."""
    unstated = STRICT if strict else ()
    if settings.support_judge == "learned":
        from assistant.learned import LearnedJudge

        return LearnedJudge(settings.verifier_model, veto=True, unstated=unstated)
    return HeuristicJudge(embed=embed, unstated=unstated)


def make_reranker(settings: Settings) -> Any:
    """The trained reranker when ``settings.reranker`` is on, else None."""
    if settings.reranker == "off":
        return None
    from assistant.learned import LearnedReranker

    return LearnedReranker(settings.reranker_model)
