"""Where the files of a store live, and which generation of them is current.

A store folder holds the Chroma database (``chroma/``, when embedded), the uploads
(``uploads/``: files the UI received; they belong to the store, not to a generation, so a
rebuild indexes them again), and the manifest and keyword index of its *current
generation*. ``assistant index --rebuild`` builds a whole new generation beside the current
one (``gen-N/``, with a Chroma collection of its own) and switches to it by rewriting the
one-line file ``CURRENT`` atomically. So a rebuild never deletes anything before the new
index is complete, and processes that are answering questions keep reading the old
generation until the switch, then follow it on their next question (:class:`Pointer`).
Generation 0 is the layout of stores that were never rebuilt this way: manifest and
keyword index at the top of the folder.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from assistant.kernel.errors import StoreError

CURRENT = "CURRENT"
_GEN_DIR = re.compile(r"gen-(\d+)$")


def uploads_dir(store_dir: str | Path) -> Path:
    """The store's folder of uploaded files (outside every generation)."""
    return Path(store_dir) / "uploads"


@dataclass(frozen=True)
class Generation:
    """One complete index: a manifest, a keyword index and a Chroma collection."""

    number: int
    root: Path  # the folder holding its manifest and keyword index
    collection: str

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.sqlite"

    @property
    def keyword(self) -> Path:
        return self.root / "bm25"


def generation(store_dir: Path, collection: str, number: int) -> Generation:
    """Generation ``number`` of the store (0: the top-level layout)."""
    if number == 0:
        return Generation(0, Path(store_dir), collection)
    return Generation(number, Path(store_dir) / f"gen-{number}", f"{collection}-g{number}")


def current_number(store_dir: Path) -> int:
    """The number written in ``CURRENT`` (0 when there is none)."""
    path = Path(store_dir) / CURRENT
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeError) as e:
        raise StoreError(f"cannot read {path} ({e}) — rebuild the index: "
                         "assistant index --rebuild PATH") from e
    if not text.strip().isdigit():
        raise StoreError(f"{path} is damaged — rebuild the index: assistant index --rebuild PATH")
    return int(text)


def current(store_dir: Path, collection: str) -> Generation:
    """The generation readers and incremental index runs use."""
    return generation(store_dir, collection, current_number(store_dir))


def next_number(store_dir: Path) -> int:
    """A generation number no generation folder uses yet (works with a damaged ``CURRENT``)."""
    try:
        now = current_number(store_dir)
    except StoreError:
        now = 0
    used = [int(m[1]) for p in Path(store_dir).glob("gen-*") if (m := _GEN_DIR.match(p.name))]
    return max([now, *used]) + 1


def switch(store_dir: Path, number: int) -> None:
    """Make generation ``number`` current: write ``CURRENT`` beside itself, sync, rename."""
    path = Path(store_dir) / CURRENT
    tmp = path.with_name(CURRENT + ".tmp")
    with open(tmp, "w", encoding="ascii") as handle:
        handle.write(f"{number}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    folder = os.open(store_dir, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)


def remove_files(gen: Generation) -> None:
    """Delete the manifest and keyword index of a generation that is not current (its Chroma
    collection is the vector store's to drop). Open readers keep their open files; one that is
    loading the keyword index right now finishes first (its swap lock)."""
    from assistant.storage.keyword import remove

    remove(gen.keyword)
    if gen.number:
        shutil.rmtree(gen.root, ignore_errors=True)
        return
    for name in ("manifest.sqlite", "manifest.sqlite-wal", "manifest.sqlite-shm"):
        (gen.root / name).unlink(missing_ok=True)


def other_generations(store_dir: Path, collection: str, current_gen: Generation) -> list[Generation]:
    """Generations on disk that are not ``current_gen``: leftovers of a killed rebuild."""
    found = [generation(store_dir, collection, int(m[1])) for p in Path(store_dir).glob("gen-*")
             if (m := _GEN_DIR.match(p.name)) and p.is_dir()]
    if current_gen.number and (Path(store_dir) / "manifest.sqlite").exists():
        found.append(generation(store_dir, collection, 0))
    return [g for g in found if g.number != current_gen.number]


class Pointer:
    """Cheap check, once per question, of whether a rebuild switched generations: the file
    ``CURRENT`` is read again only when its inode or modification time changed."""

    def __init__(self, store_dir: Path) -> None:
        self.path = Path(store_dir) / CURRENT
        self._seen: tuple[int, int] | None = None
        self._number = 0

    def number(self) -> int:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._seen, self._number = None, 0
            return 0
        key = (st.st_ino, st.st_mtime_ns)
        if key != self._seen:
            self._number = current_number(self.path.parent)
            self._seen = key
        return self._number


def manifest_of(store_dir: Path, collection: str = "news") -> Path:
    """The manifest file of a store's current generation (for tools that read a store)."""
    return current(Path(store_dir), collection).manifest
