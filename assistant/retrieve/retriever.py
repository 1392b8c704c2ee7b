"""Hybrid retrieval: dense (Chroma) + keyword (BM25), fused by reciprocal rank,
then diversified so that copies of one story do not crowd out other evidence.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from assistant.kernel.answers import Filters, Passage
from assistant.kernel.errors import BadQuestionError, StoreError
from assistant.kernel.settings import Settings
from assistant.storage.embedding import Embedder
from assistant.storage.keyword import KeywordIndex
from assistant.storage.keyword import exists as keyword_index_exists
from assistant.storage.manifest import ArticleMeta, ChunkRow, Manifest
from assistant.storage.vectors import VectorStore

NO_FILTERS = Filters()
RERANK_FUSION_K = 10  # reciprocal-rank constant when the reranker's order meets the fused one


class Rankings(NamedTuple):
    """What the two searches found for one query, before fusion: (chunk id, score), best first."""

    query_vector: np.ndarray  # empty when no article passed the filters (nothing was searched)
    dense: list[tuple[str, float]]  # Chroma, cosine similarity
    keyword: list[tuple[str, float]]  # the BM25 index, its score


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(self, settings: Settings, manifest: Manifest, vectors: VectorStore,
                 embedder: Callable[[], Embedder], keyword_dir: Path | None = None) -> None:
        self.settings = settings
        self.manifest = manifest
        self.vectors = vectors
        self.keyword_dir = keyword_dir or Path(settings.store_dir) / "bm25"
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        self._generation: str | None = None
        self._keyword: KeywordIndex | None = None
        self._meta: dict[str, ArticleMeta] = {}
        self._chunks_of: dict[str, list[str]] = {}
        self._stories: dict[str, list[str]] = {}  # cluster id -> its doc ids, sorted
        self._reranker: Any = None

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = self._embedder_factory()
            return self._embedder

    def refresh(self) -> None:
        """Reload the keyword index and article metadata when an index run changed them, and
        check that the store is whole (every passage has a vector, the keyword index loads)."""
        generation = self.manifest.get_meta("bm25_generation")
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            keyword = self._load_keyword()
            self.check_vectors()
            meta = {}
            for m in self.manifest.articles_meta():
                meta[m.doc_id] = m._replace(cluster_id=m.cluster_id or m.doc_id)
            chunks_of: dict[str, list[str]] = {}
            if keyword is not None:
                for cid in keyword.ids:
                    chunks_of.setdefault(cid.rsplit("::", 1)[0], []).append(cid)
            stories: dict[str, list[str]] = {}
            for d in sorted(meta):
                stories.setdefault(meta[d].cluster_id or d, []).append(d)
            self._keyword, self._meta, self._chunks_of = keyword, meta, chunks_of
            self._stories = stories
            self._generation = generation

    def _load_keyword(self) -> KeywordIndex | None:
        folder = self.keyword_dir
        finished = self.manifest.get_meta("finalised") == "1"
        if not keyword_index_exists(folder):
            if finished and self.manifest.counts().chunks:
                raise StoreError(f"the keyword index {folder} is missing — rebuild it: "
                                 "assistant index PATH (the folders you indexed)")
            return None  # the first index run has not built it yet
        try:
            return KeywordIndex(folder)
        except Exception as e:  # truncated JSON, missing arrays, EOF...
            raise StoreError(f"the keyword index {folder} is damaged ({type(e).__name__}) — "
                             "rebuild it: assistant index PATH (the folders you indexed)") from e

    def missing_vectors(self) -> tuple[int, int]:
        """(passages without a vector in Chroma, passages): a lost or damaged Chroma shows here."""
        chunks = self.manifest.counts().chunks
        return max(0, chunks - self.vectors.count()), chunks

    def check_vectors(self) -> None:
        """Refuse to answer from keywords alone when Chroma lost vectors the manifest has."""
        missing, chunks = self.missing_vectors()
        if missing:
            raise StoreError(
                f"{missing} of {chunks} passages have no vector in {self.vectors.location} — "
                "restore them from the manifest with assistant index PATH (any folder you "
                "indexed), or rebuild with assistant index --rebuild PATH (all of them)")

    def meta(self, doc_id: str) -> ArticleMeta | None:
        return self._meta.get(doc_id)

    def allowed_docs(self, filters: Filters) -> set[str] | None:
        """Doc ids passing the filters, or None when no filter is set. An undated article
        cannot be shown to fall in a date range: it passes one only with ``include_undated``."""
        if not filters.active:
            return None
        keep_undated = filters.include_undated or not filters.dated
        return {d for d, published in self._matching(filters) if published or keep_undated}

    def undated(self, filters: Filters) -> int:
        """Undated articles that pass every filter but the date range (0 without a range)."""
        if not filters.dated:
            return 0
        self.refresh()
        return sum(1 for _, published in self._matching(filters) if not published)

    def _matching(self, filters: Filters) -> list[tuple[str, str | None]]:
        """(doc id, publish date) of the articles passing the id and outlet filters and, when
        dated, the date range."""
        ids = set(filters.doc_ids)
        wanted = {s.casefold() for s in filters.sources}
        since, until = filters.since, filters.until
        return [(d, m.published) for d, m in self._meta.items()
                if (not ids or d in ids)
                and (not wanted or (m.source or "").casefold() in wanted)
                and not (m.published and since and m.published < since)
                and not (m.published and until and m.published > until)]

    def embed_query(self, query: str) -> np.ndarray:
        """The query's vector (one question searched in two scopes embeds it once)."""
        return self.embedder.embed([query])[0]  # type: ignore[no-any-return]

    def rankings(self, query: str, filters: Filters = NO_FILTERS,
                 query_vector: np.ndarray | None = None) -> Rankings:
        """The vector and the keyword ranking of ``query`` (embedded unless ``query_vector``
        is given) among the articles passing ``filters``, ``candidates`` chunks each, before
        fusion (empty when no article passes)."""
        self.refresh()
        allowed = self.allowed_docs(filters)
        if allowed is not None and not allowed:
            return Rankings(np.zeros(0, dtype=np.float32), [], [])
        qvec = self.embed_query(query) if query_vector is None else query_vector
        n = self.settings.candidates
        where = {"doc_id": {"$in": sorted(allowed)}} if allowed is not None else None
        dense = self.vectors.query(qvec, n, where)
        allowed_chunks = None
        if allowed is not None:
            allowed_chunks = {c for d in allowed for c in self._chunks_of.get(d, [])}
        keyword = self._keyword.search(query, n, allowed_chunks) if self._keyword else []
        return Rankings(qvec, dense, keyword)

    def fuse(self, rankings: Rankings, boost_docs: Sequence[str] = ()) -> list[tuple[str, float]]:
        """(chunk id, score) best first: reciprocal-rank fusion of the two rankings,
        ``1 / (rrf_k + rank)`` from each, ties kept in the order the chunks were first seen;
        chunks of ``boost_docs`` gain half a first place."""
        fused: dict[str, float] = {}
        for ranking in (rankings.dense, rankings.keyword):
            for rank, (cid, _) in enumerate(ranking):
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
        boost = set(boost_docs)
        if boost:  # follow-ups: the story the conversation is about ranks a little higher
            for cid in fused:
                if cid.rsplit("::", 1)[0] in boost:
                    fused[cid] += 0.5 / (self.settings.rrf_k + 1)
        return sorted(fused.items(), key=lambda item: -item[1])

    def search(self, query: str, filters: Filters = NO_FILTERS, k: int | None = None,
               boost_docs: Sequence[str] = (), query_vector: np.ndarray | None = None
               ) -> list[Passage]:
        """Every candidate passage for ``query``, best first: the fused rankings, reranked when
        a reranker is on. The first ``k`` (default ``Settings.top_k``) are the top, with at most
        half of them from one story; the other candidates follow (answerers read past the top)."""
        k = k or self.settings.top_k
        found = self.rankings(query, filters, query_vector)
        if not (found.dense or found.keyword):
            return []
        fused = dict(self.fuse(found, boost_docs))
        qvec, dense = found.query_vector, found.dense
        cosine = dict(dense)
        order = list(fused)
        # keyword-only hits have no dense score: fetch their vectors (one call) to compare on one scale
        stored = self.vectors.vectors([c for c in order if c not in cosine])
        cosine.update({c: float(np.dot(v, qvec)) for c, v in stored.items()})
        rows = self.manifest.chunk_rows(order)
        # a chunk whose article changed or left the index since the search began is skipped
        passages = [p for cid in order if cid in rows and (p := self._passage(
            cid, rows[cid], score=fused[cid], dense=cosine.get(cid, 0.0))) is not None]
        if self.settings.rerank_depth and self.reranker is not None:
            passages = self.rerank(query, passages)
        return _diversify(passages, k)

    @property
    def reranker(self) -> Any:
        """The trained reranker when ``Settings.reranker`` is on (loaded on first use)."""
        if self.settings.reranker == "off":
            return None
        with self._lock:
            if self._reranker is None:
                from assistant.models import make_reranker

                self._reranker = make_reranker(self.settings)
            return self._reranker

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        """The first ``rerank_depth`` passages reordered by fusing two rankings, the fused
        order and the reranker's (reciprocal ranks, ``RERANK_FUSION_K``), the rest after
        them in fused order. The reranker's probability is kept in ``Passage.rerank``.

        Fusing rather than replacing: on RealTime QA dev the reranker's order alone lowered
        choice@5 below fusion's, fused with it raised it (the reranker's model card has the
        numbers); neither ranking is right often enough to overrule the other."""
        depth = self.settings.rerank_depth
        head, tail = passages[:depth], passages[depth:]
        if not head:
            return passages
        probs = self.reranker.score(query, [p.text for p in head], [p.title for p in head])
        by_model = {i: r for r, i in enumerate(sorted(range(len(head)), key=lambda i: -float(probs[i])))}
        fused = {i: 1 / (RERANK_FUSION_K + i) + 1 / (RERANK_FUSION_K + by_model[i])
                 for i in range(len(head))}
        order = sorted(range(len(head)), key=lambda i: (-fused[i], i))
        return [replace(head[i], rerank=float(probs[i])) for i in order] + tail

    def stories(self, cluster_ids: Iterable[str]) -> dict[str, tuple[Passage, ...]]:
        """cluster id -> every chunk of every article of that story, read in one go (the copies
        an answer may cite: ``Evidence.story`` picks from them). Stories of one article are left
        out: an answer cites copies from other articles only."""
        self.refresh()
        members = {c: docs for c in dict.fromkeys(cluster_ids)
                   if len(docs := self._stories.get(c, [])) > 1}
        rows = self.manifest.chunk_rows(
            [cid for docs in members.values() for d in docs for cid in self._chunks_of.get(d, [])])
        found: dict[str, list[Passage]] = {}
        for cid, row in rows.items():
            if (p := self._passage(cid, row, rank=10_000)) is not None:
                found.setdefault(p.doc_id, []).append(p)
        return {c: tuple(p for d in docs for p in found.get(d, ())) for c, docs in members.items()}

    def _passage(self, cid: str, row: ChunkRow, **scores: Any) -> Passage | None:
        """The passage of one stored chunk with its article's metadata (None when the article
        has none: it left the index), and ``scores`` (score, dense, rank) as given."""
        meta = self._meta.get(row.doc_id)
        if meta is None:
            return None
        return Passage(
            chunk_id=cid, doc_id=row.doc_id, text=row.text, start=row.start, end=row.end,
            title=meta.title, source=meta.source, url=meta.url, published=meta.published,
            cluster_id=meta.cluster_id, sentences=tuple(tuple(s) for s in json.loads(row.sentences)),
            **scores)



def _diversify(passages: list[Passage], k: int) -> list[Passage]:
    """Let one story (a cluster of copies) fill at most half of the top ``k``; the rest follow."""
    cap = max(2, k // 2)
    top: list[Passage] = []
    rest: list[Passage] = []
    per: dict[str, int] = {}
    for p in passages:
        if len(top) < k and per.get(p.cluster_id, 0) < cap:
            top.append(p)
            per[p.cluster_id] = per.get(p.cluster_id, 0) + 1
        else:
            rest.append(p)
    ranked = top + rest
    return [Passage(**{**p.__dict__, "rank": i + 1}) for i, p in enumerate(ranked)]


def check_question(question: object, limit: int) -> str:
    """Normalise a question or raise a ``BadQuestionError`` saying what is wrong."""
    if not isinstance(question, str):
        raise BadQuestionError(f"the question must be text, not {type(question).__name__}")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise BadQuestionError("the question is empty — type a question about the articles")
    if len(cleaned) > limit:
        raise BadQuestionError(
            f"the question is {len(cleaned):,} characters; the limit is {limit:,} "
            "(ASSISTANT_MAX_QUESTION_CHARS) — ask about one thing at a time"
        )
    return cleaned
