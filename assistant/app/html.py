"""HTML for the chat UI: answers with clickable [n] markers, the source panel, the sidebar.

Every string that comes from an article or a user (titles, quotes, passages, outlets,
questions, file names, error messages) goes through :func:`esc` before it is placed in
HTML; nothing else here builds markup from outside text. The chat renders these strings
as HTML with Markdown switched off, so article text cannot inject markup or Markdown.

A marker links to ``#cite-<turn>-<n>``: the page script (``page.HEAD``) turns a click on
such a link into a request for that citation, and the server answers with
:func:`sources_panel` for that turn, the cited sentence wrapped in ``<mark class="hl">``.
The page's fixed parts (CSS, script, header texts) live in :mod:`assistant.app.page`.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

from assistant.app import render
from assistant.kernel.answers import Answer, Citation, Conflict
from assistant.kernel.records import Article, FileProblem, IndexReport, Status
from assistant.retrieve.filters import describe, undated_left_out


def esc(text: object) -> str:
    """``text`` safe to place in HTML content or a quoted attribute (``None`` -> "")."""
    return html.escape("" if text is None else str(text), quote=True)


def meta_line(source: str | None, published: str | None) -> str:
    """'outlet · date' (escaped), or 'unknown outlet' when neither is known."""
    parts = [esc(x) for x in (source, published) if x]
    return " · ".join(parts) if parts else "unknown outlet"


def cite_link(turn: int, number: int, title: str = "") -> str:
    """A clickable ``[n]`` marker that shows citation ``number`` of chat turn ``turn``."""
    return (f'<a class="cite" href="#cite-{turn}-{number}" title="{esc(title)}">'
            f"[{number}]</a>")


def highlighted(text: str, start: int, end: int, also: Sequence[tuple[int, int]] = ()) -> str:
    """``text`` with ``text[start:end]`` wrapped in ``<mark class="hl">`` and the other quoted
    sentences ``also`` (that do not overlap it) in ``<mark class="hl-also">``; each part escaped."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    others = [(max(0, s), min(e, len(text)), "hl-also") for s, e in also if e <= start or s >= end]
    marks = [(start, end, "hl"), *others]
    out, at = [], 0
    for s, e, cls in sorted(marks):
        if s < at:
            continue  # overlaps the one before: left unmarked
        out.append(esc(text[at:s]) + f'<mark class="{cls}">' + esc(text[s:e]) + "</mark>")
        at = e
    return "".join(out) + esc(text[at:])


def user_message(question: str) -> str:
    """The user's chat bubble."""
    return f'<div class="msg-q">{esc(question)}</div>'


def pending_message() -> str:
    """What the assistant bubble shows while the articles are searched."""
    return '<div class="msg-pending"><span class="dots"></span> Searching the articles…</div>'


def answer_message(answer: Answer, turn: int, upto: int | None = None) -> str:
    """The assistant's chat bubble; ``upto`` shows only the first sentences (streaming)."""
    if answer.abstained:
        return _abstain_message(answer)
    titles = {c.number: c.title for c in answer.citations}
    shown = answer.sentences if upto is None else answer.sentences[:upto]
    parts = [coverage_line(answer, turn)] if answer.coverage else []
    for s in shown:
        marks = "".join(cite_link(turn, n, titles.get(n, "")) for n in s.citations)
        if s.short:  # the value asked for, ahead of the sentence it is copied from
            parts.append(f'<b class="short">{esc(s.text.strip())}</b> {marks} —')
            continue
        flag = ("" if s.supported
                else ' <span class="unsupported">(not supported by the sources)</span>')
        parts.append(f"{esc(s.text.rstrip())} {marks}{flag}")
    body = f'<div class="msg-a">{" ".join(parts)}</div>'
    if upto is not None and upto < len(answer.sentences):
        return body
    return body + _answer_footer(answer) + copy_button(answer)


def coverage_line(answer: Answer, turn: int) -> str:
    """The line answering a question about the coverage ("Reported by Reuters [1] …"), its
    markers clickable; outlets and titles escaped."""
    if answer.coverage is None:
        return ""
    from assistant.answer.coverage import line

    text = esc(line(answer.coverage, answer.independent))
    for _, number, _ in answer.coverage.reports:  # markers were escaped as plain "[n]"
        text = text.replace(f"[{number}]", cite_link(turn, number), 1)
    return f'<span class="coverage">{text}</span>'


