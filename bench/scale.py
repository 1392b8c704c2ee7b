"""The archive benchmark (``make bench-scale``): the whole RealTime QA training corpus in one store.

Writes ``bench/out/scale.json`` and ``scale.md``:
- **build**: the archive store (about 15,500 articles) is built once in ``--work`` and reused;
  the first build's time, rate and peak memory are kept beside it (``build.json``), and a
  rerun only checks that nothing changed (the embedding cache makes it cheap);
- **ingestion**: chunks/s of the same sample indexed in-process and through a local Ray
  cluster with one and with two workers on the same cores (the ratio is Ray's overhead), with
  the peak RSS of the driver and of the workers;
- **serving**: warm ``ask`` p50/p95 on the archive, a cold ``assistant ask`` process;
- **keyword index**: the sharded BM25 index's build, load and search time, what one article's
  change costs it (its shard rebuilt) against rebuilding one whole index as before shards; and
  index runs over the whole archive that change nothing, add one article and remove it;
- the store's size on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.measure import cli, log, machine, median, run_child, timed
from bench.ray_cluster import LocalCluster, embedding_actors
from bench.scale_report import markdown


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="realtimeqa/train (the *_gcs.jsonl weeks)")
    p.add_argument("--out", default="bench/out")
    p.add_argument("--work", default="../bench-store/scale", help="where the archive store lives")
    p.add_argument("--sample-weeks", type=int, default=2, help="weeks indexed by each ingestion mode")
    p.add_argument("--questions", type=int, default=60)
    args = p.parse_args(argv)
    files = sorted(Path(args.data).glob("*_gcs.jsonl"))
    if not files:
        p.error(f"no *_gcs.jsonl weeks in {args.data}")
    work, out = Path(args.work).resolve(), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict[str, Any] = {"machine": machine(), "data": str(args.data), "weeks": len(files)}
    archive = work / "archive"
    results["build"] = build(archive, files)
    results["ingestion"] = ingestion(files[: args.sample_weeks], work / "ingestion")
    results["serving"] = serving(archive, questions(Path(args.data), args.questions))
    results["bm25"] = bm25(archive)
    results["one_article_change"] = one_article_change(archive, files, work)
    results["store_mb"] = round(_size(archive) / 1e6, 1)
    (out / "scale.json").write_text(json.dumps(results, indent=2))
    (out / "scale.md").write_text(markdown(results))
    log(f"wrote {out / 'scale.json'} and {out / 'scale.md'}")
    return 0


# --- the archive -----------------------------------------------------------------------------
def build(store: Path, files: Sequence[Path]) -> dict[str, Any]:
    """Index every week into ``store``; the first, full build's figures are kept in build.json."""
    record = store.parent / "build.json"
    run = run_child([*cli(), "--store-dir", str(store), "index", *map(str, files)])
    report = _report(store)
    if run["returncode"] not in (0, 1):  # 1: some records could not be read (listed)
        raise SystemExit(f"building the archive failed: {run['stderr_tail']}")
    this = {"seconds": run["to_exit_s"], "peak_rss_mb": run["peak_rss_mb"], **report}
    first = json.loads(record.read_text()) if record.exists() else None
    if first is None or first.get("articles") != report["articles"]:
        first = this  # this run built (or extended) the archive: it is the build to report
        record.write_text(json.dumps(first, indent=2))
    log(f"archive: {report['articles']} articles, {report['chunks']} chunks")
    return {"first_build": first, "rerun": this}


def _report(store: Path) -> dict[str, Any]:
    from assistant import Assistant

    a = Assistant(store_dir=store)
    try:
        s = a.status()
        return {"articles": s.articles, "chunks": s.chunks, "clusters": s.clusters}
    finally:
        a.close()


