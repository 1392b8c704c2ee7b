"""Issue 27, "A rebuild keeps what the store owns": ``<store>/uploads/`` belongs to the store,
so ``index --rebuild PATHS`` indexes it again with PATHS unless ``--drop-uploads`` says
otherwise; and every run's report counts and names what left the index — a rebuild, the
previous articles it did not bring back and where they came from. Checked through the real
CLI, the Python API and the UI's upload handler, on real stores with the real model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import Assistant, AssistantError
from assistant.app import cli as cli_module
from assistant.app import ui
from index.progress import index_report

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FERRIES = ("Title: Oslo orders electric ferries\n\n"
           "The city of Oslo ordered 400 electric ferries for its fjord routes on Monday, the "
           "transport agency said. The first of the ferries will sail in the spring.\n")
QUESTION = "How many electric ferries did Oslo order?"
STORIES = {
    "harbour": "The Brest harbour reopened on Monday after the storm, the port authority said.",
    "almonds": "Farmers in Lleida reported a record almond harvest this autumn.",
    "tram": "The Porto city council approved a new tram line to the airport.",
}


def cli(store: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The real CLI on ``store``, from the repository root."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    run = subprocess.run([sys.executable, "-m", "assistant.app.cli", "--store-dir", str(store),
                          *map(str, args)], capture_output=True, text=True, timeout=600, cwd=ROOT,
                         env=env)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def articles(store: Path) -> int:
    status = cli(store, "status")
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if x.startswith("articles:"))
    return int(line.split()[1])


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


@pytest.fixture
def store(make_assistant: Callable[..., Assistant]) -> Path:
    """The seeds and one upload in ``<store>/uploads/``, indexed as the issue's user did (the
    UI's upload box indexes the file it saved there the same way)."""
    a = make_assistant("store")
    store = Path(a.settings.store_dir)
    a.index(SEEDS)
    assert a.index(write(store / "uploads", "ferries.txt", FERRIES), keep_missing=True).added == 1
    a.close()
    return store


# --- the CLI ----------------------------------------------------------------------------
def test_cli_rebuild_keeps_the_uploads(store: Path) -> None:
    assert articles(store) == 6
    run = cli(store, "index", "--rebuild", SEEDS)
    assert run.returncode == 0, run.stderr
    assert "6 added, 0 updated, 0 unchanged, 0 removed" in run.stdout, run.stdout
    assert "kept 1 uploaded article(s)" in run.stdout and "--drop-uploads" in run.stdout
    assert "not brought back" not in run.stdout
    assert articles(store) == 6
    answer = cli(store, "ask", QUESTION)
    assert "400" in answer.stdout and "ferries" in answer.stdout, answer.stdout


def test_cli_rebuild_with_drop_uploads_counts_and_names_them(store: Path) -> None:
    uploads = (store / "uploads").resolve()
    run = cli(store, "index", "--rebuild", "--drop-uploads", SEEDS)
    assert run.returncode == 0, run.stderr
    assert "5 added, 0 updated, 0 unchanged, 1 removed" in run.stdout, run.stdout
    assert (f"not brought back by the rebuild: 1 article(s) from {uploads} (ferries.txt) — "
            f"to get them back: assistant index {uploads}") in run.stdout, run.stdout
    assert articles(store) == 5
    assert (uploads / "ferries.txt").exists(), "dropped from the index, never from the disk"
    again = cli(store, "index", uploads)  # the command the report names brings it back
    assert "1 added" in again.stdout and articles(store) == 6


