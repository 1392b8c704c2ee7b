"""Story clustering at scale: seconds and peak memory of ``index.clusters.cluster`` on a store.

    python -m bench.cluster_scale [--sizes 1000,2000,4000,50000] [--work /tmp/cluster-scale] \\
        [--out bench/out] [--timeout 420] [--label after]
    # the same figures for another implementation (e.g. an older commit's):
    git show REV:index/clusters.py > /tmp/old_clusters.py
    python -m bench.cluster_scale --clusters-file /tmp/old_clusters.py --passages all --label before

For each size a synthetic manifest is built once under ``--work`` (kept and reused): one
topic, six chunk vectors per article, every article dated within three days — 60% are
near-identical copies of one wire story, 30% are stories of ten copies, 10% are distinct
articles. Every pair of centroids passes the prefilter and the date limit, the worst case for
a pairwise check. Each measurement runs in a new process: it loads the centroids from the
manifest and calls ``cluster`` the way ``Indexer._cluster`` does (``--passages fetch``: with
``Manifest.chunk_vectors_of``; ``all``: with every vector from ``Manifest.chunk_vectors``, as
before), checks the clusters against the stories (``correct``: every story one cluster, no
two stories joined), and reports seconds and peak RSS (``resource.getrusage``; for a run
stopped at ``--timeout``, the child's ``VmHWM`` when it was stopped). Results of each label are
merged into ``cluster_scale.json`` and tabled in ``cluster_scale.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

DIM, CHUNKS = 384, 6


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def stories(n: int) -> list[str]:
    """The story of each of ``n`` articles (doc ids are ``{story}-{i}``)."""
    wire, small = int(n * 0.6), int(n * 0.3)
    return (["wire"] * wire + [f"s{i // 10:05d}" for i in range(small)]
            + [f"d{i:05d}" for i in range(n - wire - small)])


def build(path: Path, n: int, seed: int = 0) -> None:
    """Write a manifest of ``n`` synthetic finished articles to ``path``."""
    from assistant.storage.manifest import Manifest

    rng = np.random.default_rng(seed)
    topic = _unit(rng.normal(size=DIM))
    bases: dict[str, np.ndarray] = {}
    labels = stories(n)
    tmp = path.with_suffix(".building")
    for leftover in path.parent.glob(tmp.name + "*"):
        leftover.unlink()
    manifest = Manifest(tmp)
    try:
        for lo in range(0, n, 2000):
            docs, chunks, cache = [], [], []
            for i in range(lo, min(n, lo + 2000)):
                story = labels[i]
                if story not in bases or story.startswith("d"):
                    bases[story] = _unit(topic + _unit(rng.normal(size=(CHUNKS, DIM))))
                vectors = _unit(bases[story] + rng.normal(scale=0.015, size=(CHUNKS, DIM)))
                doc = f"{story}-{i:06d}"
                published = (date(2022, 2, 1) + timedelta(days=i % 3)).isoformat()
                docs.append((doc, "x", "", published, vectors.mean(0).astype(np.float32).tobytes()))
                for k, v in enumerate(vectors):
                    h = hashlib.blake2b(f"{doc}/{k}".encode(), digest_size=16).hexdigest()
                    chunks.append((f"{doc}::{k}", doc, k, 0, 0, h, "[]"))
                    cache.append((h, v.tobytes()))
            with manifest.db:
                manifest.db.executemany(
                    "INSERT INTO docs (doc_id, content_hash, title, published, centroid, text,"
                    " state, indexed_at) VALUES (?,?,?,?,?,'','done',0)", docs)
                manifest.db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?)", chunks)
                manifest.db.executemany("INSERT INTO embed_cache VALUES (?,?)", cache)
    finally:
        manifest.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    tmp.rename(path)


def measure(path: Path, clusters_file: str | None, passages: str) -> dict[str, Any]:
    """Cluster the manifest at ``path`` in this process; seconds, peak MB and correctness."""
    from assistant.storage.manifest import Manifest

    implementation: Any  # the module under test: index/clusters.py or a copy of another version
    if clusters_file:
        spec = importlib.util.spec_from_file_location("clusters_under_test", clusters_file)
        assert spec and spec.loader
        implementation = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(implementation)
    else:
        import index.clusters as implementation
    manifest = Manifest(path, create=False)
    started = time.perf_counter()
    ids, published, centroids = manifest.centroids()
    loaded = time.perf_counter()
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    source = manifest.chunk_vectors() if passages == "all" else manifest.chunk_vectors_of
    clusters = implementation.cluster(ids, published, centroids, source)
    seconds = time.perf_counter() - loaded
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    manifest.close()
    by_story: dict[str, set[str]] = {}
    for d in ids:
        by_story.setdefault(d.rsplit("-", 1)[0], set()).add(clusters[d])
    correct = (all(len(c) == 1 for c in by_story.values())
               and len(set(clusters.values())) == len(by_story))
    return {"articles": len(ids), "seconds": round(seconds, 2),
            "load_centroids_seconds": round(loaded - started, 2), "peak_mb": round(peak_mb),
            "mb_before_clustering": round(before_mb), "clusters": len(set(clusters.values())),
            "stories": len(by_story), "correct": correct}


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_child(args: list[str], timeout: float) -> dict[str, Any]:
    """Run this module with ``args`` in a new process; its JSON result, or what a timeout left."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.cluster_scale", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = None
    while proc.poll() is None and time.perf_counter() - started < timeout:
        peak = _vm_hwm_mb(proc.pid) or peak
        time.sleep(0.5)
    if proc.poll() is None:
        peak = _vm_hwm_mb(proc.pid) or peak
        proc.kill()
        proc.wait()
        return {"finished": False, "seconds": f">{timeout:.0f}", "peak_mb": round(peak or 0),
                "note": f"stopped after {timeout:.0f} s"}
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed:\n{err[-3000:]}")
    return {"finished": True, **json.loads(out.strip().splitlines()[-1])}


