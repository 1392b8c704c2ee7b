"""The trained reranker, as users meet it: the packaged int8 ONNX model ranking the
sentences that answer a question above the ones around them (its files and its torch-free
query path are checked with the learned judge's, in ``tests/test_learned.py``).

The article and questions are made up here, written before the model's scores were seen
(not RealTime QA, not the seeds). Each answer sits in a sentence with topical neighbours
that share the question's words but do not answer it: the case the word rules miss when
"the fact sits in the sentence next to the best-matching one".
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.models import MODELS, LearnedReranker

SENTENCES = [
    "The Kestrel Harbor city council met on Tuesday to discuss the future of the old swing bridge.",
    "After a two-hour debate, members voted 7 to 2 to close the bridge in March.",
    "Mayor Ana Ortiz, who opposed the closure, said repairs would cost $4.5 million.",
    "The harbor ferry will run every 20 minutes while the bridge is closed, the transit authority said.",
    "Bus ridership in Kestrel Harbor fell by 12 percent last year.",
]
CASES = [  # question, index of the sentence that answers it
    ("How often will the harbor ferry run during the bridge closure?", 3),
]
# Written with the one above, before the model's scores were seen; it misses them: trained on
# national-news quiz questions, it scores every sentence of this local story below 0.05 and
# the best-matching words win (model card, known limits). Strict: a model that gets them
# right must move them up.
KNOWN_MISSES = [
    ("How did the Kestrel Harbor council vote on the swing bridge?", 1),
    ("How much would repairs to the old bridge cost?", 2),
    ("Who opposed the closure of the Kestrel Harbor bridge?", 2),
]

@pytest.fixture(scope="module")
def reranker() -> LearnedReranker:
    return LearnedReranker()


def test_held_out_metrics_beat_plain_similarity() -> None:
    metrics = json.loads((MODELS / "reranker" / "train_metrics.json").read_text())
    assert metrics["sentence_top1"] > 0.4  # held-out training weeks; cosine similarity: 0.25


@pytest.mark.parametrize(("question", "answer"), [
    *CASES, *(pytest.param(q, a, marks=pytest.mark.xfail(strict=True, reason="known miss"))
              for q, a in KNOWN_MISSES)], ids=[q for q, _ in CASES + KNOWN_MISSES])
def test_the_sentence_that_answers_ranks_first(reranker: LearnedReranker, question: str,
                                               answer: int) -> None:
    probs = reranker.score(question, SENTENCES)
    assert int(np.argmax(probs)) == answer, dict(zip(SENTENCES, probs.round(3), strict=True))


def test_a_reranker_trained_with_titles_reads_each_sentence_after_its_articles_title(
        reranker: LearnedReranker, tmp_path: Path) -> None:
    """A model folder whose training metrics say ``"context": "title"`` (``train.fit
    --titled``) is given "Title | sentence", as it was trained; the shipped model, trained on
    sentences alone, reads the sentence alone whatever titles the answerer passes."""
    titled = tmp_path / "titled"
    titled.mkdir()
    (titled / "model.onnx").symlink_to(MODELS / "reranker" / "model.onnx")
    (titled / "train_metrics.json").write_text(json.dumps({"context": "title"}))
    question, title = CASES[0][0], "Kestrel Harbor council votes to close the swing bridge"
    with_titles = LearnedReranker(titled)
    assert with_titles.titled and not reranker.titled
    got = with_titles.score(question, SENTENCES[:2], [title, title])
    read = with_titles.model.scores([question] * 2, [f"{title} | {s}" for s in SENTENCES[:2]])
    alone = reranker.model.scores([question] * 2, SENTENCES[:2])
    assert np.allclose(got, read) and not np.allclose(got, alone)
    assert np.allclose(reranker.score(question, SENTENCES[:2], [title, title]), alone)