def copy_button(answer: Answer) -> str:
    """The answer's own copy button, with the text it copies: the answer with its sources
    as plain text (what the copy box shows), escaped, in a hidden element beside it (the
    chat drops data-* attributes, so the page script reads the text from there)."""
    return ('<div class="msg-copy"><button class="copy-btn" type="button" '
            'title="Copy this answer with its sources as plain text">Copy answer</button>'
            f'<div class="copy-text" hidden>{esc(render.answer(answer))}</div></div>')


def _answer_footer(answer: Answer) -> str:
    bits = []
    if answer.as_of:
        bits.append(f"as of {esc(answer.as_of)}")
    if answer.reported_by > 1:
        bits.append(f"reported by {answer.reported_by} sources{_stories(answer)}")
    apart = [c for c in answer.conflicts if not c.same_article]
    if apart:
        bits.append(f'<span class="warn">sources disagree ({len(apart)})</span>')
    if len(apart) < len(answer.conflicts):
        bits.append('<span class="warn">an article contradicts itself '
                    f"({len(answer.conflicts) - len(apart)})</span>")
    notes = "".join(f'<div class="note">{esc(n)}</div>' for n in answer.notes)
    line = f'<div class="msg-meta">{" · ".join(bits)}</div>' if bits else ""
    return line + filters_line(answer) + notes


def filters_line(answer: Answer) -> str:
    """The filters the answer was asked with, and how to include the undated articles a date
    range left out (empty without filters)."""
    if not answer.filters.active:
        return ""
    hint = (" — tick “Include undated articles” to include them"
            if undated_left_out(answer.filters) else "")
    return f'<div class="note filters">Filters: {esc(describe(answer.filters) + hint)}</div>'


def _abstain_message(answer: Answer) -> str:
    notes = "".join(f'<div class="note">{esc(n)}</div>' for n in answer.notes)
    closest = ""
    if answer.closest:
        items = "".join(
            f"<li><b>{esc(p.title)}</b> <span class=\"muted\">({meta_line(p.source, p.published)})"
            f"</span><br>{esc(textwrap.shorten(p.text, 220, placeholder=' …'))}</li>"
            for p in answer.closest)
        closest = (f'<div class="closest-title">Closest passages</div>'
                   f'<ul class="closest">{items}</ul>')
    return (f'<div class="msg-abstain"><div class="abstain">{esc(answer.text)}</div>'
            f"{filters_line(answer)}{notes}{closest}</div>{copy_button(answer)}")


def error_message(message: str) -> str:
    """An assistant bubble saying the question could not be answered, and why."""
    return f'<div class="msg-error">{esc(message)}</div>'


def empty_panel() -> str:
    """The source panel before any question."""
    return ('<div class="src-empty">Sources appear here. Click a marker such as '
            '<span class="cite">[1]</span> in an answer to read the cited sentence in its '
            "article.</div>")


def sources_panel(answer: Answer, turn: int, active: int | None = None,
                  article: Article | None = None) -> str:
    """The source panel for one answer: summary, conflicts, the active article, all sources.

    ``article`` is the full article of citation ``active``; without it the passage the
    sentence was found in is shown instead.
    """
    if answer.abstained:
        return _closest_panel(answer)
    head = _summary(answer)
    conflicts = "".join(_conflict(c, turn) for c in answer.conflicts)
    by_number = {c.number: c for c in answer.citations}
    current = by_number.get(active) if active is not None else None
    card = _article_card(current, article) if current else ""
    items = "".join(_source_item(c, turn, c.number == active) for c in answer.citations)
    return (f'<div class="src-panel">{head}{conflicts}{card}'
            f'<div class="src-list-title">All sources of this answer</div>'
            f'<ol class="src-list">{items}</ol></div>')


def _stories(answer: Answer) -> str:
    """How many independent stories those sources are (copies of one story count once)."""
    if answer.independent >= answer.reported_by or answer.independent < 1:
        return ""
    return f", {answer.independent} independent stor{'y' if answer.independent == 1 else 'ies'}"


def _summary(answer: Answer) -> str:
    bits = []
    if answer.as_of:
        bits.append(f'<span class="pill">as of {esc(answer.as_of)}</span>')
    if answer.reported_by > 1:
        outlets = ", ".join(esc(o) for o in answer.outlets)
        bits.append(f'<span class="pill">reported by {answer.reported_by} sources'
                    f"{' (' + outlets + ')' if outlets else ''}{_stories(answer)}</span>")
    return f'<div class="src-summary">{"".join(bits)}</div>' if bits else ""


