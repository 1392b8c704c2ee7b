"""Readers: turn files and folders into ``RawArticle`` records, never raising.

Supported: .txt, .md, .html/.htm (one article per file) and .json/.jsonl (records, a list
of records, ``{"articles": [...]}`` or RealTime QA's ``{"search_result": [...]}``).
Every file that cannot be used becomes a ``FileProblem`` naming the file and the fix.
Records with the same url are read once: the copy with the longest text wins, because
search dumps often repeat a page as a short teaser before the full article. A .txt/.md
file's leading header lines (``Published: March 14, 2023``, ``By Jane Doe | Outlet``,
``Source:``, ``URL:``, ``Title:``) and a page's head are its metadata (``index.metadata``).

Identity: an article's ``path`` is the absolute path of its file (the folder it was found
under resolved, so the working directory does not matter); a record's id is its url, else
its ``id`` field scoped by its file (``feed#7``), else its position (``feed#3``); any other
file's article has its file name as id (a header url does not change it). An id
repeated inside one file keeps both records (the later under a suffixed id) and yields a
``FileWarning``. Every metadata field (title, outlet, url, date, id) is cleaned of control
characters as it is read (``index.cleaning.clean_field``).
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from assistant.kernel.dates import parse_date
from assistant.kernel.records import FileProblem, FileWarning, RawArticle
from index.cleaning import clean_field
from index.metadata import read_header, read_html_head, url_outlet

SUPPORTED = (".htm", ".html", ".json", ".jsonl", ".md", ".txt")
_TEXT_KEYS = ("text", "body", "content", "article")
_TITLE_KEYS = ("title", "headline")
_URL_KEYS = ("url", "link")
_DATE_KEYS = ("date", "published", "publish_date", "published_at", "pubDate")
_SOURCE_KEYS = ("source", "outlet", "publisher", "site")
_ID_KEYS = ("id", "doc_id")
_LIST_KEYS = ("articles", "search_result")
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_MB = 1024 * 1024
_KEEP_CHARS = 64 * _MB  # article text held between the two passes of iter_articles
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # control characters but \t \n \f \r
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
Item = RawArticle | FileProblem


class _File(NamedTuple):
    path: Path
    root: Path  # the folder it was found under (its parent when given directly)

    @property
    def source(self) -> str:
        """The absolute path stored as the articles' ``path``: the root resolved, the rest
        as found (a symlinked subfolder stays under its root)."""
        return _utf8(str(self.root.resolve() / self.path.relative_to(self.root)))


def source_path(given: str | Path) -> Path:
    """The absolute form of a path given to ``iter_articles``, as its articles' paths
    start: a folder resolved, a file's folder resolved and its name kept."""
    given = Path(given)
    return given.resolve() if given.is_dir() else given.parent.resolve() / given.name


def iter_articles(paths: Sequence[str | Path], max_file_mb: float = 20.0) -> Iterator[Item]:
    """Yield one ``RawArticle`` per article found in ``paths`` (files or folders, walked
    recursively in sorted order) and one ``FileProblem`` per input that could not be used."""
    if isinstance(paths, str | Path):
        paths = [paths]  # one path given bare, not a list of characters
    files: list[_File] = []
    for given in paths:
        yield from _collect(Path(given), files)
    ids = {p: _utf8(_escape_controls(i)) for p, i in _doc_stems(files).items()}
    limit = int(max_file_mb * _MB)
    best: dict[str, tuple[int, int, int]] = {}  # url -> (text length, file, position)
    # The first pass's records, kept for the second up to a budget: parsing a file twice is
    # most of what re-indexing an unchanged corpus costs. Past the budget files are re-read.
    kept: dict[int, list[Item]] = {}
    budget = _KEEP_CHARS
    for f_no, f in enumerate(files):
        if f.path.suffix.lower() in (".json", ".jsonl"):
            items = list(_read(f, ids[f.path], limit, max_file_mb))
            for pos, item in enumerate(items):
                if isinstance(item, RawArticle) and item.url:
                    key = (len(item.text), f_no, pos)
                    if item.url not in best or key[0] > best[item.url][0]:
                        best[item.url] = key
            size = sum(len(i.text) for i in items if isinstance(i, RawArticle))
            if size <= budget:
                kept[f_no], budget = items, budget - size
    for f_no, f in enumerate(files):
        again = kept.pop(f_no, None)
        for pos, item in enumerate(again if again is not None
                                   else _read(f, ids[f.path], limit, max_file_mb)):
            # records are identified by their url; a .txt/.md header url leaves its file's id
            url = item.url if isinstance(item, RawArticle) and item.doc_id == item.url else None
            winner = best.get(url, (0, f_no, pos)) if url else None
            if winner is None or winner[1:] == (f_no, pos):
                yield item  # a duplicate url is skipped: its longest copy is yielded instead


