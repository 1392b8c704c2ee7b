"""Plain-text rendering of results for the terminal (the CLI's only formatting)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from assistant.kernel.answers import Answer
from assistant.kernel.records import Status
from assistant.retrieve.filters import describe, undated_left_out


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
    from assistant.kernel.errors import AssistantError

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
