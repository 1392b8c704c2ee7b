"""Performance harness: ingestion, re-index, ask latency, cold start, memory, ONNX vs torch.

    python -m bench.perf --data ../shared/benchmarks/realtimeqa/dev --out bench/out \\
        [--store-dir /work/bench-store/rtqa-dev]

Writes ``perf.json`` and ``perf.md`` to ``--out``. Every ratio compares figures measured in
the same run on the same machine; noisy figures are medians over ``--repeats``. The full
store (``--store-dir``) is reused, never rebuilt: if it does not hold ``--data`` yet, the run
indexes what is missing first and says so. The large store is that store copied plus
``--replicas`` copies of the corpus whose URLs get a ``#replica-N`` suffix and whose text is
identical, so the identical-text cache supplies every vector and nothing is embedded again.

This module runs the phases in order; ``bench.perf_stores`` builds the stores they use,
``bench.perf_phases`` times them and ``bench.perf_report`` writes ``perf.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("ANONYMIZED_TELEMETRY", "False"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

from assistant.kernel.settings import Settings  # noqa: E402
from bench.measure import cli, log, machine, run_child  # noqa: E402
from bench.perf_phases import cold_start, index_memory, ingestion, latency, onnx_vs_torch  # noqa: E402
from bench.perf_report import markdown, targets  # noqa: E402
from bench.perf_stores import chunk_texts, full_store, large_store, write_sample  # noqa: E402
from eval.realtimeqa import load_weeks  # noqa: E402


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase, writing perf.json after each one (a crash keeps what was measured)."""
    p = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="RealTime QA weeks folder")
    p.add_argument("--out", default="bench/out")
    p.add_argument("--store-dir", help="the full store, reused (default $BENCH_STORE "
                   "or OUT/store-full)")
    p.add_argument("--large-store", help="the larger store (default: STORE-DIR-large beside it)")
    p.add_argument("--replicas", type=int, default=1,
                   help="corpus copies added in the large store (0: skip it)")
    p.add_argument("--sample-articles", type=int, default=120,
                   help="articles in the ingestion sample (the corpus's first ones)")
    p.add_argument("--questions", type=int, default=40,
                   help="questions per latency repeat (new ones each repeat)")
    p.add_argument("--memory-articles", type=int, default=900,
                   help="articles indexed for the large peak-memory figure (~20k chunks)")
    p.add_argument("--onnx-texts", type=int, default=512, help="chunks for ONNX vs torch")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    from assistant.storage.embedding import OnnxEmbedder, TorchEmbedder

    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    questions, files = load_weeks(data)
    store = Path(args.store_dir or os.environ.get("BENCH_STORE") or out / "store-full")
    large = Path(args.large_store) if args.large_store else store.with_name(store.name + "-large")
    asked = [q.text for q in questions]
    embedder = TorchEmbedder(batch_size=Settings().embed_batch_size)
    embedder.embed(["warm up"])
    onnx = OnnxEmbedder(batch_size=Settings().embed_batch_size)
    onnx.embed(["warm up"])
    settings = Settings().model_dump(include={"chunk_chars", "embed_batch_size", "max_seq_length"})
    r: dict[str, Any] = {"machine": machine(), "data": str(data.resolve()),
                         "repeats": args.repeats, "settings": settings}

    def save() -> None:
        (out / "perf.json").write_text(json.dumps(r, indent=1, default=str))

    with tempfile.TemporaryDirectory(prefix="perf-") as tmp:
        work = Path(tmp)
        sample, r["sample"] = write_sample(files, args.sample_articles, work / "sample")
        log(f"ingestion of {r['sample']['articles']} articles, {args.repeats} repeats")
        r["ingestion"] = ingestion(sample, work, embedder, onnx, args.repeats)
        save()
        log("peak memory of new indexing processes: the sample, then a larger slice")
        big, _ = write_sample(files, args.memory_articles, work / "memory-sample")
        r["memory"] = {"indexing": index_memory(sample, work / "mem-small", "onnx"),
                       "indexing_large": index_memory(big, work / "mem-large", "onnx")}
        log(f"memory: {r['memory']}")
        log(f"re-index of the unchanged corpus on {store}")
        r["reindex"] = full_store(store, files, embedder, args.repeats)
        save()
        stores = {"sample": work / "ingest-0", "full": store}
        if args.replicas > 0:
            r["large_store"] = large_store(store, large, files, args.replicas, embedder)
            stores["large"] = large
        r["latency"] = latency(stores, asked, args.questions, onnx, args.repeats)
        log(f"latency: {r['latency']}")
        save()
        r["cold_start"] = cold_start(store, asked[0], args.repeats)
        r["memory"]["serving"] = {f"full store ({b})": r["cold_start"][b]["peak_rss_mb"]
                                  for b in ("onnx", "torch")}
        if args.replicas > 0:
            cmd = [*cli(), "--store-dir", str(large), "--embedder", "onnx", "ask", asked[0]]
            r["memory"]["serving"]["large store (onnx)"] = run_child(cmd)["peak_rss_mb"]
        save()
        texts = chunk_texts(work / "ingest-0")[: args.onnx_texts]
        log(f"onnx vs torch on {len(texts)} chunks")
        r["onnx_vs_torch"] = onnx_vs_torch(texts, embedder, args.repeats)
    r["targets"] = targets(r)
    save()
    (out / "perf.md").write_text(markdown(r))
    log(f"wrote {out / 'perf.json'} and {out / 'perf.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
