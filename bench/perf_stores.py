"""The stores ``bench.perf`` measures on: the ingestion sample, the full store (re-indexed
unchanged) and the large store (the full one plus replicas of the corpus).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant import Assistant
from assistant.kernel.records import RawArticle
from assistant.kernel.settings import Settings
from assistant.storage.generations import manifest_of
from assistant.storage.manifest import Manifest
from bench.measure import cli, log, median, run_child, timed


def assistant(store: Path, embedder: Any) -> Assistant:
    """An assistant on ``store`` sharing a loaded embedder (its backend decides the settings')."""
    backend = "torch" if hasattr(embedder, "model") else "onnx"
    return Assistant(settings=Settings(store_dir=store, embedder=backend), model=embedder)


def chunk_texts(store: Path) -> list[str]:
    """The text of every chunk in ``store``, in manifest order."""
    manifest = Manifest(manifest_of(store))
    texts = [t for _, t in manifest.all_chunk_texts()]
    manifest.close()
    return texts


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
    texts = chunk_texts(store)
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
