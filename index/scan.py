"""One pass over the inputs of a run: what each article found there needs, and what is gone.

Per article: an unchanged one (same raw hash, or same cleaned content) is left alone, a
moved one gets its new path recorded, a new or changed one is handed to the ``Writer``.
Afterwards, unless the run keeps missing articles, an article stored from under the run's
roots that this pass did not find is removed: its file was deleted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from assistant.kernel.records import FileProblem, FileWarning, RawArticle
from assistant.kernel.settings import Settings
from assistant.storage.manifest import text_hash
from index.folders import source_path
from index.prepare import clean, fingerprint, prepare, raw_hash
from index.readers import iter_articles
from index.writes import Item, Writer


def scan(writer: Writer, paths: Sequence[str | Path], keep_missing: bool,
         settings: Settings) -> list[FileProblem]:
    """Bring the store in line with the articles under ``paths``; return the inputs that
    could not be used."""
    manifest, counts, progress = writer.manifest, writer.counts, writer.progress
    known = manifest.hashes()
    taken = manifest.paths()
    stamp = fingerprint(settings)
    seen: set[str] = set()
    failed: list[FileProblem] = []
    failed_paths: set[str] = set()
    same_content: dict[str, str] = {}  # doc_id -> new raw hash of an article cleaned alike
    moved: dict[str, str | None] = {}  # doc_id -> new path of an unchanged article
    for item in iter_articles(paths, max_file_mb=settings.max_file_mb):
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
        article = clean(item, settings)
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
        article, chunks = prepare(article, settings)
        writer.add(Item(article, chunks, old is not None, raw))
    writer.flush()
    if same_content:
        manifest.set_raw_hashes(same_content)
    if moved:
        manifest.set_paths(moved)
    if not keep_missing:
        # Only articles under the roots this run was given, compared as stored: absolute
        # (folders.source_path), independent of the working directory. A relative path
        # left by an older version (see ``manifest_schema._absolute_paths``) matches no
        # root and is never removed here.
        roots = [source_path(p) for p in paths]
        # a file, folder or root that could not be read says nothing about what is in it
        unread = [Path(p) for p in failed_paths]
        gone = [d for d, path in manifest.paths().items()
                if d not in seen and path and os.path.isabs(path)
                and under(Path(path), roots)
                and not under(Path(os.path.realpath(path)), unread)]
        if gone:
            writer.remove(gone)
    return failed


def _own_id(item: RawArticle, taken: dict[str, str | None]) -> RawArticle:
    """A file whose name-derived id belongs to another, still existing file of an earlier
    run gets an id of its own (otherwise it would silently replace that article). Stored
    paths are absolute; a relative one left by an older version is not compared."""
    old = taken.get(item.doc_id)
    if (item.doc_id != item.url and item.path and old and os.path.isabs(old) and os.path.exists(old)
            and os.path.realpath(old) != os.path.realpath(item.path)):
        return replace(item, doc_id=f"{item.doc_id}~{text_hash(os.path.realpath(item.path))[:8]}")
    return item


def under(path: Path, roots: list[Path]) -> bool:
    """Whether ``path`` is one of ``roots`` or inside one."""
    return any(path == r or r in path.parents for r in roots)
