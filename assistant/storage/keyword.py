"""The keyword side of retrieval: a BM25 index (bm25s + the kernel's Snowball stemmer) in shards.

An article's passages all go to one shard, picked by a hash of its doc id, and each shard holds
about ``SHARD_CHUNKS`` passages. The end of an index run calls :func:`update`, which rebuilds
only the shards whose passages changed: it compares each shard's digest of (chunk id, text hash)
pairs, read from the manifest without any text, with the digest in the shard's folder name. A
one-article change therefore rebuilds one shard, not the whole index. When the store doubles (or
shrinks to a quarter) the shard count follows and every shard is rebuilt once.

On disk, ``folder/layout.json`` names the current shard folders. New shard folders are written
first (each complete before it gets its name), then ``layout.json`` is replaced by rename and the
folders it no longer names are deleted, both under the swap lock that readers hold while they
load. A reader therefore loads one whole set of shards, the old or the new, and a run killed half
way leaves the old set answering and its finished shards reusable by the next run.

Scores are BM25 with the IDF of the whole index: each shard's precomputed scores are rescaled per
query term by global IDF / shard IDF, so a term's weight does not depend on which shard a passage
landed in. (Document lengths are still normalised by the shard's average length; with hashed
shards of tens of thousands of passages that average is the global one to within a few percent.)
With one shard the scores are bm25s's own. Equal scores rank in index order.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from assistant.kernel.text import stemmer
from assistant.storage.manifest_schema import ChunkKey, ChunkText

SHARD_CHUNKS = 32_768  # most passages per shard: the count is the smallest power of two keeping to it
LAYOUT = "layout.json"
LAYOUT_VERSION = 1


class Update(NamedTuple):
    """What :func:`update` did: shards rebuilt, of ``shards`` in the index now."""

    rebuilt: int
    shards: int


def _tokenize(texts: Sequence[str], ids: bool) -> Any:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer(), return_ids=ids,
                          show_progress=False)


def shard_of(doc_id: str, shards: int) -> int:
    """The shard of an article: a stable hash of its doc id (every process agrees)."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shard_count(chunks: int, current: int | None, shard_chunks: int = SHARD_CHUNKS) -> int:
    """How many shards ``chunks`` passages get: the smallest power of two giving shards of at
    most ``shard_chunks``. A ``current`` count is kept until the store outgrows it or shrinks to
    a quarter of it, so the count does not flap around a boundary."""
    wanted = 1
    while wanted * shard_chunks < chunks:
        wanted *= 2
    if current is not None and current >= 1 and wanted <= current < 4 * wanted:
        return current
    return wanted


def _shard_name(number: int, shards: int, keys: Sequence[ChunkKey]) -> str:
    digest = hashlib.sha256(f"{number}/{shards}\n".encode())
    for key in keys:
        digest.update(f"{key.chunk_id}\0{key.text_hash}\n".encode())
    return f"shard-{number:04d}-of-{shards:04d}-{digest.hexdigest()[:16]}"


def update(folder: Path, keys: Sequence[ChunkKey],
           texts: Callable[[Sequence[str]], Sequence[ChunkText]],
           shard_chunks: int = SHARD_CHUNKS) -> Update:
    """Bring the keyword index in ``folder`` up to date with ``keys`` (every chunk of every
    finished article, as the manifest lists them), rebuilding only the shards that changed.
    ``texts(doc_ids)`` gives the passages of those articles."""
    current = _read_layout(folder)
    count = shard_count(len(keys), len(current) if current else None, shard_chunks)
    groups: list[list[ChunkKey]] = [[] for _ in range(count)]
    for key in keys:
        groups[shard_of(key.doc_id, count)].append(key)
    names = [_shard_name(i, count, group) for i, group in enumerate(groups)]
    folder.mkdir(parents=True, exist_ok=True)
    rebuilt = 0
    for name, group in zip(names, groups, strict=True):
        if _loads(folder / name):
            continue  # unchanged, or finished by a run that was killed before the swap
        found = {t.chunk_id: t.text for t in texts(sorted({k.doc_id for k in group}))}
        _build_shard([(k.chunk_id, found[k.chunk_id]) for k in group], folder / name)
        rebuilt += 1
    if names != current:
        _swap_layout(folder, names)
    return Update(rebuilt, count)


