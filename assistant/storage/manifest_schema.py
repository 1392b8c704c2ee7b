"""The shape of the manifest: its tables, the rows its queries return, and opening a file.

Opening checks the file (a damaged one is a ``StoreError`` that says how to rebuild it) and
its schema version. A store written by an older version is brought up to date in place:
columns added since schema 1 are added on open, and article paths stored relative to
wherever the index command ran are made absolute by the index run that holds the lock.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import NamedTuple

import numpy as np

from assistant.kernel.errors import StoreError

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
  doc_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, title TEXT NOT NULL,
  source TEXT, url TEXT, published TEXT, path TEXT, cluster_id TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL, dates TEXT NOT NULL DEFAULT '[]', centroid BLOB,
  state TEXT NOT NULL, indexed_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
  id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
  start INTEGER NOT NULL, end INTEGER NOT NULL, text_hash TEXT NOT NULL,
  sentences TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS embed_cache (text_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
"""
# Columns added after schema 1 shipped: (table, column, definition). Added on open, so an
# older store keeps working; a run of an older version ignores them.
_ADDED_COLUMNS = (("docs", "raw_hash", "TEXT NOT NULL DEFAULT ''"),)


class Known(NamedTuple):
    """What the manifest remembers of one article to decide whether it changed."""

    content_hash: str  # cleaned text, metadata and chunking settings
    state: str  # 'pending' or 'done'
    raw_hash: str  # the record as read plus the derivation fingerprint; '' if not recorded


class ArticleMeta(NamedTuple):
    """One finished article as retrieval filters and groups it (no text)."""

    doc_id: str
    title: str
    source: str | None
    published: str | None
    cluster_id: str
    url: str | None


class ChunkRow(NamedTuple):
    """One chunk of a finished article: where it sits and what it says."""

    doc_id: str
    start: int
    end: int
    sentences: str  # JSON list of [start, end] sentence offsets inside the chunk
    text: str


class ChunkText(NamedTuple):
    chunk_id: str
    text: str


class ChunkKey(NamedTuple):
    """What identifies a chunk's content: the keyword index compares these to find its stale
    shards without reading any text."""

    doc_id: str
    chunk_id: str
    text_hash: str


class Counts(NamedTuple):
    """Totals over finished articles."""

    articles: int
    chunks: int
    clusters: int


class Centroids(NamedTuple):
    """Every finished article's mean chunk vector, with its id and publish date (row i each)."""

    doc_ids: list[str]
    published: list[str | None]
    vectors: np.ndarray


class VectorRow(NamedTuple):
    """What restoring one chunk's vector needs: its text (hash) and its article's filters."""

    chunk_id: str
    doc_id: str
    text_hash: str
    text: str
    published: str | None
    source: str | None


def open_database(path: Path, writer: bool) -> sqlite3.Connection:
    """Connect to the manifest at ``path``, creating its tables; ``writer``: the index run
    that holds the store's lock, the only one that migrates old stores."""
    try:
        db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        _add_columns(db)
        if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise sqlite3.DatabaseError("integrity check failed")
    except sqlite3.DatabaseError as e:
        raise StoreError(
            f"the manifest {path} is damaged ({e}) — rebuild it: assistant index --rebuild PATH"
        ) from e
    version = _meta(db, "schema_version")
    if version is None:
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    elif version != SCHEMA_VERSION:
        raise StoreError(
            f"the store at {path.parent} was written by an incompatible version "
            f"(schema {version}, this version reads {SCHEMA_VERSION}) — "
            "rebuild it: assistant index --rebuild PATH"
        )
    if writer and _meta(db, "paths_absolute") != "1":
        _absolute_paths(db)
    return db


def _meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return row[0] if row else None


def _add_columns(db: sqlite3.Connection) -> None:
    for table, column, definition in _ADDED_COLUMNS:
        have = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            with db:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def _absolute_paths(db: sqlite3.Connection) -> None:
    """Migrate a store whose ``docs.path`` were stored as given (relative to wherever the
    index command ran): a relative path naming an existing file from the current
    directory becomes absolute (its folder resolved, as ``readers`` stores paths). One
    that names nothing from here is left as it is: the pipeline never removes an article
    with a relative path by matching it against a run's roots (it cannot know what the
    path was relative to), and a later run that reads the file again stores it absolute.
    Done once per store (meta ``paths_absolute``), by the index run that holds the lock
    (never by a reader, whose working directory says nothing about the store)."""
    try:
        with db:
            rows = db.execute("SELECT doc_id, path FROM docs WHERE path IS NOT NULL"
                              " AND path != ''").fetchall()
            fixed = [(os.path.join(os.path.realpath(os.path.dirname(p) or "."),
                                   os.path.basename(p)), d)
                     for d, p in rows if not os.path.isabs(p) and os.path.isfile(p)]
            db.executemany("UPDATE docs SET path=? WHERE doc_id=?", fixed)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('paths_absolute', '1')")
    except sqlite3.OperationalError:  # read-only file or folder: migrate on a later open
        pass
