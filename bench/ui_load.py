"""Bounded load on the chat UI's HTTP API: several clients asking questions at the same time.

    python -m bench.ui_load --url http://127.0.0.1:7860 --clients 8 --questions 50 \\
        [--auth user:password] [--max-seconds 600]

Each client is a ``gradio_client.Client`` with its own session (so its own conversation)
that asks ``--questions`` questions one after another through the chat endpoint
(``/respond``, the handler of the question box), exactly as the browser does. The
questions mix the seed eval set's answerable questions with one the seeds cannot answer.
Every reply is classified from the final chat bubble: ``cited`` (it has ``[n]`` markers),
``abstained`` (it says the articles do not answer) or an error.

Prints one JSON object: requests sent, completed, errors (with the first messages),
cited/abstained counts, client-side latency p50/p95/max and throughput. The run is bounded:
at most ``clients * questions`` requests, none started after ``--max-seconds``, each one
abandoned after ``--timeout`` seconds. Traffic goes to ``--url`` only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from assistant.kernel.answers import ABSTAIN_TEXT
from eval.metrics import percentile

CHAT_API = "/respond"  # Gradio names an event after its handler: ui._Handlers.respond
UNANSWERABLE = "Who won the 2022 World Cup?"
SEEDS_EVAL = Path(__file__).resolve().parents[1] / "eval" / "seeds.jsonl"
MAX_ERRORS_KEPT = 10


def default_questions(path: Path = SEEDS_EVAL, limit: int = 12) -> list[str]:
    """Up to ``limit`` standalone answerable questions from the eval set, plus an unanswerable one.

    Follow-up questions are left out: each client's conversation mixes unrelated questions,
    so a follow-up would lean on whichever question happened to come before it.
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    answerable = [r["question"] for r in rows
                  if r.get("answerable") and r.get("type") != "followup"][:limit]
    return [*answerable, UNANSWERABLE]


