"""The query adapter's training (``train/query_adapter.py``, measured and not shipped): chunks
are labelled by what they state, and the fit learns a map that the validation can see. Made-up
articles and vectors: the model is beside the point.
"""

from __future__ import annotations

import numpy as np

from train import query_adapter as training
from train.weeks import Doc, Question


def _week() -> tuple[list[Question], dict[str, Doc]]:
    chunks = [
        "Lena Ortiz was chosen on Monday to lead the Harbor Party after a close vote.",
        "Ortiz replaces Tomas Weber, who led the party for nine years.",
        "The Harbor Party will meet again in March to choose its deputy leader.",
        "Weather in the harbor was cold and wet all week, forecasters said.",
    ]
    doc = Doc("https://example.test/party", "New leader", " ".join(chunks), chunks, chunks)
    q = Question("q1", "20230106", "Lena Ortiz was chosen to lead the Harbor Party. Whom does she replace?",
                 ["Tomas Weber", "Ana Lee", "Piet Smit", "Jon Kay"], 0, "", [doc.url])
    return [q], {doc.url: doc}


def test_examples_label_chunks_by_what_they_state() -> None:
    questions, docs = _week()
    (ex,) = training.examples(questions, docs)
    assert ex.positives == ("Ortiz replaces Tomas Weber, who led the party for nine years.",)
    # the premise and the unrelated chunks are negatives: they do not hold the answer
    assert set(ex.negatives) == set(docs["https://example.test/party"].chunks) - set(ex.positives)


def test_fit_learns_a_map_that_ranks_the_answering_texts_higher() -> None:
    """Questions sit near their premise; the answering text sits along a direction the
    adapter can learn. Validation is on questions the fit never saw."""
    rng = np.random.default_rng(3)
    dim = 24
    shift = rng.normal(size=(dim, dim)).astype(np.float32) * 0.6

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x)

    def make(n: int, tag: str) -> list[training.Example]:
        out = []
        for i in range(n):
            q = unit(rng.normal(size=dim))
            answer = unit(q + q @ shift)
            premise = unit(q + 0.3 * rng.normal(size=dim))
            others = [unit(rng.normal(size=dim)) for _ in range(6)]
            names = [f"{tag}{i}-{k}" for k in ("q", "a", "p", *range(6))]
            vec.update(zip(names, [q, answer, premise, *others], strict=True))
            out.append(training.Example(names[0], (names[1],), tuple(names[2:])))
        return out

    vec: dict[str, np.ndarray] = {}
    train, held = make(120, "t"), make(60, "v")

    def first_is_answer(w: np.ndarray | None) -> dict[str, float]:
        hits = 0
        for e in held:
            q = vec[e.query] if w is None else training.adapt(vec[e.query], w)
            scores = [float(np.dot(q, vec[t])) for t in (*e.positives, *e.negatives)]
            hits += int(np.argmax(scores) == 0)
        share = hits / len(held)
        return {"choice@8": share, "choice@40": share}

    w, curve = training.fit(train, vec, first_is_answer, epochs=15, lr=5e-3, weight_decay=1e-4,
                            batch=16, seed=0)
    assert curve[0]["choice@8"] < 0.6  # without the adapter the premise often wins
    assert first_is_answer(w)["choice@8"] >= curve[0]["choice@8"] + 0.2
    assert curve[-1]["loss"] < curve[1]["loss"]
