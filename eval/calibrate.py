"""Calibrate the abstention threshold on an eval set (one threshold for all questions).

Runs every item once with the threshold at 0 — so each answer reports the evidence score
(``Answer.confidence``) it would be judged on — then sweeps thresholds and reports, for
each, abstention precision/recall/F1 and answer correctness. The chosen threshold is the
one with the best abstention F1 among those that keep correctness within one item of the
best; ties go to the lower threshold (answer when in doubt only if the evidence holds).

    python -m eval.calibrate [--set eval/seeds.jsonl] [--store-dir store]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.runner import DEFAULT_SET, ensure_seeds
from eval.schema import EvalItem, load_items


def observe(assistant: Any, items: list[EvalItem]) -> list[tuple[float, bool, bool, bool]]:
    """(confidence, answerable, gold answer contained, abstained for another reason) per item."""
    rows = []
    for item in items:
        if item.history:
            session = assistant.chat()
            for turn in item.history:
                session.ask(turn)
            answer = session.ask(item.question)
        else:
            answer = assistant.ask(item.question)
        correct = bool(item.answerable and not answer.abstained
                       and m.contains_match(answer.text, list(item.answers)))
        # An abstention at threshold 0 comes from a rule (a name no article mentions, no
        # sentence with the asked-for kind of value), not from the score.
        rows.append((answer.confidence, item.answerable, correct, answer.abstained))
    return rows


def sweep(rows: list[tuple[float, bool, bool, bool]], thresholds: list[float]) -> list[dict[str, float]]:
    table = []
    for t in thresholds:
        pairs = [(forced or conf < t, answerable) for conf, answerable, _, forced in rows]
        prf = m.abstention_prf(pairs)
        correct = sum(1 for (conf, answerable, ok, forced) in rows
                      if answerable and ok and not forced and conf >= t)
        table.append({"threshold": t, "f1": prf.f1, "precision": prf.precision,
                      "recall": prf.recall, "correct": correct})
    return table


def choose(table: list[dict[str, float]]) -> dict[str, float]:
    best_correct = max(r["correct"] for r in table)
    fair = [r for r in table if r["correct"] >= best_correct - 1]
    return max(fair, key=lambda r: (round(r["f1"], 6), -r["threshold"]))


def main(argv: list[str] | None = None) -> int:
    from assistant import Assistant

    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.splitlines()[0])
    p.add_argument("--set", dest="eval_set", default=str(DEFAULT_SET))
    p.add_argument("--store-dir", default=None)
    args = p.parse_args(argv)
    overrides: dict[str, Any] = {"abstain_threshold": 0.0}
    if args.store_dir:
        overrides["store_dir"] = Path(args.store_dir)
    assistant = Assistant(**overrides)
    items = load_items(args.eval_set)
    ensure_seeds(assistant, items)
    table = sweep(observe(assistant, items), [round(0.30 + 0.02 * i, 2) for i in range(16)])
    for r in table:
        print(f"threshold {r['threshold']:.2f}  abstention F1 {r['f1']:.3f} "
              f"(P {r['precision']:.2f} R {r['recall']:.2f})  correct {int(r['correct'])}")
    best = choose(table)
    print(json.dumps({"chosen": best}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
