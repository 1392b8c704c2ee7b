"""Which judge decides support: one place for the choice.

``Settings.support_judge`` picks the support judge every caller uses — answer verification of
LLM answers, copies cited as backing, the eval's citation metrics and ``Assistant.supports``:
``rules`` (φ, ``assistant.check.judge.HeuristicJudge``) or ``learned`` (the trained judge,
``assistant.check.learned_judge.LearnedJudge``, with the rules' number/date/name mismatch as a hard veto).
Conflicts are found by that mismatch comparison itself (``assistant.answer.news.conflicts``): two
sentences disagree when they state different values for the same fact, which no support
score says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.check.judge import HeuristicJudge, SupportJudge
from assistant.kernel.settings import Settings

STRICT = ("number", "date", "name")  # values a generated claim or a backing copy must state


def make_judge(settings: Settings, embed: Callable[[list[str]], Any] | None = None,
               strict: bool = False, grammar: bool = True) -> SupportJudge:
    """The support judge ``settings.support_judge`` names. ``strict``: the claim's numbers,
    dates and names must be stated by the passages, not merely not contradicted. ``grammar``:
    also read who does what and who says it (``assistant.check.roles``, a parser loaded on
    first use)."""
    unstated = STRICT if strict else ()
    if settings.support_judge == "learned":
        from assistant.check.learned_judge import LearnedJudge

        return LearnedJudge(settings.judge_model, veto=True, unstated=unstated, grammar=grammar)
    return HeuristicJudge(embed=embed, unstated=unstated, grammar=grammar)
