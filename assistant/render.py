"""Plain-text rendering of results for the terminal (the CLI's only formatting)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from assistant.filters import describe, undated_left_out
from assistant.types import Answer
from index.models import IndexReport, Status


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
    lines = [
        f"indexed in {r.seconds:.1f}s: {r.added} added, {r.updated} updated, {r.unchanged} unchanged,"
        f" {r.removed} removed",
        f"chunks written: {r.chunks} (embedded {r.embedded}, reused identical text {r.reused})",
    ]
    if r.repaired:
        lines.append(f"repaired {r.repaired} article(s) left half-written by an interrupted run")
    if r.unfinished:
        lines.append(f"{len(r.unfinished)} article(s) an interrupted run was writing are not in "
                     "this run's folders — index them again: " + ", ".join(r.unfinished[:5])
                     + (" …" if len(r.unfinished) > 5 else ""))
    if r.restored:
        lines.append(f"restored {r.restored} vector(s) missing from the vector store (from the manifest)")
    if r.failed:
        lines.append(f"{len(r.failed)} file(s) could not be indexed:")
        lines += [f"  {p}" for p in r.failed]
    if r.warnings:
        lines.append(f"{len(r.warnings)} file(s) indexed with a warning:")
        lines += [f"  warning: {p}" for p in r.warnings]
    return "\n".join(lines)


def status(s: Status) -> str:
    size = s.size_bytes / 1e6
    dates = f"{s.first_date} .. {s.last_date}" if s.first_date else "no dates"
    return "\n".join([
        f"articles: {s.articles}   chunks: {s.chunks}   story clusters: {s.clusters}",
        f"store: {s.store_dir} ({size:.1f} MB)   vectors: {s.backend}",
        f"published: {dates}   last indexed: {s.last_indexed or 'never'}",
        f"outlets: {', '.join(s.sources) if s.sources else '-'}",
        *([f"PROBLEM: {s.missing_vectors} of {s.chunks} passages have no vector — restore them "
           "from the manifest with assistant index PATH (any folder you indexed), or rebuild "
           "with assistant index --rebuild PATH (all of them)"] if s.missing_vectors else []),
    ])


CLI_INCLUDE_HINT = "--include-undated includes them"


def answer(a: Answer, width: int = 100,
           include_hint: str = "include undated articles to search them too") -> str:
    """The answer, its notes, filters, news facts and sources as plain text. ``include_hint``
    says how to include the undated articles a date filter left out (the CLI names its flag)."""
    out = [textwrap.fill(a.text, width)]
    if a.as_of and not a.abstained:
        out.append(f"(as of {a.as_of})")
    if a.filters.active:
        hint = f" ({include_hint})" if undated_left_out(a.filters) else ""
        out.append(f"filters: {describe(a.filters)}{hint}")
    for note in a.notes:
        out.append(f"note: {note}")
    for conflict in a.conflicts:
        what = "contradicts itself" if conflict.same_article else "conflict"
        out.append(f"{what} ({conflict.kind}): " + " vs ".join(
            f"{cl.value!r} {''.join(f'[{n}]' for n in cl.citations)}" for cl in conflict.claims))
    if a.reported_by > 1:
        named = f" ({', '.join(a.outlets)})" if a.outlets else ""
        out.append(f"reported by {a.reported_by} articles{named}, "
                   f"{a.independent} independent stor{'y' if a.independent == 1 else 'ies'}")
    if a.citations:
        out.append("")
        out.append("Sources:")
    for c in a.citations:
        head = f"[{c.number}] {c.title}"
        meta = " · ".join(x for x in (c.source, c.published) if x)
        out.append(head + (f" — {meta}" if meta else ""))
        for q in c.quotes:
            out.append(textwrap.fill(f"“{q.quote}”", width, initial_indent="    ",
                                     subsequent_indent="    "))
        if c.resolved_dates:
            out.append("    dates: " + "; ".join(f"{t} = {d}" for t, d in c.resolved_dates))
    if a.abstained and a.closest:
        out.append("")
        out.append("Closest passages:")
        for p in a.closest:
            out.append(f"  - {p.title} ({p.source or p.doc_id}): "
                       f"{textwrap.shorten(p.text, 160)}")
    return "\n".join(out)


def repl(assistant: Any, since: str | None, until: str | None, sources: Sequence[str],
         include_undated: bool | None = None) -> int:
    """Read questions from stdin until EOF or 'exit'; follow-ups use the conversation."""
    from index.errors import AssistantError

    session = assistant.chat()
    print("Ask about the indexed articles. 'clear' forgets the conversation, 'exit' quits.")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            print()
            return 0
        if question in ("exit", "quit"):
            return 0
        if question == "clear":
            session.clear()
            print("Conversation cleared: the next question starts a new one.")
            continue
        if not question:
            continue
        try:
            print(answer(session.ask(question, since=since, until=until, sources=sources,
                                     include_undated=include_undated), include_hint=CLI_INCLUDE_HINT))
        except AssistantError as e:
            print(f"assistant: {e}")
        print()
