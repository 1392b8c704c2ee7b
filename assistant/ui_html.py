"""HTML for the chat UI: answers with clickable [n] markers, the source panel, the sidebar.

Every string that comes from an article or a user (titles, quotes, passages, outlets,
questions, file names, error messages) goes through :func:`esc` before it is placed in
HTML; nothing else here builds markup from outside text. The chat renders these strings
as HTML with Markdown switched off, so article text cannot inject markup or Markdown.

A marker links to ``#cite-<turn>-<n>``: the page script (``ui.HEAD``) turns a click on
such a link into a request for that citation, and the server answers with
:func:`sources_panel` for that turn, the cited sentence wrapped in ``<mark class="hl">``.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

from assistant.types import Answer, Citation, Conflict
from index.models import Article, FileProblem, IndexReport, Status


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


def highlighted(text: str, start: int, end: int) -> str:
    """``text`` with ``text[start:end]`` wrapped in ``<mark class="hl">``; each part escaped."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    return (esc(text[:start]) + '<mark class="hl">' + esc(text[start:end]) + "</mark>"
            + esc(text[end:]))


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
    parts = []
    for s in shown:
        marks = "".join(cite_link(turn, n, titles.get(n, "")) for n in s.citations)
        flag = ("" if s.supported
                else ' <span class="unsupported">(not supported by the sources)</span>')
        parts.append(f"{esc(s.text.rstrip())} {marks}{flag}")
    body = f'<div class="msg-a">{" ".join(parts)}</div>'
    if upto is not None and upto < len(answer.sentences):
        return body
    return body + _answer_footer(answer)


def _answer_footer(answer: Answer) -> str:
    bits = []
    if answer.as_of:
        bits.append(f"as of {esc(answer.as_of)}")
    if answer.reported_by > 1:
        bits.append(f"reported by {answer.reported_by} sources{_stories(answer)}")
    if answer.conflicts:
        bits.append(f'<span class="warn">sources disagree ({len(answer.conflicts)})</span>')
    notes = "".join(f'<div class="note">{esc(n)}</div>' for n in answer.notes)
    line = f'<div class="msg-meta">{" · ".join(bits)}</div>' if bits else ""
    return line + notes


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
            f"{notes}{closest}</div>")


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
    return (f'<div class="conflict"><div class="conflict-title">Sources disagree on a '
            f'{esc(conflict.kind)}</div><div class="claims">{claims}</div>{note}</div>')


def _article_card(c: Citation, article: Article | None) -> str:
    if article is not None and article.text[c.start:c.end] == c.quote:
        body = highlighted(article.text, c.start, c.end)
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
            f"<blockquote>{esc(c.quote)}</blockquote>{_dates(c)}</li>")


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


# --- static page parts -------------------------------------------------------------
HEADER = ('<div class="app-head"><div class="app-title">News assistant</div>'
          '<div class="app-sub">Answers quote the indexed articles and nothing else. '
          "Click a marker like [1] to read the sentence in its article.</div></div>")
CHAT_PLACEHOLDER = ('<div class="chat-hint"><b>Ask a question about the indexed news.</b><br>'
                    "Every sentence of an answer is quoted from an article; when none answers, "
                    "the assistant says so.</div>")

# The page script: a click on any "#cite-<turn>-<n>" link (answer markers, source list,
# conflict claims) asks the server for that citation through a hidden button, instead
# of navigating. Markup arrives sanitised (data-* attributes are dropped), so the link's
# href is the only channel.
HEAD = """<script>
(() => {
  const REF = /^#cite-(\\d+)-(\\d+)$/;
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href^="#cite-"]') : null;
    const m = link ? REF.exec(link.getAttribute('href') || '') : null;
    if (!m) return;
    event.preventDefault();
    event.stopPropagation();
    window.newsAssistantCite = m[1] + '-' + m[2];
    const go = document.getElementById('cite-go');
    if (go) go.click();
  }, true);
})();
</script>"""
READ_CITE_JS = "(target, session) => [window.newsAssistantCite || target, session]"
SCROLL_MARK_JS = """() => { setTimeout(() => {
  const m = document.querySelector('#sources mark.hl');
  if (m) m.scrollIntoView({block: 'center'});
}, 50); }"""
SCROLL_BOX_JS = """() => { setTimeout(() => {
  const m = document.querySelector('#sources mark.hl');
  const box = m ? m.closest('.src-text') : null;
  if (box) box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3);
}, 50); }"""