def _conflict(conflict: Conflict, turn: int) -> str:
    claims = "".join(
        f'<div class="claim"><div class="claim-value">{esc(cl.value)}</div>'
        f'<div class="claim-cites">{"".join(cite_link(turn, n) for n in cl.citations)}'
        f'{" · " + esc(cl.published) if cl.published else ""}</div></div>'
        for cl in conflict.claims)
    note = f'<div class="muted">{esc(conflict.note)}</div>' if conflict.note else ""
    title = ("This article contradicts itself on a" if conflict.same_article
             else "Sources disagree on a")
    return (f'<div class="conflict"><div class="conflict-title">{title} '
            f'{esc(conflict.kind)}</div><div class="claims">{claims}</div>{note}</div>')


def _article_card(c: Citation, article: Article | None) -> str:
    if article is not None and all(article.text[q.start:q.end] == q.quote for q in c.quotes):
        body = highlighted(article.text, c.start, c.end,
                           tuple((q.start, q.end) for q in c.also))
    else:  # article gone or changed since the answer: show the passage it came from
        body = highlighted(c.passage, c.start - c.passage_start, c.end - c.passage_start)
    dates = _dates(c)
    return (f'<div class="src-article" data-n="{c.number}">'
            f'<div class="src-title"><span class="num">[{c.number}]</span> {esc(c.title)}</div>'
            f'<div class="src-meta">{meta_line(c.source, c.published)}</div>{dates}'
            f'<div class="src-text">{body}</div></div>')


def _dates(c: Citation) -> str:
    if not c.resolved_dates:
        return ""
    items = "; ".join(f"“{esc(t)}” = {esc(d)}" for t, d in c.resolved_dates)
    return f'<div class="src-dates">dates in the quote: {items}</div>'


def _source_item(c: Citation, turn: int, active: bool) -> str:
    cls = "src-item active" if active else "src-item"
    return (f'<li class="{cls}"><a class="src-link" href="#cite-{turn}-{c.number}">'
            f'<span class="num">[{c.number}]</span> {esc(c.title)}</a>'
            f'<div class="src-meta">{meta_line(c.source, c.published)}</div>'
            + "".join(f"<blockquote>{esc(q.quote)}</blockquote>" for q in c.quotes)
            + f"{_dates(c)}</li>")


def _closest_panel(answer: Answer) -> str:
    if not answer.closest:
        return '<div class="src-empty">No passage came close to this question.</div>'
    items = "".join(
        f'<li class="src-item"><div class="src-title">{esc(p.title)}</div>'
        f'<div class="src-meta">{meta_line(p.source, p.published)}</div>'
        f"<blockquote>{esc(p.text)}</blockquote></li>" for p in answer.closest)
    return (f'<div class="src-panel"><div class="src-list-title">No source answers this. '
            f'Closest passages:</div><ol class="src-list">{items}</ol></div>')


def status_panel(status: Status | None, message: str = "") -> str:
    """The index status box of the sidebar (``status=None``: no index yet)."""
    if status is None:
        return f'<div class="status">No index yet. {esc(message)}</div>'
    dates = (f"{esc(status.first_date)} – {esc(status.last_date)}" if status.first_date
             else "no dates")
    return (f'<div class="status"><div><b>{status.articles}</b> articles · <b>{status.chunks}</b>'
            f" chunks · <b>{status.clusters}</b> stories</div>"
            f'<div class="muted">published {dates}</div>'
            f'<div class="muted">last indexed {esc(status.last_indexed or "never")}</div>'
            + (f'<div class="warn">{status.missing_vectors} of {status.chunks} passages have no '
               "vector: answers would use keywords only. Restore them with "
               "<code>assistant index</code> of any folder you indexed.</div>"
               if status.missing_vectors else "")
            + f"{'<div>' + esc(message) + '</div>' if message else ''}</div>")


def upload_report(report: IndexReport | None, problems: Sequence[FileProblem] = (),
                  names: Sequence[str] = ()) -> str:
    """What an upload did: the files indexed, then one line per file that was not."""
    done = ""
    if report is not None:
        done = (f"<div>{report.added} added, {report.updated} updated, {report.unchanged} unchanged"
                f"{': ' + esc(', '.join(names)) if names else ''}</div>")
    failed = ""
    if problems:
        items = "".join(f"<li>{esc(p.path)}: {esc(p.reason)}</li>" for p in problems)
        failed = (f'<div class="warn">{len(problems)} file(s) not indexed:</div>'
                  f'<ul class="problems">{items}</ul>')
    return f'<div class="upload-report">{done}{failed}</div>'
