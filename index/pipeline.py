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
import sqlite3
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import numpy as np

from assistant.kernel.dates import resolve_dates
from assistant.kernel.errors import DiskFullError, StoreError, StoreLockedError
from assistant.kernel.records import Article, Chunk, FileProblem, FileWarning, IndexReport, RawArticle
from assistant.kernel.settings import Settings
from assistant.storage import generations as store
from assistant.storage import keyword
from assistant.storage.embedding import Embedder
from assistant.storage.manifest import Manifest, text_hash
from assistant.storage.vectors import (
    DIMENSION,
    VectorStore,
    chunk_metadata,
    is_damage,
    is_disk_full,
    quarantine,
)
from index import clusters as dedup
from index.chunking import chunk_article
from index.cleaning import clean_article
from index.readers import iter_articles, source_path

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
    warnings: tuple[FileProblem, ...] = ()  # passed on as IndexReport.warnings
    restored: int = 0
    unfinished: tuple[str, ...] = ()


class Indexer:
    """Runs indexing for one store. ``embedder`` is created only if something needs embedding."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.store_dir = Path(settings.store_dir)
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._gen = store.generation(self.store_dir, settings.collection, 0)  # set by each run
        self._stored: set[str] | None = None  # vector ids the probe of this run listed

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def run(self, paths: Sequence[str | Path], keep_missing: bool = False, rebuild: bool = False,
            progress: ProgressHook | None = None) -> IndexReport:
        started = time.perf_counter()
        with writer_lock(self.store_dir):
            try:
                counts, failed = (self._rebuild(paths, progress) if rebuild
                                  else self._update(paths, keep_missing, progress))
            except (OSError, sqlite3.Error) as e:
                if is_disk_full(e):
                    raise DiskFullError(self.store_dir) from e
                raise
        return IndexReport(**vars(counts), failed=tuple(failed),
                           seconds=round(time.perf_counter() - started, 3))

    # --- runs ------------------------------------------------------------------
    def _update(self, paths: Sequence[str | Path], keep_missing: bool,
                progress: ProgressHook | None) -> tuple[_Counts, list[FileProblem]]:
        """The incremental run on the current generation: repair, then add, update, remove."""
        self._gen = store.current(self.store_dir, self.settings.collection)
        self._stored = None
        self._discard_other_generations()
        manifest = Manifest(self._gen.manifest, writer=True)
        try:
            vectors = self._open_vectors(progress)
            counts = _Counts()
            pending = set(manifest.pending())
            half_written = {d: p for d, p in manifest.paths().items() if d in pending} if pending else {}
            counts.repaired, counts.restored = self._repair(manifest, vectors, progress)
            failed = self._index(manifest, vectors, paths, keep_missing, counts, progress)
            known = manifest.hashes()
            counts.unfinished = tuple(sorted({p or d for d, p in half_written.items() if d not in known}))
            if counts.added or counts.updated or counts.removed or counts.repaired or \
                    manifest.get_meta("bm25_generation") is None or \
                    manifest.get_meta("finalised") != "1" or not keyword.usable(self._gen.keyword):
                self._finalise(manifest, progress)
            elif manifest.get_meta("clusters_done") == "0":  # killed while clustering: only that
                self._cluster(manifest, progress)
            if counts.updated or counts.removed:
                manifest.prune_cache()
            manifest.set_meta("last_indexed", time.strftime("%Y-%m-%d %H:%M:%S"))
        finally:
            manifest.close()
        return counts, failed

    def _rebuild(self, paths: Sequence[str | Path],
                 progress: ProgressHook | None) -> tuple[_Counts, list[FileProblem]]:
        """Build a whole new generation beside the current one, then switch to it. Nothing of
        the old index is deleted before the new one is complete, so a failed or killed rebuild
        leaves the old index answering; a rebuild that indexed nothing keeps it too."""
        try:
            old: store.Generation | None = store.current(self.store_dir, self.settings.collection)
        except StoreError:
            old = None  # CURRENT itself is damaged: nothing to keep
        self._gen = new = store.generation(self.store_dir, self.settings.collection,
                                           store.next_number(self.store_dir))
        store.remove_files(new)  # what an interrupted rebuild left: it never became current
        vectors = self._fresh_vectors(new.collection, progress)
        counts = _Counts()
        manifest = Manifest(new.manifest, writer=True)
        try:
            failed = self._index(manifest, vectors, paths, True, counts, progress)
            if not counts.added:  # an empty or wrong folder must not replace the whole index
                failed.append(FileProblem(", ".join(map(str, paths)),
                                          "no article found, so the rebuild was cancelled and the "
                                          "old index kept — check the paths"))
            else:
                self._finalise(manifest, progress)
                manifest.set_meta("last_indexed", time.strftime("%Y-%m-%d %H:%M:%S"))
        except BaseException:
            manifest.close()
            self._drop_generation(vectors, new)  # never current: nothing may point at it
            raise
        manifest.close()
        if not counts.added:
            self._drop_generation(vectors, new)
            return counts, failed
        store.switch(self.store_dir, new.number)
        if old is not None and old.collection != new.collection:
            self._drop_generation(vectors, old)
        shutil.rmtree(self.store_dir / "chroma.damaged", ignore_errors=True)
        return counts, failed

    def _drop_generation(self, vectors: VectorStore, gen: store.Generation) -> None:
        """Delete a generation that is not current: its collection and its files."""
        try:
            vectors.drop(gen.collection)
        except StoreError:
            pass  # a damaged collection may refuse even this; nothing reads it any more
        store.remove_files(gen)

    def _discard_other_generations(self) -> None:
        """What a killed rebuild or a killed clean-up left: generation folders and collections
        other than the current one (never read, as ``CURRENT`` does not name them)."""
        leftovers = store.other_generations(self.store_dir, self.settings.collection, self._gen)
        if not leftovers:
            return
        vectors = VectorStore(self.settings, self._gen.collection)
        for gen in leftovers:
            self._drop_generation(vectors, gen)

    # --- the vector store ------------------------------------------------------------
    def _open_vectors(self, progress: ProgressHook | None) -> VectorStore:
        """The current generation's collection, probed once; a damaged one is replaced by an
        empty one (``_repair`` then restores every vector from the manifest)."""
        try:
            vectors = VectorStore(self.settings, self._gen.collection)
            self._stored = vectors.check()  # a damaged index fails here, not half-way through
            return vectors
        except StoreError as e:
            if not is_damage(e) or self.settings.chroma_host:
                raise  # disk full, a busy or unreachable server: nothing to restore, say so
            if progress:
                progress(f"problem: {e} — restoring the vectors from the manifest", 0, 0)
            return self._fresh_vectors(self._gen.collection, progress)

    def _fresh_vectors(self, name: str, progress: ProgressHook | None) -> VectorStore:
        """An empty collection ``name``; an embedded Chroma that cannot even be opened is moved
        aside to ``chroma.damaged`` first."""
        try:
            vectors = VectorStore(self.settings, name)
            vectors.reset()
            return vectors
        except DiskFullError:
            raise
        except StoreError:
            if self.settings.chroma_host:
                raise  # a server's files are not ours to move
        moved = quarantine(self.store_dir)
        if progress and moved:
            progress(f"problem: the Chroma files could not be opened; moved them to {moved}", 0, 0)
        return VectorStore(self.settings, name)

    # --- steps -----------------------------------------------------------------
    def _repair(self, manifest: Manifest, vectors: VectorStore,
                progress: ProgressHook | None) -> tuple[int, int]:
        """Undo what an interrupted run left half-written and restore vectors that Chroma lost;
        return (articles repaired, vectors restored)."""
        pending = manifest.pending()
        if pending:
            vectors.delete(sorted(manifest.chunk_ids(pending)))
            vectors.delete_docs(pending)
            manifest.delete_articles(pending)
        known = manifest.chunk_ids()
        stored = self._stored if self._stored is not None and not pending else vectors.ids()
        orphans = sorted(stored - known)
        if orphans:
            vectors.delete(orphans)
        missing = sorted(known - stored)
        if missing:  # vectors lost (a damaged or deleted Chroma): the manifest has them all
            self._restore(manifest, vectors, missing, progress)
        return len(pending), len(missing)

    def _restore(self, manifest: Manifest, vectors: VectorStore, ids: list[str],
                 progress: ProgressHook | None) -> None:
        """Upsert the vectors of chunks ``ids`` from the embedding cache (embedding the text of
        any chunk the cache lost), with the metadata their articles have in the manifest."""
        for lo in range(0, len(ids), BATCH_CHUNKS * 4):
            rows = manifest.vector_rows(ids[lo : lo + BATCH_CHUNKS * 4])
            cached, _ = self._vectors(manifest, {r.text_hash: r.text for r in rows}, progress)
            if progress:
                progress("restoring vectors", lo + len(rows), len(ids))
            vectors.upsert([r.chunk_id for r in rows], np.vstack([cached[r.text_hash] for r in rows]),
                           [chunk_metadata(r.doc_id, r.published, r.source) for r in rows])

    def _vectors(self, manifest: Manifest, texts: dict[str, str],
                 progress: ProgressHook | None) -> tuple[dict[str, np.ndarray], int]:
        """Vectors of ``texts`` (text hash -> text) from the embedding cache, embedding and
        caching the ones it lacks; returns them and how many had to be embedded."""
        cached = manifest.cached_vectors(sorted(texts))
        todo = {h: t for h, t in texts.items() if h not in cached}
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
        return cached, len(todo)

    def _index(self, manifest: Manifest, vectors: VectorStore, paths: Sequence[str | Path],
               keep_missing: bool, counts: _Counts, progress: ProgressHook | None) -> list[FileProblem]:
        known = manifest.hashes()
        taken = manifest.paths()
        stamp = fingerprint(self.settings)
        seen: set[str] = set()
        failed: list[FileProblem] = []
        failed_paths: set[str] = set()
        same_content: dict[str, str] = {}  # doc_id -> new raw hash of an article cleaned alike
        moved: dict[str, str | None] = {}  # doc_id -> new path of an unchanged article
        batch: list[_Item] = []
        batch_size = 0
        for item in iter_articles(paths, max_file_mb=self.settings.max_file_mb):
            if isinstance(item, FileWarning):  # indexed all the same: reported, not failed
                counts.warnings += (item,)
                if progress:
                    progress(f"problem: warning: {item}", 0, 0)
                continue
            if isinstance(item, FileProblem):
                failed.append(item)
                failed_paths.add(os.path.realpath(item.path))
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
                if taken.get(item.doc_id) != item.path:
                    moved[item.doc_id] = item.path  # a moved file: its removal follows it
                continue
            article = clean(item, self.settings)
            if not article.text.strip():
                failed.append(FileProblem(item.path or item.doc_id,
                                          f"{item.doc_id}: no article text left after removing boilerplate"))
                continue
            if old is not None and old.content_hash == article.content_hash and old.state == "done":
                counts.unchanged += 1  # e.g. a store of an older version, or a code change
                same_content[item.doc_id] = raw
                if taken.get(item.doc_id) != item.path:
                    moved[item.doc_id] = item.path
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
        if moved:
            manifest.set_paths(moved)
        if not keep_missing:
            # Only articles under the roots this run was given, compared as stored: absolute
            # (readers.source_path), independent of the working directory. A relative path
            # left by an older version (see Manifest._absolute_paths) matches no root and is
            # never removed here.
            roots = [source_path(p) for p in paths]
            # a file, folder or root that could not be read says nothing about what is in it
            unread = [Path(p) for p in failed_paths]
            gone = [d for d, path in manifest.paths().items()
                    if d not in seen and path and os.path.isabs(path)
                    and _under(Path(path), roots)
                    and not _under(Path(os.path.realpath(path)), unread)]
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
        cached, embedded = self._vectors(manifest, dict(zip(hashes, (c.text for c in chunks),
                                                            strict=True)), progress)
        counts.embedded += embedded
        counts.reused += len(chunks) - embedded
        stale: list[str] = []
        for item in batch:
            stale += manifest.begin_article(item.article, item.chunks, item.raw_hash)
        matrix = np.vstack([cached[h] for h in hashes]) if chunks else np.zeros((0, DIMENSION), np.float32)
        meta = {a.doc_id: chunk_metadata(a.doc_id, a.published, a.source)
                for a in (item.article for item in batch)}
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
        """Rebuild the keyword index and mark the index ``finalised``, then recompute the story
        clusters (``_cluster``). ``clusters_done`` is "0" from the start until the clusters are
        written, so a run killed while clustering leaves ``finalised`` "1" and ``clusters_done``
        "0": the next run only clusters again (the keyword index is not rebuilt)."""
        if progress:
            progress("clustering and keyword index", 0, 0)
        manifest.set_meta("clusters_done", "0")
        keyword.build(manifest.all_chunk_texts(), self._gen.keyword)
        generation = int(manifest.get_meta("bm25_generation") or 0) + 1
        manifest.set_meta("bm25_generation", str(generation))
        manifest.set_meta("finalised", "1")
        self._cluster(manifest)  # its stage was announced above

    def _cluster(self, manifest: Manifest, progress: ProgressHook | None = None) -> None:
        """Recompute the story clusters of every finished article, then set ``clusters_done``.
        Needed when ``clusters_done`` is "0": ``_finalise`` calls it, and so must a run that
        finds a store whose clustering was interrupted."""
        if progress:
            progress("clustering", 0, 0)
        ids, published, centroids = manifest.centroids()
        manifest.set_clusters(dedup.cluster(ids, published, centroids, manifest.chunk_vectors_of))
        # readers reload article metadata (cluster ids with it) when the generation changes
        generation = int(manifest.get_meta("bm25_generation") or 0) + 1
        manifest.set_meta("bm25_generation", str(generation))
        manifest.set_meta("clusters_done", "1")


def _own_id(item: RawArticle, taken: dict[str, str | None]) -> RawArticle:
    """A file whose name-derived id belongs to another, still existing file of an earlier
    run gets an id of its own (otherwise it would silently replace that article). Stored
    paths are absolute; a relative one left by an older version is not compared."""
    old = taken.get(item.doc_id)
    if (item.doc_id != item.url and item.path and old and os.path.isabs(old) and os.path.exists(old)
            and os.path.realpath(old) != os.path.realpath(item.path)):
        return replace(item, doc_id=f"{item.doc_id}~{text_hash(os.path.realpath(item.path))[:8]}")
    return item


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)
