"""The chat UI (Gradio): cited answers, clickable sources, filters, upload, index status.

A thin shell over :class:`assistant.Assistant`: every handler parses what the browser
sent, calls the Python API and renders the result with :mod:`assistant.app.html`. An LLM
answer is shown as its draft while the model writes, then replaced by the verified, cited
answer (``Assistant.ask_stream``). ``build`` makes the app, ``launch`` serves it (and
indexes the seed articles into an empty store as the server starts:
:mod:`assistant.app.seeding`); uploads are saved and indexed by :mod:`assistant.app.uploads`.
The same server serves the named HTTP API for programs (:mod:`assistant.app.api`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.app import access, api, html, page, render, uploads
from assistant.app.seeding import SeedRun
from assistant.kernel.answers import Answer
from assistant.kernel.errors import AssistantError, NoIndexError, StoreError
from assistant.kernel.records import Status
from index.folders import SUPPORTED

if TYPE_CHECKING:
    import gradio as gr

    from assistant.app.assistant import Assistant
    from assistant.app.chat import ChatSession

log = logging.getLogger(__name__)

EXAMPLES = (
    "On which TV channel did Macron speak about security guarantees for Russia?",
    "What did Josep Borrell say about security guarantees?",
    "Who did Macron talk to on the phone before his visit to Moscow?",
)
# System fonts: the default theme would fetch Google Fonts, and the UI must work offline.
_FONTS = ("ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif")
_MONO = ("ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace")
Outputs = tuple[Any, ...]


def launch_options(assistant: Assistant) -> dict[str, Any]:
    """Keyword arguments for ``Blocks.launch`` (Gradio 6 takes css/head/theme there)."""
    import gradio as gr

    return {
        "css": page.CSS, "head": page.HEAD,
        "theme": gr.themes.Soft(font=_FONTS, font_mono=_MONO),
        "max_file_size": int(assistant.settings.max_file_mb * 2**20), "footer_links": [],
        "show_error": False,
    }


def launch(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860,
           auth: str | None = None, seeds: str | Path | None = "seeds", no_auth: bool = False,
           block: bool = True) -> gr.Blocks:
    """Serve the UI on ``host:port`` (optionally behind ``user:password``) until interrupted,
    or with ``block=False`` return the served app at once (``close()`` it when done).

    On an empty store the ``seeds`` folder is indexed from server start, in the background.
    A host other than loopback shares the UI, uploads included, with the network: it needs
    ``auth``, or ``no_auth=True`` to share it without a password on purpose (then a warning
    line goes to stderr). Both are checked before anything is built or served
    (:mod:`assistant.app.access`)."""
    credentials = access.credentials(host, port, auth, no_auth)
    first_run = SeedRun(assistant, seeds)
    demo = build(assistant, first_run=first_run)
    if not first_run.start():  # indexing loads the model; else load it while the server starts
        threading.Thread(target=assistant.embedder, name="load-model", daemon=True).start()
    demo.queue()  # one run per event at a time: asks never wait for an upload being indexed
    demo.launch(server_name=host, server_port=port, auth=credentials, prevent_thread_lock=not block,
                **launch_options(assistant))
    return demo


class _Handlers:
    """What the UI's events do; one instance per app, per-browser state lives in gr.State."""

    def __init__(self, assistant: Assistant, first_run: SeedRun | None) -> None:
        self.assistant = assistant
        self.first_run = first_run or SeedRun(assistant, None)
        self.index_lock = self.first_run.lock  # two tabs must not index at the same time

    # --- index status and first-run indexing -------------------------------------
    def status(self) -> Status | None:
        """What the index holds (None: no index yet); a damaged store is shown as an error."""
        import gradio as gr

        try:
            return self.assistant.status()
        except NoIndexError:
            return None
        except StoreError as e:  # the message names the fix
            raise gr.Error(str(e), print_exception=False) from None

    def startup(self, progress: Any) -> Outputs:
        """On page load: show the status, after the progress of a first run still indexing
        the seeds (it started with the server)."""
        self.first_run.wait(progress)
        status = self.status()
        message = self.first_run.message
        if not message and (status is None or status.articles == 0):
            message = "Upload articles to start."
        return html.status_panel(status, message), _sources_choices(status)

    def upload(self, files: Sequence[str] | None, progress: Any) -> Outputs:
        """Copy uploaded files into <store>/uploads under safe names and index them."""
        import gradio as gr

        if not files:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            report, problems, indexed = uploads.receive(
                self.assistant, map(Path, files), self.index_lock, _progress_hook(progress))
        except AssistantError as e:
            raise gr.Error(str(e), print_exception=False) from None
        if problems:
            gr.Warning(f"{len(problems)} file(s) not indexed — the list is under the upload box.")
        for warning in (report.warnings if report else ()):
            gr.Warning(f"{Path(warning.path).name}: {warning.reason}")
        if indexed:
            gr.Info(f"Indexed {', '.join(indexed)}.")
        status = self.status()
        return (html.upload_report(report, problems, indexed), html.status_panel(status),
                _sources_choices(status), None)

    # --- chat ------------------------------------------------------------------
    def respond(self, question: str, history: list[dict[str, Any]] | None,
                session: ChatSession | None, since: str, until: str,
                sources: Sequence[str] | None, include_undated: bool = False) -> Iterator[Outputs]:
        """Answer in the chat: an LLM's draft as the model writes it, then the answer."""
        import gradio as gr

        if not (question or "").strip():
            gr.Warning("Type a question first.")
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        session = session if session is not None else self.assistant.chat()
        pending = [*(history or []), _msg("user", html.user_message(question)),
                   _msg("assistant", html.pending_message())]
        yield pending, session, gr.skip(), gr.skip(), gr.skip()
        answer, draft, message = None, "", ""
        try:
            self.first_run.wait()  # the first question waits for the seeds being indexed
            for item in session.ask_stream(
                    question, since=(since or "").strip() or None,
                    until=(until or "").strip() or None, sources=list(sources or ()),
                    include_undated=bool(include_undated)):
                if isinstance(item, Answer):
                    answer = item
                    continue
                draft += item
                pending[-1] = _msg("assistant", _draft_message(draft))
                yield pending, session, gr.skip(), gr.skip(), gr.skip()
        except AssistantError as e:  # a user mistake: say what to fix, keep the question to edit
            message = str(e)
        except Exception as e:  # a bug: log the traceback for the operator, show one line
            log.exception("answering %r failed", question)
            message = f"Something went wrong ({type(e).__name__}); the server log has the details."
        if message or answer is None:
            gr.Warning(message)
            pending[-1] = _msg("assistant", html.error_message(message))
            yield pending, session, gr.skip(), gr.skip(), gr.skip()
            return
        turn = len(session.turns) - 1
        pending[-1] = _msg("assistant", html.answer_message(answer, turn))  # replaces the draft
        first = answer.citations[0] if answer.citations else None
        panel = html.sources_panel(answer, turn, first.number if first else None,
                                   self._article(first.doc_id) if first else None)
        yield pending, session, panel, render.answer(answer), ""

    def show_citation(self, target: str, session: ChatSession | None) -> Outputs:
        """The source panel for the citation a clicked marker names ('<turn>-<n>'), and the
        copy box with that marker's answer (an earlier one, when its marker was clicked)."""
        import gradio as gr

        match = re.fullmatch(r"(\d+)-(\d+)", (target or "").strip())
        if session is None or match is None or int(match[1]) >= len(session.turns):
            return gr.skip(), gr.skip()
        turn, number = int(match[1]), int(match[2])
        answer = session.turns[turn].answer
        cited = next((c for c in answer.citations if c.number == number), None)
        article = self._article(cited.doc_id) if cited else None
        return html.sources_panel(answer, turn, number, article), render.answer(answer)

    def clear(self, session: ChatSession | None) -> Outputs:
        if session is not None:
            session.clear()
        return [], session, html.empty_panel(), ""

    def _article(self, doc_id: str) -> Any:
        try:
            return self.assistant.document(doc_id)
        except (KeyError, AssistantError):  # removed since the answer: the panel shows the passage
            return None


