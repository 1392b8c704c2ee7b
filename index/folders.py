"""Which files a list of paths names, and the id and path each file's articles get.

Folders are walked recursively in sorted order, hidden entries skipped, each file read
once however often it is reached (symlinks, a path given twice); an unusable path becomes
a ``FileProblem``. A file's article path is absolute (the folder it was found under
resolved, so the working directory does not matter); its id is its file name without the
extension, made longer only as far as needed to tell apart files that share a name.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from assistant.kernel.records import FileProblem

SUPPORTED = (".htm", ".html", ".json", ".jsonl", ".md", ".txt")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class SourceFile(NamedTuple):
    """One file to read and the folder it was found under."""

    path: Path
    root: Path  # the folder it was found under (its parent when given directly)

    @property
    def source(self) -> str:
        """The absolute path stored as the articles' ``path``: the root resolved, the rest
        as found (a symlinked subfolder stays under its root)."""
        return utf8(str(self.root.resolve() / self.path.relative_to(self.root)))


def source_path(given: str | Path) -> Path:
    """The absolute form of a path given to ``iter_articles``, as its articles' paths
    start: a folder resolved, a file's folder resolved and its name kept."""
    given = Path(given)
    return given.resolve() if given.is_dir() else given.parent.resolve() / given.name


def collect(given: Path, files: list[SourceFile]) -> Iterator[FileProblem]:
    """Append the files under ``given`` to ``files``; yield problems for unusable paths."""
    seen_files = {os.path.realpath(f.path) for f in files}
    seen_dirs: set[str] = set()

    def add(path: Path, root: Path) -> None:
        real = os.path.realpath(path)
        if real not in seen_files:  # the same file reached twice (symlink, repeated arg)
            seen_files.add(real)
            files.append(SourceFile(path, root))

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


def file_ids(files: list[SourceFile]) -> dict[Path, str]:
    """File stem as id; files sharing a stem get their path relative to their root. Control
    characters are escaped, lone surrogates replaced."""
    by_stem: dict[str, list[SourceFile]] = defaultdict(list)
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
    return {path: utf8(_escape_controls(name)) for path, name in ids.items()}


def _escape_controls(name: str) -> str:
    """A file name's control characters as escapes (``\\x1b``): the id stays unique and
    prints as text, never as a terminal command."""
    return _ANY_CONTROL.sub(lambda m: repr(m[0])[1:-1], name)


def utf8(text: str) -> str:
    """Text SQLite and hashing can store: lone surrogates (JSON escapes, undecodable file
    names) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)
