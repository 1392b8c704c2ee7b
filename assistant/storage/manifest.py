"""The manifest: one SQLite file that says what the store holds.

It keeps each article (metadata, cleaned text, content hash, raw hash, story cluster),
each chunk (offsets and sentence spans), and a cache of embeddings keyed by the hash of
the chunk text, so identical text — syndicated copies, unchanged articles — is
never embedded twice. The raw hash (the record as read, see ``index.prepare.raw_hash``)
lets a re-index skip an unchanged article before cleaning it. An article is written
``pending`` before its vectors go to Chroma and marked ``done`` after; a run that dies
in between leaves ``pending`` rows that the next run repairs (``index.writes``). The
tables, the named rows the queries return and the migration of older stores are in
``manifest_schema``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from assistant.kernel.records import Article, Chunk, DatedSpan, RemovedArticle
from assistant.storage.manifest_schema import (
    ArticleMeta,
    Centroids,
    ChunkKey,
    ChunkRow,
    ChunkText,
    Counts,
    Known,
    VectorRow,
    open_database,
)


def text_hash(text: str) -> str:
    """Stable hash of a text (content hashes and the embedding cache key)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class Manifest:
    """Thread-safe access to the manifest database of one store."""

    def __init__(self, path: Path, create: bool = True, writer: bool = False) -> None:
        """Open (or with ``create`` make) the manifest at ``path``. ``writer``: the index run
        that holds the store's lock; only it migrates old stores."""
        self.path = path
        if not create and not path.exists():
            raise FileNotFoundError(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self.db = open_database(path, writer)

    # --- meta ----------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- articles: the pending/done protocol (index.writes) -----------------
    def begin_article(self, article: Article, chunks: Sequence[Chunk], raw_hash: str = "") -> list[str]:
        """Record an article as ``pending`` with its new chunks; return the stale chunk ids."""
        with self._lock, self.db:
            old = {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id=?", (article.doc_id,))}
            self.db.execute("DELETE FROM chunks WHERE doc_id=?", (article.doc_id,))
            self.db.execute(
                "INSERT OR REPLACE INTO docs (doc_id, content_hash, title, source, url, published,"
                " path, cluster_id, text, dates, state, indexed_at, raw_hash)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,'pending',?,?)",
                (article.doc_id, article.content_hash, article.title, article.source, article.url,
                 article.published, article.path, article.cluster_id or article.doc_id,
                 article.text, json.dumps([d.to_dict() for d in article.dates]), time.time(),
                 raw_hash),
            )
            self.db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?)",
                [(c.id, c.doc_id, c.index, c.start, c.end, text_hash(c.text),
                  json.dumps(c.sentences)) for c in chunks],
            )
        return sorted(old - {c.id for c in chunks})

    def finish_articles(self, centroids: dict[str, np.ndarray]) -> None:
        """Mark articles ``done`` and store their centroid vectors."""
        with self._lock, self.db:
            self.db.executemany(
                "UPDATE docs SET state='done', centroid=? WHERE doc_id=?",
                [(v.astype(np.float32).tobytes(), d) for d, v in centroids.items()],
            )

    def mark_pending(self, doc_ids: Iterable[str]) -> None:
        with self._lock, self.db:
            self.db.executemany("UPDATE docs SET state='pending' WHERE doc_id=?", [(d,) for d in doc_ids])

    def delete_articles(self, doc_ids: Iterable[str]) -> None:
        with self._lock, self.db:
            for d in doc_ids:
                self.db.execute("DELETE FROM chunks WHERE doc_id=?", (d,))
                self.db.execute("DELETE FROM docs WHERE doc_id=?", (d,))

    def set_raw_hashes(self, raw_hashes: dict[str, str]) -> None:
        """Record the raw hash of articles found unchanged by their cleaned content, so the
        next run recognises them before cleaning."""
        with self._lock, self.db:
            self.db.executemany("UPDATE docs SET raw_hash=? WHERE doc_id=?",
                                [(h, d) for d, h in raw_hashes.items()])

    def set_paths(self, paths: dict[str, str | None]) -> None:
        """Record the new file of articles found unchanged at another path (moved), so a
        later run removes them when that file goes."""
        with self._lock, self.db:
            self.db.executemany("UPDATE docs SET path=? WHERE doc_id=?",
                                [(p, d) for d, p in paths.items()])

    def set_clusters(self, clusters: dict[str, str]) -> None:
        with self._lock, self.db:
            self.db.executemany(
                "UPDATE docs SET cluster_id=? WHERE doc_id=?", [(c, d) for d, c in clusters.items()]
            )

    # --- queries ----------------------------------------------------------------
    def hashes(self) -> dict[str, Known]:
        """doc_id -> content hash, state and raw hash of every article."""
        with self._lock:
            rows = self.db.execute("SELECT doc_id, content_hash, state, raw_hash FROM docs").fetchall()
        return {r[0]: Known(r[1], r[2], r[3]) for r in rows}

    def paths(self) -> dict[str, str | None]:
        """doc_id -> the file it was read from (absolute; see ``manifest_schema._absolute_paths``)."""
        with self._lock:
            return dict(self.db.execute("SELECT doc_id, path FROM docs").fetchall())

    def as_removed(self, doc_ids: Iterable[str] | None = None) -> list[RemovedArticle]:
        """Articles ``doc_ids`` (default: every finished one) as a report names them once they
        left the index: id, title and file."""
        query = "SELECT doc_id, title, path FROM docs"
        with self._lock:
            if doc_ids is None:
                rows = self.db.execute(query + " WHERE state='done' ORDER BY doc_id").fetchall()
            else:
                rows = [r for d in sorted(set(doc_ids))
                        if (r := self.db.execute(query + " WHERE doc_id=?", (d,)).fetchone())]
        return [RemovedArticle(*r) for r in rows]

    def pending(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self.db.execute("SELECT doc_id FROM docs WHERE state='pending'")]

    def chunk_ids(self, doc_ids: Iterable[str] | None = None) -> set[str]:
        with self._lock:
            if doc_ids is None:
                return {r[0] for r in self.db.execute("SELECT id FROM chunks")}
            out: set[str] = set()
            for d in doc_ids:
                out.update(r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id=?", (d,)))
            return out

    def centroids(self) -> Centroids:
        """Doc ids, publish dates and centroid vectors of every finished article."""
        with self._lock:
            rows = self.db.execute(
                "SELECT doc_id, published, centroid FROM docs WHERE state='done' AND centroid IS NOT NULL"
                " ORDER BY doc_id"
            ).fetchall()
        if not rows:
            return Centroids([], [], np.zeros((0, 0), np.float32))
        return Centroids([r[0] for r in rows], [r[1] for r in rows],
                         np.vstack([np.frombuffer(r[2], np.float32) for r in rows]))

    def chunk_vectors(self) -> dict[str, np.ndarray]:
        """doc id -> matrix of its chunk vectors (from the embedding cache), finished articles."""
        with self._lock:
            rows = self.db.execute(
                "SELECT c.doc_id, e.vector FROM chunks c JOIN docs d ON d.doc_id=c.doc_id"
                " JOIN embed_cache e ON e.text_hash=c.text_hash WHERE d.state='done'"
                " ORDER BY c.doc_id, c.idx").fetchall()
        grouped: dict[str, list[np.ndarray]] = {}
        for d, v in rows:
            grouped.setdefault(d, []).append(np.frombuffer(v, np.float32))
        return {d: np.vstack(vs) for d, vs in grouped.items()}

    def chunk_vectors_of(self, doc_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """doc id -> matrix of its chunk vectors (in chunk order), for those of ``doc_ids``
        that are finished articles with chunks: ``chunk_vectors`` for a few articles at a time."""
        grouped: dict[str, list[np.ndarray]] = {}
        with self._lock:
            for i in range(0, len(doc_ids), 500):
                part = list(doc_ids[i : i + 500])
                q = ",".join("?" * len(part))
                for d, v in self.db.execute(
                    "SELECT c.doc_id, e.vector FROM chunks c JOIN docs d ON d.doc_id=c.doc_id"
                    " JOIN embed_cache e ON e.text_hash=c.text_hash"
                    f" WHERE d.state='done' AND c.doc_id IN ({q}) ORDER BY c.doc_id, c.idx", part,
                ):
                    grouped.setdefault(d, []).append(np.frombuffer(v, np.float32))
        return {d: np.vstack(vs) for d, vs in grouped.items()}

    def article(self, doc_id: str) -> Article | None:
        with self._lock:
            row = self.db.execute(
                "SELECT doc_id, title, text, source, url, published, path, content_hash, cluster_id,"
                " dates FROM docs WHERE doc_id=? AND state='done'", (doc_id,)
            ).fetchone()
        if row is None:
            return None
        doc_id, title, text, source, url, published, path, content_hash, cluster_id, dates = row
        return Article(doc_id=doc_id, title=title, text=text, source=source, url=url,
                       published=published, path=path, content_hash=content_hash,
                       cluster_id=cluster_id, dates=tuple(DatedSpan(**d) for d in json.loads(dates)))

    def articles_meta(self) -> list[ArticleMeta]:
        """Every finished article's metadata, by doc id."""
        with self._lock:
            rows = self.db.execute(
                "SELECT doc_id, title, source, published, cluster_id, url FROM docs"
                " WHERE state='done'"
                " ORDER BY doc_id"
            ).fetchall()
        return [ArticleMeta(*r) for r in rows]

    def chunk_rows(self, ids: Sequence[str]) -> dict[str, ChunkRow]:
        """chunk id -> its row, for the ids of finished articles. Offsets and text come from
        one statement, so a concurrent update cannot tear them."""
        out: dict[str, ChunkRow] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = list(ids[i : i + 500])
                q = ",".join("?" * len(part))
                for r in self.db.execute(
                    f"SELECT c.id, c.doc_id, c.start, c.end, c.sentences,"
                    f" substr(d.text, c.start + 1, c.end - c.start) FROM chunks c"
                    f" JOIN docs d ON d.doc_id=c.doc_id WHERE d.state='done' AND c.id IN ({q})",
                    part,
                ):
                    out[r[0]] = ChunkRow(*r[1:])
        return out

    def vector_rows(self, ids: Sequence[str]) -> list[VectorRow]:
        """The rows needed to restore the vectors of chunks ``ids`` (lost from Chroma)."""
        out: list[VectorRow] = []
        with self._lock:
            for i in range(0, len(ids), 500):
                part = list(ids[i : i + 500])
                q = ",".join("?" * len(part))
                out += [VectorRow(*r) for r in self.db.execute(
                    f"SELECT c.id, c.doc_id, c.text_hash, substr(d.text, c.start + 1, c.end - c.start),"
                    f" d.published, d.source FROM chunks c JOIN docs d ON d.doc_id=c.doc_id"
                    f" WHERE c.id IN ({q}) ORDER BY c.id", part)]
        return out

    def all_chunk_texts(self) -> list[ChunkText]:
        """(chunk id, chunk text) of every finished article, in a stable order."""
        with self._lock:
            rows = self.db.execute(
                "SELECT c.id, substr(d.text, c.start + 1, c.end - c.start) FROM chunks c"
                " JOIN docs d ON d.doc_id=c.doc_id WHERE d.state='done' ORDER BY c.doc_id, c.idx"
            ).fetchall()
        return [ChunkText(*r) for r in rows]

    def chunk_keys(self) -> list[ChunkKey]:
        """(doc id, chunk id, text hash) of every chunk of a finished article, in the order of
        ``all_chunk_texts``."""
        with self._lock:
            rows = self.db.execute(
                "SELECT c.doc_id, c.id, c.text_hash FROM chunks c JOIN docs d ON d.doc_id=c.doc_id"
                " WHERE d.state='done' ORDER BY c.doc_id, c.idx").fetchall()
        return [ChunkKey(*r) for r in rows]

    def chunk_texts_of(self, doc_ids: Sequence[str]) -> list[ChunkText]:
        """(chunk id, chunk text) of those of ``doc_ids`` that are finished articles, a few
        hundred articles per query, in the order of ``all_chunk_texts``."""
        out: list[ChunkText] = []
        wanted = sorted(set(doc_ids))
        with self._lock:
            for i in range(0, len(wanted), 500):
                part = wanted[i : i + 500]
                q = ",".join("?" * len(part))
                out += [ChunkText(*r) for r in self.db.execute(
                    "SELECT c.id, substr(d.text, c.start + 1, c.end - c.start) FROM chunks c"
                    f" JOIN docs d ON d.doc_id=c.doc_id WHERE d.state='done' AND c.doc_id IN ({q})"
                    " ORDER BY c.doc_id, c.idx", part)]
        return out

    def counts(self) -> Counts:
        """Articles, chunks and story clusters of finished articles."""
        with self._lock:
            a, k = self.db.execute(
                "SELECT count(*), count(DISTINCT cluster_id) FROM docs WHERE state='done'"
            ).fetchone()
            c = self.db.execute(
                "SELECT count(*) FROM chunks c JOIN docs d ON d.doc_id=c.doc_id WHERE d.state='done'"
            ).fetchone()[0]
        return Counts(a, c, k)

    # --- embedding cache -----------------------------------------------------
    def cached_vectors(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(hashes), 500):
                part = list(hashes[i : i + 500])
                q = ",".join("?" * len(part))
                for h, v in self.db.execute(
                    f"SELECT text_hash, vector FROM embed_cache WHERE text_hash IN ({q})", part
                ):
                    out[h] = np.frombuffer(v, np.float32)
        return out

    def cache_vectors(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock, self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO embed_cache VALUES (?, ?)",
                [(h, v.astype(np.float32).tobytes()) for h, v in vectors.items()],
            )

    def prune_cache(self) -> int:
        """Drop cached vectors no chunk uses any more; return how many."""
        with self._lock, self.db:
            cur = self.db.execute(
                "DELETE FROM embed_cache WHERE text_hash NOT IN (SELECT text_hash FROM chunks)"
            )
        return cur.rowcount

    def close(self) -> None:
        with self._lock:
            self.db.close()
