"""The indexing run: read → clean → chunk → embed → store, incrementally and crash-safe.

Order of writes for each batch of articles (this order is what makes a kill at any
point repairable):
1. the manifest records the articles as ``pending`` with their new chunk rows;
2. their vectors are upserted into Chroma (ids are deterministic, so a retry never
   duplicates) and stale chunk ids of an older version are deleted;
3. the manifest marks them ``done``.
A later run first deletes from Chroma everything of a ``pending`` article and every
vector the manifest does not know, and re-indexes what is missing.

Re-indexing an unchanged corpus must be cheap: each article's *raw hash* (the record as
read, plus a fingerprint of the settings and code its chunks derive from) is kept in the
manifest, so an article whose raw hash matches is skipped before cleaning. When nothing
changed, neither the model nor the keyword index nor the story clusters are touched.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np

from index import dedup, keyword
from index.chunking import chunk_article
from index.cleaning import clean_article
from index.dates import resolve_dates
from index.embedding import Embedder
from index.errors import StoreLockedError
from index.manifest import Manifest, text_hash
from index.models import Article, Chunk, FileProblem, IndexReport, RawArticle
from index.readers import iter_articles
from index.settings import Settings
from index.vectors import VectorStore, pub_number

ProgressHook = Callable[[str, int, int], None]  # (stage, done, total)
BATCH_CHUNKS = 512
# The code an article's cleaned text, dates and chunks derive from: editing any of these
# files changes the fingerprint, so the next run cleans and compares every article again.
_DERIVED_FROM = ("cleaning.py", "dates.py", "chunking.py", "pipeline.py")


@contextmanager
def writer_lock(store_dir: Path) -> Iterator[None]:
    """Exclusive lock so that two processes never write one store at once."""
    store_dir.mkdir(parents=True, exist_ok=True)
    with open(store_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise StoreLockedError(
                f"another process is indexing {store_dir}; wait for it to finish and try again"
            ) from e
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def clean(raw: RawArticle, settings: Settings) -> Article:
    """Clean one article and hash what its chunks depend on (pure; no model, no store)."""
    cleaned = clean_article(raw)
    signature = f"{settings.chunk_chars}/{settings.chunk_overlap_sentences}"
    content_hash = text_hash(
        "\x1f".join([cleaned.title, cleaned.text, cleaned.source or "", raw.url or "",
                     cleaned.published or "", signature])
    )
    return Article(
        doc_id=raw.doc_id, title=cleaned.title, text=cleaned.text, source=cleaned.source,
        url=raw.url, published=cleaned.published, path=raw.path, content_hash=content_hash,
    )


def fingerprint(settings: Settings) -> str:
    """Hash of what, besides the article itself, its stored text and chunks depend on: the
    chunking settings, the cleaning/dates/chunking code, and the Unicode and NLTK versions."""
    here = Path(__file__).parent
    try:
        punkt = metadata.version("nltk")
    except metadata.PackageNotFoundError:
        punkt = "?"
    parts = [f"{settings.chunk_chars}/{settings.chunk_overlap_sentences}",
             unicodedata.unidata_version, punkt]
    for name in _DERIVED_FROM:
        try:
            parts.append(text_hash((here / name).read_text(encoding="utf-8")))
        except OSError:  # not installed as plain files: the versions above must do
            parts.append("?")
    return text_hash("\x1f".join(parts))


def raw_hash(raw: RawArticle, stamp: str) -> str:
    """Hash of one article as read (every field cleaning uses) under ``stamp``, the
    ``fingerprint`` of the settings and code. Equal
    to the one stored for a ``done`` article: cleaning and chunking it again would give the
    stored result, so the run skips it. The path is left out: a moved file is unchanged."""
    fields = (stamp, raw.doc_id, raw.text, raw.title, raw.source, raw.url, raw.published,
              "html" if raw.is_html else "text")
    # length-prefixed, so no choice of field contents can make two records hash alike
    return text_hash("".join(f"{len(f)}:{f}" if f is not None else "-" for f in fields))


def prepare(article: Article, settings: Settings) -> tuple[Article, list[Chunk]]:
    """Resolve the dates of a cleaned article and cut it into chunks."""
    dated = replace(article, dates=resolve_dates(article.text, article.published))
    return dated, chunk_article(article.doc_id, article.text, settings.chunk_chars,
                                settings.chunk_overlap_sentences)


class _Item(NamedTuple):
    """One article of a write batch."""

    article: Article
    chunks: list[Chunk]
    existed: bool  # an older version is in the store
    raw_hash: str


@dataclass
class _Counts:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    repaired: int = 0


class Indexer:
    """Runs indexing for one store. ``embedder`` is created only if something needs embedding."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.store_dir = Path(settings.store_dir)
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def run(self, paths: Sequence[str | Path], keep_missing: bool = False, rebuild: bool = False,
            progress: ProgressHook | None = None) -> IndexReport:
        started = time.perf_counter()
        with writer_lock(self.store_dir):
            if rebuild:
                for name in ("manifest.sqlite", "manifest.sqlite-wal", "manifest.sqlite-shm",
                             "bm25"):
                    target = self.store_dir / name
                    if target.is_dir():
                        shutil.rmtree(target, ignore_errors=True)
                    else:
                        target.unlink(missing_ok=True)
                # Through the client, not rmtree: this process may hold the Chroma files open.
                VectorStore(self.settings).reset()
            manifest = Manifest(self.store_dir / "manifest.sqlite")
            try:
                vectors = VectorStore(self.settings)
                counts = _Counts(repaired=self._repair(manifest, vectors))
                failed = self._index(manifest, vectors, paths, keep_missing, counts, progress)
                if counts.added or counts.updated or counts.removed or counts.repaired or \
                        manifest.get_meta("bm25_generation") is None or \
                        manifest.get_meta("finalised") != "1":
                    self._finalise(manifest, progress)
                if counts.updated or counts.removed:
                    manifest.prune_cache()
                manifest.set_meta("last_indexed", time.strftime("%Y-%m-%d %H:%M:%S"))
            finally:
                manifest.close()
        return IndexReport(**vars(counts), failed=tuple(failed),
                           seconds=round(time.perf_counter() - started, 3))

    # --- steps -----------------------------------------------------------------
    def _repair(self, manifest: Manifest, vectors: VectorStore) -> int:
        """Undo what an interrupted run left half-written; return articles repaired."""
        pending = manifest.pending()
        if pending:
            vectors.delete(sorted(manifest.chunk_ids(pending)))
            vectors.delete_docs(pending)
            manifest.delete_articles(pending)
        known = manifest.chunk_ids()
        stored = vectors.ids()
        orphans = sorted(stored - known)
        if orphans:
            vectors.delete(orphans)
        missing = known - stored
        if missing:  # vectors lost (e.g. a damaged Chroma): re-index those articles
            broken = sorted({cid.rsplit("::", 1)[0] for cid in missing})
            vectors.delete_docs(broken)
            manifest.delete_articles(broken)
            pending = sorted(set(pending) | set(broken))
        return len(pending)

    def _index(self, manifest: Manifest, vectors: VectorStore, paths: Sequence[str | Path],
               keep_missing: bool, counts: _Counts, progress: ProgressHook | None) -> list[FileProblem]:
        known = manifest.hashes()
        taken = manifest.paths()
        stamp = fingerprint(self.settings)
        seen: set[str] = set()
        failed: list[FileProblem] = []
        failed_paths: set[str] = set()
        same_content: dict[str, str] = {}  # doc_id -> new raw hash of an article cleaned alike
        batch: list[_Item] = []
        batch_size = 0
        for item in iter_articles(paths, max_file_mb=self.settings.max_file_mb):
            if isinstance(item, FileProblem):
                failed.append(item)
                failed_paths.add(str(Path(item.path).resolve()))
                if progress:
                    progress(f"problem: {item}", 0, 0)
                continue
            item = _own_id(item, taken)
            if item.doc_id in seen:
                continue
            seen.add(item.doc_id)
            old = known.get(item.doc_id)
            raw = raw_hash(item, stamp)
            if old is not None and old.state == "done" and old.raw_hash == raw:
                counts.unchanged += 1  # the fast path: not even cleaned
                continue
            article = clean(item, self.settings)
            if not article.text.strip():
                failed.append(FileProblem(item.path or item.doc_id,
                                          f"{item.doc_id}: no article text left after removing boilerplate"))
                continue
            if old is not None and old.content_hash == article.content_hash and old.state == "done":
                counts.unchanged += 1  # e.g. a store of an older version, or a code change
                same_content[item.doc_id] = raw
                continue
            article, chunks = prepare(article, self.settings)
            batch.append(_Item(article, chunks, old is not None, raw))
            batch_size += len(chunks)
            if batch_size >= BATCH_CHUNKS:
                self._write(manifest, vectors, batch, counts, progress)
                batch, batch_size = [], 0
        if batch:
            self._write(manifest, vectors, batch, counts, progress)
        if same_content:
            manifest.set_raw_hashes(same_content)
        if not keep_missing:
            roots = [Path(p).resolve() for p in paths]
            gone = [d for d, path in manifest.paths().items()
                    if d not in seen and path and _under(Path(path).resolve(), roots)
                    and str(Path(path).resolve()) not in failed_paths]
            if gone:
                manifest.set_meta("finalised", "0")
                manifest.mark_pending(gone)
                vectors.delete(sorted(manifest.chunk_ids(gone)))
                manifest.delete_articles(gone)
                counts.removed += len(gone)
        return failed

    def _write(self, manifest: Manifest, vectors: VectorStore,
               batch: list[_Item], counts: _Counts, progress: ProgressHook | None) -> None:
        manifest.set_meta("finalised", "0")  # set before any change: a killed run is finalised later
        chunks = [c for item in batch for c in item.chunks]
        hashes = [text_hash(c.text) for c in chunks]
        cached = manifest.cached_vectors(sorted(set(hashes)))
        todo = {h: c.text for h, c in zip(hashes, chunks, strict=True) if h not in cached}
        if todo:
            done = 0

            def tick(n: int) -> None:
                nonlocal done
                done += n
                if progress:
                    progress("embedding", done, len(todo))

            fresh = self.embedder.embed(list(todo.values()), progress=tick)
            new = dict(zip(todo.keys(), fresh, strict=True))
            manifest.cache_vectors(new)
            cached.update(new)
        counts.embedded += len(todo)
        counts.reused += len(chunks) - len(todo)
        stale: list[str] = []
        for item in batch:
            stale += manifest.begin_article(item.article, item.chunks, item.raw_hash)
        matrix = np.vstack([cached[h] for h in hashes]) if chunks else np.zeros((0, 384), np.float32)
        meta = {a.doc_id: {"doc_id": a.doc_id, "pub": pub_number(a.published),
                           "source": a.source or ""} for a in (item.article for item in batch)}
        vectors.upsert([c.id for c in chunks], matrix, [meta[c.doc_id] for c in chunks])
        if stale:
            vectors.delete(stale)
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

    def _finalise(self, manifest: Manifest, progress: ProgressHook | None) -> None:
        """Recompute story clusters and rebuild the keyword index."""
        if progress:
            progress("clustering and keyword index", 0, 0)
        ids, published, centroids = manifest.centroids()
        manifest.set_clusters(dedup.cluster(ids, published, centroids, manifest.chunk_vectors()))
        keyword.build(manifest.all_chunk_texts(), self.store_dir / "bm25")
        generation = int(manifest.get_meta("bm25_generation") or 0) + 1
        manifest.set_meta("bm25_generation", str(generation))
        manifest.set_meta("finalised", "1")


def _own_id(item: RawArticle, taken: dict[str, str | None]) -> RawArticle:
    """A file whose name-derived id belongs to another, still existing file of an earlier
    run gets an id of its own (otherwise it would silently replace that article)."""
    old = taken.get(item.doc_id)
    if (item.url is None and item.path and old and os.path.exists(old)
            and os.path.realpath(old) != os.path.realpath(item.path)):
        return replace(item, doc_id=f"{item.doc_id}~{text_hash(os.path.realpath(item.path))[:8]}")
    return item


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)
