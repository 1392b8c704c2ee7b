"""The sharded keyword index: scores, the shards an update rebuilds, kills, old stores.

Everything here runs the real bm25s and stemmer on real sentences (the seeds) or on
synthetic passages built so that an exact answer is known.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import pytest

from assistant.kernel.text import stemmer
from assistant.storage import keyword
from assistant.storage.manifest_schema import ChunkKey, ChunkText

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
QUERIES = ["security guarantees for Ukraine", "Josep Borrell speech in Paris",
           "talks with Russia about the war", "Macron interview on television"]


def seed_passages() -> dict[str, list[str]]:
    """doc id -> its paragraphs, from the five seed articles."""
    docs = {}
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        docs[path.stem] = paragraphs
    return docs


def keys_of(docs: dict[str, list[str]]) -> list[ChunkKey]:
    return [ChunkKey(d, f"{d}::{i}", hashlib.sha256(t.encode()).hexdigest())
            for d in sorted(docs) for i, t in enumerate(docs[d])]


def texts_of(docs: dict[str, list[str]], asked: list[list[str]] | None = None
             ) -> Callable[[Sequence[str]], list[ChunkText]]:
    def texts(doc_ids: Sequence[str]) -> list[ChunkText]:
        if asked is not None:
            asked.append(list(doc_ids))
        return [ChunkText(f"{d}::{i}", t) for d in doc_ids for i, t in enumerate(docs[d])]
    return texts


def test_one_shard_scores_and_ranks_as_bm25s_does(tmp_path: Path) -> None:
    docs = seed_passages()
    entries = [(f"{d}::{i}", t) for d in sorted(docs) for i, t in enumerate(docs[d])]
    keyword.build(entries, tmp_path / "bm25")
    index = keyword.KeywordIndex(tmp_path / "bm25")

    reference = bm25s.BM25()
    reference.index(bm25s.tokenize([t for _, t in entries], stopwords="en", stemmer=stemmer(),
                                   show_progress=False), show_progress=False)
    for query in QUERIES:
        expected = reference.get_scores(
            bm25s.tokenize([query], stopwords="en", stemmer=stemmer(), return_ids=False,
                           show_progress=False)[0])
        found = index.search(query, 10)
        assert found, query
        for cid, score in found:
            assert score == pytest.approx(float(expected[[e[0] for e in entries].index(cid)]))
        best = sorted(expected, reverse=True)[: len(found)]
        assert [s for _, s in found] == pytest.approx([float(b) for b in best])


def synthetic(n: int) -> dict[str, list[str]]:
    """``n`` one-passage articles of exactly six distinct content words each, so every shard's
    average passage length equals the whole index's: sharded BM25 must then score exactly as
    one index does."""
    words = ["bridge", "ferry", "school", "clinic", "harbour", "tram", "library", "museum",
             "airport", "stadium", "market", "tunnel", "garden", "station", "factory", "castle"]
    rng = np.random.default_rng(7)
    return {f"doc{i:03d}": [" ".join(rng.choice(words, 6, replace=False))] for i in range(n)}


def test_shards_score_with_the_whole_index_idf(tmp_path: Path) -> None:
    docs = synthetic(120)
    done = keyword.update(tmp_path / "sharded", keys_of(docs), texts_of(docs), shard_chunks=16)
    assert done == keyword.Update(rebuilt=8, shards=8)
    sharded = keyword.KeywordIndex(tmp_path / "sharded")
    keyword.build([(k.chunk_id, docs[k.doc_id][0]) for k in keys_of(docs)], tmp_path / "single")
    single = keyword.KeywordIndex(tmp_path / "single")

    sizes = [len(s.ids) for s in sharded.shards]
    assert len(sizes) == 8 and min(sizes) > 0 and sum(sizes) == 120
    for query in ["bridge ferry", "museum castle garden", "airport", "tram tunnel station market"]:
        got, want = sharded.search(query, 120), single.search(query, 120)
        assert dict(got).keys() == dict(want).keys(), query
        for cid, score in want:
            assert dict(got)[cid] == pytest.approx(score, rel=1e-5), (query, cid)


def test_a_one_article_change_rebuilds_only_its_shard(tmp_path: Path) -> None:
    docs = seed_passages()
    folder = tmp_path / "bm25"
    assert keyword.update(folder, keys_of(docs), texts_of(docs), shard_chunks=8).rebuilt > 1
    shards = keyword.KeywordIndex(folder).shards
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_dir()}

    changed = sorted(docs)[2]
    docs[changed] = [*docs[changed][:-1], "Zanzibar harbour reopened to cargo ferries on Monday."]
    asked: list[list[str]] = []
    done = keyword.update(folder, keys_of(docs), texts_of(docs, asked), shard_chunks=8)

    assert done == keyword.Update(rebuilt=1, shards=len(shards))
    assert asked == [[d for d in sorted(docs) if keyword.shard_of(d, len(shards))
                      == keyword.shard_of(changed, len(shards))]]  # only that shard's text was read
    after = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_dir()}
    assert len(set(before) - set(after)) == 1 and len(set(after) - set(before)) == 1
    assert all(after[name] == before[name] for name in set(before) & set(after))
    hits = keyword.KeywordIndex(folder).search("Zanzibar cargo ferries", 3)
    assert hits and hits[0][0].startswith(changed + "::")
    assert keyword.update(folder, keys_of(docs), texts_of(docs), shard_chunks=8).rebuilt == 0


def test_removing_an_article_removes_its_passages(tmp_path: Path) -> None:
    docs = seed_passages()
    folder = tmp_path / "bm25"
    keyword.update(folder, keys_of(docs), texts_of(docs), shard_chunks=8)
    gone = next(d for d in docs if "Borrell" in " ".join(docs[d]))
    del docs[gone]
    keyword.update(folder, keys_of(docs), texts_of(docs), shard_chunks=8)
    index = keyword.KeywordIndex(folder)
    assert not any(cid.startswith(gone) for cid in index.ids)
    assert sorted(index.ids) == sorted(k.chunk_id for k in keys_of(docs))
    assert all(not cid.startswith(gone) for cid, _ in index.search("Josep Borrell", 20))


def test_the_shard_count_follows_the_store_without_flapping() -> None:
    assert keyword.shard_count(0, None, 100) == 1
    assert keyword.shard_count(100, None, 100) == 1
    assert keyword.shard_count(101, None, 100) == 2
    assert keyword.shard_count(335_242, None) == 16
    assert keyword.shard_count(10_000_000, None) == 512
    assert keyword.shard_count(790, 8, 100) == 8  # room left: kept
    assert keyword.shard_count(801, 8, 100) == 16  # outgrown: doubled
    assert keyword.shard_count(250, 8, 100) == 8  # a quarter of it or more: kept
    assert keyword.shard_count(150, 8, 100) == 2  # shrunk below a quarter: fewer shards


def test_a_store_that_doubles_gets_new_shards_and_keeps_every_passage(tmp_path: Path) -> None:
    small, big = synthetic(40), synthetic(120)
    folder = tmp_path / "bm25"
    assert keyword.update(folder, keys_of(small), texts_of(small), shard_chunks=16).shards == 4
    assert keyword.update(folder, keys_of(big), texts_of(big), shard_chunks=16) == \
        keyword.Update(rebuilt=8, shards=8)
    assert sorted(keyword.indexed_ids(folder)) == sorted(k.chunk_id for k in keys_of(big))
    assert len([p for p in folder.iterdir() if p.is_dir()]) == 8  # the 4 old shards are gone


def test_a_filter_restricts_hits_across_shards(tmp_path: Path) -> None:
    docs = synthetic(120)
    keyword.update(tmp_path / "bm25", keys_of(docs), texts_of(docs), shard_chunks=16)
    index = keyword.KeywordIndex(tmp_path / "bm25")
    everything = index.search("bridge", 120)
    allowed = {cid for cid, _ in everything[::3]}
    assert {cid for cid, _ in index.search("bridge", 120, allowed)} == allowed
    assert index.search("bridge", 120, set()) == []


def test_an_update_killed_half_way_keeps_the_old_index_and_its_work(tmp_path: Path) -> None:
    docs = synthetic(120)
    folder = tmp_path / "bm25"
    keyword.update(folder, keys_of(docs), texts_of(docs), shard_chunks=16)
    old = keyword.KeywordIndex(folder).ids
    for i in range(0, 120, 10):  # rewrite articles spread over most shards
        docs[f"doc{i:03d}"] = ["volcano ash grounded flights"]
    calls = 0

    def dies_on_the_third(doc_ids: Sequence[str]) -> list[ChunkText]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # as a kill would, between two shards
        return texts_of(docs)(doc_ids)

    with pytest.raises(KeyboardInterrupt):
        keyword.update(folder, keys_of(docs), dies_on_the_third, shard_chunks=16)
    assert keyword.usable(folder)  # the old layout still names whole shards
    index = keyword.KeywordIndex(folder)
    assert index.ids == old and index.search("volcano", 5) == []

    named = json.loads((folder / "layout.json").read_text())["shards"]
    assert all((folder / name).is_dir() for name in named), "a shard the old layout names is gone"
    done = keyword.update(folder, keys_of(docs), texts_of(docs), shard_chunks=16)
    assert done.rebuilt > 0 and done.rebuilt + 2 == len({keyword.shard_of(f"doc{i:03d}", 8)
                                                          for i in range(0, 120, 10)})
    assert len(keyword.KeywordIndex(folder).search("volcano", 20)) == 12


def test_an_index_written_before_shards_is_read_then_replaced(tmp_path: Path) -> None:
    docs = seed_passages()
    entries = [(f"{d}::{i}", t) for d in sorted(docs) for i, t in enumerate(docs[d])]
    folder = tmp_path / "bm25"
    old = bm25s.BM25()  # the single index earlier versions wrote: bm25s files + ids.json
    old.index(bm25s.tokenize([t for _, t in entries], stopwords="en", stemmer=stemmer(),
                             show_progress=False), show_progress=False)
    old.save(str(folder))
    (folder / "ids.json").write_text(json.dumps([cid for cid, _ in entries]))

    assert keyword.exists(folder) and not keyword.usable(folder)  # readable, but rebuilt next run
    assert keyword.KeywordIndex(folder).search(QUERIES[0], 3)
    keyword.update(folder, keys_of(docs), texts_of(docs))
    assert keyword.usable(folder) and not (folder / "ids.json").exists()
    assert sorted(p.name for p in folder.iterdir() if not p.is_dir()) == ["layout.json"]


def test_an_index_run_rebuilds_the_changed_article_s_shard_and_says_so(
        make_assistant, seeds_copy: Path) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant(keyword_shard_chunks=4)
    first = a.index([seeds_copy])
    rebuilt, shards = first.keyword_shards
    assert shards >= 4 and rebuilt == shards

    target = sorted(seeds_copy.glob("*.txt"))[1]
    target.write_text(target.read_text(encoding="utf-8") + "\n\nThe Zanzibar ferry terminal "
                      "reopened on Monday after a three-week strike by dock workers.\n",
                      encoding="utf-8")
    again = a.index([seeds_copy])
    assert again.updated == 1 and again.keyword_shards == (1, shards)
    from index.progress import index_report
    assert f"keyword index: rebuilt 1 of {shards} shards" in index_report(again)
    assert a.index([seeds_copy]).keyword_shards == (0, 0)  # nothing changed: nothing rebuilt

    hits = a.retriever.rankings("Zanzibar ferry terminal strike").keyword
    assert hits, "the new passage is not in the keyword index"
    best = a.document(re.sub(r"::\d+$", "", hits[0][0]))
    assert Path(best.path or "").name == target.name and "Zanzibar" in best.text
    a.close()
