"""The vector store: Chroma, embedded on disk by default or a Chroma server.

We talk to chromadb directly rather than through llama-index's ChromaVectorStore:
the index needs deterministic chunk ids, deletes by id for incremental updates and
crash repair, and batch upserts of vectors we computed (and cached) ourselves —
the llama-index wrapper adds node (de)serialisation on that path and nothing we use.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import StoreError
from index.settings import Settings


def pub_number(iso: str | None) -> int:
    """An ISO date as an integer (20221205) for range filters; 0 when unknown."""
    return int(iso.replace("-", "")) if iso else 0


class VectorStore:
    """A Chroma collection holding one vector per chunk, id ``doc_id::index``."""

    def __init__(self, settings: Settings) -> None:
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
            self.collection = self.client.get_or_create_collection(
                settings.collection, embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )
        except Exception as e:  # chromadb raises many types; all mean "store unusable"
            where = settings.chroma_host or settings.store_dir
            raise StoreError(f"cannot open the Chroma store at {where}: {e}") from e

    def reset(self) -> None:
        """Delete every vector (drop and recreate the collection, through the live client)."""
        name = self.collection.name
        self.client.delete_collection(name)
        self.collection = self.client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    def upsert(self, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]]) -> None:
        for i in range(0, len(ids), 2000):
            self.collection.upsert(
                ids=list(ids[i : i + 2000]), embeddings=vectors[i : i + 2000],
                metadatas=list(metadatas[i : i + 2000]),
            )

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), 2000):
            self.collection.delete(ids=list(ids[i : i + 2000]))

    def delete_docs(self, doc_ids: Sequence[str]) -> None:
        for d in doc_ids:
            self.collection.delete(where={"doc_id": d})

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            got = self.collection.get(include=[], limit=5000, offset=offset)["ids"]
            out.update(got)
            if len(got) < 5000:
                return out
            offset += len(got)

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids`` (one round trip); ids not stored are left out."""
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["embeddings"])
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {i: np.asarray(e, np.float32) for i, e in zip(got["ids"], embs, strict=True)}

    def count(self) -> int:
        return int(self.collection.count())

    def query(self, vector: np.ndarray, k: int,
              where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity), best first. Chroma returns fewer than ``k`` when the
        collection (or the ``where`` subset) holds fewer, so no count is needed first."""
        res = self.collection.query(
            query_embeddings=vector.reshape(1, -1), n_results=k, where=where or None,
            include=["distances"],
        )
        return [(i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)]
