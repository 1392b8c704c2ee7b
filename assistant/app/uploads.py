"""Files uploaded in the UI: copied into ``<store>/uploads`` under safe names, then indexed.

The browser names the file, so the name is hostile until proven otherwise: :func:`safe_name`
keeps it inside the uploads folder and to a type the readers support
(``index.folders.SUPPORTED``). Two uploads never replace each other (:func:`save_upload`).
Nothing here knows Gradio: ``ui`` turns the outcome into notices and HTML.
"""

from __future__ import annotations

import filecmp
import hashlib
import itertools
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from assistant.kernel.records import FileProblem, IndexReport
from assistant.storage import generations
from index.folders import SUPPORTED

if TYPE_CHECKING:
    import threading

    from assistant.app.assistant import Assistant


class Received(NamedTuple):
    """What became of one batch of uploads."""

    report: IndexReport | None  # None: nothing was indexed
    problems: list[FileProblem]  # refused, unsaved or unreadable files, by the user's name
    indexed: list[str]  # the names they were saved and indexed under


def safe_name(name: str) -> str | None:
    """A file name safe to create in the uploads folder, or None if nothing usable is left.

    Directories are stripped (both separators), characters outside ``[A-Za-z0-9._-]``
    become ``_``, the name is shortened *before* leading dots and dashes are dropped (no
    hidden or option-like files, no ``..``), and the extension must be one the readers
    support. A name with nothing Latin left ("новости.txt") gets a stable hashed name.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    suffix = Path(base).suffix
    if suffix.lower() not in SUPPORTED:
        return None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", base[: -len(suffix)])[-100:].lstrip("._-")
    if not stem.strip("_"):
        stem = "upload-" + hashlib.sha1(base.encode()).hexdigest()[:10]
    return stem + suffix.lower()


def save_upload(incoming: Path, folder: Path, name: str) -> Path:
    """Copy an uploaded file into ``folder`` as ``name`` (from ``safe_name``) and return
    where it went. Names that sanitise alike ("a b.txt", "a&b.txt") must not replace each
    other: when ``name`` is taken by a file with other content, the copy gets ``stem-2``,
    ``stem-3``, ... A file with the same content is reused (uploading it again adds nothing).
    The target is created exclusively, so two uploads at once never write one file."""
    suffix = Path(name).suffix
    stem = name[: -len(suffix)] if suffix else name
    for n in itertools.count(1):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            dst = open(target, "xb")  # noqa: SIM115 (closed below)
        except FileExistsError:
            if target.is_file() and filecmp.cmp(target, incoming, shallow=False):
                return target
            continue
        try:
            with dst, open(incoming, "rb") as src:
                shutil.copyfileobj(src, dst)
        except BaseException:
            target.unlink(missing_ok=True)  # no half-copied file left behind
            raise
        return target
    raise AssertionError("unreachable")  # pragma: no cover


def receive(assistant: Assistant, files: Iterable[Path], lock: threading.Lock,
            progress: Callable[[str, int, int], None]) -> Received:
    """Save ``files`` into ``<store>/uploads`` and index them (holding ``lock``: one index
    run at a time). Files refused or not indexed are listed, not raised."""
    settings = assistant.settings
    folder = generations.uploads_dir(settings.store_dir)
    folder.mkdir(parents=True, exist_ok=True)
    limit = settings.max_file_mb * 1024 * 1024
    rejected: list[FileProblem] = []
    accepted: list[Path] = []
    for path in files:
        name = safe_name(path.name)
        if name is None:
            rejected.append(FileProblem(path.name, f"only {' '.join(SUPPORTED)} files"))
        elif path.stat().st_size > limit:
            rejected.append(FileProblem(name, f"larger than {settings.max_file_mb:g} MB"))
        else:
            try:
                saved = save_upload(path, folder, name)  # never over a different file
            except OSError as e:
                rejected.append(FileProblem(name, f"could not be saved: {e.strerror or e}"))
            else:
                if saved not in accepted:  # the same content twice in one batch
                    accepted.append(saved)
    report = None
    if accepted:
        with lock:
            report = assistant.index(accepted, keep_missing=True, progress=progress)
    # the report names files by their server path; the user knows them by name
    failed = [FileProblem(Path(p.path).name, p.reason) for p in (report.failed if report else ())]
    indexed = [p.name for p in accepted if p.name not in {f.path for f in failed}]
    return Received(report, rejected + failed, indexed)
