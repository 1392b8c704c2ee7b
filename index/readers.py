"""Readers: turn files and folders into ``RawArticle`` records, never raising.

Supported: .txt, .md, .html/.htm (one article per file, read here) and .json/.jsonl
(records, ``index.json_records``); which files a path names and their ids and paths come
from ``index.folders``. Every file that cannot be used becomes a ``FileProblem`` naming the
file and the fix. Records with the same url are read once: the copy with the longest text
wins, because search dumps often repeat a page as a short teaser before the full article.
A .txt/.md file's leading header lines (``Published: March 14, 2023``, ``By Jane Doe |
Outlet``, ``Source:``, ``URL:``, ``Title:``) and a page's head are its metadata
(``index.metadata``); a header url does not change the file's id. Every metadata field
(title, outlet, url, date, id) is cleaned of control characters as it is read
(``index.cleaning.clean_field``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.kernel.records import FileProblem, FileWarning, RawArticle
from index.cleaning import clean_field
from index.folders import SourceFile, collect, file_ids
from index.json_records import read_records
from index.metadata import read_header, read_html_head

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_MB = 1024 * 1024
_KEEP_CHARS = 64 * _MB  # article text held between the two passes of iter_articles
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # control characters but \t \n \f \r
Item = RawArticle | FileProblem


def iter_articles(paths: Sequence[str | Path], max_file_mb: float = 20.0) -> Iterator[Item]:
    """Yield one ``RawArticle`` per article found in ``paths`` (files or folders, walked
    recursively in sorted order) and one ``FileProblem`` per input that could not be used."""
    if isinstance(paths, str | Path):
        paths = [paths]  # one path given bare, not a list of characters
    files: list[SourceFile] = []
    for given in paths:
        yield from collect(Path(given), files)
    ids = file_ids(files)
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
    files: list[SourceFile] = []
    for given in paths:
        for _ in collect(Path(given), files):
            pass
    return [f.path for f in files]


def _read(f: SourceFile, stem: str, limit: int, max_mb: float) -> Iterator[Item]:
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
        yield from read_records(text, path, source, stem, suffix == ".jsonl")
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