def test_drop_uploads_without_rebuild_is_a_one_line_mistake(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_module.main(["--store-dir", str(tmp_path / "store"), "index", str(SEEDS),
                            "--drop-uploads"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--drop-uploads goes with --rebuild" in err and len(err.splitlines()) == 1


# --- the Python API ---------------------------------------------------------------------
def test_api_rebuild_keeps_uploads_and_drop_uploads_names_them(
        make_assistant: Callable[..., Assistant], seeds_copy: Path, tmp_path: Path) -> None:
    a = make_assistant("store")
    a.index(seeds_copy)
    uploaded = write(tmp_path / "store" / "uploads", "ferries.txt", FERRIES)
    a.index(uploaded, keep_missing=True)  # as the UI's upload box indexes a saved file

    kept = a.index(seeds_copy, rebuild=True)
    assert (kept.added, kept.removed, kept.kept_uploads, kept.removed_articles) == (6, 0, 1, ())
    assert kept.rebuild and a.status().articles == 6
    assert "ferries" in {c.doc_id for c in a.ask(QUESTION).citations}

    empty = tmp_path / "empty"
    empty.mkdir()
    cancelled = a.index(empty, rebuild=True)  # the uploads alone never replace the index
    assert not cancelled.ok and cancelled.removed == 0 and a.status().articles == 6

    dropped = a.index(seeds_copy, rebuild=True, drop_uploads=True)
    assert (dropped.added, dropped.removed, dropped.kept_uploads) == (5, 1, 0)
    [gone] = dropped.removed_articles
    assert (gone.doc_id, gone.title, gone.path) == ("ferries", "Oslo orders electric ferries",
                                                     str(uploaded.resolve()))
    assert gone.origin == str(uploaded.parent.resolve())
    assert dropped.to_dict()["removed_articles"] == (gone.to_dict(),)
    assert a.status().articles == 5 and uploaded.exists()
    with pytest.raises(AssistantError, match="--drop-uploads goes with --rebuild"):
        a.index(seeds_copy, drop_uploads=True)


def test_partial_rebuild_counts_and_names_what_it_did_not_bring_back(
        make_assistant: Callable[..., Assistant], tmp_path: Path) -> None:
    a = make_assistant("store")
    news, wire = tmp_path / "news", tmp_path / "wire"
    write(news, "harbour.txt", STORIES["harbour"])
    write(wire, "almonds.txt", STORIES["almonds"])
    write(wire, "tram.txt", STORIES["tram"])
    assert a.index([news, wire]).added == 3

    report = a.index([news], rebuild=True)
    assert (report.added, report.removed) == (1, 2)
    assert sorted(g.doc_id for g in report.removed_articles) == ["almonds", "tram"]
    assert {g.origin for g in report.removed_articles} == {str(wire.resolve())}
    assert (f"not brought back by the rebuild: 2 article(s) from {wire.resolve()} "
            f"(almonds.txt, tram.txt) — to get them back: assistant index {wire.resolve()}"
            in index_report(report)), index_report(report)
    assert a.status().articles == 1


def test_plain_runs_count_removals_as_before_and_now_name_them(
        make_assistant: Callable[..., Assistant], seeds_copy: Path) -> None:
    a = make_assistant("store")
    a.index(seeds_copy)
    gone_file = seeds_copy / "000_59035ac7a78f4fad.txt"
    gone_file.unlink()
    kept = a.index(seeds_copy, keep_missing=True)
    assert (kept.removed, kept.removed_articles, kept.rebuild) == (0, (), False)
    report = a.index(seeds_copy)
    assert (report.removed, report.unchanged) == (1, 4)
    [gone] = report.removed_articles
    assert (gone.doc_id, gone.path) == ("000_59035ac7a78f4fad", str(gone_file.resolve()))
    assert (f"removed 1 article(s) from {seeds_copy.resolve()} (000_59035ac7a78f4fad.txt): "
            "no longer in the folders indexed") in index_report(report)
    assert "not brought back" not in index_report(report)
    again = a.index(seeds_copy)
    assert (again.removed, again.removed_articles) == (0, ())


# --- the UI: an upload, then a rebuild ----------------------------------------------------
def test_ui_upload_survives_a_rebuild_by_the_cli(make_assistant: Callable[..., Assistant],
                                                  tmp_path: Path) -> None:
    a = make_assistant("store")
    store = Path(a.settings.store_dir)
    handlers = ui._Handlers(a, None)
    a.index(SEEDS)
    incoming = write(tmp_path / "browser", "Oslo ferries.txt", FERRIES)
    report_html, status_html, *_ = handlers.upload([str(incoming)], lambda *a, **k: None)
    assert "1 added" in report_html and "<b>6</b> articles" in status_html

    run = cli(store, "index", "--rebuild", SEEDS)  # while the UI keeps serving
    assert run.returncode == 0 and "kept 1 uploaded article(s)" in run.stdout, run.stdout
    status = handlers.status()
    assert status is not None and status.articles == 6
    assert "Oslo_ferries" in {c.doc_id for c in a.ask(QUESTION).citations}

    dropped = cli(store, "index", "--rebuild", "--drop-uploads", SEEDS)
    assert "1 removed" in dropped.stdout and "(Oslo_ferries.txt)" in dropped.stdout, dropped.stdout
    status = handlers.status()
    assert status is not None and status.articles == 5
