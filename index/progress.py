"""An index run on a terminal: tqdm bars per stage while it runs, and the report after it.

Used by the CLI, the first-run seeding, and the benchmarks that build indexes.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

from assistant.kernel.records import IndexReport, RemovedArticle, printable


class ProgressBars:
    """A progress hook for ``Assistant.index`` drawing a tqdm bar per stage on stderr.
    ``close(report)`` clears them, so a message printed after a failed run starts its own
    line, and prints the problems the report does not list (each problem is shown once)."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}
        self.problems: list[str] = []

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage.startswith("problem: "):
            self.problems.append(stage.removeprefix("problem: "))
            return
        if total <= 0:
            tqdm.write(f"  {stage}…", file=sys.stderr)
            return
        bar = self.bars.get(stage)
        if bar is None or bar.total != total:
            if bar is not None:
                bar.close()
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="chunk", file=sys.stderr,
                                          leave=False)
        bar.update(done - bar.n)

    def close(self, report: IndexReport | None = None) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
        listed = ({str(p) for p in report.failed} | {f"warning: {p}" for p in report.warnings}
                  if report else set())
        for problem in self.problems:
            if problem not in listed:  # a repaired store; every file problem if the run failed
                print("  ! " + problem, file=sys.stderr)
        self.problems.clear()


def progress_bar() -> ProgressBars:
    """A fresh set of progress bars (see :class:`ProgressBars`)."""
    return ProgressBars()


def index_report(r: IndexReport) -> str:
    """What an index run did, in a few lines."""
    lines = [
        f"indexed in {r.seconds:.1f}s: {r.added} added, {r.updated} updated, {r.unchanged} unchanged,"
        f" {r.removed} removed",
        f"chunks written: {r.chunks} (embedded {r.embedded}, reused identical text {r.reused})",
    ]
    rebuilt, shards = r.keyword_shards
    if rebuilt:
        lines.append(f"keyword index: rebuilt {rebuilt} of {shards} shard{'s' if shards > 1 else ''}")
    if r.repaired:
        lines.append(f"repaired {r.repaired} article(s) left half-written by an interrupted run")
    if r.unfinished:
        lines.append(f"{len(r.unfinished)} article(s) an interrupted run was writing are not in "
                     "this run's folders — index them again: " + ", ".join(r.unfinished[:5])
                     + (" …" if len(r.unfinished) > 5 else ""))
    if r.restored:
        lines.append(f"restored {r.restored} vector(s) missing from the vector store (from the manifest)")
    if r.kept_uploads:
        lines.append(f"kept {r.kept_uploads} uploaded article(s): the rebuild indexed the store's "
                     "uploads/ again (--drop-uploads leaves them out)")
    lines += removed_lines(r)
    if r.failed:
        lines.append(f"{len(r.failed)} file(s) could not be indexed:")
        lines += [f"  {p}" for p in r.failed]
    if r.warnings:
        lines.append(f"{len(r.warnings)} file(s) indexed with a warning:")
        lines += [f"  warning: {p}" for p in r.warnings]
    return "\n".join(lines)


def removed_lines(r: IndexReport, folders: int = 10) -> list[str]:
    """One line per folder (the first ``folders``) the run's removed articles came from: how
    many, which files, and after a rebuild the command that brings them back."""
    by_folder: dict[str, list[RemovedArticle]] = {}
    for article in r.removed_articles:
        by_folder.setdefault(article.origin, []).append(article)
    lines = []
    for folder, articles in list(by_folder.items())[:folders]:
        names = list(dict.fromkeys(printable(a.file_name) for a in articles))
        what = (f"{len(articles)} article(s){f' from {printable(folder)}' if folder else ''} "
                f"({', '.join(names[:5])}{f' and {len(names) - 5} more' if len(names) > 5 else ''})")
        if not r.rebuild:
            lines.append(f"removed {what}: no longer in the folders indexed")
        else:
            again = (f"assistant index {shlex.quote(printable(folder))}" if folder
                     else "index their files again")
            lines.append(f"not brought back by the rebuild: {what} — to get them back: {again}")
    if len(by_folder) > folders:
        lines.append(f"  … and removed articles from {len(by_folder) - folders} more folder(s)")
    return lines