def build(entries: Sequence[tuple[str, str]], folder: Path) -> None:
    """Index ``(chunk id, text)`` pairs into ``folder`` as one shard, replacing what it held (for
    benchmarks and tests; an index run calls :func:`update`)."""
    name = _shard_name(0, 1, [ChunkKey("", cid, hashlib.sha256(t.encode()).hexdigest())
                              for cid, t in entries])
    folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder / name, ignore_errors=True)
    _build_shard(entries, folder / name)
    _swap_layout(folder, [name])


def _build_shard(entries: Sequence[tuple[str, str]], target: Path) -> None:
    import bm25s

    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if entries:
        retriever = bm25s.BM25()
        retriever.index(_tokenize([t for _, t in entries], True), show_progress=False)
        retriever.save(str(tmp))
    (tmp / "ids.json").write_text(json.dumps([i for i, _ in entries]))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def _read_layout(folder: Path) -> list[str] | None:
    """The shard folders ``layout.json`` names, or None if there is none (a new store, or one
    written before shards: its single index is read, and replaced by the next index run)."""
    try:
        layout = json.loads((folder / LAYOUT).read_text())
        shards = layout["shards"]
        if layout.get("version") != LAYOUT_VERSION or not all(isinstance(s, str) for s in shards):
            return None
        return list(shards)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _swap_layout(folder: Path, names: Sequence[str]) -> None:
    """Make ``names`` the current shards, then delete everything else in ``folder``."""
    tmp = folder / (LAYOUT + ".tmp")
    with open(tmp, "w") as handle:
        json.dump({"version": LAYOUT_VERSION, "shards": list(names)}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    keep = {*names, LAYOUT}
    with _swap_lock(folder, fcntl.LOCK_EX):  # no reader is half-way through loading
        tmp.rename(folder / LAYOUT)
        for path in folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path) if path.is_dir() else path.unlink()


