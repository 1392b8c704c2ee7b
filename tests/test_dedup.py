"""Story clustering at scale (``index/clusters.py``) and its place in the index run.

Guards: (1) on small sets the nearest-neighbour candidates give exactly the clusters of
checking every pair above the centroid prefilter (the original definition); (2) 4,000
near-identical copies of one story end as one cluster through chains of candidates, while
same-topic articles of other stories, small groups of copies and a republication weeks
later stay apart, and passages are fetched only for candidates, each article once (a
benchmark-sized check of results, never of time: timings are in ``bench/cluster_scale.py``);
(3) ``Manifest.chunk_vectors_of`` returns what ``chunk_vectors`` holds for the ids asked;
(4) the index is finalised (keyword index built) before clustering, so a run killed while
clustering leaves ``clusters_done`` at "0" and ``Indexer._cluster`` finishes the job alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from assistant.kernel.settings import Settings
from assistant.storage.manifest import Manifest
from index import clusters
from index.pipeline import Indexer

DIM = 384
TF1_STORY = {"001_cbcefea2cfbb97a1", "003_b638dfb737329836", "004_80287d7f8de47a75"}


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


class Corpus:
    """Synthetic articles of one topic: every passage is the topic direction plus its own
    random part, so centroids of *any* two articles pass the prefilter (cosine ~0.9) while
    passages of different stories do not align (cosine ~0.5); a copy is its story's
    passages plus a little noise (cosine ~0.9)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.topic = _unit(self.rng.normal(size=DIM))
        self.ids: list[str] = []
        self.published: list[str | None] = []
        self.passages: dict[str, np.ndarray] = {}
        self.story: dict[str, str] = {}

    def new_story(self, chunks: int = 6) -> np.ndarray:
        return _unit(self.topic + _unit(self.rng.normal(size=(chunks, DIM))))

    def add(self, doc_id: str, story: str, passages: np.ndarray, published: str | None) -> None:
        self.ids.append(doc_id)
        self.published.append(published)
        self.passages[doc_id] = passages
        self.story[doc_id] = story

    def copy(self, passages: np.ndarray, noise: float = 0.015) -> np.ndarray:
        return _unit(passages + self.rng.normal(scale=noise, size=passages.shape))

    def centroids(self) -> np.ndarray:
        return np.vstack([self.passages[d].mean(0) if len(self.passages[d]) else np.zeros(DIM)
                          for d in self.ids])


def reference_clusters(c: Corpus) -> dict[str, str]:
    """The original definition: check every pair whose centroids pass the prefilter."""
    centroids = c.centroids()
    unit = centroids / np.clip(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12, None)
    n = len(c.ids)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for a in range(n):
        for b in range(a + 1, n):
            if unit[a] @ unit[b] < clusters.CENTROID_PREFILTER:
                continue
            try:
                gap = abs((date.fromisoformat(c.published[a] or "") -
                           date.fromisoformat(c.published[b] or "")).days)
            except ValueError:
                gap = 0
            if gap <= clusters.MAX_DAYS_APART and clusters.aligned_share(
                    c.passages[c.ids[a]], c.passages[c.ids[b]]) >= clusters.ALIGNED_SHARE:
                parent[find(a)] = find(b)
    groups: dict[int, list[str]] = {}
    for i, d in enumerate(c.ids):
        groups.setdefault(find(i), []).append(d)
    return {d: min(m) for m in groups.values() for d in m}


