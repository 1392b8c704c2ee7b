"""``bench/out/scale.md``: the archive benchmark's figures and what they mean at 10M chunks."""

from __future__ import annotations

from typing import Any

TARGET_CHUNKS = 10_000_000


def markdown(r: dict[str, Any]) -> str:
    b, ing, srv, kw, one = (r["build"]["first_build"], r["ingestion"], r["serving"], r["bm25"],
                            r["one_article_change"])
    m = r["machine"]
    rate = b["chunks"] / b["seconds"] if b["seconds"] else 0.0
    lines = [
        "# Archive benchmark (`make bench-scale`)", "",
        f"{m['cpu']}, {m['usable_cores']} cores, {m['ram_mb']} MB RAM; load at start "
        f"{m['load_average_at_start'][0]:.1f}. Corpus: {r['weeks']} RealTime QA training weeks.", "",
        "## The archive", "",
        "| articles | chunks | story clusters | first build | rate | peak RSS | store on disk |",
        "|---|---|---|---|---|---|---|",
        f"| {b['articles']:,} | {b['chunks']:,} | {b['clusters']:,} | {b['seconds'] / 60:.1f} min "
        f"| {rate:.0f} chunks/s | {b['peak_rss_mb']:.0f} MB | {r['store_mb']:,.0f} MB |", "",
        f"A rerun over the same files (nothing changed) took {r['build']['rerun']['seconds']:.0f} s.", "",
        "## Ingestion: in-process vs Ray on the same cores", "",
        f"Weeks {', '.join(ing['weeks'])}, a fresh store per mode (nothing cached).", "",
        "| mode | chunks | seconds | chunks/s | ratio | driver peak RSS | worker peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in (("in_process", "in-process"), ("ray_1", "Ray, 1 worker"),
                        ("ray_2", "Ray, 2 workers")):
        x = ing[name]
        ratio = x.get("ratio_to_in_process")
        worker = f"{x['worker_peak_rss_mb']:.0f} MB" if x["worker_peak_rss_mb"] else "–"
        lines.append(f"| {label} | {x['chunks']:,} | {x['seconds']:.1f} | {x['chunks_per_s']:.1f} | "
                     f"{'1.00' if ratio is None else f'{ratio:.2f}'} | {x['driver_peak_rss_mb']:.0f} MB | "
                     f"{worker} |")
    lines += [
        "", "## Serving the archive", "",
        "| warm ask p50 | warm ask p95 | cold `assistant ask` | cold peak RSS |",
        "|---|---|---|---|",
        f"| {srv['warm_ask_p50_s'] * 1000:.0f} ms | {srv['warm_ask_p95_s'] * 1000:.0f} ms | "
        f"{srv['cold_ask_s']:.1f} s | {srv['cold_ask_peak_rss_mb']:.0f} MB |", "",
        "## The keyword index", "",
        *keyword_index(kw), "",
        f"Index runs over the whole archive: nothing changed {one['unchanged_run_s']:.0f} s, one "
        f"article added {one['add_one_s']:.0f} s, removed again {one['remove_one_s']:.0f} s.", "",
        f"## At {TARGET_CHUNKS:,} chunks", "",
        *ten_million(r), "",
    ]
    return "\n".join(lines)


def keyword_index(kw: dict[str, Any]) -> list[str]:
    """The sharded BM25 index against one whole index (the layout before shards)."""
    single = kw["single_index"]
    return [
        "| layout | full build | one article changed | load | search (median) |",
        "|---|---|---|---|---|",
        f"| {kw['shards']} shards | {kw['build_s']:.1f} s | {kw['one_article_update_s']:.1f} s "
        f"({kw['one_article_shards_rebuilt']} shard rebuilt) + {kw['chunk_keys_s']:.1f} s reading "
        f"the manifest's chunk keys | {kw['load_s']:.2f} s | {kw['search_ms']:.1f} ms |",
        f"| one index (before shards) | {single['build_s']:.1f} s | {single['build_s']:.1f} s "
        f"(a whole rebuild) | – | {single['search_ms']:.1f} ms |",
    ]


def ten_million(r: dict[str, Any]) -> list[str]:
    """Linear extrapolation of the measured figures (stated as such)."""
    b, ing, kw = r["build"]["first_build"], r["ingestion"], r["bm25"]
    scale = TARGET_CHUNKS / b["chunks"]
    per_worker = ing["ray_1"]["chunks_per_s"] or 1.0
    hours_one = TARGET_CHUNKS / per_worker / 3600
    return [
        f"- Embedding at {per_worker:.0f} chunks/s per worker (measured, one worker with "
        f"{r['machine']['usable_cores']} cores): {hours_one:.0f} worker-hours; 32 such workers "
        f"take {hours_one / 32:.1f} h if the single writer keeps up.",
        f"- Store on disk: {r['store_mb'] * scale / 1000:,.0f} GB (×{scale:.0f} the archive).",
        f"- Keyword index: a full build takes {kw['build_s'] * scale / 60:.0f} min "
        f"(×{scale:.0f} of {kw['build_s']:.0f} s) and happens when the shard count doubles; a "
        f"one-article change rebuilds one shard of ~{kw['chunks'] // max(kw['shards'], 1):,} "
        f"passages ({kw['one_article_update_s']:.0f} s) after reading every chunk key "
        f"({kw['chunk_keys_s'] * scale:.0f} s at ×{scale:.0f}): the manifest scan, not BM25, is "
        "then what grows with the archive.",
    ]
