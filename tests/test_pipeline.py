"""Indexing runs end to end with the real model and embedded Chroma: incremental, deduplicated,
clustered, crash-repairable, and safe against bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.kernel.errors import StoreLockedError
from assistant.kernel.records import Article, RawArticle
from assistant.kernel.settings import Settings
from assistant.storage.embedding import Embedder
from assistant.storage.manifest import Manifest
from assistant.storage.vectors import VectorStore
from index import prepare, scan
from index.pipeline import Indexer, writer_lock

TF1_STORY = {"001_cbcefea2cfbb97a1", "003_b638dfb737329836", "004_80287d7f8de47a75"}


def _consistent(assistant) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Assert Chroma and the manifest agree exactly; return (articles, chunks)."""
    manifest = Manifest(Path(assistant.settings.store_dir) / "manifest.sqlite")
    vectors = VectorStore(assistant.settings)
    ids = manifest.chunk_ids()
    assert vectors.ids() == ids, "every manifest chunk has one vector and no vector is orphaned"
    assert not manifest.pending()
    counts = manifest.counts()
    assert counts.chunks == len(ids) == vectors.count()
    manifest.close()
    return counts.articles, counts.chunks


def test_index_then_reindex_embeds_nothing(make_assistant, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    first = a.index([seeds_copy])
    assert (first.added, first.unchanged, first.failed) == (5, 0, ())
    assert first.embedded == first.chunks > 0
    again = a.index([seeds_copy])
    assert (again.added, again.updated, again.unchanged, again.embedded) == (0, 0, 5, 0)
    assert _consistent(a) == (5, first.chunks)
    status = a.status()
    assert (status.articles, status.chunks) == (5, first.chunks)
    assert status.size_bytes > 0 and Path(status.store_dir).exists()


def test_changed_article_replaces_its_chunks_and_deleted_one_goes(make_assistant, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    a.index([seeds_copy])
    path = seeds_copy / "002_bce7acdd8eae0ae1.txt"
    path.write_text(path.read_text(encoding="utf-8")[:600] + "\n\nThe summit ended without a deal.\n",
                    encoding="utf-8")
    (seeds_copy / "000_59035ac7a78f4fad.txt").unlink()
    report = a.index([seeds_copy])
    assert (report.updated, report.removed, report.unchanged) == (1, 1, 3)
    articles, _ = _consistent(a)
    assert articles == 4
    assert "without a deal" in a.document("002_bce7acdd8eae0ae1").text
    with pytest.raises(KeyError):
        a.document("000_59035ac7a78f4fad")


def test_keep_missing_keeps_articles_whose_files_went(make_assistant, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    a.index([seeds_copy])
    (seeds_copy / "000_59035ac7a78f4fad.txt").unlink()
    report = a.index([seeds_copy], keep_missing=True)
    assert report.removed == 0 and a.status().articles == 5


def test_identical_text_is_embedded_once(make_assistant, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "wire"
    folder.mkdir()
    body = (Path(__file__).parents[1] / "seeds" / "002_bce7acdd8eae0ae1.txt").read_text(encoding="utf-8")
    for outlet in ("a", "b", "c"):
        (folder / f"{outlet}.txt").write_text(body, encoding="utf-8")
    report = make_assistant().index([folder])
    assert report.added == 3
    assert report.embedded * 3 == report.chunks and report.reused == 2 * report.embedded


def test_tf1_story_is_one_cluster_and_other_stories_are_not(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    clusters = {d: seeds_assistant.document(d).cluster_id for d in
                ["000_59035ac7a78f4fad", "001_cbcefea2cfbb97a1", "002_bce7acdd8eae0ae1",
                 "003_b638dfb737329836", "004_80287d7f8de47a75"]}
    assert len({clusters[d] for d in TF1_STORY}) == 1
    assert clusters["000_59035ac7a78f4fad"] not in {clusters[d] for d in TF1_STORY}
    assert clusters["002_bce7acdd8eae0ae1"] != clusters["000_59035ac7a78f4fad"]
    assert seeds_assistant.status().clusters == 3


def test_date_line_becomes_metadata(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    article = seeds_assistant.document("000_59035ac7a78f4fad")
    assert article.published == "2022-12-05"
    assert "date 2022" not in article.text and "date 2022" not in article.title
    assert any(d.date == "2022-12-06" for d in article.dates)


def test_bad_files_are_reported_and_the_rest_is_indexed(make_assistant, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    (seeds_copy / "empty.txt").write_text("")
    (seeds_copy / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (seeds_copy / "broken.jsonl").write_text(
        '{"url": "http://x/1", "text": "Fine article text here."}\n{oops\n')
    (seeds_copy / "russian.txt").write_bytes("Москва заявила о переговорах.".encode("cp1251"))
    report = make_assistant().index([seeds_copy])
    failed = {Path(p.path).name: p.reason for p in report.failed}
    assert set(failed) == {"empty.txt", "binary.txt", "broken.jsonl"}
    assert report.added == 5 + 2  # seeds + the good JSONL record + the cp1251 article


def test_interrupted_run_is_repaired(make_assistant, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    a.index([seeds_copy])
    # Simulate a crash between "pending" and "done": an article half-written, an orphan vector.
    manifest = Manifest(Path(a.settings.store_dir) / "manifest.sqlite")
    manifest.mark_pending(["002_bce7acdd8eae0ae1"])
    import numpy as np

    VectorStore(a.settings).upsert(["ghost::0"], np.ones((1, 384), np.float32) / 384**0.5,
                                   [{"doc_id": "ghost", "pub": 0, "source": ""}])
    manifest.close()
    a.close()
    report = a.index([seeds_copy])
    assert report.repaired == 1 and report.added == 1 and report.unchanged == 4
    assert _consistent(a)[0] == 5


def test_second_writer_is_refused(make_assistant) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    with writer_lock(Path(a.settings.store_dir)), pytest.raises(StoreLockedError, match="another process"):
        a.index([Path(__file__).parents[1] / "seeds"])


def test_cli_index_and_status(tmp_path, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    (seeds_copy / "empty.txt").write_text("")
    cmd = [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(tmp_path / "s"),
           "--embedder", "onnx"]
    run = subprocess.run([*cmd, "index", str(seeds_copy)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr  # one bad file: non-zero, but everything else indexed
    assert "5 added" in run.stdout and "empty.txt" in run.stdout
    status = subprocess.run([*cmd, "status"], capture_output=True, text=True, timeout=120)
    assert status.returncode == 0 and "articles: 5" in status.stdout
    missing = subprocess.run([sys.executable, "-m", "assistant.app.cli", "--store-dir",
                              str(tmp_path / "none"), "ask", "What?"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "run: assistant index seeds/" in missing.stderr
    assert "Traceback" not in missing.stderr


# --- re-indexing an unchanged corpus: the raw-hash fast path ---------------------------------
def _no_model() -> Embedder:
    raise AssertionError("the embedding model was loaded for a corpus that did not change")


def _cleaned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Doc ids that ``index.prepare.clean`` is called on by the scan from now on."""
    calls: list[str] = []
    real = scan.clean

    def counting(raw: RawArticle, settings: Settings) -> Article:
        calls.append(raw.doc_id)
        return real(raw, settings)

    monkeypatch.setattr(scan, "clean", counting)
    return calls


def test_unchanged_corpus_is_skipped_before_cleaning_without_model_or_rebuilds(
        make_assistant, seeds_copy, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    first = a.index([seeds_copy])
    store = Path(a.settings.store_dir)
    bm25_files = {p: p.stat().st_mtime_ns for p in (store / "bm25").iterdir()}
    generation = Manifest(store / "manifest.sqlite").get_meta("bm25_generation")
    cleaned = _cleaned(monkeypatch)
    again = Indexer(a.settings, _no_model).run([seeds_copy])
    assert (again.unchanged, again.added, again.updated, again.embedded) == (5, 0, 0, 0)
    assert cleaned == []  # recognised by the raw hash alone
    assert {p: p.stat().st_mtime_ns for p in (store / "bm25").iterdir()} == bm25_files
    assert Manifest(store / "manifest.sqlite").get_meta("bm25_generation") == generation
    assert _consistent(a) == (5, first.chunks)


def test_edited_article_is_cleaned_and_updated_the_rest_skipped(
        make_assistant, seeds_copy, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    a.index([seeds_copy])
    path = seeds_copy / "004_80287d7f8de47a75.txt"
    body = path.read_text(encoding="utf-8")
    path.write_text(body.replace("Europe must prepare", "Europe must urgently prepare", 1),
                    encoding="utf-8")
    cleaned = _cleaned(monkeypatch)
    report = a.index([seeds_copy])
    assert cleaned == ["004_80287d7f8de47a75"]
    # only the edited chunk is new text: the article's other chunks come from the vector cache
    assert (report.updated, report.unchanged) == (1, 4) and 0 < report.embedded < report.chunks
    assert "Europe must urgently prepare" in a.document("004_80287d7f8de47a75").text
    _consistent(a)


def test_changed_chunk_size_rechunks_every_article(make_assistant, seeds_copy) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    first = a.index([seeds_copy])
    small = make_assistant(chunk_chars=300, chunk_overlap_sentences=0)
    report = small.index([seeds_copy])
    assert (report.updated, report.unchanged) == (5, 0) and report.chunks > first.chunks
    manifest = Manifest(Path(small.settings.store_dir) / "manifest.sqlite")
    lengths = [len(row.text) for row in manifest.all_chunk_texts()]
    manifest.close()
    assert sum(lengths) / len(lengths) < 400  # chunks cut to the new size, not the old ~600
    assert _consistent(small)[1] == report.chunks
    assert small.index([seeds_copy]).unchanged == 5  # and the new settings are then the stable ones


def test_code_change_or_old_store_cleans_again_but_embeds_nothing(
        make_assistant, seeds_copy, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a = make_assistant()
    a.index([seeds_copy])
    manifest = Manifest(Path(a.settings.store_dir) / "manifest.sqlite")
    with manifest.db:  # a store written before raw hashes were recorded
        manifest.db.execute("UPDATE docs SET raw_hash=''")
    manifest.close()
    cleaned = _cleaned(monkeypatch)
    report = Indexer(a.settings, _no_model).run([seeds_copy])
    assert (len(cleaned), report.unchanged, report.embedded) == (5, 5, 0)
    cleaned.clear()
    assert Indexer(a.settings, _no_model).run([seeds_copy]).unchanged == 5 and cleaned == []
    # an edit to the cleaning or chunking code changes the fingerprint: everything is compared again
    monkeypatch.setattr(scan, "fingerprint", lambda settings: "cleaning code v2")
    report = Indexer(a.settings, _no_model).run([seeds_copy])
    assert (len(cleaned), report.unchanged, report.embedded) == (5, 5, 0)


def test_the_fingerprint_reads_the_code_every_chunk_derives_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit to the cleaning, dates, sentence or chunking code is seen (dates.py, once moved
    to the kernel, was looked for beside the pipeline and silently left out)."""
    read: list[str] = []
    real = Path.read_text

    def reading(self: Path, *args: Any, **kwargs: Any) -> str:
        text = real(self, *args, **kwargs)
        read.append(self.name)
        return text

    monkeypatch.setattr(Path, "read_text", reading)
    prepare.fingerprint(Settings())
    assert {"cleaning.py", "dates.py", "text.py", "chunking.py", "prepare.py"} <= set(read)


def test_new_splitter_abbreviations_recut_unchanged_articles_without_embedding_them_again(
        make_assistant, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The news abbreviations decide where sentences end: when they change, an article whose
    text did not change is cut again (its sentences no longer end inside a name); chunks whose
    text is the same keep their vectors."""
    from assistant.kernel import text

    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "summit.txt").write_text(
        "Title: Summit invitation\n\nThe state will invite Florida Gov. Ron DeSantis to the "
        "summit in May, organisers said on Monday. The summit draws leaders from twelve states "
        "every year.\n", encoding="utf-8")
    words = tmp_path / "abbreviations.txt"

    def use(abbreviations: str) -> None:
        words.write_text(abbreviations, encoding="utf-8")
        monkeypatch.setattr(text, "NEWS_ABBREVIATIONS", words)
        text.news_abbreviations.cache_clear()
        text._punkt.cache_clear()

    def sentences(a) -> list[str]:  # type: ignore[no-untyped-def]
        doc = a.document("summit")
        return [doc.text[s:e] for s, e in text.split_sentences(doc.text)]

    try:
        use("sgt\n")
        a = make_assistant()
        assert a.index([folder]).added == 1
        assert sentences(a)[0].endswith("Florida Gov.")  # cut inside the name
        use("gov\nsgt\n")
        report = a.index([folder])
        assert (report.updated, report.unchanged, report.embedded) == (1, 0, 0)  # same chunk text
        assert sentences(a)[0].endswith("organisers said on Monday.")
        assert "Ron DeSantis" in a.ask("Whom will the state invite to the summit?").text
        assert a.index([folder]).unchanged == 1  # and then stable
    finally:
        text.news_abbreviations.cache_clear()
        text._punkt.cache_clear()
