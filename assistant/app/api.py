"""The UI server's named HTTP API for programs: ``/ask``, ``/status`` and ``/index``.

Served by the same Gradio server as the page, behind the same ``--auth``. Each endpoint
takes data and returns the Python API's result as JSON, built by the result's own
``to_dict()`` (``/ask`` returns exactly what ``assistant ask --json`` prints):

- ``/ask`` (question, since, until, sources, include_undated) -> ``Answer``
- ``/status`` () -> ``Status``
- ``/index`` (files) -> ``IndexReport`` (files are saved and indexed as the page's upload box
  does them: :mod:`assistant.app.uploads`; refused files are listed in ``failed``)

A user mistake (an empty question, an unreadable date) is a ``gr.Error`` carrying the
message that names the field and what to write; ``gradio_client`` raises it as
``AppError(message)``. The page's own events are hidden from the API (``ui.build``), so
``Client.view_api()`` lists these three.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.app import uploads
from assistant.kernel.errors import AssistantError
from assistant.kernel.records import FileProblem, IndexReport

if TYPE_CHECKING:
    from assistant.app.assistant import Assistant
    from assistant.app.seeding import SeedRun

log = logging.getLogger(__name__)
ENDPOINTS = ("/ask", "/status", "/index")


@contextmanager
def user_errors(doing: str) -> Iterator[None]:
    """A user mistake as a ``gr.Error`` with its message; a bug as one line (the traceback
    goes to the server log)."""
    import gradio as gr

    try:
        yield
    except AssistantError as e:  # the message says what to fix
        raise gr.Error(str(e), print_exception=False) from None
    except Exception as e:
        log.exception("%s failed", doing)
        raise gr.Error(f"Something went wrong ({type(e).__name__}); the server log has the "
                       "details.", print_exception=False) from None


class API:
    """The endpoints' functions over one assistant; questions and status wait for the first
    run's seeds, and indexing holds the UI's index lock (one index run at a time)."""

    def __init__(self, assistant: Assistant, first_run: SeedRun) -> None:
        self.assistant, self.first_run = assistant, first_run

    def ask(self, question: str, since: str | None = None, until: str | None = None,
            sources: list[str] | None = None, include_undated: bool | None = None
            ) -> dict[str, Any]:
        """Answer one question from the indexed articles: the cited Answer as JSON (the same
        fields as `assistant ask --json`). since/until: ISO or unambiguous dates ("" or null:
        none); sources: outlets to keep; include_undated: with a date range, also search
        articles without a date (null: the server's default)."""
        with user_errors("/ask"):
            self.first_run.wait()
            answer = self.assistant.ask(question, since=since or None, until=until or None,
                                        sources=sources or (), include_undated=include_undated)
            return answer.to_dict()

    def status(self) -> dict[str, Any]:
        """What the index holds: articles, chunks, story clusters, outlets, dates, store size."""
        with user_errors("/status"):
            self.first_run.wait()
            return self.assistant.status().to_dict()

    def index(self, files: Sequence[str] | None) -> dict[str, Any]:
        """Save the uploaded files in the store's uploads/ and index them: the IndexReport,
        with the files not indexed in `failed` and those indexed with a remark in `warnings`,
        each as {"file": name, "reason": why}."""
        with user_errors("/index"):
            self.first_run.wait()
            if not files:
                raise AssistantError("no files — upload .txt .md .html .json .jsonl files to index")
            report, problems, _ = uploads.receive(self.assistant, map(Path, files),
                                                  self.first_run.lock, lambda *stage: None)
            # by the names the caller sent, not the server's paths
            warnings = tuple(FileProblem(Path(w.path).name, w.reason)
                             for w in (report.warnings if report else ()))
            data = replace(report or IndexReport(), failed=tuple(problems),
                           warnings=warnings).to_dict()
            # gradio_client downloads any {"path": ...} in a result as a file (and fails): the
            # files not indexed are named by "file"
            for key in ("failed", "warnings"):
                data[key] = [{"file": p["path"], "reason": p["reason"]} for p in data[key]]
            return data


def add_endpoints(assistant: Assistant, first_run: SeedRun) -> None:
    """Declare ``/ask``, ``/status`` and ``/index`` in the ``gr.Blocks`` being built."""
    import gradio as gr

    api = API(assistant, first_run)
    gr.api(api.ask, api_name="ask")
    gr.api(api.status, api_name="status")
    # a real File input, so Gradio accepts only files uploaded to it (never a server path)
    files = gr.File(file_count="multiple", type="filepath", label="files", visible=False)
    report = gr.JSON(label="IndexReport", visible=False)
    gr.Button(visible=False).click(api.index, files, report, api_name="index",
                                   api_description=API.index.__doc__)
