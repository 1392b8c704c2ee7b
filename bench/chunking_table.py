"""Chunk size and max sequence length by measurement: index throughput against quality.

    python -m bench.chunking_table --data ../shared/benchmarks/realtimeqa/dev --out bench/out \\
        --work /work/bench-store/chunking [--weeks 3] [--settings 400/0,600/1,1000/0,600/1:onnx]

A setting is ``CHARS/OVERLAP[/MAX_SEQ][:onnx]`` (chunk_chars, chunk_overlap_sentences,
max_seq_length — default 256 — and the embedding backend, torch unless ``:onnx``). For each
one, in turn: build a store of ``--weeks`` RealTime QA weeks (spread over ``--data``, copied
to ``WORK/weeks``) and time it; measure its chunks (characters, model tokens, share cut at
max_seq_length); ask the weeks' questions (``eval.realtimeqa``: gold-URL hit@5, choice@5,
citation metrics); run the seeds eval set on a seeds store with the same setting
(``eval.runner``). Stores are kept under ``--work`` and reused: a store already built is
re-indexed (a no-op) and its recorded build time is reported. Writes ``chunking.json`` (after
each setting) and ``chunking.md`` to ``--out``.

This module runs the steps in order and renders the table; ``bench.chunking_sweep`` holds the
settings and the builds, ``bench.chunking_quality`` the questions asked of each store.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("ANONYMIZED_TELEMETRY", "False"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

from bench.chunking_quality import onnx_row, quality, read_path_stamp  # noqa: E402
from bench.chunking_sweep import (  # noqa: E402
    DEFAULT_SETTINGS,
    Models,
    Setting,
    build,
    chunk_stats,
    encode_throughput,
    pick_weeks,
)
from bench.measure import log, machine  # noqa: E402
from eval.realtimeqa import load_weeks  # noqa: E402
from eval.runner import DEFAULT_SET  # noqa: E402


def fmt(value: Any, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def yes(flag: bool) -> str:
    return "met" if flag else "not met"


def markdown(r: dict[str, Any]) -> str:
    """chunking.md: throughput and quality side by side, one row per setting."""
    m, rows = r["machine"], r["rows"]
    lines = [
        "# Chunk size, max sequence length and backend: throughput vs quality", "",
        f"Machine: {m['cpu']}, {m['usable_cores']} usable cores, {m['ram_mb'] / 1024:.1f} GB RAM, "
        f"Python {m['python']}; load average at start {m['load_average_at_start'][0]:.2f} (shared "
        "machine: each build's load average is in chunking.json; compare throughput within a run).",
        f"RealTime QA subset: weeks {', '.join(r['weeks'])} of `{r['data']}` (not all weeks: a "
        f"full build takes ~17 min per setting on this CPU) — {r['articles_in_subset']} articles, "
        f"{r['questions']} questions. Seeds eval: `{r['eval_set']}`"
        + (f" (first {r['eval_limit']} items)" if r["eval_limit"] else "") + ", extractive answerer.",
        "Every other setting is the default (top_k, candidates, abstain_threshold calibrated at "
        "600/1).", "",
        "## Index throughput (a fresh store of the subset, read + clean + chunk + embed + store)",
        "", "Build: the whole subset, one setting after another (each under the machine's load of "
        "the moment). Encode: the same model on a sample of each setting's own chunks, settings "
        "interleaved, median of repeats — the fairer comparison on a shared machine; its "
        "articles/s is encode chunks/s over chunks per article.", "",
        "| setting | chunks | mean chars | mean tokens | p95 tokens | cut at max_seq | build s "
        "| build chunks/s | build articles/s | load avg | encode chunks/s | encode articles/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        b, c, e = row["build"], row["chunks"], row.get("encode", {})
        lines.append(
            f"| {row['label']} | {c['chunks']} | {c['chars_mean']} | {c['tokens_mean']} | "
            f"{c['tokens_p95']} | {c['truncated_share']:.1%} | {b['seconds']} | {b['chunks_per_s']} "
            f"| {b['articles_per_s']} | {b['load_average_before']}–{b['load_average_after']} | "
            f"{fmt(e.get('chunks_per_s'), 1)} | {fmt(e.get('articles_per_s'))} |")
    lines += ["", "## Quality", "",
              "| setting | RTQA fused hit@5 | dense hit@5 | choice@5 | cited_passages_contain | "
              "citation_contains | abstained | seeds correct | citation recall | citation precision "
              "| abstention F1 | doc hit@5 |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        q, s = row.get("realtimeqa", {}), row.get("seeds", {})
        cells = [q.get(k) for k in ("fused_hit@5", "dense_hit@5", "fused_choice@5",
                                    "cited_passages_contain", "citation_contains", "abstained")]
        cells += [s.get(k) for k in ("correct", "citation_recall", "citation_precision",
                                     "abstention_f1", "doc_hit_at_5")]
        lines.append(f"| {row['label']} | " + " | ".join(fmt(v) for v in cells) + " |")
    errors = [f"{row['label']} {k}: {row[k]['error']}" for row in rows for k in ("realtimeqa", "seeds")
              if "error" in row.get(k, {})]
    lines += ["", *(f"- **error** {e}" for e in errors)] if errors else []
    code = r.get("read_path_code", {})
    if code.get("before") != code.get("after"):
        lines += ["", "**Warning:** the answering code (`assistant/`, `eval/`) changed while the "
                  "quality rows were measured; they may not be comparable."]
    if "onnx_vs_torch" in r:
        o = r["onnx_vs_torch"]
        lines += ["", f"ONNX int8 vs torch at {o['setting']}: RealTime QA fused hit@5 "
                  f"{o['rtqa_hit@5_points']:+.1f} points, dense hit@5 {o['rtqa_dense_hit@5_points']:+.1f}, "
                  f"seeds doc hit@5 {o['seeds_doc_hit@5_points']:+.1f}, seeds correct "
                  f"{o['seeds_correct_points']:+.1f} (positive: ONNX better). Target \"within 1 "
                  f"point\" on hit@5: at most 1 point worse **{yes(o['at_most_1_point_worse'])}**, "
                  f"|difference| <= 1 **{yes(o['within_1_point'])}**; one RealTime QA question is "
                  f"{o['one_question_points']} points on this subset."]
    lines += ["", "Definitions: hit@5 = a gold URL among the first 5 chunks' articles, mean over all "
              "questions (no gold article = miss); choice@5 = the correct choice in one of the "
              "first 5 chunks; cited_passages_contain / citation_contains = the correct choice in "
              "a cited passage / in a cited quote or passage (see bench/README.md and "
              "eval/runner.py for the seeds metrics). Throughput counts chunks cut, including the "
              "few the identical-text cache supplied."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) every setting's store, then measure quality for all of them in quick
    succession, saving chunking.json after each step."""
    p = argparse.ArgumentParser(prog="python -m bench.chunking_table",
                                description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="RealTime QA weeks folder")
    p.add_argument("--out", default="bench/out")
    p.add_argument("--work", required=True, help="folder for the subset and the stores (reused)")
    p.add_argument("--weeks", type=int, default=3, help="weeks of --data to use (0: all)")
    p.add_argument("--settings", default=DEFAULT_SETTINGS,
                   help="comma-separated CHARS/OVERLAP[/MAX_SEQ][:onnx]")
    p.add_argument("--eval-set", default=str(DEFAULT_SET))
    p.add_argument("--eval-limit", type=int, default=0, help="first N eval items (0: all)")
    p.add_argument("--questions", type=int, default=0, help="first N RealTime QA questions (0: all)")
    p.add_argument("--encode-sample", type=int, default=384,
                   help="chunks per setting in the interleaved encode measurement")
    p.add_argument("--repeats", type=int, default=3, help="repeats of the encode measurement")
    args = p.parse_args(argv)
    settings = [Setting.parse(s) for s in args.settings.split(",") if s.strip()]
    data, out, work = Path(args.data), Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    subset = pick_weeks(data, args.weeks, work / "weeks")
    questions, files = load_weeks(subset)
    questions = questions[: args.questions] if args.questions else questions
    weeks = sorted(f.name.split("_")[0] for f in subset.glob("*_qa.jsonl"))
    r: dict[str, Any] = {"machine": machine(), "data": str(data.resolve()), "weeks": weeks,
                         "subset": str(subset.resolve()), "questions": len(questions),
                         "eval_set": args.eval_set, "eval_limit": args.eval_limit or None,
                         "rows": []}

    def save() -> None:
        (out / "chunking.json").write_text(json.dumps(r, indent=1, default=str))

    models = Models()
    for setting in settings:  # the long part: one build at a time
        label = (f"{setting.chunk_chars}/{setting.overlap}"
                 + (f" seq {setting.max_seq}" if setting.max_seq != 256 else "")
                 + f" {setting.embedder}")
        store = work / setting.name
        log(f"{label}: building {store}")
        row: dict[str, Any] = {"label": label, "setting": vars(setting), "store": str(store)}
        row["build"] = build(setting, store, files, models.get(setting))
        row["chunks"] = chunk_stats(store, setting.max_seq)
        r["articles_in_subset"] = row["chunks"]["articles"]
        log(f"{label}: {row['build']} {row['chunks']}")
        r["rows"].append(row)
        save()
    log(f"encode throughput: {args.encode_sample} chunks per setting, {args.repeats} repeats")
    encode_throughput(r["rows"], settings, models, args.encode_sample, args.repeats)
    save()
    r["read_path_code"] = {"before": read_path_stamp()}
    for setting, row in zip(settings, r["rows"], strict=True):
        quality(row, setting, Path(row["store"]), questions, args, models.get(setting))
        save()
    r["read_path_code"]["after"] = read_path_stamp()
    if (o := onnx_row(r["rows"])) is not None:
        r["onnx_vs_torch"] = o
    save()
    (out / "chunking.md").write_text(markdown(r))
    log(f"wrote {out / 'chunking.json'} and {out / 'chunking.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
