"""Performance harness: ingestion, re-index, ask latency, cold start, memory, ONNX vs torch.

    python -m bench.perf --data ../shared/benchmarks/realtimeqa/dev --out bench/out \\
        [--store-dir /work/bench-store/rtqa-dev]

Writes ``perf.json`` and ``perf.md`` to ``--out``. Every ratio compares figures measured in
the same run on the same machine; noisy figures are medians over ``--repeats``. The full
store (``--store-dir``) is reused, never rebuilt: if it does not hold ``--data`` yet, the run
indexes what is missing first and says so. The large store is that store copied plus
``--replicas`` copies of the corpus whose URLs get a ``#replica-N`` suffix and whose text is
identical, so the identical-text cache supplies every vector and nothing is embedded again.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

for _name, _value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"),
                      ("ANONYMIZED_TELEMETRY", "False"), ("TOKENIZERS_PARALLELISM", "false")):
    os.environ.setdefault(_name, _value)

from assistant import Assistant  # noqa: E402
from assistant.kernel.records import RawArticle  # noqa: E402
from assistant.kernel.settings import Settings  # noqa: E402
from assistant.storage.generations import manifest_of  # noqa: E402
from assistant.storage.manifest import Manifest  # noqa: E402
from eval.metrics import percentile  # noqa: E402
from eval.realtimeqa import load_weeks  # noqa: E402

PACKAGES = ("torch", "sentence-transformers", "chromadb", "llama-index-core",
            "llama-index-vector-stores-chroma", "onnxruntime", "bm25s", "numpy")


def log(msg: str) -> None:
    print(f"[perf {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, Python and package versions, and the load when the run started."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")),
               platform.processor())
    ram = next((int(x.split()[1]) // 1024 for x in meminfo if x.startswith("MemTotal")), 0)
    versions: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_mb": ram, "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()), "versions": versions}


def assistant(store: Path, embedder: Any) -> Assistant:
    """An assistant on ``store`` sharing a loaded embedder (its backend decides the settings')."""
    backend = "torch" if hasattr(embedder, "model") else "onnx"
    return Assistant(settings=Settings(store_dir=store, embedder=backend), model=embedder)


# --- ingestion ------------------------------------------------------------------------------
def write_sample(files: Sequence[Path], articles: int,
                 folder: Path) -> tuple[list[Path], dict[str, Any]]:
    """The corpus's first ``articles`` articles (as the reader yields them) in one JSONL file."""
    from index.readers import iter_articles

    folder.mkdir(parents=True)
    rows, sources = [], set()
    for a in iter_articles(files):
        if isinstance(a, RawArticle):
            rows.append({"url": a.url, "title": a.title, "text": a.text})
            sources.add(Path(a.path or "").name)
            if len(rows) >= articles:
                break
    path = folder / "sample.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows),
                    encoding="utf-8")
    return [path], {"articles": len(rows), "from": sorted(sources)}


