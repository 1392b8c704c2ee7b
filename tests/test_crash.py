"""Crash safety of ``assistant index``: killed at every write stage, interrupted with
Ctrl-C, or given a damaged store, the next run must leave exactly what a clean build
leaves — same articles, same chunks, no duplicate or orphan vector, the same answers.

Kills are real: a subprocess runs the CLI and dies by SIGKILL, either at an exact write
stage (a hook in the subprocess kills itself there) or when the test sees a progress
stage from outside (stderr and the manifest) and kills it then.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.kernel.errors import StoreError
from assistant.kernel.records import RawArticle
from assistant.kernel.settings import Settings
from assistant.storage import keyword
from assistant.storage.manifest import Manifest
from assistant.storage.vectors import VectorStore
from index.cleaning import clean_article

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
ARTICLES = 300
CITIES = ("Oslo", "Lyon", "Porto", "Gdansk", "Tartu", "Bergen", "Graz", "Turin", "Leeds", "Cork")
THINGS = ("buses", "bridges", "schools", "wind turbines", "clinics", "ferries", "libraries")
MODIFIED = range(3, ARTICLES, 15)  # v2 rewrites these (a new first sentence shifts every offset)
DELETED = range(7, ARTICLES, 30)  # v2 drops these files
ADDED = range(ARTICLES, ARTICLES + 15)  # v2 adds these
QUESTIONS = (
    "How many new {thing} were ordered in report 5?",  # unchanged in v2
    "How many new {thing} were ordered in report 18?",  # rewritten in v2
    "How many new {thing} were ordered in report 302?",  # only in v2
    "Where did Borrell give his speech about security guarantees?",  # near-ties: 19 quote Borrell
)
KILLS: list[str] = []  # every kill injected by this module, for the summary line
SURVIVED: list[str] = []  # the kills after which the next run restored a clean store


# --- the corpus ---------------------------------------------------------------------
def _fact(i: int) -> str:
    city = CITIES[i % len(CITIES)]
    return f"Officials in {city} said {100 + i} new {_thing(i)} were ordered in report {i}."


def _thing(i: int) -> str:
    return THINGS[(i // len(CITIES)) % len(THINGS)]


def _seed_sentences() -> list[str]:
    """Sentences of the seed articles that survive cleaning on their own (no promo lines)."""
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = re.sub(r"^\s*date \d{4}-\d\d-\d\d\s*", "", line)
            for s in re.split(r"(?<=[.!?])\s+(?=[A-Z“])", line.strip()):
                other = "The council met on Monday to discuss the budget."
                kept = [clean_article(RawArticle("x", t)).text
                        for t in (f"{other} {s}", f"{s} {other}")]
                if 50 <= len(s) <= 220 and all(s in k for k in kept):
                    out.append(s)
    return out


def write_corpus(folder: Path, version: int = 1) -> Path:
    """~300 short, distinct articles: a unique fact among two recombined seed sentences."""
    rng = random.Random(7)
    pool = _seed_sentences()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ids = range(ARTICLES + (len(ADDED) if version == 2 else 0))
    for i in ids:
        body = rng.sample(pool, 2)
        body.insert(rng.randint(0, 2), _fact(i))
        if version == 2 and i in MODIFIED:
            body.insert(0, f"The figures in report {i} were revised on Friday by the city council.")
        if version == 2 and i in DELETED:
            continue
        (folder / f"art_{i:03d}.txt").write_text(
            f"date 2022-{1 + i % 12:02d}-{1 + i % 28:02d} {' '.join(body)}\n", encoding="utf-8")
    return folder


# --- running the CLI ----------------------------------------------------------------
def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False"}


def _cmd(store: Path, *args: str | Path) -> list[str]:
    return [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(store), "--embedder", "onnx",
            *map(str, args)]


def cli(store: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``assistant --store-dir store --embedder onnx ARGS`` to the end."""
    return subprocess.run(_cmd(store, *args), capture_output=True, text=True, timeout=600,
                          cwd=ROOT, env=_env())


