"""The local GGUF model in a child process: llama-cpp-python's OpenAI-compatible server.

llama.cpp is native code. A fault in it (an instruction the CPU does not allow, a damaged
model file, memory running out) kills the process it runs in, so it never runs in the
process that asks: a crash costs one question, not the UI or the script.

- The child starts on the first question, loads the model, binds 127.0.0.1 on a port the
  system picks and reports the port on its stdout (no port is guessed, so none is raced).
- The parent talks to it like any OpenAI-compatible server (``backends.OpenAIBackend``),
  with a random API key passed on the child's stdin, never on its command line.
- The child stops with its parent: its stdin is a pipe from the parent, and the child exits
  when that pipe closes, which happens however the parent ends (even by SIGKILL).
  ``close()`` and interpreter exit stop it sooner.
- A child that died is seen at once: the question it was answering gets one line
  (``the local model stopped (signal 9, SIGKILL) — …``), and the next question starts a
  new child. Its stderr goes to a log file that the messages name; the file is deleted at
  ``close()`` unless a child died or failed to start.

``python -m assistant.answer.local_model`` is the child's side (``serve``).
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from assistant.kernel.errors import LLMError

READY = "listening on port "  # the child's one line on stdout once the model is loaded


class ModelStoppedError(LLMError):
    """The local model's process died or could not start; the message says how."""


class ModelProcess:
    """One child process serving one GGUF file; started on demand, restarted after a death."""

    def __init__(self, path: Path, threads: int, context: int, start_timeout: float) -> None:
        self.path, self.threads, self.context = path, threads, context
        self.start_timeout = start_timeout
        self.key = secrets.token_hex(16)
        self.log = Path(tempfile.gettempdir()) / f"news-assistant-model-{os.getpid()}-{path.stem}.log"
        self._proc: subprocess.Popen[str] | None = None
        self._url = ""
        self._failed = False  # a child died or did not start: keep its log
        self._lock = threading.Lock()
        atexit.register(self.close)

    def __repr__(self) -> str:  # never the key
        return f"ModelProcess(path={str(self.path)!r}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        """The running child's process id (None before the first question or after a death)."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def url(self) -> str:
        """The base URL (``http://127.0.0.1:PORT/v1``) of a running child, started if needed."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            return self._url

    def death(self, wait: float = 0.0) -> str | None:
        """How the child ended ("signal 9, SIGKILL", "exit code 1"), or None while it runs.
        ``wait`` gives a child whose connection just broke time to be reaped."""
        proc = self._proc
        if proc is None:
            return None
        try:
            code = proc.wait(timeout=wait) if wait else proc.poll()
        except subprocess.TimeoutExpired:
            return None
        return None if code is None else describe_exit(code)

    def stopped(self, how: str) -> ModelStoppedError:
        """The one-line error for a child that ended ``how`` while it was answering."""
        self._failed = True
        return ModelStoppedError(
            f"the local model stopped ({how}) — this question has no answer; the next one "
            f"starts the model again (its log: {self.log})")

    def close(self) -> None:
        """Stop the child (if any): its stdin closes, then SIGTERM, then SIGKILL. The log goes
        too, unless it tells of a failure."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            for step in (_close_stdin, lambda p: p.terminate(), lambda p: p.kill()):
                step(proc)
                try:
                    proc.wait(timeout=5)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if not self._failed:
            self.log.unlink(missing_ok=True)

    def _start(self) -> None:
        command = [sys.executable, "-m", "assistant.answer.local_model"]
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"--- starting {self.path} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
            log.flush()
            proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"model": str(self.path), "threads": self.threads,
                                     "context": self.context, "key": self.key}) + "\n")
        proc.stdin.flush()  # the pipe stays open: its end is the child's signal to exit
        port = _read_port(proc, proc.stdout, time.monotonic() + self.start_timeout)
        if port is None:
            self._failed = True
            how = self.death(wait=1.0) or f"no answer within {self.start_timeout:.0f} s"
            if proc.poll() is None:
                proc.kill()
            raise ModelStoppedError(
                f"the local model did not start ({how}): {_last_line(self.log)} — "
                f"model {self.path}, log {self.log}")
        self._url = f"http://127.0.0.1:{port}/v1"


def _read_port(proc: subprocess.Popen[str], out: IO[str], deadline: float) -> int | None:
    """The port the child reports, or None if it died or stayed silent past ``deadline``.
    The reader then drains the child's stdout for good, so a chatty child never blocks."""
    found: list[int] = []
    ready = threading.Event()

    def read() -> None:
        for line in out:
            if not found and line.startswith(READY):
                found.append(int(line[len(READY):]))
                ready.set()
        ready.set()  # the child closed its stdout: it is gone

    threading.Thread(target=read, daemon=True).start()
    while not ready.wait(0.05) and proc.poll() is None and time.monotonic() < deadline:
        pass
    return found[0] if found else None


def _close_stdin(proc: subprocess.Popen[str]) -> None:
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass


def _last_line(log: Path) -> str:
    try:
        lines = [x.strip() for x in log.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return "(no log)"
    lines = [x for x in lines if x and not x.startswith("---")]
    return lines[-1][:300] if lines else "(the log is empty)"


def describe_exit(code: int) -> str:
    """A return code as a person reads it: "signal 11, SIGSEGV" or "exit code 1"."""
    if code < 0:
        try:
            return f"signal {-code}, {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


# --- the child's side --------------------------------------------------------------------------


def serve() -> None:
    """Load the model, listen on 127.0.0.1 (a port the system picks), say which, and serve
    until the parent's pipe on stdin closes."""
    import asyncio
    import socket

    import anyio.to_thread
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    config = json.loads(sys.stdin.readline())
    app = create_app(
        server_settings=ServerSettings(host="127.0.0.1", port=0, api_key=config["key"],
                                       interrupt_requests=False),
        model_settings=[ModelSettings(
            model=config["model"], model_alias="local", n_ctx=config["context"],
            n_threads=config["threads"], n_threads_batch=config["threads"], seed=0,
            # as ``llama_cpp.Llama`` loads in process: the server's defaults would compute the
            # logits of every prompt token (vocabulary 262k) and pin the model in RAM
            logits_all=False, use_mlock=False, verbose=False)])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)

    def exit_with_parent() -> None:
        while sys.stdin.read(4096):
            pass
        os._exit(0)  # the parent is gone (or closed us): stop now, mid-answer or not

    async def run() -> None:
        # One worker thread runs every call into llama.cpp. OpenMP keeps a team of threads
        # per calling thread, and teams left spinning on 2 cores slowed each token by half.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        await uvicorn.Server(uvicorn.Config(app, log_level="warning")).serve(sockets=[sock])

    threading.Thread(target=exit_with_parent, daemon=True).start()
    print(f"{READY}{sock.getsockname()[1]}", flush=True)
    asyncio.run(run())


if __name__ == "__main__":
    serve()
