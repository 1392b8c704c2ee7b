"""The learned support judge: a small cross-encoder (``make train``) that is a
:class:`~assistant.check.judge.SupportJudge`: (passages, claim) -> ``Support``. The rules'
number/date/name mismatch stays a hard veto in front of it where ``veto`` says so (a passage
stating 2020 where the claim says 2021 is never support). The model runs with onnxruntime
(``assistant.models.cross_encoder``); its threshold comes from ``calibration.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.check.judge import HeuristicJudge, Support
from assistant.kernel.text import quick_sentences
from assistant.models import load

WINDOW_SENTENCES = 3  # the learned judge was trained on windows of 1-5 sentences around a claim
WINDOW_CHARS = 700


def windows(passage: str) -> list[str]:
    """A passage as the learned judge reads it: whole if short, else overlapping runs of three
    sentences (its input is cut at 192 tokens, so a long passage would lose its end)."""
    if len(passage) <= WINDOW_CHARS:
        return [passage]
    sentences = quick_sentences(passage)
    step = WINDOW_SENTENCES - 1
    return [" ".join(sentences[i : i + WINDOW_SENTENCES])
            for i in range(0, max(1, len(sentences) - 1), step)]



class LearnedJudge:
    """Learned judge: do ``passages`` (together) support ``sentence``?

    The claim is checked against each passage (and against them joined, for a claim that
    combines two), and the best probability is compared with the calibrated threshold.
    ``veto`` keeps the rules' hard mismatch check in front: a number, date or name that the
    aligned passage sentence states differently rejects the claim whatever the model says.
    """

    name = "learned"

    def __init__(self, override: Path | None = None, threshold: float | None = None,
                 veto: bool = True, unstated: tuple[str, ...] = (),
                 grammar: bool = True) -> None:
        self.model = load("judge", str(override) if override else None, 192)
        self.threshold = float(threshold if threshold is not None
                               else self.model.calibration.get("threshold", 0.5))
        # ``unstated``: kinds whose values the passages must state (see HeuristicJudge)
        self.rules = HeuristicJudge(unstated=unstated, grammar=grammar) if veto else None

    def judge(self, passages: Sequence[str], sentence: str) -> Support:
        texts = [p for p in passages if p and p.strip()]
        if not texts or not sentence.strip():
            return Support(False, 0.0, 0.0, 0.0)
        candidates = [w for t in texts for w in windows(t)]
        if len(texts) > 1 and sum(map(len, texts)) <= WINDOW_CHARS:
            candidates.append(" ".join(texts))  # a claim that combines two short passages
        probs = self.model.scores(candidates, [sentence] * len(candidates))
        best = int(np.argmax(probs))
        score = float(probs[best])
        mismatches: tuple[str, ...] = ()
        if self.rules is not None:
            mismatches = self.rules.judge(texts, sentence).mismatches
        return Support(supported=score >= self.threshold and not mismatches, score=round(score, 4),
                       coverage=0.0, similarity=0.0, mismatches=mismatches,
                       evidence=candidates[best][:500])
