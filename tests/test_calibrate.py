"""The abstention threshold comes from a sweep over the eval set, not from one question."""

from __future__ import annotations

from eval.calibrate import choose, sweep


def test_sweep_counts_abstentions_and_correct_answers() -> None:
    # (confidence, answerable, correct, abstained by a rule)
    rows = [(0.9, True, True, False), (0.6, True, True, False), (0.45, False, False, False),
            (0.3, False, False, False), (0.0, False, False, True), (0.5, True, False, False)]
    table = {r["threshold"]: r for r in sweep(rows, [0.2, 0.4, 0.55, 0.7])}
    assert table[0.2]["recall"] == 1 / 3 and table[0.2]["correct"] == 2
    assert table[0.55]["recall"] == 1.0 and table[0.55]["precision"] == 3 / 4
    assert table[0.7]["correct"] == 1


def test_choice_keeps_correct_answers_then_maximises_abstention_f1() -> None:
    table = [
        {"threshold": 0.3, "f1": 0.5, "precision": 1, "recall": 0.3, "correct": 10},
        {"threshold": 0.4, "f1": 0.8, "precision": 1, "recall": 0.7, "correct": 10},
        {"threshold": 0.5, "f1": 0.9, "precision": 1, "recall": 0.8, "correct": 7},
    ]
    assert choose(table)["threshold"] == 0.4