def ingestion(files: Sequence[Path], work: Path, embedder: Any, onnx: Any,
              repeats: int) -> dict[str, Any]:
    """Assistant.index on a fresh store (torch, and the default ONNX backend) vs raw
    SentenceTransformer.encode of the texts it embedded vs llama-index
    VectorStoreIndex.from_documents with the same torch model, interleaved per repeat."""
    from index.readers import iter_articles

    raws = [a for a in iter_articles(files) if isinstance(a, RawArticle)]
    chars = sum(len(a.text) for a in raws)
    runs: dict[str, list[float]] = {"pipeline": [], "raw_encode": [], "llama_index": [],
                                    "embedder_embed": [], "pipeline_onnx": []}
    report: Any = None
    texts: list[str] = []
    llama_chunks = 0
    # warm-up (not timed): first imports and first Chroma client of each path
    warm = work / "warm.txt"
    warm.write_text("A warm-up article. It has two sentences to index before timing starts.")
    assistant(work / "warm", embedder).index([warm])
    assistant(work / "warm-onnx", onnx).index([warm])
    llama_index_build(raws[:2], work / "llama-warm", embedder)
    for r in range(repeats):
        store = work / f"ingest-{r}"
        seconds, report = timed(assistant(store, embedder).index, files)
        runs["pipeline"].append(seconds)
        manifest = Manifest(manifest_of(store))
        texts = [t for _, t in manifest.all_chunk_texts()]
        manifest.close()
        unique = list(dict.fromkeys(texts))
        runs["raw_encode"].append(timed(
            embedder.model.encode, unique, batch_size=embedder.batch_size,
            normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0])
        runs["embedder_embed"].append(timed(embedder.embed, unique)[0])  # our batching
        seconds, llama_chunks = timed(llama_index_build, raws, work / f"llama-{r}", embedder)
        runs["llama_index"].append(seconds)
        runs["pipeline_onnx"].append(timed(assistant(work / f"ingest-onnx-{r}", onnx).index,
                                           files)[0])
        log(f"ingestion {r + 1}/{repeats}: pipeline {runs['pipeline'][-1]:.1f}s, raw encode "
            f"{runs['raw_encode'][-1]:.1f}s, llama-index {seconds:.1f}s, pipeline (onnx) "
            f"{runs['pipeline_onnx'][-1]:.1f}s")
    pipeline_s, raw_s, llama_s, embed_s, onnx_s = (median(runs[k]) for k in runs)
    embedded = report.embedded
    return {
        "articles": len(raws), "input_chars": chars, "chunks": report.chunks,
        "embedded": embedded, "reused_by_cache": report.reused, "repeats": repeats,
        "seconds": {k: [round(v, 3) for v in vs] for k, vs in runs.items()},
        "pipeline": {"seconds": pipeline_s, "chunks_per_s": round(report.chunks / pipeline_s, 2),
                     "embedded_per_s": round(embedded / pipeline_s, 2),
                     "articles_per_s": round(len(raws) / pipeline_s, 2)},
        "raw_encode": {"seconds": raw_s, "texts": embedded,
                       "texts_per_s": round(embedded / raw_s, 2)},
        "llama_index": {"seconds": llama_s, "chunks": llama_chunks,
                        "chunks_per_s": round(llama_chunks / llama_s, 2),
                        "articles_per_s": round(len(raws) / llama_s, 2)},
        # same texts embedded by both: 1.0 means the pipeline adds nothing around the model
        "ratio_pipeline_vs_raw_encode": round(raw_s / pipeline_s, 3),
        # where the difference goes: TorchEmbedder.embed alone (batches of 64 in input order,
        # where encode() of the whole list sorts every text by length first), and the rest
        "embedder_embed": {"seconds": embed_s, "texts_per_s": round(embedded / embed_s, 2)},
        "ratio_embedder_embed_vs_raw_encode": round(raw_s / embed_s, 3),
        "ratio_pipeline_vs_llama_index_articles": round(llama_s / pipeline_s, 3),
        # the default backend: same model as int8 ONNX, same chunks as the torch pipeline
        "pipeline_onnx": {"seconds": onnx_s, "chunks_per_s": round(report.chunks / onnx_s, 2),
                          "articles_per_s": round(len(raws) / onnx_s, 2)},
        "ratio_pipeline_onnx_vs_llama_index_articles": round(llama_s / onnx_s, 3),
        # llama-index cuts fewer, longer chunks: per chunk is the other fair view
        "ratio_pipeline_vs_llama_index_chunks": round(
            (report.chunks / pipeline_s) / (llama_chunks / llama_s), 3) if llama_chunks else 0.0,
        "cache_saved_share": round(report.reused / report.chunks, 4) if report.chunks else 0.0,
        "chunk_chars_mean": round(sum(map(len, texts)) / len(texts), 1) if texts else 0.0,
    }