def markdown(results: dict[str, Any]) -> str:
    labels = sorted(results["runs"])
    sizes = sorted({int(n) for label in labels for n in results["runs"][label]["sizes"]})
    lines = ["# Story clustering at scale (`bench/cluster_scale.py`)", "",
             "Synthetic store: one topic, 6 chunks per article, all dated within 3 days; 60% "
             "near-identical copies of one story, 30% stories of 10 copies, 10% distinct. "
             "Seconds: `cluster` with its passage loading (after the centroids are read). "
             "Peak MB: peak RSS of the whole process.", ""]
    for label in labels:
        run = results["runs"][label]
        lines.append(f"- **{label}**: {run['implementation']}, passages `{run['passages']}`, "
                     f"{run['machine']}")
    lines += ["", "| articles | " + " | ".join(f"{lb} s | {lb} peak MB | {lb} correct"
                                                for lb in labels) + " |",
              "|---:|" + "---:|---:|:---:|" * len(labels)]
    for n in sizes:
        cells = []
        for label in labels:
            r = results["runs"][label]["sizes"].get(str(n))
            cells += (["—"] * 3 if r is None else
                      [str(r["seconds"]), str(r["peak_mb"]), str(r.get("correct", "—"))])
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cluster_scale", description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,2000,4000,50000")
    p.add_argument("--work", default="/tmp/cluster-scale", help="where the synthetic stores are kept")
    p.add_argument("--out", default="bench/out")
    p.add_argument("--timeout", type=float, default=420, help="seconds before a size is stopped")
    p.add_argument("--clusters-file",
                   help="a copy of index/clusters.py (another version) to measure instead of it")
    p.add_argument("--passages", choices=["fetch", "all"], default="fetch",
                   help="fetch: Manifest.chunk_vectors_of; all: every vector up front")
    p.add_argument("--label", default="after")
    p.add_argument("--build", type=int, help=argparse.SUPPRESS)
    p.add_argument("--measure", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if args.build:
        build(Path(args.work) / f"n{args.build}.sqlite", args.build)
        print(json.dumps({"built": args.build}))
        return 0
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.clusters_file, args.passages)))
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    record = out / "cluster_scale.json"
    results = json.loads(record.read_text()) if record.exists() else {"runs": {}}
    run = results["runs"][args.label] = {
        "implementation": args.clusters_file or "index/clusters.py", "passages": args.passages,
        "machine": f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start",
        "sizes": {}}
    Path(args.work).mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",")):
        store = Path(args.work) / f"n{n}.sqlite"
        if not store.exists():
            print(f"building a store of {n:,} articles in {store}", file=sys.stderr)
            run_child(["--build", str(n), "--work", args.work], timeout=3600)
        extra = ["--clusters-file", args.clusters_file] if args.clusters_file else []
        result = run_child(["--measure", str(store), "--passages", args.passages, *extra],
                           timeout=args.timeout)
        run["sizes"][str(n)] = result
        print(f"{args.label} {n:,}: {result}", file=sys.stderr)
        record.write_text(json.dumps(results, indent=1))
        (out / "cluster_scale.md").write_text(markdown(results))
    print(f"wrote {record} and {out / 'cluster_scale.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