# The hook that kills the indexing process at one exact write stage. ``FAULT_NTH`` says at
# which call of the hooked function; batches are cut small so that a run writes several.
FAULT_RUNNER = """
import os, signal, sys
from pathlib import Path
import index.writes
from assistant.storage.embedding import OnnxEmbedder
from assistant.storage.manifest import Manifest
from assistant.storage.vectors import VectorStore

POINT, NTH = os.environ["FAULT_POINT"], int(os.environ["FAULT_NTH"])
index.writes.BATCH_CHUNKS = int(os.environ["FAULT_BATCH"])
HOOKS = {  # point -> (owner, function, die before the call instead of after it)
    "embed": (OnnxEmbedder, "embed", True),           # embedding a batch; nothing of it written
    "begin": (Manifest, "begin_article", False),      # articles pending, their vectors not stored
    "upsert": (VectorStore, "upsert", False),         # vectors stored, articles still pending
    "remove": (Manifest, "mark_pending", False),      # deleted files marked, vectors still there
    "clusters": (Manifest, "set_clusters", False),    # keyword index built, clusters not marked done
    "bm25_swap": (Path, "rename", True),              # new keyword shards built, layout not swapped
}
owner, name, before = HOOKS[POINT]
real = getattr(owner, name)
calls = 0

def hooked(self, *args, **kwargs):
    global calls
    if POINT == "bm25_swap" and self.name != "layout.json.tmp":
        return real(self, *args, **kwargs)
    calls += 1
    if before and calls == NTH:
        os.kill(os.getpid(), signal.SIGKILL)
    out = real(self, *args, **kwargs)
    if calls == NTH:
        os.kill(os.getpid(), signal.SIGKILL)
    return out

setattr(owner, name, hooked)
from assistant.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def index_killed_at(store: Path, corpus: Path, point: str, nth: int, batch: int = 100) -> str:
    """Index ``corpus`` in a subprocess that SIGKILLs itself at call ``nth`` of ``point``."""
    env = {**_env(), "FAULT_POINT": point, "FAULT_NTH": str(nth), "FAULT_BATCH": str(batch)}
    run = subprocess.run([sys.executable, "-c", FAULT_RUNNER, *_cmd(store, "index", corpus)[3:]],
                         capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    name = f"{point}#{nth}"
    assert run.returncode == -signal.SIGKILL, f"{name} not reached:\n{run.stdout}{run.stderr}"
    KILLS.append(name)
    return name


class Watched:
    """A CLI run whose stderr (progress) the test reads while it runs."""

    def __init__(self, store: Path, *args: str | Path) -> None:
        self.store = store
        # A run started from a background job inherits SIGINT ignored, and Python then never
        # turns Ctrl-C into KeyboardInterrupt: give the child the default, as a terminal would.
        self.proc = subprocess.Popen(_cmd(store, *args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=ROOT, env=_env(),
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.err = b""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        while chunk := os.read(self.proc.stderr.fileno(), 4096):
            self.err += chunk

    def wait_for(self, stage: str, timeout: float = 300) -> bool:
        """Wait until ``stage`` ('embedding', 'pending', 'finalise') is reached; False if
        the run ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if stage == "pending" and manifest_state(self.store)["pending"]:
                return True
            if stage == "embedding" and b"embedding" in self.err:
                return True
            if stage == "finalise" and b"clustering and keyword index" in self.err:
                return True
            time.sleep(0.01)
        return False

    def stop(self, sig: int) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=120)
        self._reader.join(timeout=10)
        return code, self.err.decode("utf-8", "replace")


# --- observing a store ----------------------------------------------------------------
def manifest_state(store: Path) -> dict[str, Any]:
    """Article states and meta of a store, read with plain SQLite (safe while a run writes)."""
    path = store / "manifest.sqlite"
    if not path.exists():
        return {"done": 0, "pending": 0, "bm25_generation": None}
    db = sqlite3.connect(path, timeout=30)
    try:
        states = dict(db.execute("SELECT state, count(*) FROM docs GROUP BY state").fetchall())
        generation = db.execute("SELECT value FROM meta WHERE key='bm25_generation'").fetchone()
    except sqlite3.OperationalError:  # tables not created yet
        return {"done": 0, "pending": 0, "bm25_generation": None}
    finally:
        db.close()
    return {"done": states.get("done", 0), "pending": states.get("pending", 0),
            "bm25_generation": generation[0] if generation else None}