def llama_index_build(raws: Sequence[Any], folder: Path, embedder: Any) -> int:
    """Plain llama-index: Documents -> SentenceSplitter -> our model -> ChromaVectorStore."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    class Wrapped(BaseEmbedding):  # llama-index's HuggingFaceEmbedding is not installed
        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in embedder.embed([text])[0]]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts).tolist()  # type: ignore[no-any-return]

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

    client = chromadb.PersistentClient(path=str(folder))
    collection = client.get_or_create_collection("llama", embedding_function=None)
    docs = [Document(text=a.text, id_=a.doc_id) for a in raws]
    # ~150 tokens is about our 600-character chunks; the overlap is about one sentence
    splitter = SentenceSplitter(chunk_size=150, chunk_overlap=25)
    VectorStoreIndex.from_documents(
        docs, storage_context=StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)),
        embed_model=Wrapped(model_name="all-MiniLM-L6-v2", embed_batch_size=embedder.batch_size),
        transformations=[splitter], show_progress=False)
    return int(collection.count())


# --- stores -----------------------------------------------------------------------------------
def full_store(store: Path, files: Sequence[Path], embedder: Any, repeats: int) -> dict[str, Any]:
    """Re-index the unchanged corpus on the persistent store (completing it first if needed)."""
    first_s, first = timed(assistant(store, embedder).index, files, keep_missing=True)
    note = ("store reused as found" if not (first.added or first.updated) else
            f"this run completed the store first: {first.added} articles added, "
            f"{first.embedded} chunks embedded in {first_s:.0f}s")
    log(f"full store: {note}")
    runs = [timed(assistant(store, embedder).index, files, keep_missing=True)
            for _ in range(repeats)]
    # what a user waits for: a new process, so imports and the Chroma start count too
    # (exit code 1 when the report lists a file problem, e.g. an article cleaned to nothing)
    cmd = [*cli(), "--store-dir", str(store), "index", "--keep-missing", *map(str, files)]
    processes = [run_child(cmd) for _ in range(repeats)]
    manifest = Manifest(manifest_of(store))
    texts = [t for _, t in manifest.all_chunk_texts()]
    manifest.close()
    status = assistant(store, embedder).status()
    return {"store": str(store.resolve()), "note": note, "articles": status.articles,
            "first_pass_seconds": round(first_s, 3),
            "seconds": median([s for s, _ in runs]), "runs": [round(s, 3) for s, _ in runs],
            "process_seconds": median([r["to_exit_s"] for r in processes]),
            "process_runs": [r["to_exit_s"] for r in processes],
            "process_returncodes": [r["returncode"] for r in processes],
            "embedded": max(r.embedded for _, r in runs),
            "changed": max(r.added + r.updated for _, r in runs), "chunks": len(texts),
            "cache_saved_share": round(1 - len(set(texts)) / max(len(texts), 1), 4)}


def large_store(full: Path, target: Path, files: Sequence[Path], replicas: int,
                embedder: Any) -> dict[str, Any]:
    """The full store copied, plus ``replicas`` copies of the corpus under suffixed URLs."""
    data = target.with_name(target.name + "-data")
    if not manifest_of(target).exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(full, target, ignore=shutil.ignore_patterns(".lock"))
    data.mkdir(parents=True, exist_ok=True)
    for n in range(1, replicas + 1):
        for f in files:
            out = data / f"replica{n}_{f.name}"
            if out.exists():
                continue
            lines = []
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    for r in rec.get("search_result") or []:
                        r["url"] = f"{r['url']}#replica-{n}"
                    lines.append(json.dumps(rec, ensure_ascii=False))
            out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    seconds, report = timed(assistant(target, embedder).index, [data], keep_missing=True)
    run = {"added": report.added, "embedded": report.embedded, "reused": report.reused,
           "seconds": round(seconds, 1), "at": time.strftime("%Y-%m-%d %H:%M:%S")}
    log(f"large store: {run}")
    record = target / "perf-build.json"  # how the store was built, for runs that reuse it
    if report.added or not record.exists():
        record.write_text(json.dumps(run))
    return {"store": str(target.resolve()), "replicas": replicas, "this_run": run,
            "built": json.loads(record.read_text())}


def latency(stores: dict[str, Path], questions: Sequence[str], per_repeat: int, embedder: Any,
            repeats: int) -> dict[str, dict[str, Any]]:
    """Warm ``ask`` latency per store: one warm-up question each, then ``per_repeat`` questions
    on every store in turn, ``repeats`` times, so a change in machine load hits all stores
    alike. Each repeat asks new questions: no answer is served from what an earlier asking of
    the same question left in a cache."""
    open_ = {name: assistant(path, embedder) for name, path in stores.items()}
    for a in open_.values():
        a.ask(questions[0])
    p50s: dict[str, list[float]] = {name: [] for name in stores}
    p95s: dict[str, list[float]] = {name: [] for name in stores}
    for r in range(repeats):
        pool = list(questions[1:]) or list(questions)  # wraps round when questions run out
        batch = [pool[(r * per_repeat + i) % len(pool)] for i in range(per_repeat)]
        for name, a in open_.items():
            secs = [timed(a.ask, q)[0] for q in batch]
            p50s[name].append(percentile(secs, 50))
            p95s[name].append(percentile(secs, 95))
    out = {}
    for name, a in open_.items():
        out[name] = {"store": str(stores[name]), "chunks": a.status().chunks,
                     "questions": per_repeat, "repeats": repeats,
                     "backend": "torch" if hasattr(embedder, "model") else "onnx",
                     "p50": median(p50s[name]), "p95": median(p95s[name])}
        a.close()
    return out


# --- processes ---------------------------------------------------------------------------------
def run_child(cmd: Sequence[str]) -> dict[str, Any]:
    """Run ``cmd``; seconds to its first output byte and to exit, and its peak RSS (MB).

    The peak is the child's own VmHWM, sampled every 20 ms: ``ru_maxrss`` of a child would
    also count this (large) process, whose memory the child shares until it execs.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the answer is written when printed
    peak = [0]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        watcher = threading.Thread(target=_watch_rss, args=(proc, peak), daemon=True)
        watcher.start()
        assert proc.stdout is not None
        first = proc.stdout.read(1)
        first_s = time.perf_counter() - started
        rest = proc.stdout.read()
        proc.wait()
        exit_s = time.perf_counter() - started
        watcher.join()
        err.seek(0)
        problem = err.read().decode(errors="replace")[-500:] if proc.returncode else ""
    return {"to_output_s": round(first_s if first else exit_s, 3), "to_exit_s": round(exit_s, 3),
            "peak_rss_mb": round(peak[0] / 1024, 1), "returncode": proc.returncode,
            "output": (first + rest).decode(errors="replace")[:200], "stderr_tail": problem}


