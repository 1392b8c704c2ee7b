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
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("ANONYMIZED_TELEMETRY", "False"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

from assistant import Assistant  # noqa: E402
from assistant.kernel.settings import Settings  # noqa: E402
from assistant.storage.embedding import model_dir  # noqa: E402
from assistant.storage.generations import manifest_of  # noqa: E402
from assistant.storage.manifest import Manifest, text_hash  # noqa: E402
from bench.perf import log, machine  # noqa: E402
from eval.realtimeqa import Modes, Question, load_weeks, score_question, summarise  # noqa: E402
from eval.runner import DEFAULT_SET, SEEDS_DIR, evaluate  # noqa: E402
from eval.schema import load_items  # noqa: E402

DEFAULT_SETTINGS = "400/0,600/0,600/1,1000/0,600/1/128,600/1:onnx"
BUILD_RECORD = "chunking-build.json"  # how a store was built, for runs that reuse it


@dataclass(frozen=True)
class Setting:
    """One row of the table: chunking, model token limit and embedding backend."""

    chunk_chars: int
    overlap: int
    max_seq: int = 256
    embedder: str = "torch"

    @classmethod
    def parse(cls, spec: str) -> Setting:
        """``CHARS/OVERLAP[/MAX_SEQ][:onnx]``, e.g. ``600/1`` or ``1000/0/512`` or ``600/1:onnx``."""
        sizes, _, backend = spec.strip().partition(":")
        parts = [int(x) for x in sizes.split("/")]
        if len(parts) not in (2, 3) or backend not in ("", "torch", "onnx"):
            raise ValueError(f"bad setting {spec!r}: expected CHARS/OVERLAP[/MAX_SEQ][:onnx]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else 256, backend or "torch")

    @property
    def name(self) -> str:
        return f"c{self.chunk_chars}-o{self.overlap}-s{self.max_seq}-{self.embedder}"

    def settings(self, store: Path) -> Settings:
        return Settings(store_dir=store, chunk_chars=self.chunk_chars,
                        chunk_overlap_sentences=self.overlap, max_seq_length=self.max_seq,
                        embedder=self.embedder)  # type: ignore[arg-type]


def pick_weeks(data: Path, count: int, target: Path) -> Path:
    """Copy ``count`` weeks spread evenly over ``data`` (first and last included) to
    ``target``; 0 or more than there are: all of them. Returns ``target``."""
    weeks = sorted(p.name.split("_")[0] for p in data.glob("*_qa.jsonl"))
    if 0 < count < len(weeks):
        step = (len(weeks) - 1) / max(count - 1, 1)
        weeks = sorted({weeks[round(i * step)] for i in range(count)})
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for w in weeks for p in data.glob(f"{w}_*.jsonl")}
    for stale in target.glob("*.jsonl"):
        if stale.name not in wanted:
            stale.unlink()  # another --weeks choice earlier: this folder is the subset
    for name in sorted(wanted):
        if not (target / name).exists():
            shutil.copy2(data / name, target / name)
    return target


def build(setting: Setting, store: Path, files: Sequence[Path], model: Any) -> dict[str, Any]:
    """Index ``files`` into ``store`` and time it; a store built before is reused as found."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    report = Assistant(settings=setting.settings(store), model=model).index(files, keep_missing=True)
    seconds = time.perf_counter() - started
    record = store / BUILD_RECORD
    if report.added or report.updated or not record.exists():
        run = {"seconds": round(seconds, 1), "articles": report.added + report.updated,
               "chunks": report.chunks, "embedded": report.embedded, "reused": report.reused,
               "load_average_before": round(load, 2),
               "load_average_after": round(os.getloadavg()[0], 2),
               "at": time.strftime("%Y-%m-%d %H:%M:%S"),
               # a run that only completed a store cut short earlier times part of the corpus
               "complete_build": report.unchanged == 0}
        record.write_text(json.dumps(run))
    built = json.loads(record.read_text())
    secs = max(built["seconds"], 1e-9)
    return {**built, "reused_store": not (report.added or report.updated),
            "chunks_per_s": round(built["chunks"] / secs, 2),
            "articles_per_s": round(built["articles"] / secs, 3),
            "embedded_per_s": round(built["embedded"] / secs, 2)}


def chunk_stats(store: Path, max_seq: int) -> dict[str, Any]:
    """Chunks of the store: count, mean characters, mean/p95 model tokens (with [CLS] and
    [SEP]) and the share longer than ``max_seq`` tokens, which the model cuts off."""
    import numpy as np
    from tokenizers import Tokenizer

    manifest = Manifest(manifest_of(store))
    texts = [t for _, t in manifest.all_chunk_texts()]
    articles = manifest.counts()[0]
    manifest.close()
    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()  # the file pads and cuts at 128: count every token instead
    tokenizer.no_padding()
    tokens = np.array([len(e.ids) for e in tokenizer.encode_batch(texts)]) if texts else np.zeros(1)
    return {"articles": articles, "chunks": len(texts),
            "chars_mean": round(sum(map(len, texts)) / max(len(texts), 1), 1),
            "tokens_mean": round(float(tokens.mean()), 1),
            "tokens_p95": round(float(np.percentile(tokens, 95)), 1),
            "truncated_share": round(float((tokens > max_seq).mean()), 4)}


def encode_throughput(rows: Sequence[dict[str, Any]], settings: Sequence[Setting], models: Models,
                      sample: int, repeats: int) -> None:
    """Embedding speed of each setting's own chunks, interleaved: ``sample`` chunks spread
    over its store, every setting in turn, ``repeats`` times, median kept. Builds run minutes
    apart on a shared machine; this puts the settings side by side under the same load."""
    import statistics

    texts: list[list[str]] = []
    for row in rows:
        manifest = Manifest(manifest_of(Path(row["store"])))
        every = [t for _, t in manifest.all_chunk_texts()]
        manifest.close()
        step = max(len(every) // sample, 1)
        texts.append(every[::step][:sample])
    times: list[list[float]] = [[] for _ in rows]
    for setting in settings:
        models.get(setting).embed(["warm up"])
    for _ in range(repeats):
        for i, setting in enumerate(settings):
            started = time.perf_counter()
            models.get(setting).embed(texts[i])
            times[i].append(time.perf_counter() - started)
    for row, chunk_texts, secs in zip(rows, texts, times, strict=True):
        s = statistics.median(secs)
        per_article = row["chunks"]["chunks"] / max(row["chunks"]["articles"], 1)
        row["encode"] = {"chunks": len(chunk_texts), "repeats": repeats, "seconds": round(s, 3),
                         "chunks_per_s": round(len(chunk_texts) / s, 2),
                         "chars_per_s": round(sum(map(len, chunk_texts)) / s),
                         # the embedding share of indexing, in articles: what the chunk size buys
                         "articles_per_s": round(len(chunk_texts) / s / per_article, 3)}


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


class Models:
    """One loaded embedder per (backend, max_seq_length), shared by a setting's stores."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int], Any] = {}

    def get(self, setting: Setting) -> Any:
        key = (setting.embedder, setting.max_seq)
        if key not in self._loaded:
            from assistant.storage.embedding import make_embedder

            self._loaded[key] = make_embedder(Settings(embedder=setting.embedder,  # type: ignore[arg-type]
                                                       max_seq_length=setting.max_seq))
        return self._loaded[key]


# --- report ---------------------------------------------------------------------------------
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
    files = sorted([*(root / "assistant").glob("*.py"), *(root / "eval").glob("*.py")])
    return text_hash("".join(f.read_text(encoding="utf-8") for f in files))[:12]


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
