"""First run of the UI: the seed folder is indexed into an empty store as the server starts.

Indexing starts with the server, not on the first page load, so the first visitor finds
the index ready or nearly so. The server log (stderr) gets one line when it starts and a
summary when it is done. A page loaded meanwhile shows the run's progress, a question
waits for it, and an upload waits for the same lock.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.kernel.errors import AssistantError, NoIndexError, StoreError
from index import progress

if TYPE_CHECKING:
    from assistant.app.assistant import Assistant

log = logging.getLogger(__name__)


class SeedRun:
    """Indexing of ``seeds`` into the assistant's store, run once in the background when
    the store holds no article. ``lock`` is held while it runs (the UI's index lock)."""

    def __init__(self, assistant: Assistant, seeds: str | Path | None) -> None:
        self.assistant = assistant
        self.seeds = Path(seeds) if seeds else None
        self.lock = threading.Lock()
        self.message = ""  # for the status panel once over: what was indexed, or why not
        self._stage: tuple[str, int, int] = ("starting", 0, 0)
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Start indexing the seeds if the store is empty and they exist; whether it started."""
        if self.seeds is None or not self.seeds.is_dir() or not self._store_empty():
            return False
        from index.readers import find_files

        files = len(find_files([self.seeds]))
        _say(f"indexing {self.seeds}/ ({files} files) before the first question …")
        self._thread = threading.Thread(target=self._run, name="index-seeds", daemon=True)
        self._thread.start()
        return True

    def wait(self, progress: Callable[..., Any] | None = None) -> None:
        """Block until the run (if any) is over, passing its progress to ``progress``
        (a ``gr.Progress``)."""
        while self._thread is not None and self._thread.is_alive():
            if progress is not None:
                stage, done, total = self._stage
                progress((done, total) if total > 0 else None, desc=f"First run: {stage}")
            self._thread.join(0.25)

    def _store_empty(self) -> bool:
        try:
            return self.assistant.status().articles == 0
        except NoIndexError:
            return True
        except StoreError:  # damaged: the page shows the error and its fix; nothing to seed
            return False

    def _run(self) -> None:
        assert self.seeds is not None
        error = ""
        with self.lock:
            try:
                report = self.assistant.index([self.seeds], progress=self._progress)
            except AssistantError as e:  # the message says what to do
                error = str(e)
            except Exception as e:  # a bug: the traceback for the operator, one line for the page
                log.exception("indexing %s failed", self.seeds)
                error = f"{type(e).__name__}; the server log has the details"
        if error:
            self.message = f"Indexing {self.seeds} failed: {error}"
            _say(f"indexing {self.seeds}/ failed — {error}")
            return
        self.message = f"Indexed {report.added} seed article(s) from {self.seeds}."
        first, *rest = progress.index_report(report).splitlines()
        _say(f"{self.seeds}/ {first} — ready for questions", *rest)

    def _progress(self, stage: str, done: int, total: int) -> None:
        if not stage.startswith("problem: "):  # problems are listed in the done lines
            self._stage = (stage, done, total)


def _say(line: str, *more: str) -> None:
    """Lines for the server log, on stderr, flushed at once."""
    print(f"assistant: {line}", *(f"  {m}" for m in more), sep="\n", file=sys.stderr, flush=True)
