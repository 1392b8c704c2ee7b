"""The read side of a store: one retriever open on the current generation, following switches.

A rebuild (``assistant index --rebuild``) builds a new generation beside the current one and
switches ``store/CURRENT``; an index run may replace a damaged embedded Chroma. Readers in other
threads and processes keep answering from what they opened and pick up the switch on their next
question: two ``stat`` calls tell whether anything moved.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from assistant.kernel.errors import NoIndexError
from assistant.kernel.settings import Settings
from assistant.retrieve.retriever import Retriever
from assistant.storage import generations

if TYPE_CHECKING:  # chromadb loads on first use
    from assistant.storage.manifest import Manifest
    from assistant.storage.vectors import VectorStore


class _Open(NamedTuple):
    manifest: Manifest
    vectors: VectorStore
    retriever: Retriever


class StoreReader:
    """Opens the current generation on first use and again after it moved."""

    def __init__(self, settings: Settings, embedder: Callable[[], Any]) -> None:
        self.settings = settings
        self._embedder = embedder
        self._lock = threading.RLock()
        self._pointer = generations.Pointer(settings.store_dir)
        self._open: _Open | None = None
        self._opened_at: tuple[int, int] = (0, 0)  # (store generation, Chroma inode)

    def where(self) -> tuple[int, int]:
        """The generation and the Chroma database the store points at now."""
        return self._pointer.number(), self._chroma_identity()

    def opened_at(self) -> tuple[int, int]:
        """What the open retriever reads (``where()`` when it was opened)."""
        return self._opened_at

    def retriever(self) -> Retriever:
        """The retriever of the current generation. The old one is dropped, not closed:
        another thread may still be answering with it."""
        with self._lock:
            number, chroma = now = self.where()
            if self._open is not None and now != self._opened_at:
                if chroma != self._opened_at[1]:
                    from assistant.storage.vectors import forget_clients

                    forget_clients()
                self._open = None
            if self._open is None:
                self._open = self._open_generation(number)
                self._opened_at = now
            return self._open.retriever

    def reopen(self) -> None:
        """Open afresh on the next question (the store moved while one was answered)."""
        with self._lock:
            self._open = None

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.manifest.close()
                self._open = None

    def _open_generation(self, number: int) -> _Open:
        from assistant.storage.manifest import Manifest
        from assistant.storage.vectors import VectorStore

        gen = generations.generation(Path(self.settings.store_dir), self.settings.collection, number)
        if not gen.manifest.exists() and not self.settings.chroma_host:
            raise NoIndexError(self.settings.store_dir)
        manifest = Manifest(gen.manifest, create=bool(self.settings.chroma_host))
        try:
            vectors = VectorStore(self.settings, gen.collection)
        except Exception:
            manifest.close()
            raise
        return _Open(manifest, vectors,
                     Retriever(self.settings, manifest, vectors, self._embedder, gen.keyword))

    def _chroma_identity(self) -> int:
        """The inode of the embedded Chroma database (0 for a server or none yet)."""
        if self.settings.chroma_host:
            return 0
        try:
            return os.stat(Path(self.settings.store_dir) / "chroma" / "chroma.sqlite3").st_ino
        except OSError:
            return 0