CSS = """
#main { gap: 20px; }
.app-head { padding: 4px 2px 8px; }
.app-title { font-size: 1.35rem; font-weight: 700; }
.app-sub, .muted { color: var(--body-text-color-subdued); font-size: .88rem; }
#chat .msg-q, #chat .msg-a { line-height: 1.55; }
#chat .msg-pending { color: var(--body-text-color-subdued); font-style: italic; }
#chat .msg-meta { margin-top: 6px; font-size: .8rem; color: var(--body-text-color-subdued); }
#chat .msg-abstain .abstain { font-weight: 600; }
#chat .closest-title { margin-top: 8px; font-size: .85rem; font-weight: 600; }
#chat ul.closest { margin: 4px 0 0 18px; font-size: .85rem; }
#chat .msg-error { color: var(--error-text-color); }
.note { font-size: .82rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.warn { color: #b45309; font-weight: 600; }
.unsupported { color: #b91c1c; font-size: .8rem; }
a.cite, span.cite { display: inline-block; padding: 0 5px; margin: 0 1px; border-radius: 6px;
  background: var(--color-accent-soft); color: var(--color-accent) !important;
  font-size: .78em; font-weight: 600; text-decoration: none !important; vertical-align: 1px; }
a.cite:hover { background: var(--color-accent); color: white !important; }
#sources { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 14px;
  background: var(--block-background-fill); min-height: 62vh; max-height: 78vh; overflow-y: auto; }
.src-empty { color: var(--body-text-color-subdued); padding: 24px 8px; text-align: center; }
.src-summary { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 10px; }
.pill { background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  border-radius: 999px; padding: 2px 10px; font-size: .8rem; }
.conflict { border: 1px solid #f59e0b; border-radius: 10px; padding: 8px 10px; margin-bottom: 10px;
  background: rgba(245, 158, 11, .07); }
.conflict-title { font-weight: 600; font-size: .88rem; margin-bottom: 6px; }
.claims { display: flex; gap: 8px; }
.claim { flex: 1; border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 6px 8px; }
.claim-value { font-weight: 600; }
.src-article { border: 1px solid var(--color-accent); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 12px; }
.src-title { font-weight: 650; }
.src-meta { font-size: .8rem; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.src-dates { font-size: .8rem; margin-bottom: 6px; }
.src-text { position: relative; white-space: pre-wrap; max-height: 34vh; overflow-y: auto;
  font-size: .9rem; line-height: 1.55; padding-right: 6px; }
mark.hl { background: #fde68a; color: inherit; padding: 1px 0; border-radius: 3px;
  box-shadow: 0 0 0 2px #fde68a; }
.src-list-title { font-weight: 600; font-size: .88rem; margin: 4px 0 6px; }
ol.src-list { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column;
  gap: 8px; }
.src-item { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 8px 10px; }
.src-item.active { border-color: var(--color-accent); background: var(--color-accent-soft); }
.src-item a.src-link { font-weight: 600; text-decoration: none; color: inherit; }
.src-item blockquote { margin: 4px 0 0; padding-left: 8px;
  border-left: 3px solid var(--color-accent); font-size: .86rem; white-space: pre-wrap; }
.num { color: var(--color-accent); font-weight: 700; }
.status { font-size: .9rem; line-height: 1.5; min-height: 96px; }
#upload-report { min-height: 40px; }
.chat-hint { text-align: center; color: var(--body-text-color-subdued); max-width: 420px;
  margin: auto; }
.upload-report { font-size: .85rem; }
.upload-report ul { margin: 2px 0 0 16px; }
#examples button { font-size: .8rem; }
"""