def _msg(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "content": content}


def _draft_message(draft: str) -> str:
    """The assistant bubble while an LLM writes: the draft so far (escaped), marked as not
    yet checked against its sources (the checked answer replaces it)."""
    return (f'<div class="msg-a">{html.esc(draft)}</div><div class="msg-pending">'
            '<span class="dots"></span> Checking the draft against its sources…</div>')


def _sources_choices(status: Status | None) -> Any:
    import gradio as gr

    return gr.Dropdown(choices=list(status.sources) if status else [])


def _progress_hook(progress: Any) -> Callable[[str, int, int], None]:
    """Adapt ``Assistant.index``'s (stage, done, total) hook to a ``gr.Progress``."""
    def hook(stage: str, done: int, total: int) -> None:
        if stage.startswith("problem: "):
            return  # problems are listed from the report afterwards
        progress((done, total) if total > 0 else None, desc=stage)

    return hook


def build(assistant: Assistant, first_run: SeedRun | None = None,
          examples: Sequence[str] = EXAMPLES) -> gr.Blocks:
    """The Gradio app: chat on the left, sources on the right, filters/status/upload aside.

    With ``first_run`` (started or not), page loads show its progress and questions wait for
    it. Serve it with ``demo.launch(..., **launch_options(assistant))``, or use ``launch``.
    """
    import gradio as gr

    h = _Handlers(assistant, first_run)
    with gr.Blocks(title="News assistant", fill_width=True) as demo:
        session = gr.State(None)
        with gr.Sidebar(open=True, width=330, elem_id="sidebar"):
            gr.Markdown("### Index")
            status = gr.HTML('<div class="status"></div>', elem_id="status",
                             js_on_load=None)
            gr.Markdown("### Filters")
            since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", elem_id="since")
            until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", elem_id="until")
            undated = gr.Checkbox(label="Include undated articles", elem_id="include-undated",
                                  value=assistant.settings.include_undated)
            outlets = gr.Dropdown(label="Outlets", choices=[], multiselect=True, elem_id="outlets")
            gr.Markdown("### Add articles")
            gr.HTML(page.UPLOAD_NOTE, elem_id="upload-note", js_on_load=None)
            files = gr.File(label=f"{' '.join(SUPPORTED)} · up to "
                                  f"{assistant.settings.max_file_mb:g} MB each",
                            file_count="multiple", file_types=list(SUPPORTED), elem_id="upload")
            upload_out = gr.HTML("", elem_id="upload-report", js_on_load=None)
        with gr.Row(equal_height=False, elem_id="main"):
            with gr.Column(scale=3, min_width=420):
                gr.HTML(page.HEADER, js_on_load=None)
                chat = gr.Chatbot(
                    elem_id="chat", height="62vh", render_markdown=False, sanitize_html=True,
                    latex_delimiters=[], buttons=[], feedback_options=None, show_label=False,
                    placeholder=page.CHAT_PLACEHOLDER)
                with gr.Row(elem_id="ask-row"):
                    question = gr.Textbox(show_label=False, placeholder="Ask about the news…",
                                          elem_id="question", scale=8, max_lines=4, autofocus=True)
                    ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=70)
                    clear = gr.Button("Clear", variant="secondary", elem_id="clear", scale=1,
                                      min_width=70)
                with gr.Row(elem_id="examples"):
                    example_buttons = [gr.Button(q, size="sm", variant="secondary")
                                       for q in examples]
            with gr.Column(scale=2, min_width=340, elem_id="source-col"):
                panel = gr.HTML(html.empty_panel(), elem_id="sources", js_on_load=None)
                plain = gr.Textbox(label="Answer with sources (plain text)", buttons=["copy"],
                                   lines=3, max_lines=10, interactive=False, elem_id="copy-answer")
        cite_target = gr.Textbox(visible="hidden", elem_id="cite-target")
        cite_go = gr.Button("show citation", visible="hidden", elem_id="cite-go")

        def startup(progress: Any = gr.Progress()) -> Outputs:  # noqa: B008 (how Gradio finds it)
            return h.startup(progress)

        def upload(paths: Sequence[str] | None,
                   progress: Any = gr.Progress()) -> Outputs:  # noqa: B008
            return h.upload(paths, progress)

        # The page's own events take and return HTML: hidden from the API, whose endpoints
        # take and return data (assistant.app.api). The question box stays callable by name
        # ("undocumented"), as the load benchmark drives it (bench/ui_load.py).
        hidden: dict[str, Any] = {"api_visibility": "private"}
        demo.load(startup, None, [status, outlets], show_progress="full", show_progress_on=status,
                  **hidden)
        chat_inputs = [question, chat, session, since, until, outlets, undated]
        chat_outputs = [chat, session, panel, plain, question]
        for trigger, seen in ((question.submit, "undocumented"), (ask.click, "private")):
            trigger(h.respond, chat_inputs, chat_outputs, api_visibility=seen).then(
                None, js=page.SCROLL_BOX_JS)
        for button, text in zip(example_buttons, examples, strict=True):
            button.click(lambda t=text: t, None, question, **hidden).then(
                h.respond, chat_inputs, chat_outputs, **hidden).then(None, js=page.SCROLL_BOX_JS)
        clear.click(h.clear, session, [chat, session, panel, plain], **hidden)
        chat.clear(h.clear, session, [chat, session, panel, plain], **hidden)  # its own bin icon
        cite_go.click(h.show_citation, [cite_target, session], [panel, plain],
                      js=page.READ_CITE_JS, **hidden).then(None, js=page.SCROLL_MARK_JS)
        files.upload(upload, files, [upload_out, status, outlets, files],
                     show_progress_on=upload_out, api_name="upload", **hidden)
        api.add_endpoints(assistant, h.first_run)
    return demo  # type: ignore[no-any-return]
