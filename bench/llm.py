"""The local LLM answerer's latency: first question (model start), warm questions, answers kept.

    python -m bench.llm --out bench/out [--store-dir STORE] [--questions 24]

Indexes ``seeds/`` into ``--store-dir`` (default: a temporary folder) unless it holds them,
then asks the seed eval's questions with ``answerer="llama-cpp"``: the first question starts
the model, the rest are warm (each question asked once, so none is served from the model's
prompt cache). Writes ``llm.json`` (every answer's text and seconds, so two runs can be
compared answer by answer) and ``llm.md``. Uses only the public ``Assistant`` API.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import log, machine
from eval.metrics import percentile
from eval.schema import load_items

ROOT = Path(__file__).resolve().parents[1]


def questions(limit: int) -> list[str]:
    """The seed eval's distinct questions, in file order."""
    items = load_items(ROOT / "eval" / "seeds.jsonl")
    return list(dict.fromkeys(item.question for item in items))[:limit]


def run(store: Path, asked: Sequence[str]) -> dict[str, Any]:
    from assistant import Assistant

    a = Assistant(store_dir=store, answerer="llama-cpp")
    if a.index([ROOT / "seeds"]).added:
        log(f"indexed seeds/ into {store}")
    rows: list[dict[str, Any]] = []
    for question in asked:
        started = time.perf_counter()
        answer = a.ask(question)
        rows.append({"question": question, "seconds": round(time.perf_counter() - started, 3),
                     "text": answer.text, "abstained": answer.abstained,
                     "generated": not answer.abstained and not any(
                         "quote" in n or "computed from the sources" in n for n in answer.notes)})
        log(f"{rows[-1]['seconds']:6.2f}s  {question[:70]}")
    warm = [float(r["seconds"]) for r in rows[1:] if r["generated"]]
    return {"machine": machine(), "first_question_s": rows[0]["seconds"],
            "warm": {"questions": len(warm), "p50_s": round(percentile(warm, 50), 3),
                     "p95_s": round(percentile(warm, 95), 3), "mean_s": round(sum(warm) / len(warm), 3)},
            "answers": rows}


def markdown(r: dict[str, Any]) -> str:
    w = r["warm"]
    return "\n".join([
        "# Local LLM answerer (llama-cpp, packaged Gemma 3 270M)", "",
        "| figure | value |", "|---|---|",
        f"| first question (starts the model) | {r['first_question_s']:.2f} s |",
        f"| warm questions that generated | {w['questions']} |",
        f"| warm p50 / p95 / mean | {w['p50_s']:.2f} / {w['p95_s']:.2f} / {w['mean_s']:.2f} s |",
        "", "Answers: `llm.json` (`answers`), to compare two runs question by question.", ""])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.llm", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench/out")
    p.add_argument("--store-dir", help="a store holding the seeds (default: a temporary one)")
    p.add_argument("--questions", type=int, default=24)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(args.store_dir or tmp), questions(args.questions))
    (out / "llm.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    (out / "llm.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