def find_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files ``iter_articles`` would read in ``paths`` (unusable paths left out)."""
    files: list[_File] = []
    for given in paths:
        for _ in _collect(Path(given), files):
            pass
    return [f.path for f in files]


def _collect(given: Path, files: list[_File]) -> Iterator[FileProblem]:
    """Append the files under ``given`` to ``files``; yield problems for unusable paths."""
    seen_files = {os.path.realpath(f.path) for f in files}
    seen_dirs: set[str] = set()

    def add(path: Path, root: Path) -> None:
        real = os.path.realpath(path)
        if real not in seen_files:  # the same file reached twice (symlink, repeated arg)
            seen_files.add(real)
            files.append(_File(path, root))

    def walk(folder: Path, root: Path) -> Iterator[FileProblem]:
        real = os.path.realpath(folder)
        if real in seen_dirs:
            return  # a symlink loop or a folder reached twice
        seen_dirs.add(real)
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            yield FileProblem(str(folder), f"cannot open folder: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                yield from walk(entry, root)
            elif entry.suffix.lower() in SUPPORTED:
                if entry.is_file():
                    add(entry, root)
                else:
                    yield FileProblem(str(entry), "broken link or not a regular file")

    if given.is_dir():
        yield from walk(given, given)
    elif not given.exists():
        yield FileProblem(str(given), "no such file or folder — check the path")
    elif given.suffix.lower() not in SUPPORTED:
        yield FileProblem(
            str(given), f"unsupported file type {given.suffix or '(none)'!r} — supported: "
            + ", ".join(SUPPORTED))
    else:
        add(given, given.parent)


def _doc_stems(files: list[_File]) -> dict[Path, str]:
    """File stem as id; files sharing a stem get their path relative to their root."""
    by_stem: dict[str, list[_File]] = defaultdict(list)
    for f in files:
        by_stem[f.path.stem].append(f)
    ids = {}
    for stem, group in by_stem.items():
        if len(group) == 1:
            ids[group[0].path] = stem
            continue
        for make in (lambda f: f.path.relative_to(f.root).with_suffix("").as_posix(),
                     lambda f: f.path.relative_to(f.root).as_posix(),
                     lambda f: f.path.absolute().as_posix()):
            names = [make(f) for f in group]
            if len(set(names)) == len(names):
                break
        ids.update((f.path, name) for f, name in zip(group, names, strict=True))
    return ids


def _read(f: _File, stem: str, limit: int, max_mb: float) -> Iterator[Item]:
    """Every article of one file, or the one problem that stops it."""
    path, source = f.path, f.source
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= limit else None
    except OSError as exc:
        yield FileProblem(str(path), f"cannot read file: {exc.strerror or exc}")
        return
    text = decode(data) if data is not None else None
    reason = (f"file is {size / _MB:.1f} MB, over the {max_mb:g} MB limit — split it or raise "
              "ASSISTANT_MAX_FILE_MB" if data is None
              else "binary file, not text — save it as UTF-8 text" if text is None
              else "empty file" if not text.strip() else None)
    if reason or text is None:
        yield FileProblem(str(path), reason or "empty file")
        return
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl"):
        yield from _read_records(text, path, source, stem, suffix == ".jsonl")
    elif suffix in (".html", ".htm"):
        yield _read_html(text, source, stem)
    else:
        yield from _read_text(text, path, source, stem, markdown=suffix == ".md")


def _read_text(text: str, path: Path, source: str, stem: str, markdown: bool) -> Iterator[Item]:
    """A .txt/.md article: its header block as metadata (a warning for a header line that
    could not be used), the rest as its text."""
    head = read_header(text)
    if not head.body.strip():
        yield FileProblem(str(path), "only header lines, no article text — put the text "
                          "below the header lines")
        return
    if head.remarks:
        yield FileWarning(str(path), "; ".join(head.remarks) + " — the article was indexed "
                          "without it; write the date as 2023-03-14 or March 14, 2023")
    title, body = _strip_markdown(head.body) if markdown else (None, head.body)
    yield RawArticle(doc_id=stem, text=body, title=head.title or clean_field(title), path=source,
                     source=head.source, url=head.url, published=head.published)


def decode(data: bytes) -> str | None:
    """Bytes to text: BOMs first, then UTF-8, then a legacy code page; None if binary."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_legacy(data)
    # one regex pass (not a Python loop per character): re-indexing reads every file again
    controls = len(_CONTROL.findall(text))
    return None if controls > 0.05 * len(text) else text