def store_snapshot(store: Path, embedder: object) -> dict[str, Any]:
    """Assert that a store is consistent and return what a user can observe of it.

    Consistent: no pending article, Chroma ids == manifest chunk ids == BM25 ids, no id
    twice. Observable: articles (content hash, story cluster), chunks (offsets, text
    hash), and the answers to ``QUESTIONS``. Opens the store in this process, so call it
    only once no other process will write to ``store`` any more.
    """
    manifest = Manifest(store / "manifest.sqlite", create=False)
    try:
        assert not manifest.pending(), "articles left pending"
        chunk_ids = manifest.chunk_ids()
        vector_ids = VectorStore(Settings(store_dir=store)).ids()
        assert not vector_ids - chunk_ids, f"orphan vectors: {sorted(vector_ids - chunk_ids)[:3]}"
        assert not chunk_ids - vector_ids, f"unstored chunks: {sorted(chunk_ids - vector_ids)[:3]}"
        assert keyword.usable(store / "bm25"), "no keyword index"
        bm25 = keyword.indexed_ids(store / "bm25")
        assert len(bm25) == len(set(bm25)), "duplicate ids in the keyword index"
        assert set(bm25) == chunk_ids, (
            f"keyword index != manifest: {len(set(bm25) - chunk_ids)} stale, "
            f"{len(chunk_ids - set(bm25))} missing")
        docs = manifest.db.execute(
            "SELECT doc_id, content_hash, cluster_id, title, published FROM docs ORDER BY doc_id"
        ).fetchall()
        chunks = manifest.db.execute(
            "SELECT id, start, end, text_hash FROM chunks ORDER BY id").fetchall()
    finally:
        manifest.close()
    assistant = Assistant(settings=Settings(store_dir=store, embedder="onnx"), model=embedder)
    answers = []
    for q in QUESTIONS:
        number = re.search(r"report (\d+)", q)
        ans = assistant.ask(q.format(thing=_thing(int(number[1])) if number else ""))
        cited = [(c.doc_id, c.start, c.end) for c in ans.citations]
        answers.append((ans.abstained, ans.text, cited))
    assistant.close()
    return {"docs": docs, "chunks": chunks, "answers": answers}