def _watch_rss(proc: subprocess.Popen[bytes], peak: list[int]) -> None:
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except (OSError, ValueError):
            pass  # the process is exiting
        time.sleep(0.02)


def cli() -> list[str]:
    script = Path(sys.executable).with_name("assistant")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.app.cli"]


def cold_start(store: Path, question: str, repeats: int) -> dict[str, Any]:
    """A new process ``assistant ask`` per run, for each embedding backend."""
    out: dict[str, Any] = {}
    for backend in ("onnx", "torch"):
        cmd = [*cli(), "--store-dir", str(store), "--embedder", backend, "ask", question]
        runs = [run_child(cmd) for _ in range(repeats)]
        out[backend] = {"to_answer_s": median([r["to_output_s"] for r in runs]),
                        "to_exit_s": median([r["to_exit_s"] for r in runs]),
                        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                        "returncodes": [r["returncode"] for r in runs],
                        "answer_head": runs[-1]["output"][:120],
                        "stderr_tail": runs[-1]["stderr_tail"]}
        log(f"cold start {backend}: {out[backend]}")
    return out


def index_memory(files: Sequence[Path], store: Path, backend: str) -> dict[str, Any]:
    """Peak RSS of a new ``assistant index`` process (model load included) and what it cut."""
    run = run_child([*cli(), "--store-dir", str(store), "--embedder", backend, "index",
                     *map(str, files)])
    manifest = Manifest(manifest_of(store))
    chunks = sum(1 for _ in manifest.all_chunk_texts())
    manifest.close()
    return {"peak_rss_mb": run["peak_rss_mb"], "seconds": run["to_exit_s"], "chunks": chunks,
            "backend": backend, "returncode": run["returncode"]}