def _decode_legacy(data: bytes) -> str:
    """Russian cp1251 and Western cp1252 by a byte heuristic that also works on short texts;
    other code pages by charset_normalizer when there is enough text to judge."""
    sample = data[:65536]
    high = [i for i, b in enumerate(sample) if b >= 0x80]
    in_runs = sum(1 for i in high if (i > 0 and sample[i - 1] >= 0x80)
                  or (i + 1 < len(sample) and sample[i + 1] >= 0x80))
    cyrillic = sum(1 for c in sample.decode("cp1251", errors="replace") if "\u0400" <= c <= "\u04ff")
    if in_runs >= 0.6 * len(high) and cyrillic >= 0.8 * len(high):
        return data.decode("cp1251", errors="replace")  # Cyrillic words: runs of high bytes
    if len(data) >= 400:
        try:
            from charset_normalizer import from_bytes
        except ImportError:
            pass
        else:
            best = from_bytes(data).best()
            if best is not None:
                return str(best)
    return data.decode("cp1252", errors="replace")


def _read_records(text: str, path: Path, source: str, stem: str, lines: bool) -> Iterator[Item]:
    """Articles of a .json or .jsonl file, with one summary problem for bad records and one
    warning for ids repeated inside the file."""
    found = 0
    bad: list[str] = []  # "line K: reason" per broken line or record
    ids: set[str] = set()  # doc ids given out in this file
    repeated: list[str] = []  # "'7' (record 3) kept as 'feed#7-2'" per repeated id
    if lines:
        values: list[tuple[str, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    values.append((str(number), json.loads(line)))
                except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, nesting
                    bad.append(f"line {number}: {getattr(exc, 'msg', None) or str(exc)[:60]}")
    else:
        try:
            values = [("", json.loads(text))]
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge ints, nesting
            where = (f"line {exc.lineno}: {exc.msg}" if isinstance(exc, json.JSONDecodeError)
                     else str(exc)[:60])
            yield FileProblem(str(path), f"not valid JSON ({where}) — "
                              "fix it, or write one record per line as .jsonl")
            return
    for tag, value in values:
        for rec_tag, record in _expand(value, tag):
            article = _record(record, stem, rec_tag, source)
            if isinstance(article, RawArticle):
                found += 1
                if article.doc_id in ids and article.url is None:  # a url is deduplicated instead
                    n = 2
                    while f"{article.doc_id}-{n}" in ids:
                        n += 1
                    new_id = f"{article.doc_id}-{n}"
                    where = f"{'line' if lines else 'record'} {rec_tag.split('.')[0]}".strip()
                    own = article.doc_id.removeprefix(f"{stem}#")  # as the record gives it
                    repeated.append(f"{own!r} ({where}) kept as {new_id!r}")
                    article = replace(article, doc_id=new_id)
                ids.add(article.doc_id)
                yield article
            elif article is not None:
                where = f"{'line' if lines else 'record'} {rec_tag.split('.')[0]}".strip()
                bad.append(f"{where}: {article}")
    summary = f"{len(bad)} broken {'lines' if lines else 'records'} (first at {bad[0]})" if bad else ""
    if not found:
        yield FileProblem(str(path), "no articles found (expected records with a text field)"
                          + (f"; {summary}" if bad else ""))
    elif bad:
        yield FileProblem(str(path), summary + " — the other records were read")
    if repeated:
        more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
        yield FileWarning(str(path), f"repeated record id {'; '.join(repeated[:3])}{more}"
                          " — every record was indexed; give each record its own id")


def _expand(value: Any, tag: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Records inside one JSON value: itself, a list, or a wrapper with a list field."""
    if isinstance(value, dict) and depth < 2 and not any(k in value for k in _TEXT_KEYS):
        value = next((value[k] for k in _LIST_KEYS if isinstance(value.get(k), list)), value)
    if isinstance(value, list) and depth < 2:
        for i, item in enumerate(value):
            yield from _expand(item, f"{tag}.{i}" if tag else str(i), depth + 1)
        return
    yield tag, value


def _escape_controls(name: str) -> str:
    """A file name's control characters as escapes (``\\x1b``): the id stays unique and
    prints as text, never as a terminal command."""
    return _ANY_CONTROL.sub(lambda m: repr(m[0])[1:-1], name)


def _utf8(text: str) -> str:
    """Text SQLite and hashing can store: lone surrogates (JSON escapes, undecodable file
    names) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def _record(rec: Any, stem: str, tag: str, source: str) -> RawArticle | str | None:
    """One record as an article; a reason string when malformed; None when not an article.
    Its id: the url, else the record's id field scoped by the file, else its position."""
    if not isinstance(rec, dict):
        return "not a JSON object"
    text = next((rec[k] for k in _TEXT_KEYS if rec.get(k) is not None), None)
    if text is None:
        return None  # e.g. a question line in a QA file: nothing to index, nothing wrong
    if not isinstance(text, str):
        return f"text is a {type(text).__name__}, not a string"
    text = _utf8(text)
    if not text.strip():
        return None

    def first_str(keys: tuple[str, ...]) -> str | None:
        for k in keys:
            v = rec.get(k)
            if isinstance(v, dict):
                v = v.get("name")
            if isinstance(v, str) and (value := clean_field(_utf8(v))):
                return value
            if isinstance(v, int) and not isinstance(v, bool) and k in _ID_KEYS:
                return str(v)
        return None

    url = first_str(_URL_KEYS)
    raw_date = first_str(_DATE_KEYS)
    own_id = first_str(_ID_KEYS)
    # an id field is scoped by its file: two feeds numbering their records 1, 2, ... are
    # four articles, not two (a url is global: the same page in two feeds is one article)
    doc_id = url or (f"{stem}#{own_id}" if own_id else f"{stem}#{tag}" if tag else stem)
    return RawArticle(
        doc_id=doc_id, text=text, url=url, path=source,
        title=first_str(_TITLE_KEYS), published=parse_date(raw_date) if raw_date else None,
        source=first_str(_SOURCE_KEYS) or url_outlet(url))


def _read_html(html: str, source: str, stem: str) -> RawArticle:
    """Metadata from the page head; the html itself stays in ``text`` for cleaning."""
    head = read_html_head(html)
    return RawArticle(doc_id=stem, text=html, is_html=True, path=source, title=head.title,
                      source=head.source, url=head.url, published=head.published)


def _strip_markdown(text: str) -> tuple[str | None, str]:
    """Title from the first '# ' heading; links, images and emphasis marks to plain text."""
    title = None
    m = re.search(r"^\s*#[ \t]+(.+?)[ \t#]*$", text, re.M)
    if m and not text[: m.start()].strip():
        title, text = m[1].strip(), text[m.end():]
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"^#{1,6}[ \t]+", "", text, flags=re.M)
    text = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return title, text
