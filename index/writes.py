"""How articles reach the store, in an order that makes a kill at any point repairable.

Each batch of articles is written in three steps:
1. the manifest records the articles as ``pending`` with their new chunk rows;
2. their vectors are upserted into Chroma (ids are deterministic, so a retry never
   duplicates) and stale chunk ids of an older version are deleted;
3. the manifest marks them ``done``.
Removing articles takes the same path: marked ``pending``, their vectors deleted, then their
rows. ``repair``, the first step of every incremental run, deletes from Chroma everything of
a ``pending`` article and every vector the manifest does not know, and restores every vector
Chroma lost from the manifest's embedding cache; the run then re-indexes what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from assistant.kernel.records import Article, Chunk, FileProblem, RemovedArticle
from assistant.storage.embedding import Embedder
from assistant.storage.manifest import Manifest, text_hash
from assistant.storage.vectors import DIMENSION, VectorStore, chunk_metadata

ProgressHook = Callable[[str, int, int], None]  # (stage, done, total)
BATCH_CHUNKS = 512  # chunks written per batch; vectors are restored four batches at a time
# Through Ray, every batch pays for scheduling and an actor pool start (2-3 s measured here), so
# a batch holds more: 4,096 chunks keep one worker at 0.9x the in-process rate.
RAY_BATCH_CHUNKS = 4096


class Item(NamedTuple):
    """One article of a write batch."""

    article: Article
    chunks: list[Chunk]
    existed: bool  # an older version is in the store
    raw_hash: str


@dataclass
class RunCounts:
    """What a run did so far: ``IndexReport`` without the failures and the time."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    repaired: int = 0
    warnings: tuple[FileProblem, ...] = ()  # passed on as IndexReport.warnings
    restored: int = 0
    unfinished: tuple[str, ...] = ()
    keyword_shards: tuple[int, int] = (0, 0)  # passed on as IndexReport.keyword_shards
    removed_articles: tuple[RemovedArticle, ...] = ()  # what ``removed`` counts
    kept_uploads: int = 0  # passed on as IndexReport.kept_uploads


class Writer:
    """Writes one run's articles into one generation's manifest and collection. ``embedder``
    is called (and the model loaded) only when a text is missing from the embedding cache."""

    def __init__(self, manifest: Manifest, vectors: VectorStore, embedder: Callable[[], Embedder],
                 counts: RunCounts, progress: ProgressHook | None,
                 batch_chunks: int = BATCH_CHUNKS) -> None:
        self.batch_chunks = batch_chunks
        self.manifest = manifest
        self.vectors = vectors
        self.counts = counts
        self.progress = progress
        self._embedder = embedder
        self._batch: list[Item] = []
        self._batch_chunks = 0

    def add(self, item: Item) -> None:
        """Queue one article; the queue is written once it holds ``batch_chunks`` chunks."""
        self._batch.append(item)
        self._batch_chunks += len(item.chunks)
        if self._batch_chunks >= self.batch_chunks:
            self.flush()

    def flush(self) -> None:
        """Write what is queued."""
        if self._batch:
            self._write(self._batch)
            self._batch, self._batch_chunks = [], 0

    def remove(self, doc_ids: list[str]) -> None:
        """Delete articles from the store, the manifest rows last."""
        self.counts.removed_articles += tuple(self.manifest.as_removed(doc_ids))
        self.manifest.set_meta("finalised", "0")
        self.manifest.mark_pending(doc_ids)
        self.vectors.delete(sorted(self.manifest.chunk_ids(doc_ids)))
        self.manifest.delete_articles(doc_ids)
        self.counts.removed += len(doc_ids)

    def repair(self, stored: int | None) -> tuple[int, int]:
        """Undo what an interrupted run left half-written and restore vectors that Chroma lost;
        return (articles repaired, vectors restored). ``stored``: how many vectors a probe of
        the collection counted at the start of this run, if it did. The collection's ids are
        listed (a long read on a big store) only when a run was interrupted or that count is
        not the manifest's: without pending articles no vector can be orphaned, so a lost vector
        shows as a count below the manifest's."""
        manifest, vectors = self.manifest, self.vectors
        pending = manifest.pending()
        if pending:
            vectors.delete(sorted(manifest.chunk_ids(pending)))
            vectors.delete_docs(pending)
            manifest.delete_articles(pending)
        known = manifest.chunk_ids()
        if not pending and stored == len(known):
            return 0, 0
        stored_ids = vectors.ids()
        orphans = sorted(stored_ids - known)
        if orphans:
            vectors.delete(orphans)
        missing = sorted(known - stored_ids)
        if missing:  # vectors lost (a damaged or deleted Chroma): the manifest has them all
            self._restore(missing)
        return len(pending), len(missing)

    def _write(self, batch: list[Item]) -> None:
        manifest, counts = self.manifest, self.counts
        manifest.set_meta("finalised", "0")  # set before any change: a killed run is finalised later
        chunks = [c for item in batch for c in item.chunks]
        hashes = [text_hash(c.text) for c in chunks]
        cached, embedded = self._embeddings(dict(zip(hashes, (c.text for c in chunks), strict=True)))
        counts.embedded += embedded
        counts.reused += len(chunks) - embedded
        stale: list[str] = []
        for item in batch:
            stale += manifest.begin_article(item.article, item.chunks, item.raw_hash)
        matrix = np.vstack([cached[h] for h in hashes]) if chunks else np.zeros((0, DIMENSION), np.float32)
        meta = {a.doc_id: chunk_metadata(a.doc_id, a.published, a.source)
                for a in (item.article for item in batch)}
        self.vectors.upsert([c.id for c in chunks], matrix, [meta[c.doc_id] for c in chunks])
        if stale:
            self.vectors.delete(stale)
        centroids: dict[str, np.ndarray] = {}
        row = 0
        for item in batch:
            cs = item.chunks
            part = matrix[row : row + len(cs)]
            row += len(cs)
            centroids[item.article.doc_id] = (part.mean(0) if len(cs)
                                              else np.zeros(matrix.shape[1], np.float32))
            counts.updated += item.existed
            counts.added += not item.existed
        manifest.finish_articles(centroids)
        counts.chunks += len(chunks)

    def _restore(self, ids: list[str]) -> None:
        """Upsert the vectors of chunks ``ids`` from the embedding cache (embedding the text of
        any chunk the cache lost), with the metadata their articles have in the manifest."""
        for lo in range(0, len(ids), BATCH_CHUNKS * 4):
            rows = self.manifest.vector_rows(ids[lo : lo + BATCH_CHUNKS * 4])
            cached, _ = self._embeddings({r.text_hash: r.text for r in rows})
            if self.progress:
                self.progress("restoring vectors", lo + len(rows), len(ids))
            self.vectors.upsert([r.chunk_id for r in rows],
                                np.vstack([cached[r.text_hash] for r in rows]),
                                [chunk_metadata(r.doc_id, r.published, r.source) for r in rows])

    def _embeddings(self, texts: dict[str, str]) -> tuple[dict[str, np.ndarray], int]:
        """Vectors of ``texts`` (text hash -> text) from the embedding cache, embedding and
        caching the ones it lacks; returns them and how many had to be embedded."""
        cached = self.manifest.cached_vectors(sorted(texts))
        todo = {h: t for h, t in texts.items() if h not in cached}
        if todo:
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if self.progress:
                    self.progress("embedding", done, len(todo))

            fresh = self._embedder().embed(list(todo.values()), progress=tick)
            new = dict(zip(todo.keys(), fresh, strict=True))
            self.manifest.cache_vectors(new)
            cached.update(new)
        return cached, len(todo)
