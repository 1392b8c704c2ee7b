"""Issue 14, "No article lost": an article's identity must not depend on where a command ran
or on what other files are called. Guards that

* articles are stored by absolute path, so re-indexing a folder of the same name from another
  working directory removes nothing of the first, and a file deleted from a folder is removed
  when the folder is re-indexed by its absolute path from anywhere (real CLI, two cwds);
  a moved, unchanged file has its stored path updated; an old store with relative paths is
  migrated to absolute ones;
* JSON record ids are scoped by their file (two feeds numbering records 1, 2 are four
  articles), and an id repeated inside one file keeps both records with a warning naming
  the file and the id (exit code 0);
* uploads whose names sanitise alike are both kept, on disk and in the index;
* metadata (outlet, title, url) cannot carry terminal escape sequences to ``status``/``ask``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.storage.manifest import Manifest

BIN = Path(sys.executable).parent / "assistant"  # the installed CLI of this venv
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
       "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
STORIES = {
    "a": "The Brest harbour reopened on Monday after the storm, the port authority said.",
    "b": "Farmers in Lleida reported a record almond harvest this autumn.",
    "c": "The Porto city council approved a new tram line to the airport.",
    "d": "A chess tournament in Tromso drew players from forty countries.",
    "e": "Volunteers in Gdansk planted ten thousand trees along the river.",
}


def cli(store: Path, *args: str, cwd: Path, code: int = 0) -> str:
    """Run the real CLI in ``cwd``; assert its exit code; return stdout."""
    run = subprocess.run([str(BIN), "--store-dir", str(store), "--embedder", "onnx", *args],
                         capture_output=True, text=True, timeout=600, cwd=cwd, env=ENV)
    assert run.returncode == code, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    return run.stdout


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text + "\n", encoding="utf-8")
    return folder / name


def store_texts(store: Path) -> dict[str, str]:
    """doc_id -> cleaned text of every finished article."""
    db = sqlite3.connect(store / "manifest.sqlite")
    try:
        return dict(db.execute("SELECT doc_id, text FROM docs WHERE state='done'").fetchall())
    finally:
        db.close()


def holders(texts: dict[str, str], snippet: str) -> list[str]:
    return [d for d, t in texts.items() if snippet in t]


# --- case 1: removal does not depend on the working directory ---------------------------
@pytest.mark.slow
def test_same_folder_name_from_two_working_directories_loses_nothing(tmp_path: Path) -> None:
    x, y, store = tmp_path / "X", tmp_path / "Y", tmp_path / "store"
    for key in "abcd":
        write(x / "news", f"{key}.txt", STORIES[key])
    write(y / "news", "b.txt", "Fishermen in Vigo protested against new quotas on Friday.")
    write(y / "news", "e.txt", STORIES["e"])

    assert "4 added, 0 updated, 0 unchanged, 0 removed" in cli(store, "index", "news", cwd=x)
    # another folder called news, from elsewhere: its two articles join, X's four stay
    out = cli(store, "index", "news", cwd=y)
    assert "2 added, 0 updated, 0 unchanged, 0 removed" in out, out
    assert "articles: 6" in cli(store, "status", cwd=y)
    texts = store_texts(store)
    for key in "abcde":
        assert len(holders(texts, STORIES[key])) == 1, key
    assert len(holders(texts, "Fishermen in Vigo")) == 1  # Y's b.txt did not replace X's

    # the reverse: a file deleted from X/news goes when X/news is indexed by its absolute path
    (x / "news" / "a.txt").unlink()
    out = cli(store, "index", str(x / "news"), cwd=y)
    assert "0 added, 0 updated, 3 unchanged, 1 removed" in out, out
    assert "articles: 5" in cli(store, "status", cwd=tmp_path)
    texts = store_texts(store)
    assert not holders(texts, STORIES["a"])
    assert holders(texts, "Fishermen in Vigo") and holders(texts, STORIES["e"])


def test_moved_unchanged_file_is_removed_from_its_new_place(
        make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    a = make_assistant()
    write(tmp_path / "inbox", "a.txt", STORIES["a"])
    write(tmp_path / "inbox", "b.txt", STORIES["b"])
    assert a.index([tmp_path / "inbox"]).added == 2
    (tmp_path / "archive").mkdir()
    shutil.move(tmp_path / "inbox" / "a.txt", tmp_path / "archive" / "a.txt")
    moved = a.index([tmp_path / "archive"])
    assert (moved.added, moved.unchanged, moved.removed) == (0, 1, 0)  # the fast path
    (tmp_path / "archive" / "a.txt").unlink()
    gone = a.index([tmp_path / "archive"])
    assert gone.removed == 1  # its stored path followed the move
    assert a.status().articles == 1
    assert not holders(store_texts(Path(a.settings.store_dir)), STORIES["a"])


def test_old_store_with_relative_paths_is_migrated(make_assistant: Callable[..., Assistant],
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    for key in "abc":
        write(work / "news", f"{key}.txt", STORIES[key])
    write(work / "other", "d.txt", STORIES["d"])
    monkeypatch.chdir(work)
    a = make_assistant()
    assert a.index(["news", "other"]).added == 4
    db_path = Path(a.settings.store_dir) / "manifest.sqlite"
    paths = Manifest(db_path).paths()
    assert all(p and os.path.isabs(p) for p in paths.values()), paths

    # an old-style store: paths as given, relative to where `assistant index` ran
    db = sqlite3.connect(db_path)
    with db:
        db.executemany("UPDATE docs SET path=? WHERE doc_id=?",
                       [("news/a.txt", "a"), ("news/b.txt", "b"),
                        ("elsewhere/c.txt", "c"),  # names no file from here
                        ("other/d.txt", "d")])
        db.execute("DELETE FROM meta WHERE key='paths_absolute'")
    db.close()
    (work / "other" / "d.txt").unlink()  # d's relative path now names nothing either

    manifest = Manifest(db_path, writer=True)  # the index run, from the folder they were relative to
    paths = manifest.paths()
    assert manifest.get_meta("paths_absolute") == "1"
    manifest.close()
    real = Path(os.path.realpath(work))
    assert paths["a"] == str(real / "news" / "a.txt") and paths["b"] == str(real / "news" / "b.txt")
    assert (paths["c"], paths["d"]) == ("elsewhere/c.txt", "other/d.txt")  # left as they were

    monkeypatch.chdir(tmp_path)  # later runs from anywhere else
    report = a.index([work])
    assert (report.added, report.unchanged, report.removed) == (0, 3, 0)
    paths = Manifest(db_path).paths()
    assert paths["c"] == str(real / "news" / "c.txt")  # found again: stored absolute
    # d's file is gone but its relative path cannot be matched to a root: kept, not guessed
    assert paths["d"] == "other/d.txt" and a.status().articles == 4


# --- case 2: JSON record ids are scoped by their file -----------------------------------
@pytest.mark.slow
def test_json_ids_of_two_feeds_do_not_collide_and_repeats_warn(tmp_path: Path) -> None:
    feeds, store = tmp_path / "feeds", tmp_path / "store"
    feeds.mkdir()
    keys = iter("abcd")
    for name in ("a.json", "b.json"):
        records = [{"id": n, "title": f"Story {n}", "text": STORIES[next(keys)]} for n in (1, 2)]
        (feeds / name).write_text(json.dumps(records), encoding="utf-8")
    (feeds / "c.jsonl").write_text(
        json.dumps({"id": "x", "text": STORIES["e"]}) + "\n"
        + json.dumps({"id": "x", "text": "Divers off Split found a Roman amphora on Sunday."}) + "\n",
        encoding="utf-8")

    out = cli(store, "index", "feeds", cwd=tmp_path)  # a warning only: exit code 0
    assert "6 added, 0 updated, 0 unchanged, 0 removed" in out, out
    warning = [line for line in out.splitlines() if line.startswith("  warning:")]
    assert len(warning) == 1, out
    assert "c.jsonl: repeated record id 'x' (line 2) kept as 'c#x-2'" in warning[0], out
    texts = store_texts(store)
    assert {"a#1", "a#2", "b#1", "b#2", "c#x", "c#x-2"} == set(texts)
    assert holders(texts, "Roman amphora") == ["c#x-2"]
    # incremental equals clean: the second run finds the same six articles
    again = cli(store, "index", "feeds", cwd=tmp_path)
    assert "0 added, 0 updated, 6 unchanged, 0 removed" in again, again


# --- case 3: uploads never overwrite each other -------------------------------------------
def test_uploads_with_names_that_sanitise_alike_are_all_kept(
        make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    from assistant.app import ui

    assistant = make_assistant("store")
    handlers = ui._Handlers(assistant, None)
    uploads = tmp_path / "store" / "uploads"

    def upload(*files: tuple[str, str]) -> None:
        folder = tmp_path / f"incoming{len(list(tmp_path.glob('incoming*')))}"
        folder.mkdir()
        handlers.upload([str(write(folder, name, text)) for name, text in files],
                        lambda *a, **k: None)

    upload(("a b.txt", STORIES["a"]), ("a&b.txt", STORIES["b"]))  # one batch
    upload(("новости 1.txt", STORIES["c"]))
    upload(("статья 1.txt", STORIES["d"]), ("a b.txt", STORIES["a"]))  # the same a again
    saved = {p.name: p.read_text(encoding="utf-8").strip() for p in uploads.iterdir()}
    assert saved == {"a_b.txt": STORIES["a"], "a_b-2.txt": STORIES["b"],
                     "1.txt": STORIES["c"], "1-2.txt": STORIES["d"]}
    texts = store_texts(Path(assistant.settings.store_dir))
    for key in "abcd":
        assert len(holders(texts, STORIES[key])) == 1, key
    assert assistant.status().articles == 4


def test_same_content_under_one_name_twice_in_a_batch_is_saved_once(tmp_path: Path) -> None:
    from assistant.app.uploads import save_upload

    folder = tmp_path / "uploads"
    folder.mkdir()
    one = write(tmp_path / "x", "a b.txt", STORIES["a"])
    two = write(tmp_path / "y", "a&b.txt", STORIES["a"])
    other = write(tmp_path / "z", "a+b.txt", STORIES["b"])
    assert save_upload(one, folder, "a_b.txt") == folder / "a_b.txt"
    assert save_upload(two, folder, "a_b.txt") == folder / "a_b.txt"  # identical: reused
    assert save_upload(other, folder, "a_b.txt") == folder / "a_b-2.txt"
    assert save_upload(other, folder, "a_b.txt") == folder / "a_b-2.txt"
    assert sorted(p.name for p in folder.iterdir()) == ["a_b-2.txt", "a_b.txt"]


# --- case 4: no terminal escapes from metadata --------------------------------------------
@pytest.mark.slow
def test_escape_sequences_in_metadata_never_reach_the_terminal(tmp_path: Path) -> None:
    osc, clear = "\x1b]0;pwned\x07", "\x1b[2J"
    feeds, store = tmp_path / "feeds", tmp_path / "store"
    feeds.mkdir()
    record = {"url": f"https://example.com/{osc}harbour{clear}",
              "title": f"Harbour {osc}reopens{clear}", "source": f"{osc}Coastal{clear} Tribune",
              "outlet": f"{clear}Other", "date": f"2022-06-14{osc}",
              "text": STORIES["a"] + " Ferries to Ouessant will run again from Tuesday."}
    (feeds / "hostile.json").write_text(json.dumps([record]), encoding="utf-8")
    out = cli(store, "index", "feeds", cwd=tmp_path)
    assert "1 added" in out
    status = cli(store, "status", cwd=tmp_path)
    answer = cli(store, "ask", "When did the Brest harbour reopen?", cwd=tmp_path)
    for shown in (out, status, answer):
        assert "\x1b" not in shown and "\x07" not in shown, repr(shown)
    assert "]0;pwnedCoastal[2J Tribune" in status  # the outlet is kept, as inert text
    assert "Coastal" in answer and "Brest harbour reopened" in answer, answer
