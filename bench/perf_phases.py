"""The timed phases of ``bench.perf``: ingestion against raw encoding and llama-index, warm
``ask`` latency, cold start, peak memory of indexing, ONNX against torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.kernel.records import RawArticle
from bench.measure import cli, log, median, run_child, timed
from bench.perf_stores import assistant, chunk_texts
from eval.metrics import percentile


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
        texts = chunk_texts(store)
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
    chunks = len(chunk_texts(store))
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
