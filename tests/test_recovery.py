"""Recovery that really recovers: every way a store was seen to lose or hide articles.

Each test damages a real store the way a user or a crash would (a rebuild under open
readers, a damaged or deleted Chroma, a damaged keyword index, damaged HNSW files, a full
disk), then checks what the user sees: one line naming the fix and its own exit code, and
after that fix every article still there and answered. CLI runs are real processes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.kernel.settings import Settings
from assistant.storage import generations, keyword
from assistant.storage.manifest import Manifest
from assistant.storage.vectors import VectorStore

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
QUESTION = "Where did Borrell give his speech about security guarantees?"


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}


def cli(store_dir: Path, *args: str | Path, env: dict[str, str] | None = None,
        ) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(store_dir), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env=env or _env())


def one_line_error(run: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """The run failed with ``code`` and one stderr line holding ``words``, no traceback."""
    assert run.returncode == code, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr, run.stderr
    # what stays on the terminal: the last carriage-return segment of each line, no progress bars
    shown = (line.split("\r")[-1] for line in run.stderr.split("\n"))
    lines = [line for line in shown if line.strip() and not re.search(r"\d+%\|", line)]
    assert len(lines) == 1, run.stderr
    for word in words:
        assert word in lines[0], lines[0]


def consistent(store_dir: Path) -> set[str]:
    """Assert the current generation is whole (vectors == chunks == keyword ids); return ids."""
    gen = generations.current(store_dir, Settings().collection)
    manifest = Manifest(gen.manifest, create=False)
    try:
        assert not manifest.pending()
        chunks = manifest.chunk_ids()
    finally:
        manifest.close()
    store = VectorStore(Settings(store_dir=store_dir), gen.collection)
    assert store.check() == len(chunks)  # searchable and writable, one vector per chunk
    vectors = store.ids()
    assert vectors == chunks, (f"{len(chunks - vectors)} chunks without vector, "
                               f"{len(vectors - chunks)} orphans")
    assert set(keyword.indexed_ids(gen.keyword)) == chunks
    return chunks


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds indexed by the CLI; never opened by this process, so tests copy it."""
    target = tmp_path_factory.mktemp("recovery") / "golden"
    run = cli(target, "index", SEEDS)
    assert run.returncode == 0, run.stderr
    return target