def same_store(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Compare two snapshots part by part, so a failure says which part differs."""
    assert [d[0] for d in got["docs"]] == [d[0] for d in want["docs"]], "different articles"
    assert got["docs"] == want["docs"], "same articles, different content or story clusters"
    assert len(got["chunks"]) == len(want["chunks"]), "different number of chunks"
    assert got["chunks"] == want["chunks"], "different chunk offsets"
    assert got["answers"] == want["answers"], "different answers"


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def onnx() -> object:
    """The int8 ONNX embedder the CLI runs use, for asking the stores in this process."""
    from assistant.storage.embedding import OnnxEmbedder

    return OnnxEmbedder()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def corpus_v1(work: Path) -> Path:
    return write_corpus(work / "corpus-v1", 1)


@pytest.fixture(scope="module")
def golden_v1(work: Path) -> Path:
    """A clean build of v1 from the folder ``corpus_v2`` then rewrites to v2 (removal only
    looks under the folders indexed). Never opened by this process, so copies are safe."""
    store = work / "golden-v1"
    run = cli(store, "index", write_corpus(work / "corpus-upd", 1))
    assert run.returncode == 0, run.stderr
    assert f"{ARTICLES} added" in run.stdout
    return store


@pytest.fixture(scope="module")
def corpus_v2(work: Path, golden_v1: Path) -> Path:
    return write_corpus(work / "corpus-upd", 2)


@pytest.fixture(scope="module")
def clean_v1(work: Path, golden_v1: Path, onnx: object) -> dict[str, Any]:
    store = work / "clean-v1"
    shutil.copytree(golden_v1, store)
    return store_snapshot(store, onnx)


@pytest.fixture(scope="module")
def clean_v2(work: Path, corpus_v2: Path, onnx: object) -> dict[str, Any]:
    store = work / "clean-v2"
    run = cli(store, "index", corpus_v2)
    assert run.returncode == 0, run.stderr
    return store_snapshot(store, onnx)


@pytest.fixture(scope="module", autouse=True)
def kill_summary() -> Iterator[None]:
    yield
    lost = list((Counter(KILLS) - Counter(SURVIVED)).elements())
    print(f"\n[crash] {len(KILLS)} interruptions injected, {len(KILLS) - len(lost)} survived"
          f" ({', '.join(SURVIVED)}); not survived: {', '.join(lost) or 'none'}")


# --- SIGKILL at exact write stages ----------------------------------------------------------
def _kill_in_turn(store: Path, corpus: Path, plan: list[tuple[str, int, Any]]) -> list[str]:
    """Run ``plan``: each step is one index run killed at ``point``#``nth``, after which
    ``check(manifest_state)`` confirms the damage the kill left. Return the kills."""
    kills = []
    for point, nth, check in plan:
        kills.append(index_killed_at(store, corpus, point, nth))
        state = manifest_state(store)
        assert check(state), f"after {kills[-1]}: {state}"
    return kills


@pytest.mark.slow
def test_build_killed_at_each_write_stage_ends_equal_to_a_clean_build(
        tmp_path: Path, corpus_v1: Path, clean_v1: dict[str, Any], onnx: object) -> None:
    store = tmp_path / "store"
    kills = _kill_in_turn(store, corpus_v1, [
        # the first batch written, the second lost while it was being embedded
        ("embed", 2, lambda s: 0 < s["done"] < ARTICLES and not s["pending"]),
        # 40 articles recorded as pending, none of their vectors stored
        ("begin", 40, lambda s: s["pending"] == 40),
        # a whole batch pending with its vectors already in Chroma
        ("upsert", 1, lambda s: s["pending"] > 0),
        # every article done, the new keyword index built but not yet in place
        ("bm25_swap", 1, lambda s: not s["pending"] and not (store / "bm25" / "layout.json").exists()),
    ])
    final = cli(store, "index", corpus_v1)
    assert final.returncode == 0 and "Traceback" not in final.stderr, final.stderr
    same_store(store_snapshot(store, onnx), clean_v1)
    SURVIVED.extend(kills)


@pytest.mark.slow
def test_update_killed_mid_write_and_mid_removal_ends_equal_to_a_clean_build(
        tmp_path: Path, golden_v1: Path, corpus_v2: Path, clean_v2: dict[str, Any],
        onnx: object) -> None:
    store = tmp_path / "store"
    shutil.copytree(golden_v1, store)
    kills = _kill_in_turn(store, corpus_v2, [
        # rewritten and new articles pending, their new vectors stored, stale ones not deleted
        ("upsert", 1, lambda s: s["pending"] == len(MODIFIED) + len(ADDED)),
        # the articles of deleted files marked for removal, their vectors still there
        ("remove", 1, lambda s: s["pending"] == len(DELETED)),
    ])
    final = cli(store, "index", corpus_v2)
    assert final.returncode == 0 and "Traceback" not in final.stderr, final.stderr
    assert f"repaired {len(DELETED)} article(s)" in final.stdout
    same_store(store_snapshot(store, onnx), clean_v2)
    SURVIVED.extend(kills)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["clusters", "bm25_swap"])
def test_update_killed_while_finalising_is_finalised_by_the_next_run(
        tmp_path: Path, golden_v1: Path, corpus_v2: Path, clean_v2: dict[str, Any],
        onnx: object, point: str) -> None:
    store = tmp_path / "store"
    shutil.copytree(golden_v1, store)
    # every article written: only the clusters and the keyword index are left to do
    kills = _kill_in_turn(store, corpus_v2, [(point, 1, lambda s: not s["pending"])])

    final = cli(store, "index", corpus_v2)
    assert final.returncode == 0 and "Traceback" not in final.stderr, final.stderr
    same_store(store_snapshot(store, onnx), clean_v2)
    SURVIVED.extend(kills)


# --- Ctrl-C and SIGKILL from outside, at observed progress stages --------------------------
@pytest.mark.slow
def test_build_interrupted_from_outside_ends_equal_to_a_clean_build(
        tmp_path: Path, corpus_v1: Path, clean_v1: dict[str, Any], onnx: object) -> None:
    store = tmp_path / "store"
    kills = []
    # Embedding is the long stage, so a signal sent there always lands mid-run; the write
    # stages after it last milliseconds, so a signal aimed at them may find the run finished
    # (then it is not counted). Exact kills at every write stage are the FAULT tests above.
    for stage, sig in (("embedding", signal.SIGINT), ("embedding", signal.SIGKILL),
                       ("pending", signal.SIGKILL), ("finalise", signal.SIGKILL)):
        run = Watched(store, "index", corpus_v1)
        reached = run.wait_for(stage)
        code, err = run.stop(sig)
        assert "Traceback" not in err, err
        if sig == signal.SIGINT:  # Ctrl-C: a clean exit that says how to finish
            assert reached, "the run ended before it wrote anything"
            assert code == 130, err
            assert "interrupted — run the same command again to finish" in err
        if reached and code in (130, -signal.SIGKILL):
            kills.append(f"{'ctrl-c' if sig == signal.SIGINT else 'kill'}@{stage}")
    assert len(kills) >= 2, f"too few interruptions landed while the run was writing: {kills}"
    KILLS.extend(kills)

    final = cli(store, "index", corpus_v1)
    assert final.returncode == 0 and "Traceback" not in final.stderr, final.stderr
    same_store(store_snapshot(store, onnx), clean_v1)
    SURVIVED.extend(kills)


# --- damaged stores ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def golden_seeds(work: Path) -> Path:
    """The five seeds indexed by the CLI, never opened by this process (copied by tests)."""
    store = work / "golden-seeds"
    run = cli(store, "index", SEEDS)
    assert run.returncode == 0, run.stderr
    return store


def _damage_header(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"\xde\xad\xbe\xef" * 25  # SQLite's header: "file is not a database"
    path.write_bytes(bytes(data))


def _damage_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page : 4 * page] = b"\x5a" * page  # a table's root page: "disk image is malformed"
    path.write_bytes(bytes(data))


def _old_schema(path: Path) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    db.close()


@pytest.mark.parametrize("damage", [
    _damage_header,
    pytest.param(_damage_pages),
    _old_schema,
], ids=["corrupt-header", "corrupt-page", "other-schema-version"])
def test_damaged_manifest_says_rebuild_and_rebuild_works(
        tmp_path: Path, golden_seeds: Path, onnx: object, damage: Any) -> None:
    store = tmp_path / "store"
    shutil.copytree(golden_seeds, store)
    damage(store / "manifest.sqlite")
    run = cli(store, "ask", "Where did Borrell speak?")
    assert run.returncode == 3 and "Traceback" not in run.stderr, run.stderr
    assert "assistant index --rebuild" in run.stderr and len(run.stderr.strip().splitlines()) == 1

    a = Assistant(settings=Settings(store_dir=store, embedder="onnx"), model=onnx)
    for verb in (a.status, lambda: a.index([SEEDS])):
        with pytest.raises(StoreError, match="assistant index --rebuild"):
            verb()
    report = a.index([SEEDS], rebuild=True)
    assert report.added == 5 and not report.failed
    assert a.status().articles == 5
    assert not a.ask("Where did Borrell give his speech about security guarantees?").abstained
    a.close()


def test_rebuild_in_the_process_that_used_the_store(tmp_path: Path, onnx: object) -> None:
    a = Assistant(settings=Settings(store_dir=tmp_path / "store", embedder="onnx"), model=onnx)
    a.index([SEEDS])
    question = "Where did Borrell give his speech about security guarantees?"
    before = a.ask(question)
    report = a.index([SEEDS], rebuild=True)
    assert report.added == 5
    assert a.ask(question).citations == before.citations