@contextmanager
def _swap_lock(folder: Path, mode: int) -> Iterator[None]:
    with open(folder.with_name(folder.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _loads(shard: Path) -> bool:
    try:
        _Shard(shard, mmap=True)
    except Exception:  # missing, half-written or damaged: build it again
        return False
    return True


def exists(folder: Path) -> bool:
    """Whether ``folder`` holds a keyword index, whole or damaged (a missing one is reported
    differently from a damaged one)."""
    return (folder / LAYOUT).exists() or (folder / "ids.json").exists()


def usable(folder: Path) -> bool:
    """Whether ``folder`` holds a keyword index in the current layout whose every shard loads
    (a missing, damaged or old-layout one is rebuilt by the next index run). Memory-mapped: the
    check reads headers, not the index."""
    names = _read_layout(folder)
    return names is not None and all(_loads(folder / name) for name in names)


def indexed_ids(folder: Path) -> list[str]:
    """Every chunk id in the keyword index, shard by shard (what tests compare to the manifest)."""
    return KeywordIndex(folder, mmap=True).ids


def remove(folder: Path) -> None:
    """Delete a keyword index that is no longer current, once no reader is loading it."""
    if not folder.parent.exists():
        return
    with _swap_lock(folder, fcntl.LOCK_EX):  # .tmp and .old: left by versions before shards
        for path in (folder, folder.with_name(folder.name + ".tmp"),
                     folder.with_name(folder.name + ".old")):
            shutil.rmtree(path, ignore_errors=True)


def _idf(df: int, n: int) -> float:
    """bm25s's (Lucene's) IDF, the one baked into each shard's scores."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class _Shard:
    """One bm25s index and the chunk ids of its rows."""

    def __init__(self, folder: Path, mmap: bool) -> None:
        import bm25s

        self.ids: list[str] = json.loads((folder / "ids.json").read_text())
        self.retriever = (bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
                          if self.ids else None)
        if self.retriever is not None:
            if len(self.ids) != self.retriever.scores["num_docs"]:
                raise ValueError(f"{folder}: {len(self.ids)} ids for "
                                 f"{self.retriever.scores['num_docs']} indexed passages")
            if self.retriever.method != "lucene" or self.retriever.idf_method != "lucene":
                raise ValueError(f"{folder}: BM25 variant {self.retriever.method} is not lucene")
        self.vocab: dict[str, int] = self.retriever.vocab_dict if self.retriever is not None else {}

    def df(self, token_id: int) -> int:
        """Passages of this shard that contain the token."""
        indptr = self.retriever.scores["indptr"]  # type: ignore[union-attr]
        return int(indptr[token_id + 1] - indptr[token_id])

    def scores(self, token_ids: Sequence[int], weights: Sequence[float],
               mask: np.ndarray | None) -> np.ndarray:
        """Each passage's BM25 score: bm25s's precomputed term scores, term ``i`` scaled by
        ``weights[i]`` (added as bm25s adds them, so a weight of 1 gives its exact scores),
        times ``mask`` (1 for allowed passages, 0 for the others) if given."""
        s = self.retriever.scores  # type: ignore[union-attr]
        data, indices, indptr = s["data"], s["indices"], s["indptr"]
        total = np.zeros(len(self.ids), dtype=np.float32)
        for tid, weight in zip(token_ids, weights, strict=True):
            start, end = indptr[tid], indptr[tid + 1]
            part = data[start:end] if weight == 1.0 else data[start:end] * np.float32(weight)
            np.add.at(total, indices[start:end], part)
        if mask is not None:
            total *= mask
        return total


class KeywordIndex:
    """A loaded keyword index: query text -> ranked chunk ids, over all its shards."""

    def __init__(self, folder: Path, mmap: bool = False) -> None:
        with _swap_lock(folder, fcntl.LOCK_SH):  # one whole set of shards
            names = _read_layout(folder)
            if names is None:
                if not (folder / "ids.json").exists():
                    raise FileNotFoundError(f"{folder / LAYOUT}: no keyword index")
                names = ["."]  # the single index of a store written before shards
            self.shards = [_Shard(folder / name, mmap) for name in names]
        self.ids: list[str] = [cid for shard in self.shards for cid in shard.ids]

    @cached_property
    def where(self) -> dict[str, tuple[int, int]]:
        """chunk id -> (shard, row); built by the first filtered search, not on every load."""
        return {cid: (n, i) for n, shard in enumerate(self.shards) for i, cid in enumerate(shard.ids)}

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score > 0), best first; ``allowed`` restricts the chunk ids."""
        if not self.ids or k <= 0:
            return []
        tokens = _tokenize([query], False)[0]
        # per shard: (query token, its id in the shard's vocabulary) for the tokens it has
        present = [[(t, shard.vocab[t]) for t in tokens if t in shard.vocab] for shard in self.shards]
        if not any(present):
            return []
        df: dict[str, int] = {}  # passages of the whole index that contain each query token
        for shard, found in zip(self.shards, present, strict=True):
            for t, tid in dict(found).items():
                df[t] = df.get(t, 0) + shard.df(tid)
        masks = self._masks(allowed)
        hits: list[tuple[float, int, str]] = []  # (score, shard number, chunk id)
        for n, (shard, found) in enumerate(zip(self.shards, present, strict=True)):
            if not found:
                continue
            weights = [1.0 if len(self.shards) == 1 else
                       _idf(df[t], len(self.ids)) / _idf(shard.df(tid), len(shard.ids))
                       for t, tid in found]
            scores = shard.scores([tid for _, tid in found], weights, masks[n] if masks else None)
            hits += [(float(scores[i]), n, shard.ids[i]) for i in _top(scores, k)]
        hits.sort(key=lambda h: (-h[0], h[1]))  # stable: equal scores keep each shard's order
        return [(cid, score) for score, _, cid in hits[:k]]

    def _masks(self, allowed: set[str] | None) -> list[np.ndarray] | None:
        """Per shard, 1 for the rows of ``allowed`` chunk ids and 0 for the others."""
        if allowed is None:
            return None
        masks = [np.zeros(len(s.ids), dtype=np.float32) for s in self.shards]
        for cid in allowed:
            found = self.where.get(cid)
            if found is not None:
                masks[found[0]][found[1]] = 1.0
        return masks


def _top(scores: np.ndarray, k: int) -> list[int]:
    """Positions of the ``k`` best scores above 0, best first, ties in position order. Only the
    passages with a query term are sorted (a few thousand of a shard's tens of thousands)."""
    found = np.flatnonzero(scores > 0)
    values = scores[found]
    if len(found) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth  # every tie with the k-th best, so the cut is deterministic
        found, values = found[keep], values[keep]
    return [int(i) for i in found[np.lexsort((found, -values))][:k]]
