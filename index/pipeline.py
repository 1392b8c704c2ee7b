"""The indexing run: read → clean → chunk → embed → store, incrementally and crash-safe.

``Indexer`` holds the store's writer lock for the whole run and orders its steps: an
incremental run repairs what a killed run left (``writes``), brings the store in line with
the inputs (``scan``) and finalises (``finalise``); a rebuild writes a whole new generation
of the inputs and the store's uploads beside the current one and switches to it
(``assistant.storage.generations``), counting the previous articles it did not bring back.
When nothing changed, neither the model nor the keyword index nor the story clusters are
touched.
"""

from __future__ import annotations

import fcntl
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from assistant.kernel.errors import DiskFullError, StoreError, StoreLockedError
from assistant.kernel.records import FileProblem, IndexReport, RemovedArticle
from assistant.kernel.settings import Settings
from assistant.storage import generations
from assistant.storage.embedding import Embedder
from assistant.storage.manifest import Manifest
from assistant.storage.vectors import VectorStore, is_damage, is_disk_full, quarantine
from index.finalise import finalise, finish
from index.folders import source_path
from index.scan import scan, under
from index.writes import BATCH_CHUNKS, RAY_BATCH_CHUNKS, ProgressHook, RunCounts, Writer


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


class Indexer:
    """Runs indexing for one store. ``embedder`` is created only if something needs embedding."""

    def __init__(self, settings: Settings, embedder: Callable[[], Embedder]) -> None:
        self.settings = settings
        self.store_dir = Path(settings.store_dir)
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self.batch_chunks = BATCH_CHUNKS
        if settings.ray_address:  # only the embedding fans out; this process stays the writer
            from index import fanout

            fanout.require_ray()  # a missing extra fails before anything is read
            self._embedder_factory = lambda: fanout.RayEmbedder(settings)
            self.batch_chunks = RAY_BATCH_CHUNKS

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    def run(self, paths: Sequence[str | Path], keep_missing: bool = False, rebuild: bool = False,
            progress: ProgressHook | None = None, drop_uploads: bool = False) -> IndexReport:
        """Index ``paths``: incrementally, or with ``rebuild`` as a new generation that holds
        ``paths`` and the store's uploads (unless ``drop_uploads``)."""
        started = time.perf_counter()
        with writer_lock(self.store_dir):
            try:
                counts, failed = (self._rebuild(paths, drop_uploads, progress) if rebuild
                                  else self._update(paths, keep_missing, progress))
            except (OSError, sqlite3.Error) as e:
                if is_disk_full(e):
                    raise DiskFullError(self.store_dir) from e
                raise
            finally:
                close = getattr(self._embedder, "close", None)  # a Ray connection ends with the run
                if close is not None:
                    close()
        return IndexReport(**vars(counts), failed=tuple(failed), rebuild=rebuild,
                           seconds=round(time.perf_counter() - started, 3))

    # --- runs ------------------------------------------------------------------
    def _update(self, paths: Sequence[str | Path], keep_missing: bool,
                progress: ProgressHook | None) -> tuple[RunCounts, list[FileProblem]]:
        """The incremental run on the current generation: repair, then add, update, remove."""
        gen = generations.current(self.store_dir, self.settings.collection)
        self._discard_other_generations(gen)
        manifest = Manifest(gen.manifest, writer=True)
        try:
            vectors, stored = self._open_vectors(gen, progress)
            counts = RunCounts()
            writer = Writer(manifest, vectors, lambda: self.embedder, counts, progress,
                            self.batch_chunks)
            pending = set(manifest.pending())
            half_written = {d: p for d, p in manifest.paths().items() if d in pending} if pending else {}
            counts.repaired, counts.restored = writer.repair(stored)
            failed = scan(writer, paths, keep_missing, self.settings)
            known = manifest.hashes()
            counts.unfinished = tuple(sorted({p or d for d, p in half_written.items() if d not in known}))
            changed = bool(counts.added or counts.updated or counts.removed or counts.repaired)
            done = finish(manifest, changed, gen.keyword, progress, self.settings.keyword_shard_chunks)
            counts.keyword_shards = (done.rebuilt, done.shards)
            if counts.updated or counts.removed:
                manifest.prune_cache()
            manifest.set_meta("last_indexed", time.strftime("%Y-%m-%d %H:%M:%S"))
        finally:
            manifest.close()
        return counts, failed

    def _rebuild(self, paths: Sequence[str | Path], drop_uploads: bool,
                 progress: ProgressHook | None) -> tuple[RunCounts, list[FileProblem]]:
        """Build a whole new generation beside the current one, then switch to it. Nothing of
        the old index is deleted before the new one is complete, so a failed or killed rebuild
        leaves the old index answering; a rebuild that found nothing in ``paths`` keeps it too.
        The store's uploads are indexed after ``paths`` unless ``drop_uploads``; the previous
        articles the new generation lacks are counted as removed."""
        try:
            old: generations.Generation | None = generations.current(self.store_dir,
                                                                     self.settings.collection)
        except StoreError:
            old = None  # CURRENT itself is damaged: nothing to keep
        new = generations.generation(self.store_dir, self.settings.collection,
                                     generations.next_number(self.store_dir))
        generations.remove_files(new)  # what an interrupted rebuild left: it never became current
        vectors = self._fresh_vectors(new.collection, progress)
        counts = RunCounts()
        manifest = Manifest(new.manifest, writer=True)
        try:
            writer = Writer(manifest, vectors, lambda: self.embedder, counts, progress,
                            self.batch_chunks)
            failed = scan(writer, paths, True, self.settings)
            if not counts.added:  # an empty or wrong folder must not replace the whole index
                failed.append(FileProblem(", ".join(map(str, paths)),
                                          "no article found, so the rebuild was cancelled and the "
                                          "old index kept — check the paths"))
            else:
                if not drop_uploads:
                    failed += self._index_uploads(writer, paths)
                gone = not_brought_back(old, manifest)
                counts.removed, counts.removed_articles = len(gone), tuple(gone)
                done = finalise(manifest, new.keyword, progress, self.settings.keyword_shard_chunks)
                counts.keyword_shards = (done.rebuilt, done.shards)
                manifest.set_meta("last_indexed", time.strftime("%Y-%m-%d %H:%M:%S"))
        except BaseException:
            manifest.close()
            self._drop_generation(vectors, new)  # never current: nothing may point at it
            raise
        manifest.close()
        if not counts.added:
            self._drop_generation(vectors, new)
            return counts, failed
        generations.switch(self.store_dir, new.number)
        if old is not None and old.collection != new.collection:
            self._drop_generation(vectors, old)
        shutil.rmtree(self.store_dir / "chroma.damaged", ignore_errors=True)
        return counts, failed

    def _index_uploads(self, writer: Writer, paths: Sequence[str | Path]) -> list[FileProblem]:
        """Index the store's uploads into a rebuild, after ``paths`` as they were first indexed
        after other folders (so an upload named like another file keeps its id), unless
        ``paths`` hold them already."""
        folder = generations.uploads_dir(self.store_dir).resolve()
        if not folder.is_dir() or under(folder, [source_path(p) for p in paths]):
            return []
        before = writer.counts.added + writer.counts.updated
        failed = scan(writer, [folder], True, self.settings)
        writer.counts.kept_uploads = writer.counts.added + writer.counts.updated - before
        return failed

    def _drop_generation(self, vectors: VectorStore, gen: generations.Generation) -> None:
        """Delete a generation that is not current: its collection and its files."""
        try:
            vectors.drop(gen.collection)
        except StoreError:
            pass  # a damaged collection may refuse even this; nothing reads it any more
        generations.remove_files(gen)

    def _discard_other_generations(self, current: generations.Generation) -> None:
        """What a killed rebuild or a killed clean-up left: generation folders and collections
        other than the current one (never read, as ``CURRENT`` does not name them)."""
        leftovers = generations.other_generations(self.store_dir, self.settings.collection, current)
        if not leftovers:
            return
        vectors = VectorStore(self.settings, current.collection)
        for gen in leftovers:
            self._drop_generation(vectors, gen)

    # --- the vector store ------------------------------------------------------------
    def _open_vectors(self, gen: generations.Generation,
                      progress: ProgressHook | None) -> tuple[VectorStore, int | None]:
        """The collection of ``gen`` and the vectors its probe counted; a damaged one is
        replaced by an empty one, not counted (``Writer.repair`` then restores every vector
        from the manifest)."""
        try:
            vectors = VectorStore(self.settings, gen.collection)
            return vectors, vectors.check()  # a damaged index fails here, not half-way through
        except StoreError as e:
            if not is_damage(e) or self.settings.chroma_host:
                raise  # disk full, a busy or unreachable server: nothing to restore, say so
            if progress:
                progress(f"problem: {e} — restoring the vectors from the manifest", 0, 0)
            return self._fresh_vectors(gen.collection, progress), None

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


def not_brought_back(old: generations.Generation | None, new: Manifest) -> list[RemovedArticle]:
    """The finished articles of the ``old`` generation that the ``new`` manifest lacks. An
    article is matched by its id, or, when its file held it alone, by that file (two files
    sharing a name get other ids when indexed together). Nothing when the old manifest
    cannot be read: the damage a rebuild repairs."""
    if old is None or not old.manifest.exists():
        return []
    try:
        previous = Manifest(old.manifest, create=False)
        try:
            before = previous.as_removed()
        finally:
            previous.close()
    except (StoreError, OSError, sqlite3.Error):
        return []
    after = new.paths()
    old_files = Counter(a.path for a in before)
    new_files = Counter(after.values())
    return [a for a in before if a.doc_id not in after
            and not (a.path and old_files[a.path] == new_files[a.path] == 1)]