def day(offset: int) -> str:
    return (date(2022, 2, 1) + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize("seed", range(12))
def test_small_sets_cluster_exactly_as_checking_every_pair(seed: int) -> None:
    c = Corpus(seed)
    rng = c.rng
    for s in range(int(rng.integers(2, 7))):
        base = c.new_story(int(rng.integers(1, 9)))
        for k in range(int(rng.integers(1, 5))):
            passages = c.copy(base, noise=float(rng.choice([0.0, 0.015, 0.05])))
            if rng.random() < 0.3:  # a rewrite: part of the story and passages of its own
                keep = max(1, len(base) // 2)
                passages = np.vstack([passages[:keep], c.new_story(len(base) - keep)])
            elif rng.random() < 0.3:  # an excerpt: all its passages are in the story
                passages = passages[: max(1, len(base) // 4)]
            when = [None, "not a date", day(int(rng.integers(0, 12)))][int(rng.integers(0, 3))]
            c.add(f"s{s}-{k}", f"s{s}", passages, when)
    c.add("empty", "empty", np.zeros((0, DIM), np.float32), day(0))
    expected = reference_clusters(c)
    assert len(c.ids) <= clusters.NEIGHBOURS + 1  # every pair above the prefilter is a candidate
    assert clusters.cluster(c.ids, c.published, c.centroids(), c.passages) == expected
    fetched = clusters.cluster(c.ids, c.published, c.centroids(),
                               lambda ids: {d: c.passages[d] for d in ids})
    assert fetched == expected


def test_blocks_and_date_windows_lose_no_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    c = Corpus(3)
    for s in range(30):  # stories over two months, copies a few days apart, some undated
        base, first = c.new_story(4), int(c.rng.integers(0, 60))
        for k in range(4):
            when = None if c.rng.random() < 0.1 else day(first + int(c.rng.integers(0, 7)))
            c.add(f"s{s:02d}-{k}", f"s{s}", c.copy(base), when)
    monkeypatch.setattr(clusters, "_BLOCK_ELEMENTS", 7 * len(c.ids))  # blocks of 7 rows
    monkeypatch.setattr(clusters, "FETCH_BLOCK", 5)
    expected = reference_clusters(c)
    assert 30 < len(set(expected.values())) < len(c.ids)  # some copies joined, some split by date
    assert clusters.cluster(c.ids, c.published, c.centroids(), c.passages,
                            neighbours=len(c.ids)) == expected


def test_thousands_of_copies_are_one_story_and_other_stories_stay_apart() -> None:
    c = Corpus(7)
    wire = c.new_story()
    for i in range(4000):  # near-identical copies over three days, a few exact duplicates
        c.add(f"wire-{i:04d}", "wire", wire if i % 100 == 0 else c.copy(wire), day(i % 3))
    for i in range(5):  # the same text republished weeks later is another story
        c.add(f"late-{i}", "late", c.copy(wire), day(40))
    for s in range(40):  # small stories of five copies each, on the same topic
        base = c.new_story()
        for k in range(5):
            c.add(f"small-{s:02d}-{k}", f"small-{s}", c.copy(base), day(s % 3))
    for i in range(300):  # distinct articles on the same topic, same days
        c.add(f"distinct-{i:03d}", f"distinct-{i}", c.new_story(), day(i % 3))
    for i in range(50):  # other topics: no candidates at all
        c.add(f"other-{i:02d}", f"other-{i}", _unit(c.rng.normal(size=(6, DIM))), day(1))

    asked: Counter[str] = Counter()
    calls: list[int] = []

    def fetch(ids: Sequence[str]) -> Mapping[str, np.ndarray]:
        calls.append(len(ids))
        asked.update(ids)
        return {d: c.passages[d] for d in ids}

    found = clusters.cluster(c.ids, c.published, c.centroids(), fetch)

    by_story: dict[str, set[str]] = {}
    for d in c.ids:
        by_story.setdefault(c.story[d], set()).add(found[d])
    assert all(len(ids) == 1 for ids in by_story.values()), "a story was split"
    assert len(set(found.values())) == len(by_story), "two stories were joined"
    assert found["wire-0001"] == "wire-0000" and found["late-3"] == "late-0"
    assert not any(d.startswith("other-") for d in asked), "passages fetched for non-candidates"
    assert max(asked.values()) == 1, "an article's passages were fetched twice"
    assert max(calls) <= clusters.FETCH_BLOCK * (2 * clusters.NEIGHBOURS + 1)


def test_chunk_vectors_of_returns_those_of_the_ids_asked(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    path = next(Path(seeds_assistant.settings.store_dir).rglob("manifest.sqlite"))
    manifest = Manifest(path)
    try:
        every = manifest.chunk_vectors()
        asked = [f"missing-{i}" for i in range(1200)] + sorted(every)[:3]  # several SQL batches
        got = manifest.chunk_vectors_of(asked)
        assert sorted(got) == sorted(every)[:3]
        for d, matrix in got.items():
            assert np.array_equal(matrix, every[d])
    finally:
        manifest.close()


def test_a_killed_clustering_leaves_the_index_finalised_and_is_redone_alone(
        embedder: object, seeds_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(store_dir=tmp_path / "store")
    real = clusters.cluster

    def killed(*args: object, **kwargs: object) -> dict[str, str]:
        raise RuntimeError("killed while clustering")

    monkeypatch.setattr(clusters, "cluster", killed)
    with pytest.raises(RuntimeError, match="killed while clustering"):
        Indexer(settings, lambda: embedder).run([seeds_copy])  # type: ignore[arg-type,return-value]
    monkeypatch.setattr(clusters, "cluster", real)

    path = next(settings.store_dir.rglob("manifest.sqlite"))
    keyword = next(settings.store_dir.rglob("ids.json"))
    built = keyword.stat().st_mtime_ns
    manifest = Manifest(path)
    try:
        assert manifest.get_meta("finalised") == "1"
        assert manifest.get_meta("clusters_done") == "0"
        assert len({m.cluster_id for m in manifest.articles_meta()}) == 5, "not clustered yet"
        generation = int(manifest.get_meta("bm25_generation") or 0)
    finally:
        manifest.close()

    # the next run, as a user would start it: nothing changed, only the clustering is redone
    report = Indexer(settings, lambda: embedder).run([seeds_copy])  # type: ignore[arg-type,return-value]
    assert report.unchanged == 5 and report.added == 0

    manifest = Manifest(path)
    try:
        assert manifest.get_meta("clusters_done") == "1"
        story = {m.doc_id: m.cluster_id for m in manifest.articles_meta()}
        assert len({story[d] for d in TF1_STORY}) == 1 and len(set(story.values())) == 3
        assert int(manifest.get_meta("bm25_generation") or 0) == generation + 1  # readers reload
    finally:
        manifest.close()
    assert keyword.stat().st_mtime_ns == built, "the keyword index was rebuilt"