def _text(content: Any) -> str:
    """A chat message's text: Gradio 6 sends a list of parts ({"type": "text", "text": ...})."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(part) for part in content)
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return str(content)


def classify(outputs: Any) -> str:
    """'cited', 'abstained' or 'error: ...' for the final outputs of one chat request.

    ``outputs`` are the chat endpoint's: (chat messages, source panel, plain answer, question box).
    """
    try:
        bubble = _text(outputs[0][-1]["content"])
    except (TypeError, LookupError) as e:
        return f"error: unexpected outputs ({type(e).__name__}): {str(outputs)[:200]}"
    if 'class="msg-error"' in bubble:
        return f"error: answer bubble says {bubble[:200]}"
    if 'class="cite"' in bubble:
        return "cited"
    if ABSTAIN_TEXT in bubble:
        return "abstained"
    return f"error: neither citations nor abstention in {bubble[:200]}"


@dataclass
class LoadReport:
    """What one load run did and how long the answers took (seconds, seen by the clients)."""

    url: str
    clients: int
    questions_per_client: int
    requests: int = 0
    completed: int = 0
    cited: int = 0
    abstained: int = 0
    errors: int = 0
    skipped: int = 0  # not sent: the time budget ran out
    error_messages: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list, repr=False)
    # question -> outcome -> count, and question -> the distinct plain-text answers it got
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    answers: dict[str, set[str]] = field(default_factory=dict, repr=False)
    wall_seconds: float = 0.0

    def record(self, question: str, outcome: str, seconds: float | None,
               plain: str | None = None) -> None:
        """Count one request (``seconds`` is None when no answer came back)."""
        self.requests += 1
        if seconds is not None:
            self.completed += 1
            self.latencies.append(seconds)
        kind = outcome if outcome in ("cited", "abstained") else "errors"
        setattr(self, kind, getattr(self, kind) + 1)
        per = self.outcomes.setdefault(question, {})
        per[kind] = per.get(kind, 0) + 1
        if kind == "errors" and len(self.error_messages) < MAX_ERRORS_KEPT:
            self.error_messages.append(outcome)
        if plain is not None and kind != "errors":
            self.answers.setdefault(question, set()).add(plain)

    def summary(self) -> dict[str, Any]:
        """The report as a JSON-ready dict, with latency percentiles and throughput."""
        out = asdict(self)
        lat = out.pop("latencies")
        out.pop("answers")
        out["latency_p50"] = round(percentile(lat, 50), 3) if lat else None
        out["latency_p95"] = round(percentile(lat, 95), 3) if lat else None
        out["latency_max"] = round(max(lat), 3) if lat else None
        out["throughput_per_s"] = (round(self.completed / self.wall_seconds, 3)
                                   if self.wall_seconds else 0.0)
        out["wall_seconds"] = round(self.wall_seconds, 2)
        # the same question asked by several clients at once must get the same answer
        out["distinct_answers"] = {q: len(a) for q, a in self.answers.items()}
        return out


def run(url: str, questions: Sequence[str], *, clients: int = 8, per_client: int = 50,
        auth: tuple[str, str] | None = None, max_seconds: float = 600.0,
        timeout: float = 120.0, api_name: str = CHAT_API) -> LoadReport:
    """Ask ``clients * per_client`` questions through ``api_name`` with ``clients`` at once.

    Client ``n`` asks ``questions[(n + i) % len(questions)]`` for ``i`` in ``range(per_client)``,
    so at any moment the clients ask different questions.
    """
    from gradio_client import Client

    if not questions:
        raise ValueError("no questions to ask")
    report = LoadReport(url, clients, per_client)
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + max_seconds

    def record(question: str, outcome: str, seconds: float | None, plain: str | None = None
               ) -> None:
        with lock:
            report.record(question, outcome, seconds, plain)

    def client_loop(number: int) -> None:
        try:
            client = Client(url, auth=auth, verbose=False, download_files=False,
                            analytics_enabled=False)
        except Exception as e:  # the whole client is lost: count its questions as errors
            for i in range(per_client):
                record(questions[(number + i) % len(questions)],
                       f"error: client {number} could not connect: {e}", None)
            return
        try:
            for i in range(per_client):
                if time.monotonic() > deadline:
                    with lock:
                        report.skipped += per_client - i
                    return
                question = questions[(number + i) % len(questions)]
                sent = time.perf_counter()
                # every input, include_undated too: the page's event is hidden from the API
                # docs, so the client knows none of its defaults
                job = client.submit(question, [], "", "", [], False, api_name=api_name)
                try:
                    outputs = job.result(timeout=timeout)
                except Exception as e:  # timeouts, app errors, dropped connections
                    job.cancel()
                    record(question, f"error: {type(e).__name__}: {e}", None)
                else:
                    plain = (str(outputs[2]) if isinstance(outputs, (list, tuple))
                             and len(outputs) > 2 else None)
                    record(question, classify(outputs), time.perf_counter() - sent, plain)
        finally:
            client.close()

    threads = [threading.Thread(target=client_loop, args=(n,), name=f"load-client-{n}",
                                daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:  # each thread stops by itself: bounded count, deadline, per-request timeout
        t.join(max(0.0, deadline - time.monotonic()) + timeout + 30)
    report.wall_seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line entry: run the load and print the summary as JSON; exit 1 on any error."""
    p = argparse.ArgumentParser(prog="python -m bench.ui_load", description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:7860", help="the running UI")
    p.add_argument("--clients", type=int, default=8, help="clients asking at the same time")
    p.add_argument("--questions", type=int, default=50, help="questions each client asks")
    p.add_argument("--auth", help="user:password when the UI was started with --auth")
    p.add_argument("--max-seconds", type=float, default=600.0, help="no request starts later")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds one answer may take")
    p.add_argument("--api-name", default=CHAT_API, help="the chat endpoint")
    args = p.parse_args(argv)
    if args.clients < 1 or args.questions < 1:
        p.error("--clients and --questions must be at least 1")
    auth = None
    if args.auth:
        user, sep, password = args.auth.partition(":")
        if not sep or not user or not password:
            p.error("--auth must look like user:password")
        auth = (user, password)
    report = run(args.url, default_questions(), clients=args.clients, per_client=args.questions,
                 auth=auth, max_seconds=args.max_seconds, timeout=args.timeout,
                 api_name=args.api_name)
    print(json.dumps(report.summary(), indent=2))
    return 1 if report.errors or report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
