"""The quality side of ``bench.chunking_table``: RealTime QA and the seeds eval on each
setting's store, and ONNX against torch at the same chunking.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import Assistant
from assistant.storage.manifest import text_hash
from bench.chunking_sweep import Setting
from bench.measure import log
from eval.realtimeqa import Modes, Question, score_question, summarise
from eval.runner import SEEDS_DIR, evaluate
from eval.schema import load_items


def realtimeqa(setting: Setting, store: Path, questions: Sequence[Question],
               model: Any) -> dict[str, Any]:
    """Ask every question on the built store, scored as ``assistant bench realtimeqa`` does."""
    assistant = Assistant(settings=setting.settings(store), model=model)
    modes = Modes(assistant)
    rows = [score_question(q, assistant.ask(q.text), modes.rank(q.text), modes.texts)
            for q in questions]
    assistant.close()
    s = summarise(rows)
    fused, dense = s["modes"]["fused"], s["modes"]["dense"]
    return {"questions": s["questions"], "with_gold": s["with_gold"],
            "fused_hit@5": fused["hit@5"], "fused_hit@5_gold_only": fused["gold_only"]["hit@5"],
            "dense_hit@5": dense["hit@5"], "bm25_hit@5": s["modes"]["bm25"]["hit@5"],
            "fused_mrr": fused["mrr"], "fused_choice@5": fused["choice@5"],
            "fused_choice@10": fused["choice@10"], **s["answers"],
            "ask_p50_s": s["latency"]["p50"]}


def seeds_eval(setting: Setting, store: Path, eval_set: Path, limit: int | None,
               model: Any) -> dict[str, Any]:
    """The seeds eval set on a seeds store with this setting (extractive answerer)."""
    assistant = Assistant(settings=setting.settings(store), model=model)
    assistant.index([SEEDS_DIR], keep_missing=True)
    items = load_items(eval_set)[:limit] if limit else load_items(eval_set)
    result = evaluate(assistant, items, "extractive", progress=False)
    assistant.close()
    overall, abstention = result.metrics["overall"], result.metrics["abstention"]
    mean = lambda k: overall[k]["mean"]  # noqa: E731
    return {"items": len(items), "correct": mean("correct"), "token_f1": mean("token_f1"),
            "citation_recall": mean("citation_recall"),
            "citation_precision": mean("citation_precision"),
            "abstention_f1": abstention["f1"], "doc_hit_at_5": mean("doc_hit_at_5"),
            "span_hit_at_5": mean("span_hit_at_5")}


def quality(row: dict[str, Any], setting: Setting, store: Path, questions: Sequence[Question],
            args: argparse.Namespace, model: Any) -> None:
    """RealTime QA and seeds eval of one built store into ``row``; an error is recorded in
    the row, not raised, so the other settings are still measured."""
    work = Path(args.work)
    for key, run in (("realtimeqa", lambda: realtimeqa(setting, store, questions, model)),
                     ("seeds", lambda: seeds_eval(setting, work / f"{setting.name}-seeds",
                                                  Path(args.eval_set), args.eval_limit or None,
                                                  model))):
        try:
            row[key] = run()
        except Exception as e:  # reported in the table; the other settings still run
            row[key] = {"error": f"{type(e).__name__}: {e}"}
        log(f"{row['label']}: {key} {row[key]}")


def onnx_row(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """ONNX vs torch at the same chunking, in points (100 x the difference)."""
    rows = [x for x in rows if "error" not in x.get("realtimeqa", {"error": 1})
            and "error" not in x.get("seeds", {"error": 1})]
    for onnx in (x for x in rows if x["setting"]["embedder"] == "onnx"):
        twin = next((t for t in rows if t["setting"] == {**onnx["setting"], "embedder": "torch"}),
                    None)
        if twin is None:
            continue
        diffs = {f"{name}_points": round(100 * (onnx[section][key] - twin[section][key]), 1)
                 for name, section, key in (("rtqa_hit@5", "realtimeqa", "fused_hit@5"),
                                            ("rtqa_dense_hit@5", "realtimeqa", "dense_hit@5"),
                                            ("seeds_doc_hit@5", "seeds", "doc_hit_at_5"),
                                            ("seeds_correct", "seeds", "correct"))}
        return {"setting": twin["label"], **diffs,
                # the resolution: one RealTime QA question more or less moves hit@5 this much
                "one_question_points": round(100 / max(twin["realtimeqa"]["questions"], 1), 1),
                "within_1_point": all(abs(diffs[k]) <= 1.0 for k in
                                      ("rtqa_hit@5_points", "seeds_doc_hit@5_points")),
                # better is not a failure: what the target protects against is a loss
                "at_most_1_point_worse": all(diffs[k] >= -1.0 for k in
                                             ("rtqa_hit@5_points", "seeds_doc_hit@5_points"))}
    return None


def read_path_stamp() -> str:
    """Hash of the answering code (``assistant/``, ``eval/``): quality rows are comparable
    only when it did not change between them (the project may be edited during a run)."""
    root = Path(__file__).resolve().parents[1]
    files = sorted([*(root / "assistant").rglob("*.py"), *(root / "eval").rglob("*.py")])
    return text_hash("".join(f.read_text(encoding="utf-8") for f in files))[:12]