def onnx_vs_torch(texts: Sequence[str], torch_embedder: Any, repeats: int) -> dict[str, Any]:
    """Encode throughput of both backends on the same chunks, and how far their vectors agree."""
    import numpy as np

    from assistant.storage.embedding import OnnxEmbedder

    onnx = OnnxEmbedder(batch_size=torch_embedder.batch_size)
    onnx.embed(texts[:8])
    times: dict[str, list[float]] = {"torch": [], "onnx": []}
    vecs: dict[str, Any] = {}
    for _ in range(repeats):
        for name, emb in (("torch", torch_embedder), ("onnx", onnx)):
            seconds, vecs[name] = timed(emb.embed, texts)
            times[name].append(seconds)
    cos = np.sum(vecs["torch"] * vecs["onnx"], axis=1)
    t, o = median(times["torch"]), median(times["onnx"])
    return {"texts": len(texts), "torch_texts_per_s": round(len(texts) / t, 2),
            "onnx_texts_per_s": round(len(texts) / o, 2), "onnx_speedup": round(t / o, 3),
            "cosine_mean": round(float(cos.mean()), 4), "cosine_min": round(float(cos.min()), 4),
            "cosine_p5": round(float(np.percentile(cos, 5)), 4)}


# --- report -----------------------------------------------------------------------------------
def targets(r: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The targets from the issue, each with the measured value and whether it is met."""
    checks = [
        ("pipeline / raw encode >= 0.9", r["ingestion"]["ratio_pipeline_vs_raw_encode"],
         lambda v: v >= 0.9),
        ("re-index seconds <= 2", r["reindex"]["seconds"], lambda v: v <= 2),
        ("re-index as a new `assistant index` process seconds <= 2",
         r["reindex"]["process_seconds"], lambda v: v <= 2),
        ("re-index chunks embedded == 0", r["reindex"]["embedded"], lambda v: v == 0),
        ("cold start onnx seconds <= 3", r["cold_start"]["onnx"]["to_answer_s"], lambda v: v <= 3),
        ("pipeline (default, onnx) / llama-index peer, articles per second > 1",
         r["ingestion"]["ratio_pipeline_onnx_vs_llama_index_articles"], lambda v: v > 1),
        ("onnx / torch encode throughput >= 1", r["onnx_vs_torch"]["onnx_speedup"],
         lambda v: v >= 1),
        (f"warm ask p95 s <= 0.05 at {r['latency']['full']['chunks']} chunks (target: 20k)",
         r["latency"]["full"]["p95"], lambda v: v <= 0.05),
        ("peak RSS MB <= 1536 indexing "
         f"{r['memory']['indexing_large']['chunks']} chunks (target: 20k)",
         r["memory"]["indexing_large"]["peak_rss_mb"], lambda v: v <= 1536),
    ]
    if "large" in r["latency"]:
        lat = r["latency"]
        checks.append((f"warm ask p95 at {lat['large']['chunks']} chunks <= 2 x p95 at "
                       f"{lat['sample']['chunks']} (ratio)",
                       round(lat["large"]["p95"] / lat["sample"]["p95"], 2), lambda v: v <= 2))
    return {name: {"value": value, "met": bool(ok(value))} for name, value, ok in checks}


def markdown(r: dict[str, Any]) -> str:
    """perf.md: the same figures as perf.json, in tables, with where each came from."""
    m, ing, rx, oc, mem = (r[k] for k in ("machine", "ingestion", "reindex", "onnx_vs_torch",
                                          "memory"))
    pipe, raw, llama = ing["pipeline"], ing["raw_encode"], ing["llama_index"]
    lines = [
        "# Performance", "",
        f"Machine: {m['cpu']}, {m['usable_cores']} usable cores, {m['ram_mb'] / 1024:.1f} GB RAM, "
        f"Python {m['python']}; load average at start {m['load_average_at_start'][0]:.2f} "
        "(a shared machine moves absolute figures; each ratio is measured within one run).",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        f"Data: `{r['data']}`; ingestion sample = its first {r['sample']['articles']} articles "
        f"(from {', '.join(r['sample']['from'])}). "
        f"Noisy figures are medians over {r['repeats']} repeats.", "",
        "## Targets", "", "| target | value | met |", "|---|---|---|",
        *(f"| {k} | {v['value']} | {'yes' if v['met'] else '**no**'} |"
          for k, v in r["targets"].items()),
        "", "## Ingestion (sample, a fresh store per repeat)", "",
        f"{ing['articles']} articles, {ing['chunks']} chunks (mean {ing['chunk_chars_mean']} "
        f"chars), {ing['embedded']} embedded, {ing['reused_by_cache']} reused from the "
        f"identical-text cache ({ing['cache_saved_share']:.1%} of chunks).", "",
        "| path | seconds | throughput |", "|---|---|---|",
        f"| `Assistant.index` (read, clean, chunk, embed, Chroma, BM25, clusters) "
        f"| {pipe['seconds']} | {pipe['chunks_per_s']} chunks/s, {pipe['embedded_per_s']} "
        f"embedded/s, {pipe['articles_per_s']} articles/s |",
        f"| `SentenceTransformer.encode` of the same {raw['texts']} texts, batch "
        f"{r['settings']['embed_batch_size']} | {raw['seconds']} | {raw['texts_per_s']} texts/s |",
        f"| `TorchEmbedder.embed` of the same texts (what the pipeline calls) | "
        f"{ing['embedder_embed']['seconds']} | {ing['embedder_embed']['texts_per_s']} texts/s |",
        f"| `Assistant.index` with the default ONNX backend (same chunks) | "
        f"{ing['pipeline_onnx']['seconds']} | {ing['pipeline_onnx']['chunks_per_s']} chunks/s, "
        f"{ing['pipeline_onnx']['articles_per_s']} articles/s |",
        f"| llama-index `VectorStoreIndex.from_documents` (SentenceSplitter 150 tokens, same "
        f"model, ChromaVectorStore) | {llama['seconds']} | {llama['chunks_per_s']} chunks/s "
        f"({llama['chunks']} chunks), {llama['articles_per_s']} articles/s |", "",
        f"Pipeline / raw encode on the same texts: **{ing['ratio_pipeline_vs_raw_encode']}** "
        f"(of which `TorchEmbedder.embed` / raw encode: "
        f"{ing['ratio_embedder_embed_vs_raw_encode']}); "
        f"pipeline / llama-index on the same articles: "
        f"**{ing['ratio_pipeline_vs_llama_index_articles']}**, per chunk: "
        f"**{ing['ratio_pipeline_vs_llama_index_chunks']}** (above 1: ours is faster; the two "
        "cut different chunks, so both views are shown). With the default ONNX backend, per "
        f"article: **{ing['ratio_pipeline_onnx_vs_llama_index_articles']}**.", "",
        "## Re-index of the unchanged corpus", "",
        f"Store `{rx['store']}`: {rx['articles']} articles, {rx['chunks']} chunks, built "
        f"beforehand by `assistant --store-dir STORE index DATA` and reused ({rx['note']}). "
        "Unchanged re-index: "
        f"**{rx['seconds']} s** in a warm process, **{rx['process_seconds']} s** as a new "
        f"`assistant index --keep-missing` process (imports and Chroma start included; runs "
        f"{rx['process_runs']}); {rx['embedded']} chunks embedded, {rx['changed']} articles "
        f"changed (runs {rx['runs']}). Unchanged articles are recognised by the hash of their "
        "record as read, before cleaning; with nothing changed the model is not loaded and the "
        "keyword index and story clusters are not rebuilt. The identical-text cache holds one vector for "
        f"{rx['cache_saved_share']:.1%} of this corpus's chunks that repeat another's text.", "",
        "## Warm `ask` latency", "",
        f"Default (ONNX) backend; {r['latency']['full']['questions']} RealTime QA questions per "
        f"repeat, new questions each repeat; median over {r['repeats']} repeats of each "
        "repeat's p50/p95. Store sizes: the ingestion sample, the whole dev corpus, and the "
        "large store below (the issue's 20k and 60k targets are checked at the larger sizes).",
        "", "| store | chunks | p50 s | p95 s |", "|---|---|---|---|",
        *(f"| {name} | {v['chunks']} | {v['p50']} | {v['p95']} |"
          for name, v in r["latency"].items())]
    if "large_store" in r:
        ls, built = r["large_store"], r["large_store"]["built"]
        lines += ["", f"The large store `{ls['store']}` is the full store copied plus "
                  f"{ls['replicas']} copies of the corpus whose URLs end in `#replica-N`, text "
                  f"identical. Built {built['at']} in {built['seconds']} s: {built['added']} "
                  f"articles added, {built['embedded']} chunks embedded, {built['reused']} "
                  "vectors from the identical-text cache. Replicas join their originals' story "
                  "clusters, as syndicated copies of a story do."]
    lines += ["", "## Cold start (a new process `assistant ask`, full store)", "",
              "| backend | to printed answer s | to exit s | peak RSS MB |", "|---|---|---|---|",
              *(f"| {b} | {v['to_answer_s']} | {v['to_exit_s']} | {v['peak_rss_mb']} |"
                for b, v in r["cold_start"].items()),
              "", "## Memory (peak RSS of a new process, VmHWM)", "",
              *(f"- indexing {v['chunks']} chunks (`assistant index`, {v['backend']}, model load "
                f"included): {v['peak_rss_mb']} MB in {v['seconds']} s"
                for v in (mem["indexing"], mem["indexing_large"])),
              *(f"- answering one question on the {k}: {v} MB" for k, v in mem["serving"].items()),
              "", "## ONNX int8 vs torch fp32", "",
              f"{oc['texts']} chunks: torch {oc['torch_texts_per_s']} texts/s, onnx "
              f"{oc['onnx_texts_per_s']} texts/s (onnx **{oc['onnx_speedup']}x**). Cosine between "
              f"the two vectors of one chunk: mean {oc['cosine_mean']}, 5th percentile "
              f"{oc['cosine_p5']}, min {oc['cosine_min']}."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run every phase, writing perf.json after each one (a crash keeps what was measured)."""
    p = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="RealTime QA weeks folder")
    p.add_argument("--out", default="bench/out")
    p.add_argument("--store-dir", help="the full store, reused (default $ASSISTANT_BENCH_STORE "
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
    store = Path(args.store_dir or os.environ.get("ASSISTANT_BENCH_STORE") or out / "store-full")
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
        manifest = Manifest(manifest_of(work / "ingest-0"))
        texts = [t for _, t in manifest.all_chunk_texts()][: args.onnx_texts]
        manifest.close()
        log(f"onnx vs torch on {len(texts)} chunks")
        r["onnx_vs_torch"] = onnx_vs_torch(texts, embedder, args.repeats)
    r["targets"] = targets(r)
    save()
    (out / "perf.md").write_text(markdown(r))
    log(f"wrote {out / 'perf.json'} and {out / 'perf.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
