"""The vector store: Chroma, embedded on disk by default or a Chroma server.

We talk to chromadb directly rather than through llama-index's ChromaVectorStore:
the index needs deterministic chunk ids, deletes by id for incremental updates and
crash repair, and batch upserts of vectors we computed (and cached) ourselves —
the llama-index wrapper adds node (de)serialisation on that path and nothing we use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from assistant.kernel.errors import CollectionGoneError, DiskFullError, StoreError
from assistant.kernel.settings import Settings

T = TypeVar("T")
DIMENSION = 384  # all-MiniLM-L6-v2, both backends
_PROBE = "\x00probe"  # an id no chunk can have (chunk ids are "doc_id::n")
_DISK_FULL = ("no space left", "disk is full", "database or disk is full", "enospc")


def pub_number(iso: str | None) -> int:
    """An ISO date as an integer (20221205) for range filters; 0 when unknown."""
    return int(iso.replace("-", "")) if iso else 0


def chunk_metadata(doc_id: str, published: str | None, source: str | None) -> dict[str, Any]:
    """What Chroma stores beside a chunk's vector: the fields retrieval filters on."""
    return {"doc_id": doc_id, "pub": pub_number(published), "source": source or ""}


def is_disk_full(error: BaseException) -> bool:
    """Whether an error from SQLite, Chroma or the OS means the disk is full."""
    if isinstance(error, OSError) and error.errno == 28:  # ENOSPC
        return True
    text = str(error).lower()
    return any(mark in text for mark in _DISK_FULL)


_DAMAGE = ("compaction", "hnsw", "malformed", "not a database", "deserializ", "corrupt",
           "segment", "internalerror", "no such table", "file is not")


def is_damage(error: BaseException) -> bool:
    """Whether a vector-store error means damaged files (restorable from the manifest), not a
    full disk, a busy database or an unreachable server."""
    if is_disk_full(error):
        return False
    cause = error.__cause__ or error
    text = f"{type(cause).__name__} {cause}".lower()
    return any(mark in text for mark in _DAMAGE)


def store_failure(location: str, error: Exception) -> StoreError:
    """A Chroma exception as the one-line error a user can act on."""
    if isinstance(error, StoreError):
        return error
    if is_disk_full(error):
        return DiskFullError(location)
    if type(error).__name__ in ("NotFoundError", "InvalidCollectionException"):
        return CollectionGoneError(f"the Chroma collection at {location} is gone ({error})")
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return StoreError(f"the vector store at {location} failed ({first}) — repair it with "
                      "assistant index PATH (restores the vectors from the manifest)")


def quarantine(store_dir: Path) -> Path | None:
    """Move a damaged embedded Chroma folder aside (``chroma.damaged``) so a fresh one can be
    made; nothing in it is lost that the manifest cannot restore. Returns where it went."""
    folder = Path(store_dir) / "chroma"
    if not folder.exists():
        return None
    target = folder.with_name("chroma.damaged")
    shutil.rmtree(target, ignore_errors=True)
    folder.rename(target)
    forget_clients()
    return target


def forget_clients() -> None:
    """Drop chromadb's per-path client cache (one client system per path and process), so
    the next client opens the files now at that path, not the replaced ones."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:  # another chromadb version: nothing cached to drop
        pass


class VectorStore:
    """A Chroma collection holding one vector per chunk, id ``doc_id::index``.

    ``collection`` names the collection of one store generation (``assistant.storage.generations``); the
    default is the settings' name. Every Chroma failure surfaces as a ``StoreError``.
    """

    def __init__(self, settings: Settings, collection: str | None = None) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        try:
            if settings.chroma_host:
                headers = {}
                if settings.chroma_auth_header:
                    name, _, value = settings.chroma_auth_header.get_secret_value().partition(":")
                    headers[name.strip()] = value.strip()
                self.client: Any = chromadb.HttpClient(
                    host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl,
                    headers=headers, settings=chroma_settings,
                )
                self.location = f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"
            else:
                path = Path(settings.store_dir) / "chroma"
                self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
                self.location = str(path)
            self.name = collection or settings.collection
            self.collection = self._create(self.name)
        except Exception as e:  # chromadb raises many types; all mean "store unusable"
            where = settings.chroma_host or str(settings.store_dir)
            if is_disk_full(e):
                raise DiskFullError(where) from e
            raise StoreError(f"cannot open the Chroma store at {where}: {e}") from e

    def _create(self, name: str) -> Any:
        return self.client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def _call(self, op: Callable[..., T], **kwargs: Any) -> T:
        try:
            return op(**kwargs)
        except Exception as e:  # every Chroma failure becomes a StoreError
            raise store_failure(self.location, e) from e

    def reset(self) -> None:
        """Delete every vector (drop and recreate the collection, through the live client)."""
        self.drop(self.name)
        self.collection = self._call(self._create, name=self.name)

    def drop(self, name: str) -> None:
        """Delete the collection ``name`` if it exists (an old generation's, or a damaged one)."""
        try:
            self.client.delete_collection(name)
        except Exception as e:
            if type(e).__name__ not in ("NotFoundError", "InvalidCollectionException", "ValueError"):
                raise store_failure(self.location, e) from e

    def upsert(self, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]]) -> None:
        for i in range(0, len(ids), 2000):
            self._call(self.collection.upsert, ids=list(ids[i : i + 2000]),
                       embeddings=vectors[i : i + 2000], metadatas=list(metadatas[i : i + 2000]))

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 2000):
            self._call(self.collection.delete, ids=list(ids[i : i + 2000]))

    def delete_docs(self, doc_ids: Sequence[str]) -> None:
        for d in doc_ids:
            self._call(self.collection.delete, where={"doc_id": d})

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = self._call(self.collection.get, include=[], limit=5000, offset=offset)["ids"]
            out.update(got)
            if len(got) < 5000:
                return out
            offset += len(got)

    def check(self) -> int:
        """The number of stored vectors, after one search and one write: damaged index files
        fail the search and a damaged write log fails the write (counting touches neither)."""
        stored = self.vectors(self._call(self.collection.get, limit=1, include=[])["ids"])
        vector = next(iter(stored.values())) if stored else np.full(DIMENSION, 0.05, np.float32)
        if stored:
            self.query(vector, 1)
        # straight to Chroma, not through upsert/delete: the probe is not a data write
        self._call(self.collection.upsert, ids=[_PROBE], embeddings=vector.reshape(1, -1),
                   metadatas=[{"doc_id": _PROBE}])
        self._call(self.collection.delete, ids=[_PROBE])
        return self.count()

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids`` (one round trip); ids not stored are left out."""
        if not ids:
            return {}
        got = self._call(self.collection.get, ids=ids, include=["embeddings"])
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {i: np.asarray(e, np.float32) for i, e in zip(got["ids"], embs, strict=True)}

    def count(self) -> int:
        return int(self._call(self.collection.count))

    def query(self, vector: np.ndarray, k: int,
              where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first. Chroma returns fewer than ``k`` when the
        collection (or the ``where`` subset) holds fewer, so no count is needed first."""
        res = self._call(self.collection.query, query_embeddings=vector.reshape(1, -1), n_results=k,
                         where=where or None, include=["distances"])
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