def questions(data: Path, limit: int) -> list[str]:
    """The first ``limit`` questions of the training weeks (their articles are in the archive)."""
    found: list[str] = []
    for path in sorted(data.glob("*_qa.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                found.append(json.loads(line)["question_sentence"])
            if len(found) >= limit:
                return found
    return found


# --- ingestion: in-process vs Ray -------------------------------------------------------------
def ingestion(files: Sequence[Path], work: Path) -> dict[str, Any]:
    """The same weeks into a fresh store per mode (nothing cached), chunks/s and peak RSS."""
    out: dict[str, Any] = {"weeks": [f.name for f in files]}
    out["in_process"] = _index_run(work / "in-process", files, {})
    with LocalCluster([os.cpu_count() or 1], work / "ray.log") as cluster:
        for workers in (1, 2):
            out[f"ray_{workers}"] = _index_run(work / f"ray-{workers}", files,
                                                {**cluster.env, "ASSISTANT_RAY_WORKERS": str(workers)},
                                                ray=cluster.address)
    base = out["in_process"]["chunks_per_s"]
    for workers in (1, 2):
        out[f"ray_{workers}"]["ratio_to_in_process"] = round(
            out[f"ray_{workers}"]["chunks_per_s"] / base, 3) if base else None
    return out


def _index_run(store: Path, files: Sequence[Path], env: dict[str, str],
               ray: str | None = None) -> dict[str, Any]:
    shutil.rmtree(store, ignore_errors=True)
    cmd = [*cli(), "--store-dir", str(store), "index", *map(str, files), *(["--ray", ray] if ray else [])]
    workers: dict[int, int] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_workers, args=(workers, stop), daemon=True)
    watcher.start()
    try:
        run = run_child(cmd, env)
    finally:
        stop.set()
        watcher.join()
    chunks = _report(store)["chunks"]
    result = {"seconds": run["to_exit_s"], "chunks": chunks,
              "chunks_per_s": round(chunks / run["to_exit_s"], 1), "driver_peak_rss_mb": run["peak_rss_mb"],
              "worker_peak_rss_mb": round(max(workers.values(), default=0) / 1024, 1),
              "returncode": run["returncode"], "stderr_tail": run["stderr_tail"][-300:]}
    log(f"index {store.name}: {result}")
    return result


def _watch_workers(peaks: dict[int, int], stop: threading.Event) -> None:
    """Peak VmHWM (kB) of each Ray embedding actor process seen while the run lasts."""
    while not stop.is_set():
        for pid in embedding_actors():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = max(peaks.get(pid, 0), int(line.split()[1]))
            except OSError:
                pass
        stop.wait(0.5)


# --- serving -----------------------------------------------------------------------------------
def serving(store: Path, asked: Sequence[str]) -> dict[str, Any]:
    from assistant import Assistant

    a = Assistant(store_dir=store)
    try:
        for q in asked[:3]:
            a.ask(q)  # warm: the models and the keyword index are loaded
        wall = [timed(a.ask, q)[0] for q in asked]
    finally:
        a.close()
    cold = [run_child([*cli(), "--store-dir", str(store), "ask", asked[0]]) for _ in range(3)]
    ordered = sorted(wall)
    return {"questions": len(asked),
            "warm_ask_p50_s": round(ordered[len(ordered) // 2], 4),
            "warm_ask_p95_s": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 4),
            "cold_ask_s": median([r["to_output_s"] for r in cold]),
            "cold_ask_peak_rss_mb": max(r["peak_rss_mb"] for r in cold)}


SEARCHES = ("election results in the state senate", "How many people died in the earthquake?",
            "What did the Federal Reserve do with interest rates?", "Which company announced layoffs?",
            "Where did the hurricane make landfall?")


def bm25(store: Path) -> dict[str, Any]:
    """The keyword index of every chunk built anew beside the store's: sharded as index runs
    build it, and as one index (the layout before shards, for comparison); then what one
    article's change costs each: the sharded update against a whole rebuild."""
    from assistant.storage import keyword
    from assistant.storage.generations import current
    from assistant.storage.manifest import Manifest

    gen = current(store, "news")
    manifest = Manifest(gen.manifest)
    scratch = store.parent / "bm25-scratch"
    try:
        keys_s, keys = timed(manifest.chunk_keys)
        shutil.rmtree(scratch, ignore_errors=True)
        build_s, built = timed(keyword.update, scratch / "sharded", keys, manifest.chunk_texts_of)
        load_s, index = timed(keyword.KeywordIndex, scratch / "sharded")
        search_s = statistics.median([timed(index.search, q, 50)[0] for q in SEARCHES * 3])
        one = keys[len(keys) // 2].doc_id  # an article removed: its shard alone is rebuilt
        update_s, updated = timed(keyword.update, scratch / "sharded",
                                  [k for k in keys if k.doc_id != one], manifest.chunk_texts_of)
        texts = manifest.all_chunk_texts()
        single_s, _ = timed(keyword.build, texts, scratch / "single")
        single = keyword.KeywordIndex(scratch / "single")
        single_search_s = statistics.median([timed(single.search, q, 50)[0] for q in SEARCHES * 3])
    finally:
        manifest.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return {"chunks": len(keys), "shards": built.shards, "build_s": round(build_s, 2),
            "load_s": round(load_s, 3), "search_ms": round(search_s * 1000, 2),
            "chunk_keys_s": round(keys_s, 2), "one_article_update_s": round(update_s, 2),
            "one_article_shards_rebuilt": updated.rebuilt,
            "single_index": {"build_s": round(single_s, 2),
                             "search_ms": round(single_search_s * 1000, 2)}}


def one_article_change(store: Path, files: Sequence[Path], work: Path) -> dict[str, Any]:
    """Index runs over the whole archive: nothing changed, one article added, and removed again."""
    folder = work / "one-article"
    folder.mkdir(parents=True, exist_ok=True)
    extra = folder / "extra.txt"
    extra.unlink(missing_ok=True)
    cmd = [*cli(), "--store-dir", str(store), "index", *map(str, files), str(folder)]
    unchanged = run_child(cmd)
    extra.write_text("Scale benchmark note\n\nThe archive benchmark added this one article to "
                     "measure what a one-article change costs.")
    added = run_child(cmd)
    extra.unlink()
    removed = run_child(cmd)
    return {"unchanged_run_s": unchanged["to_exit_s"], "add_one_s": added["to_exit_s"],
            "remove_one_s": removed["to_exit_s"], "peak_rss_mb": added["peak_rss_mb"]}


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


if __name__ == "__main__":
    raise SystemExit(main())