@pytest.fixture
def seeds_store(tmp_path: Path, golden: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(golden, target)
    return target


def _damage_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"\xde\xad\xbe\xef" * 25
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


# --- 4. a rebuild under open readers --------------------------------------------------------
def test_rebuild_by_another_process_is_followed_by_open_readers(seeds_store: Path, embedder: Any,
                                                                  ) -> None:
    reader = Assistant(settings=Settings(store_dir=seeds_store), model=embedder)
    before = reader.ask(QUESTION)
    assert not before.abstained
    run = cli(seeds_store, "index", "--rebuild", SEEDS)
    assert run.returncode == 0 and "5 added" in run.stdout, run.stderr
    after = reader.ask(QUESTION)  # no "Collection ... does not exist"
    assert [(c.doc_id, c.start, c.end) for c in after.citations] == \
        [(c.doc_id, c.start, c.end) for c in before.citations]
    assert reader.status().articles == 5
    assert generations.current_number(seeds_store) == 1
    assert not (seeds_store / "manifest.sqlite").exists(), "the old generation was not removed"
    consistent(seeds_store)
    reader.close()


def test_rebuild_in_the_same_process_is_followed_by_another_assistant(seeds_store: Path,
                                                                       embedder: Any) -> None:
    ui = Assistant(settings=Settings(store_dir=seeds_store), model=embedder)
    writer = Assistant(settings=Settings(store_dir=seeds_store), model=embedder)
    before = ui.ask(QUESTION)
    for _ in range(2):  # twice: generation 1 replaces 0, then 2 replaces 1
        assert writer.index([SEEDS], rebuild=True).added == 5
        assert ui.ask(QUESTION).citations == before.citations
    assert generations.current_number(seeds_store) == 2
    assert sorted(p.name for p in seeds_store.glob("gen-*")) == ["gen-2"]
    ui.close()
    writer.close()


KILL_AT_UPSERT = """
import os, signal, sys
from assistant.storage.vectors import VectorStore
real = VectorStore.upsert
def hooked(self, *a, **k):
    real(self, *a, **k)
    os.kill(os.getpid(), signal.SIGKILL)
VectorStore.upsert = hooked
from assistant.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_killed_rebuild_leaves_the_old_index_answering(seeds_store: Path, embedder: Any) -> None:
    run = subprocess.run([sys.executable, "-c", KILL_AT_UPSERT, "--store-dir", str(seeds_store),
                          "index", "--rebuild", str(SEEDS)], capture_output=True, text=True,
                         cwd=ROOT, env=_env(), timeout=600)
    assert run.returncode == -signal.SIGKILL, run.stderr
    a = Assistant(settings=Settings(store_dir=seeds_store), model=embedder)
    assert a.status().articles == 5
    assert not a.ask(QUESTION).abstained
    a.close()
    assert list(seeds_store.glob("gen-*")), "the killed rebuild wrote no generation"
    plain = cli(seeds_store, "index", SEEDS)  # any run clears what the killed rebuild left
    assert plain.returncode == 0 and "5 unchanged" in plain.stdout, plain.stderr
    assert not list(seeds_store.glob("gen-*"))
    again = cli(seeds_store, "index", "--rebuild", SEEDS)
    assert again.returncode == 0 and "5 added" in again.stdout, again.stderr
    consistent(seeds_store)


@pytest.mark.parametrize("given", ["no-such-folder", "empty-folder", "only-pdfs"])
def test_rebuild_that_finds_nothing_keeps_the_old_index(seeds_store: Path, tmp_path: Path,
                                                        given: str) -> None:
    folder = tmp_path / given
    if given != "no-such-folder":
        folder.mkdir()
    if given == "only-pdfs":
        (folder / "report.pdf").write_bytes(b"%PDF-1.4 not an article")
    run = cli(seeds_store, "index", "--rebuild", folder)
    assert run.returncode == 1, run.stderr
    assert "rebuild was cancelled and the old index kept" in run.stdout
    assert "articles: 5" in cli(seeds_store, "status").stdout
    assert not list(seeds_store.glob("gen-*")), "the cancelled generation was left behind"
    consistent(seeds_store)


# --- 5. a damaged Chroma database ---------------------------------------------------------------
def test_damaged_chroma_database_is_fixed_by_rebuild(seeds_store: Path) -> None:
    _damage_header(seeds_store / "chroma" / "chroma.sqlite3")
    one_line_error(cli(seeds_store, "ask", QUESTION), 3, "Chroma")
    run = cli(seeds_store, "index", "--rebuild", SEEDS)
    assert run.returncode == 0 and "5 added" in run.stdout, run.stderr
    assert not (seeds_store / "chroma.damaged").exists(), "the damaged copy is removed once rebuilt"
    consistent(seeds_store)
    answer = cli(seeds_store, "ask", QUESTION)
    assert answer.returncode == 0 and "[1]" in answer.stdout, answer.stderr


def test_damaged_chroma_database_is_repaired_by_a_plain_index_run(seeds_store: Path) -> None:
    _damage_header(seeds_store / "chroma" / "chroma.sqlite3")
    run = cli(seeds_store, "index", SEEDS)
    assert run.returncode == 0, run.stderr
    assert "5 unchanged" in run.stdout and "restored 31 vector(s)" in run.stdout
    consistent(seeds_store)


# --- 6. a lost Chroma folder ------------------------------------------------------------------
def test_lost_chroma_is_reported_and_restored_without_losing_articles(seeds_store: Path,
                                                                      tmp_path: Path) -> None:
    shutil.rmtree(seeds_store / "chroma")
    status = cli(seeds_store, "status")
    assert status.returncode == 0, status.stderr
    assert "31 of 31 passages have no vector" in status.stdout and "--rebuild" in status.stdout
    one_line_error(cli(seeds_store, "ask", QUESTION), 3, "have no vector", "--rebuild")

    other = tmp_path / "other"  # indexing another folder must not remove the seeds
    other.mkdir()
    (other / "ferries.txt").write_text("Officials in Oslo said 400 new ferries were ordered.\n")
    run = cli(seeds_store, "index", other)
    assert run.returncode == 0, run.stderr
    assert "1 added" in run.stdout and "0 removed" in run.stdout
    assert "restored 31 vector(s)" in run.stdout and "repaired" not in run.stdout
    assert "articles: 6" in cli(seeds_store, "status").stdout
    assert "have no vector" not in cli(seeds_store, "status").stdout
    consistent(seeds_store)


def test_vectors_lost_from_a_whole_chroma_are_restored_by_a_plain_index_run(seeds_store: Path) -> None:
    vectors = VectorStore(Settings(store_dir=seeds_store))
    vectors.delete(sorted(vectors.ids())[:3])  # Chroma opens fine; three passages lost their vector
    del vectors
    assert "3 of 31 passages have no vector" in cli(seeds_store, "status").stdout
    run = cli(seeds_store, "index", SEEDS)
    assert run.returncode == 0 and "5 unchanged" in run.stdout, run.stderr
    assert "restored 3 vector(s)" in run.stdout
    consistent(seeds_store)


def test_open_reader_follows_a_chroma_restored_by_another_process(seeds_store: Path,
                                                                   embedder: Any) -> None:
    reader = Assistant(settings=Settings(store_dir=seeds_store), model=embedder)
    before = reader.ask(QUESTION)
    shutil.rmtree(seeds_store / "chroma")
    run = cli(seeds_store, "index", SEEDS)
    assert run.returncode == 0 and "restored 31 vector(s)" in run.stdout, run.stderr
    after = reader.ask(QUESTION)  # not the deleted files this process had open
    assert after.citations == before.citations
    assert reader.status().missing_vectors == 0
    reader.close()


KILL_AT_BEGIN = """
import os, signal, sys
from assistant.storage.manifest import Manifest
real = Manifest.begin_article
def hooked(self, *a, **k):
    out = real(self, *a, **k)
    os.kill(os.getpid(), signal.SIGKILL)
Manifest.begin_article = hooked
from assistant.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_half_written_articles_outside_the_next_run_are_named(seeds_store: Path,
                                                              tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "ferries.txt").write_text("Officials in Oslo said 400 new ferries were ordered.\n")
    killed = subprocess.run([sys.executable, "-c", KILL_AT_BEGIN, "--store-dir", str(seeds_store),
                             "index", str(uploads)], capture_output=True, text=True, cwd=ROOT,
                            env=_env(), timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = cli(seeds_store, "index", SEEDS)  # another folder: the upload is not read again
    assert run.returncode == 0, run.stderr
    assert "repaired 1 article(s)" in run.stdout
    assert "not in this run's folders — index them again" in run.stdout
    assert str((uploads / "ferries.txt").resolve()) in run.stdout
    assert "1 added" in cli(seeds_store, "index", uploads).stdout


def test_a_folder_that_cannot_be_read_removes_nothing(make_assistant: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "news"
    for part in ("a", "b"):
        (root / part).mkdir(parents=True)
        (root / part / f"{part}1.txt").write_text(f"Report {part}: the council met on Monday in Oslo.\n")
    a = make_assistant()
    assert a.index([root]).added == 2
    real = Path.iterdir

    def failing(self: Path) -> Any:  # the disk under news/a fails for this run
        if self.name == "a":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", failing)
    report = a.index([root])
    assert report.removed == 0 and a.status().articles == 2
    assert any("cannot open folder" in p.reason for p in report.failed)
    a.close()


# --- 7. a missing or damaged keyword index --------------------------------------------------------
def test_missing_keyword_index_is_rebuilt_by_index(seeds_store: Path) -> None:
    shutil.rmtree(seeds_store / "bm25")
    one_line_error(cli(seeds_store, "ask", QUESTION), 3, "keyword index", "is missing")
    run = cli(seeds_store, "index", SEEDS)
    assert run.returncode == 0 and "5 unchanged" in run.stdout, run.stderr
    consistent(seeds_store)
    assert cli(seeds_store, "ask", QUESTION).returncode == 0


@pytest.mark.parametrize("damage", ["layout.json", "*/ids.json", "*/params.index.json",
                                    "*/data.csc.index.npy"])
def test_damaged_keyword_index_is_named_by_ask_and_rebuilt_by_index(seeds_store: Path,
                                                                     damage: str) -> None:
    found = sorted((seeds_store / "bm25").glob(damage))
    assert len(found) == 1, sorted(p.name for p in (seeds_store / "bm25").rglob("*"))
    target = found[0]
    _truncate(target)
    one_line_error(cli(seeds_store, "ask", QUESTION), 3, "keyword index", "damaged",
                   "assistant index")
    run = cli(seeds_store, "index", SEEDS)
    assert run.returncode == 0, run.stderr
    consistent(seeds_store)
    assert cli(seeds_store, "ask", QUESTION).returncode == 0


# --- 8. damaged HNSW files (the "Error in compaction" state) -----------------------------------
def _many_articles(folder: Path, n: int) -> Path:
    """Short distinct articles: enough chunks that Chroma writes its HNSW files to disk."""
    folder.mkdir(parents=True, exist_ok=True)
    things = ("buses", "bridges", "schools", "ferries", "clinics", "libraries", "trams")
    for i in range(n):
        (folder / f"a{i:04d}.txt").write_text(
            f"Officials in district {i} said {100 + i} new {things[i % len(things)]} were ordered "
            f"in report {i}.\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hnsw_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, store): 1,200 articles indexed by the CLI, so Chroma wrote its HNSW files."""
    work = tmp_path_factory.mktemp("hnsw")
    corpus = _many_articles(work / "corpus", 1200)
    assert cli(work / "store", "index", corpus).returncode == 0
    return corpus, work / "store"


def _damage_hnsw(hnsw_store: tuple[Path, Path], tmp_path: Path, victim: str) -> tuple[Path, Path]:
    corpus, golden_store = hnsw_store
    store_dir = tmp_path / "store"
    shutil.copytree(golden_store, store_dir)
    segments = [p for p in (store_dir / "chroma").iterdir() if (p / victim).exists()]
    assert segments, "Chroma wrote no HNSW files"
    for seg in segments:
        _truncate(seg / victim)
    return corpus, store_dir


HNSW_QUESTION = "How many new ferries were ordered in report 17?"


@pytest.mark.slow
def test_damaged_hnsw_index_is_restored_from_the_manifest(hnsw_store: tuple[Path, Path],
                                                          tmp_path: Path) -> None:
    # a truncated id map: Chroma's "InternalError: Error in compaction" on every search
    corpus, store_dir = _damage_hnsw(hnsw_store, tmp_path, "index_metadata.pickle")
    one_line_error(cli(store_dir, "ask", HNSW_QUESTION), 3, "vector store", "assistant index")
    run = cli(store_dir, "index", corpus)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert "1200 unchanged" in run.stdout and "restored 1200 vector(s)" in run.stdout
    consistent(store_dir)
    answer = cli(store_dir, "ask", HNSW_QUESTION)
    assert answer.returncode == 0 and "117" in answer.stdout, answer.stdout


@pytest.mark.slow
def test_hnsw_damage_that_crashes_chroma_is_fixed_by_rebuild(hnsw_store: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    # A truncated HNSW header makes Chroma's native code crash on search (SIGSEGV), which no
    # Python code can catch; --rebuild never searches the old collection, it drops it.
    corpus, store_dir = _damage_hnsw(hnsw_store, tmp_path, "header.bin")
    run = cli(store_dir, "index", "--rebuild", corpus)
    assert run.returncode == 0 and "1200 added" in run.stdout, run.stderr
    consistent(store_dir)
    answer = cli(store_dir, "ask", HNSW_QUESTION)
    assert answer.returncode == 0 and "117" in answer.stdout, answer.stdout


# --- 9. a full disk -------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Any:
    """A real 16 MB tmpfs (root only): writes fail with ENOSPC as on a full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_disk_full_says_so_and_the_store_recovers_once_space_is_freed(
        small_disk: Path, tmp_path: Path) -> None:
    corpus = _many_articles(tmp_path / "corpus", 400)
    store_dir = small_disk / "store"
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * 14 * 1024 * 1024)  # leaves ~2 MB: the index needs ~3 MB
    run = cli(store_dir, "index", corpus)
    one_line_error(run, 3, "the disk is full", "free some space", "run the same command again")

    ballast.unlink()  # space freed: the same command finishes and the store is whole
    again = cli(store_dir, "index", corpus)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert "articles: 400" in cli(store_dir, "status").stdout
    consistent(store_dir)
