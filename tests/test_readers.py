"""index/readers.py: every format read, every bad input reported as a FileProblem, never raised."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.kernel.records import FileProblem, RawArticle
from index.folders import SUPPORTED
from index.readers import iter_articles

DATA = Path(__file__).resolve().parent / "data"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
BENCH = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "realtimeqa" / "dev"
RUSSIAN = "Президент Франции Эммануэль Макрон заявил, что Запад должен дать гарантии России."


def read(*paths: str | Path, **kw: float) -> tuple[list[RawArticle], list[FileProblem]]:
    items = list(iter_articles(list(paths), **kw))
    return ([i for i in items if isinstance(i, RawArticle)],
            [i for i in items if isinstance(i, FileProblem)])


def only_problem(path: Path, **kw: float) -> str:
    articles, problems = read(path, **kw)
    assert not articles and len(problems) == 1 and problems[0].path == str(path)
    return problems[0].reason


def write_jsonl(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
                    encoding="utf-8")
    return path


# --- formats -------------------------------------------------------------------------------------

def test_seeds_folder_reads_five_articles_with_stable_ids() -> None:
    articles, problems = read(SEEDS)
    assert not problems
    assert [a.doc_id for a in articles] == sorted(p.stem for p in SEEDS.glob("*.txt"))
    assert all(a.text.strip() and a.path and not a.is_html for a in articles)


def test_markdown_title_from_heading_and_not_in_text(tmp_path: Path) -> None:
    (tmp_path / "harbour.md").write_text(
        "# Harbour reopens\n\nThe port reopened, said [the mayor](https://x.org/m). **Ships** wait.\n"
        "\n## Details\n\n![map](map.png)Ten ships.\n", encoding="utf-8")
    [a], _ = read(tmp_path / "harbour.md")
    assert a.doc_id == "harbour" and a.title == "Harbour reopens"
    assert "Harbour reopens" not in a.text and "#" not in a.text
    assert "said the mayor. Ships wait." in a.text and "Details" in a.text and "map" not in a.text


def test_html_metadata_and_raw_html_kept() -> None:
    [a], problems = read(DATA / "readers_page.html")
    assert not problems
    assert a.is_html and a.doc_id == "readers_page"
    assert a.title == "Harbour reopens after storm"  # the h1, not the <title> with the site name
    assert a.source == "Coastal Tribune" and a.published == "2022-06-14"
    assert "<article>" in a.text  # cleaning converts it


def test_json_record_list_and_articles_wrapper(tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(
        {"headline": "Talks", "body": "Talks resumed.", "pubDate": "June 12, 2022",
         "publisher": {"name": "Daily Planet"}}), encoding="utf-8")
    (tmp_path / "many.json").write_text(json.dumps([
        {"text": "First.", "url": "https://www.example.com/a", "date": "2022/06/12"},
        {"content": "Second.", "id": 7, "published_at": "2022-06-13T09:00:00Z", "outlet": "AP"},
        {"article": "Third."}]), encoding="utf-8")
    (tmp_path / "wrapped.json").write_text(json.dumps(
        {"articles": [{"text": "Fourth.", "link": "https://news.example.org/x", "site": "EX"}]}),
        encoding="utf-8")
    articles, problems = read(tmp_path)
    assert not problems
    by_text = {a.text: a for a in articles}
    one = by_text["Talks resumed."]
    assert (one.doc_id, one.title, one.published, one.source) == \
        ("one", "Talks", "2022-06-12", "Daily Planet")
    first = by_text["First."]
    assert (first.doc_id, first.url, first.source, first.published) == \
        ("https://www.example.com/a", "https://www.example.com/a", "example.com", "2022-06-12")
    second = by_text["Second."]
    assert (second.doc_id, second.source, second.published) == ("many#7", "AP", "2022-06-13")
    assert by_text["Third."].doc_id == "many#2"
    assert by_text["Fourth."].source == "EX" and by_text["Fourth."].url == "https://news.example.org/x"


def test_realtimeqa_layout(tmp_path: Path) -> None:
    """gcs/gold lines hold articles under search_result; qa lines are questions, not articles."""
    full = "(CNN) Netflix announced Sunday that Squid Game is green lit for a second season. " * 5
    write_jsonl(tmp_path / "20220617_gcs.jsonl",
                {"question_id": "20220617_0", "search_time": "2022/06/17/16:34", "search_result": [
                    {"url": "https://www.cnn.com/squid", "title": "Squid Game - CNN",
                     "text": "1. How relevant is this ad to you?", "publish_date": "2022/06/12"},
                    {"url": "https://www.usatoday.com/alaska", "title": "Alaska",
                     "text": "Looking for Alaska premiered.", "publish_date": "2019/06/04"},
                    {"url": "https://www.cnn.com/empty", "title": "No text"}]})
    write_jsonl(tmp_path / "20220617_gold.jsonl",
                {"question_id": "20220617_0", "search_result": [
                    {"url": "https://www.cnn.com/squid", "text": full, "publish_date": "2022/06/12"}]})
    write_jsonl(tmp_path / "20220617_qa.jsonl",
                {"question_id": "20220617_0", "question_sentence": "Which show?", "choices": ["a"]})
    articles, problems = read(tmp_path)
    assert [a.doc_id for a in articles] == ["https://www.usatoday.com/alaska", "https://www.cnn.com/squid"]
    squid = articles[1]
    assert squid.text == full  # the full gold copy wins over the teaser with the same url
    assert squid.published == "2022-06-12" and squid.source == "cnn.com"
    assert [(Path(p.path).name, p.reason) for p in problems] == [
        ("20220617_qa.jsonl", "no articles found (expected records with a text field)")]


@pytest.mark.skipif(not BENCH.is_dir(), reason="RealTime QA dev data not present")
def test_realtimeqa_week_reads_each_url_once() -> None:
    week = sorted(BENCH.glob("20220617_g*.jsonl"))
    articles, problems = read(*week)
    urls = [a.url for a in articles]
    assert not problems and len(urls) == len(set(urls)) > 100
    assert all(a.published and a.doc_id == a.url for a in articles)


def test_record_ids_fall_back_to_line_numbers(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "feed.jsonl", {"text": "A."}, "", {"text": "B.", "doc_id": "b-1"},
                       {"text": "C."})
    articles, problems = read(path)
    assert not problems
    assert [a.doc_id for a in articles] == ["feed#1", "feed#b-1", "feed#4"]  # ids scoped by file


def test_same_url_twice_is_read_once(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "dup.jsonl", {"text": "Same story.", "url": "https://e.com/1"},
                       {"text": "Same story.", "url": "https://e.com/1"})
    articles, _ = read(path, tmp_path)  # the file given twice is read once, too
    assert [a.doc_id for a in articles] == ["https://e.com/1"]


# --- bad inputs --------------------------------------------------------------------------------

def test_broken_json_lines_and_wrong_types_are_summarised(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mixed.jsonl", {"text": "Good one."}, "{not json",
                       {"text": ["a", "list"]}, {"text": "Good two."}, "[1, 2", 42)
    articles, problems = read(path)
    assert [a.text for a in articles] == ["Good one.", "Good two."]
    [problem] = problems
    assert problem.reason.startswith("4 broken lines (first at line 2: ")
    assert "the other records were read" in problem.reason


def test_broken_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"text": "x",\n  oops}', encoding="utf-8")
    assert only_problem(path).startswith("not valid JSON (line 2")


def test_wrong_type_in_a_json_list(tmp_path: Path) -> None:
    path = tmp_path / "typed.json"
    path.write_text(json.dumps([{"text": 5}, {"text": "Fine."}]), encoding="utf-8")
    articles, [problem] = read(path)
    assert [a.text for a in articles] == ["Fine."]
    assert problem.reason.startswith("1 broken records (first at record 0: text is a int")


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  ", "\ufeff \n".encode()])
def test_empty_and_whitespace_only(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert only_problem(path) == "empty file"


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    assert only_problem(path).startswith("binary file, not text")


@pytest.mark.parametrize("text", [RUSSIAN, "Москва", RUSSIAN * 40])
def test_cp1251_russian_decodes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "ru.txt"
    path.write_bytes(text.encode("cp1251"))
    [a], _ = read(path)
    assert a.text == text


def test_cp1252_western_decodes(tmp_path: Path) -> None:
    path = tmp_path / "fr.txt"
    path.write_bytes("Café déjà vu — naïve résumé à Paris.".encode("cp1252"))
    [a], _ = read(path)
    assert a.text == "Café déjà vu — naïve résumé à Paris."


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_unicode_with_bom(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "bom.txt"
    data = RUSSIAN.encode(codec)
    path.write_bytes(data if codec != "utf-16-be" else b"\xfe\xff" + data)
    [a], _ = read(path)
    assert a.text == RUSSIAN  # no BOM character left


def test_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 5000, encoding="utf-8")
    reason = only_problem(path, max_file_mb=0.01)
    assert "0.0 MB" in reason and "0.01 MB limit" in reason and "ASSISTANT_MAX_FILE_MB" in reason


def test_real_50_mb_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB on stat, instant to create
    reason = only_problem(path)
    assert reason.startswith("file is 50.0 MB, over the 20 MB limit")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_chmod(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")
    path.chmod(0)
    try:
        assert only_problem(path) == "cannot read file: Permission denied"
    finally:
        path.chmod(0o644)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged user")
def test_unreadable_file_as_an_unprivileged_user() -> None:
    """chmod 000 under root means nothing, so read it from a child running as 'nobody'."""
    folder = Path(tempfile.mkdtemp(prefix="readers_perm_"))
    try:
        folder.chmod(0o711)  # traversable, so the refusal comes from the file itself
        path = folder / "secret.txt"
        path.write_text("hidden", encoding="utf-8")
        path.chmod(0)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: drop privileges, read, report, never return into pytest
            try:
                os.setgid(65534)
                os.setuid(65534)
                result: object = [getattr(i, "reason", "article") for i in iter_articles([path])]
            except BaseException as exc:
                result = f"child failed: {exc!r}"
            finally:
                os.write(write_end, json.dumps(result).encode())
                os._exit(0)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            reasons = json.loads(pipe.read() or "null")
        os.waitpid(pid, 0)
        assert reasons == ["cannot read file: Permission denied"]
    finally:
        shutil.rmtree(folder)


def test_unreadable_file_reports_the_os_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, where chmod 000 does not stop reading; make the OS refuse instead.
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    (tmp_path / "fine.txt").write_text("Readable.", encoding="utf-8")
    articles, problems = read(tmp_path)
    assert [a.doc_id for a in articles] == ["fine"]
    assert [(p.path, p.reason) for p in problems] == [(str(path), "cannot read file: Permission denied")]


def test_symlink_loop_terminates_and_reads_each_file_once(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "story.txt").write_text("A story.", encoding="utf-8")
    (tmp_path / "a" / "b" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "a" / "alias.txt").symlink_to(tmp_path / "a" / "b" / "story.txt")
    articles, problems = read(tmp_path)
    assert not problems and len(articles) == 1


def test_duplicate_stems_in_different_folders_get_stable_path_ids(tmp_path: Path) -> None:
    for folder in ("b", "a"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(f"Notes from {folder}.", encoding="utf-8")
    (tmp_path / "other.txt").write_text("Other.", encoding="utf-8")
    first = [a.doc_id for a in read(tmp_path)[0]]
    assert first == ["a/notes", "b/notes", "other"]
    assert [a.doc_id for a in read(tmp_path)[0]] == first  # same ids on every run


def test_hidden_and_unsupported_files_are_skipped_in_folders(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.txt").write_text("ref", encoding="utf-8")
    (tmp_path / ".draft.txt").write_text("draft", encoding="utf-8")
    (tmp_path / "scan.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "story.txt").write_text("Story.", encoding="utf-8")
    articles, problems = read(tmp_path)
    assert [a.doc_id for a in articles] == ["story"] and not problems


def test_explicit_unsupported_or_missing_path_is_reported(tmp_path: Path) -> None:
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.7")
    reason = only_problem(pdf)
    assert ".pdf" in reason and all(suffix in reason for suffix in SUPPORTED)
    assert "no such file or folder" in only_problem(tmp_path / "nope.txt")


def test_broken_symlink_in_folder(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    articles, problems = read(tmp_path)
    assert not articles
    assert [(p.path, p.reason) for p in problems] == [
        (str(tmp_path / "gone.txt"), "broken link or not a regular file")]


# --- properties -----------------------------------------------------------------------------------

@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUPPORTED))
def test_random_bytes_never_raise(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    items = list(iter_articles([path]))
    assert items and all(isinstance(i, RawArticle | FileProblem) for i in items)
    assert all(i.path == str(path) for i in items)


def test_large_corpus_read_twice_gives_the_same_articles(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the memory budget the reader parses JSON files again instead of keeping them: the
    same articles come out, and a URL in two files still yields only its longest copy."""
    import index.readers as readers

    rows = [{"url": f"https://example.org/{i}", "title": f"Story {i}",
             "text": f"Story number {i} happened in Lisbon on Tuesday. " * (i + 1)} for i in range(4)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows[:3]) + "\n")
    longer = {**rows[0], "text": rows[0]["text"] * 3}
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in [longer, rows[3]]) + "\n")

    def read() -> list[tuple[str | None, str]]:
        return [(a.url, a.text) for a in iter_articles([tmp_path]) if isinstance(a, RawArticle)]

    kept = read()
    monkeypatch.setattr(readers, "_KEEP_CHARS", -1)
    reread = read()
    assert reread == kept and len(kept) == 4
    assert dict(kept)["https://example.org/0"] == longer["text"]
