"""The reranker plumbing (``Settings.reranker``): the trained model, when one is built with
``make train``, reorders the fused candidates and weighs in on the answer sentence.

These unit tests give the real retriever and answerer a scorer that prefers one known
passage: the model is beside the point, the wiring is not (``tests/test_learned.py`` runs the
shipped model). A missing model says how to build it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Assistant
from assistant.answer.sentences import Candidate, select
from assistant.kernel.errors import MissingExtraError
from assistant.kernel.settings import Settings

QUESTION = "Where did Borrell give his speech about security guarantees?"


class Prefers:
    """A scorer that gives 0.9 to one passage text, 0.0 to another and 0.1 to the rest."""

    def __init__(self, text: str, worst: str) -> None:
        self.text, self.worst = text, worst
        self.calls = 0

    def score(self, question: str, texts: Sequence[str],
              titles: Sequence[str] | None = None) -> np.ndarray:
        self.calls += 1
        return np.array([0.9 if t == self.text else 0.0 if t == self.worst else 0.1
                         for t in texts], np.float32)


def test_reranker_reorders_the_fused_candidates(seeds_assistant: Assistant, embedder: Any) -> None:
    fused = seeds_assistant.retriever.search(QUESTION, k=8)
    first, second = fused[0], fused[1]
    learned = Assistant(settings=Settings(store_dir=seeds_assistant.settings.store_dir,
                                          reranker="learned", rerank_depth=8), model=embedder)
    scorer = Prefers(second.text, worst=first.text)  # the model swaps fusion's first two
    learned.retriever._reranker = scorer  # the trained model's place
    reranked = learned.retriever.search(QUESTION, k=8)
    learned.close()
    assert scorer.calls == 1
    ids = [p.chunk_id for p in reranked]
    # the runner-up the model prefers comes first; the first, which it likes least, drops
    # behind passages both rankings put above it, but not to the end: the two orders are fused
    assert ids[0] == second.chunk_id and reranked[0].rerank == pytest.approx(0.9)
    assert 1 < ids.index(first.chunk_id) < len(ids) - 1
    assert reranked[1].rerank == pytest.approx(0.1)
    assert {p.chunk_id for p in reranked} == {p.chunk_id for p in fused}
    assert fused[0].rerank is None  # reranker off: fusion order, no probability


def test_learned_sentence_scores_move_the_answer_to_the_sentence_they_prefer(
        seeds_assistant: Assistant) -> None:
    passages = seeds_assistant.retriever.search(QUESTION, k=8)
    plain = select(QUESTION, passages)
    runner_up = next(c for c in plain.ranked if c.text != plain.sentences[0].text)
    favourite = runner_up.text

    def learned(found: list[Candidate]) -> list[float]:
        return [1.0 if c.text == favourite else 0.0 for c in found]

    assert select(QUESTION, passages, learned=learned, learned_weight=0.9).sentences[0].text == favourite
    assert select(QUESTION, passages, learned=learned, learned_weight=0.0).sentences[0].text == \
        plain.sentences[0].text


def test_reranker_without_a_model_says_how_to_build_it(tmp_path: Path) -> None:
    from assistant.models import make_reranker

    with pytest.raises(MissingExtraError, match="make train"):
        make_reranker(Settings(store_dir=tmp_path, reranker="learned",
                               reranker_model=tmp_path / "nowhere"))
