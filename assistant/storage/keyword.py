"""The keyword side of retrieval: a BM25 index (bm25s + the kernel's Snowball stemmer) on disk.

It is rebuilt once at the end of an indexing run that changed anything — never per
query — and written to a fresh folder that replaces the old one by rename, so a
reader always loads a complete index. Readers reload it when the manifest's
``bm25_generation`` changes.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.kernel.text import stemmer


def _tokenize(texts: Sequence[str], ids: bool) -> Any:
    import bm25s

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=stemmer(), return_ids=ids,
                          show_progress=False)


def build(entries: Sequence[tuple[str, str]], folder: Path) -> None:
    """Index ``(chunk id, text)`` pairs into ``folder`` (replaced atomically)."""
    import bm25s

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if entries:
        retriever = bm25s.BM25()
        retriever.index(_tokenize([t for _, t in entries], True), show_progress=False)
        retriever.save(str(tmp))
    (tmp / "ids.json").write_text(json.dumps([i for i, _ in entries]))
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    with _swap_lock(folder, fcntl.LOCK_EX):  # no reader is half-way through loading
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _swap_lock(folder: Path, mode: int) -> Iterator[None]:
    with open(folder.with_name(folder.name + ".lock"), "a+") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def usable(folder: Path) -> bool:
    """Whether ``folder`` holds a keyword index that loads (a missing or damaged one is
    rebuilt by the next index run). Memory-mapped: the check reads headers, not the index."""
    try:
        KeywordIndex(folder, mmap=True)
    except Exception:  # any failure to load means "rebuild it"
        return False
    return True


def remove(folder: Path) -> None:
    """Delete a keyword index that is no longer current, once no reader is loading it."""
    if not folder.parent.exists():
        return
    with _swap_lock(folder, fcntl.LOCK_EX):
        for path in (folder, folder.with_name(folder.name + ".tmp"),
                     folder.with_name(folder.name + ".old")):
            shutil.rmtree(path, ignore_errors=True)


class KeywordIndex:
    """A loaded BM25 index: query text -> ranked chunk ids."""

    def __init__(self, folder: Path, mmap: bool = False) -> None:
        import bm25s

        with _swap_lock(folder, fcntl.LOCK_SH):  # ids and matrix from the same build
            self.ids: list[str] = json.loads((folder / "ids.json").read_text())
            self.retriever = (bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False)
                              if self.ids else None)
        if self.retriever is not None and len(self.ids) != self.retriever.scores["num_docs"]:
            raise ValueError(f"{folder}: {len(self.ids)} ids for "
                             f"{self.retriever.scores['num_docs']} indexed passages")
        self.position = {cid: i for i, cid in enumerate(self.ids)}

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score > 0), best first; ``allowed`` restricts the chunk ids."""
        if self.retriever is None or k <= 0:
            return []
        tokens = _tokenize([query], False)
        if not any(t in self.retriever.vocab_dict for t in tokens[0]):
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=np.float32)
            for cid in allowed:
                if cid in self.position:
                    mask[self.position[cid]] = 1.0
        docs, scores = self.retriever.retrieve(
            tokens, k=min(k, len(self.ids)), show_progress=False, weight_mask=mask, n_threads=1
        )
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
