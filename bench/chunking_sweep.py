"""The settings ``bench.chunking_table`` compares, and what each costs to index: one store
built (or reused) per setting, its chunks measured, and the embedding speed of every
setting's own chunks side by side.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant import Assistant
from assistant.kernel.settings import Settings
from assistant.storage.embedding import model_dir
from assistant.storage.generations import manifest_of
from assistant.storage.manifest import Manifest

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
