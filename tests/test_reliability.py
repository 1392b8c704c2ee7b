"""Bad input never stops indexing: every unusable file or folder is named in one line
saying why, everything else is indexed, and the store stays consistent.

Each case indexes one good article next to one bad input in a fresh store (so a case
that breaks the run cannot hide behind another); one CLI run then takes all of them at
once next to the seeds, as a user would drop a messy folder on it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.storage import keyword
from assistant.storage.manifest import Manifest
from assistant.storage.vectors import VectorStore

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOOD = "Officials in Oslo said 400 new ferries were ordered for the fjord routes on Friday."
MB = 1024 * 1024

Make = Callable[[Path, pytest.MonkeyPatch], list[Path]]


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, what must be refused, what must still be indexed."""

    make: Make  # writes the input under the folder; returns extra paths to index with it
    name: str = ""  # the file or folder the message must name
    refused: str = ""  # words of the reason, when the input must be refused
    indexed: tuple[str, ...] = ()  # snippets that must each be in exactly one article
    cli: bool = True  # also part of the all-at-once CLI run
    ids: tuple[str, ...] = field(default=())  # doc ids that must exist


def _write(rel: str, data: str | bytes, encoding: str = "utf-8") -> Make:
    def make(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        return []

    return make


def _big_text(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    line = (GOOD + " ") * 20 + "\n"
    with (folder / "dump.txt").open("w", encoding="utf-8") as f:
        for _i in range(50 * MB // len(line) + 1):
            f.write(line)
    return []


def _deep(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    deep = folder.joinpath(*[f"level{i}" for i in range(60)])
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("Volcanic ash from Iceland grounded flights across Norway.")
    return []


def _symlink_loop(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    loop = folder / "loop"
    loop.mkdir()
    (loop / "inside.txt").write_text("A cable car opened in Grenoble on Monday after two years.")
    os.symlink(loop, loop / "again")  # loop/again/again/... forever
    os.symlink(folder, loop / "up")  # back to the root being indexed
    os.symlink(folder / "good.txt", folder / "same-as-good.txt")  # one file reached twice
    return []


def _dangling(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    os.symlink(folder / "moved-away.txt", folder / "gone.txt")
    return []


def _fifo(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    os.mkfifo(folder / "pipe.txt")  # reading it would block forever
    return []


def _io_error(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    os.symlink("/proc/self/mem", folder / "memory.txt")  # a regular file whose read fails (EIO)
    return []


def _permission_denied(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    # Root reads everything, so the refusal a normal user gets is simulated at the syscall edge.
    secret = folder / "secret.txt"
    secret.write_text("Nobody may read this article about budgets in Rome.")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return []


def _private_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    private = folder / "private"
    private.mkdir()
    (private / "hidden.txt").write_text("An article about tax rates in Vienna nobody can list.")
    real = Path.iterdir

    def iterdir(self: Path):  # type: ignore[no-untyped-def]
        if self.name == "private":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    return []


def _same_names(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    for sub, text in (("a", "Tomato harvests in Spain came early this year."),
                      ("b", "A new tram line opened in Lyon on Monday.")):
        (folder / sub).mkdir()
        (folder / sub / "same.txt").write_text(text, encoding="utf-8")
    return []


def _two_roots(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    other = folder.parent / "second-root"
    other.mkdir()
    (other / "good.txt").write_text("Engineers in Porto finished a bridge over the Douro river.")
    return [other]


def _unsupported(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    pdf = folder.parent / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%binary\n")
    return [pdf]


def _missing(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    return [folder.parent / "nowhere"]


def _latin1_name(folder: Path, _: pytest.MonkeyPatch) -> list[Path]:
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as f:  # not UTF-8
        f.write(b"Coffee prices rose in Vienna cafes this week, traders said.")
    return []


def _random_bytes(n: int, head: bytes = b"") -> bytes:
    return head + random.Random(n).randbytes(n)


_TYPES = [{"text": 5}, {"text": ["a list"]}, "just a string",
          {"title": "no text field: not an article, not an error"},
          {"text": "Wheat prices rose in Egypt this week, the ministry said.", "date": 20221205,
           "source": 7, "url": 12, "published": ["not", "a", "date"]}]
_FEED = "\n".join([
    json.dumps({"text": "A bridge reopened in Kyiv after repairs, the city said."}),
    "not json at all", "[1, 2]", json.dumps({"text": {"nested": 1}}), '{"text": "cut off',
]) + "\n"

CASES = [
    pytest.param(Case(_write("empty.txt", ""), "empty.txt", "empty file"), id="empty"),
    pytest.param(Case(_write("blank.md", "  \n\t\n \u00a0 \n"), "blank.md", "empty file"),
                 id="whitespace"),
    pytest.param(Case(_write("photo.txt", _random_bytes(4000, b"\x00\x01")), "photo.txt",
                      "binary file"), id="binary"),
    pytest.param(Case(_write("page.html", _random_bytes(4000, b"\x89PNG\r\n\x1a\n\x00")),
                      "page.html", "binary file"), id="binary-html"),
    pytest.param(Case(_big_text, "dump.txt", "over the 20 MB limit"), id="50MB-text"),
    pytest.param(Case(_write("moscow.txt", "Москва заявила о переговорах в Стамбуле. " * 3,
                             "cp1251"), indexed=("Москва заявила",), ids=("moscow",)), id="cp1251"),
    pytest.param(Case(_write("geneve.txt", "Les négociations de paix ont repris à Genève mardi.",
                             "utf-16"), indexed=("négociations de paix",)), id="utf-16"),
    pytest.param(Case(_write("bom.txt", "\ufeffDockers in Antwerp ended their strike.\r\n\r\n"
                             "Ships left the port on Sunday.\r\n"),
                      indexed=("Dockers in Antwerp",)), id="utf-8-bom-crlf"),
    pytest.param(Case(_write("broken.html", "<html><body><p>Unclosed <b>bold <div>Ministers met in"
                             " Oslo on Friday to discuss grain exports.<p><table><tr><td>cell"
                             "</span></i></html></html><<>>"),
                      indexed=("Ministers met in Oslo",)), id="invalid-html"),
    pytest.param(Case(_write("scripts.html", "<html><head><script>var a = 1;</script><style>p {}"
                             "</style></head><body><script>track()</script></body></html>"),
                      "scripts.html", "no article text left"), id="html-without-text"),
    pytest.param(Case(_write("truncated.json", '{"title": "Cut", "text": "The file ends here'),
                      "truncated.json", "not valid JSON"), id="broken-json"),
    pytest.param(Case(_write("types.json", json.dumps(_TYPES)), "types.json", "3 broken records",
                      indexed=("Wheat prices rose",)), id="json-wrong-types"),
    pytest.param(Case(_write("feed.jsonl", _FEED), "feed.jsonl", "5 broken lines (first at line 2",
                      indexed=("A bridge reopened in Kyiv",), ids=("feed#1",)),
                 id="jsonl-broken-lines"),
    pytest.param(Case(_write("junk.jsonl", "1\n[]\n{oops\n"), "junk.jsonl", "no articles found"),
                 id="jsonl-nothing-usable"),
    pytest.param(Case(_write("oneline.txt", " ".join(["word"] * 2500) + " Grain exports resumed"),
                      indexed=("Grain exports resumed",)), id="one-long-line"),
    pytest.param(Case(_deep, indexed=("Volcanic ash",)), id="60-levels-deep"),
    pytest.param(Case(_symlink_loop, indexed=("cable car opened in Grenoble",)), id="symlink-loop"),
    pytest.param(Case(_dangling, "gone.txt", "broken link"), id="dangling-symlink"),
    pytest.param(Case(_fifo, "pipe.txt", "not a regular file"), id="fifo"),
    pytest.param(Case(_io_error, "memory.txt", "cannot read file: Input/output error"),
                 id="read-error", marks=pytest.mark.skipif(not Path("/proc/self/mem").exists(),
                                                           reason="needs Linux /proc")),
    pytest.param(Case(_permission_denied, "secret.txt", "cannot read file: Permission denied",
                      cli=False), id="unreadable-file"),
    pytest.param(Case(_private_folder, "private", "cannot open folder: Permission denied",
                      cli=False), id="unreadable-folder"),
    pytest.param(Case(_same_names, indexed=("Tomato harvests", "tram line opened in Lyon"),
                      ids=("a/same", "b/same")), id="same-name-in-two-folders"),
    pytest.param(Case(_two_roots, indexed=("bridge over the Douro", GOOD), cli=False),
                 id="same-name-in-two-roots"),
    pytest.param(Case(_unsupported, "report.pdf", "unsupported file type '.pdf'", cli=False),
                 id="unsupported-type"),
    pytest.param(Case(_missing, "nowhere", "no such file or folder", cli=False), id="missing-path"),
    # --- inputs that currently break the whole run (bugs; see the reasons) ---
    pytest.param(Case(_write("nested.json", "[" * 100_000 + "]" * 100_000), "nested.json",
                      "not valid JSON"), id="deeply-nested-json"),
    pytest.param(Case(_write("bigint.json", '{"text": "Budget talks in Rome.", "id": ' + "9" * 5000
                             + "}"), "bigint.json", "not valid JSON"), id="json-5000-digit-number"),
    pytest.param(Case(_write("surrogate.json", '{"title": "Rail \\udfff", "text": "A scraped '
                             'article \\ud800 about rail strikes in Lyon this week."}'),
                      indexed=("rail strikes in Lyon",)), id="json-lone-surrogate"),
    pytest.param(Case(_latin1_name, indexed=("Coffee prices rose",)), id="non-utf8-file-name"),
    pytest.param(Case(_write("two\nlines.txt", ""), "lines.txt", "empty file"),
                 id="newline-in-file-name"),
]


def _cases() -> list[Case]:
    """The cases with no skip mark."""
    return [p.values[0] for p in CASES if not p.marks]  # type: ignore[misc]


def store_ids(store: Path) -> tuple[set[str], set[str], list[str], list[str]]:
    """(manifest chunk ids, Chroma ids, BM25 ids, pending doc ids) of a store."""
    from assistant.kernel.settings import Settings

    manifest = Manifest(store / "manifest.sqlite", create=False)
    try:
        chunks, pending = manifest.chunk_ids(), manifest.pending()
    finally:
        manifest.close()
    vectors = VectorStore(Settings(store_dir=store)).ids()
    bm25 = keyword.indexed_ids(store / "bm25")
    return chunks, vectors, bm25, pending


def assert_consistent(store: Path) -> None:
    """No pending article; Chroma, manifest and BM25 hold exactly the same chunk ids."""
    chunks, vectors, bm25, pending = store_ids(store)
    assert not pending, f"articles left pending: {pending}"
    assert vectors == chunks, "Chroma ids != manifest chunk ids"
    assert sorted(bm25) == sorted(chunks), "keyword index ids != manifest chunk ids"


def articles(store: Path) -> dict[str, str]:
    """doc id -> cleaned text of every indexed article."""
    manifest = Manifest(store / "manifest.sqlite", create=False)
    try:
        return {m.doc_id: a.text for m in manifest.articles_meta()
                if (a := manifest.article(m.doc_id)) is not None}
    finally:
        manifest.close()


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_named_and_everything_else_indexed(  # type: ignore[no-untyped-def]
        case: Case, tmp_path: Path, make_assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    extra = case.make(folder, monkeypatch)
    a = make_assistant()
    report = a.index([folder, *extra])
    monkeypatch.undo()

    problems = [str(p) for p in report.failed]
    if case.refused:
        assert len(problems) == 1, problems
        assert case.name in problems[0] and case.refused in problems[0], problems[0]
        assert "\n" not in problems[0], "the message must be one line"
        assert "Traceback" not in problems[0]
    else:
        assert not problems, problems
    texts = articles(Path(a.settings.store_dir))
    for snippet in (GOOD, *case.indexed):
        holders = [d for d, t in texts.items() if snippet in t]
        assert len(holders) == 1, f"{snippet!r} should be in exactly one article: {holders}"
    assert set(case.ids) <= set(texts), f"missing ids {set(case.ids) - set(texts)}"
    assert_consistent(Path(a.settings.store_dir))
    a.close()


@pytest.mark.slow
def test_a_messy_folder_through_the_cli(tmp_path: Path) -> None:
    """Everything at once next to the seeds: exit 1, each bad file on its own line, no traceback,
    the seeds and every good article indexed."""
    folder = tmp_path / "articles"
    shutil.copytree(SEEDS, folder)
    (folder / "good.txt").write_text(GOOD, encoding="utf-8")
    cases = [c for c in _cases() if c.cli]
    with pytest.MonkeyPatch.context() as mp:
        for case in cases:
            case.make(folder, mp)
    store = tmp_path / "store"
    cmd = [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(store), "--embedder", "onnx"]
    run = subprocess.run([*cmd, "index", str(folder)], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out
    refused = [c for c in cases if c.refused]
    assert f"{len(refused)} file(s) could not be indexed" in run.stdout
    report_lines = run.stdout.splitlines()
    for case in refused:
        assert any(case.name in line and case.refused in line for line in report_lines), case.name

    texts = articles(store)
    assert {p.stem for p in SEEDS.glob("*.txt")} <= set(texts), "every seed is indexed"
    for snippet in [GOOD, *(s for c in cases for s in c.indexed)]:
        assert sum(snippet in t for t in texts.values()) == 1, snippet
    assert_consistent(store)
    status = subprocess.run([*cmd, "status"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert status.returncode == 0 and f"articles: {len(texts)}" in status.stdout


def _cli_rss(store: Path, path: Path,
             env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], int]:
    """Index ``path`` with the CLI; return the run and its peak memory in bytes."""
    code = ("import resource, sys\nfrom assistant.app.cli import main\ncode = main(sys.argv[1:])\n"
            "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(code)")
    run = subprocess.run([sys.executable, "-c", code, "--store-dir", str(store), "--embedder",
                          "onnx", "index", str(path)], capture_output=True, text=True,
                         timeout=600, cwd=ROOT, env={**os.environ, **env})
    rss = int(run.stderr.rsplit("maxrss", 1)[1].split()[0]) * 1024
    return run, rss


@pytest.mark.slow
def test_file_over_the_limit_is_refused_and_indexes_with_a_raised_limit(tmp_path: Path) -> None:
    """A 21 MB saved web page (a big inline image around a short article): refused at the
    default 20 MB limit with a message naming the file and the limit; with the limit
    raised it is indexed and costs well under ten times its size in memory."""
    page = tmp_path / "saved-page.html"
    article = f"<article><h1>Ferry orders</h1><p>{GOOD}</p></article>"
    with page.open("w", encoding="ascii") as f:
        f.write('<html><head><title>Ferry orders</title></head><body><img src="data:image/png;'
                "base64,")
        block = "QUJD" * (MB // 4)
        for _ in range(21):
            f.write(block)
        f.write(f'">{article}<script>{"var x = 1;" * 1000}</script></body></html>')
    size = page.stat().st_size
    small = tmp_path / "small.txt"
    small.write_text(GOOD, encoding="utf-8")

    refused, _ = _cli_rss(tmp_path / "s1", page, {})
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "saved-page.html" in refused.stdout and "over the 20 MB limit" in refused.stdout
    assert "ASSISTANT_MAX_FILE_MB" in refused.stdout

    _, baseline = _cli_rss(tmp_path / "s2", small, {})
    raised, peak = _cli_rss(tmp_path / "s3", page, {"ASSISTANT_MAX_FILE_MB": "25"})
    assert raised.returncode == 0, raised.stderr
    assert "1 added" in raised.stdout
    assert GOOD in articles(tmp_path / "s3")["saved-page"]
    growth = peak - baseline
    print(f"\n[reliability] {size / MB:.1f} MB page: peak {peak / MB:.0f} MB, "
          f"{growth / MB:.0f} MB over a one-line file")
    assert growth < 10 * size, f"{growth / MB:.0f} MB of memory for a {size / MB:.0f} MB file"


# --- bugs found on the way that lose articles without any error ------------------------------
def test_same_file_name_in_folders_indexed_by_separate_runs_keeps_both(  # type: ignore[no-untyped-def]
        tmp_path: Path, make_assistant) -> None:
    later = "Officials in Lyon said 12 new trams were ordered."
    for year, text in (("2022", GOOD), ("2023", later)):
        (tmp_path / year).mkdir()
        (tmp_path / year / "article1.txt").write_text(text, encoding="utf-8")
    a = make_assistant()
    a.index([tmp_path / "2022"])
    report = a.index([tmp_path / "2023"])
    assert report.added == 1 and report.updated == 0
    texts = articles(Path(a.settings.store_dir))
    assert sum(GOOD in t for t in texts.values()) == 1, "the 2022 article was replaced"


def test_a_promo_sentence_inside_a_paragraph_keeps_the_news(  # type: ignore[no-untyped-def]
        tmp_path: Path, make_assistant) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "wire.txt").write_text(
        f"{GOOD} Join our community on Patreon and help us better connect Ukraine to the world. "
        "The first ferry will be delivered in May.\n", encoding="utf-8")
    a = make_assistant()
    report = a.index([folder])
    assert not report.failed, [str(p) for p in report.failed]
    assert GOOD in a.document("wire").text
