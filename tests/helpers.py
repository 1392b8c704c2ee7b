"""Small helpers shared by test modules (not tests themselves): plain functions, where
``conftest.py`` holds the fixtures."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest


def markers_in_order(text: str) -> list[int]:
    """The citation numbers ``[n]`` of ``text``, each once, in order of first use."""
    seen: list[int] = []
    for n in map(int, re.findall(r"\[(\d+)\]", text)):
        if n not in seen:
            seen.append(n)
    return seen


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None,
                  seconds: float = 240) -> None:
    """Wait until ``url`` answers HTTP at all (any status); fail with the server's log if
    ``proc`` exits first or nothing answers within ``seconds``. The default is long: a server
    command imports gradio or torch on a busy machine."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            shown = log.read_text(errors="replace") if log else ""
            pytest.fail(f"the server exited with {proc.returncode}:\n{shown}")
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.5)
    pytest.fail(f"nothing answered at {url} within {seconds:.0f}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a server process: terminate, then kill if it does not exit within 30 s."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def call_event(http: httpx.Client, api_name: str, data: list[Any]) -> dict[str, Any]:
    """Run one UI event through Gradio's queue (join, then read the event stream)."""
    deps = http.get("/config").raise_for_status().json()["dependencies"]
    dep = next(d for d in deps if d.get("api_name") == api_name)
    session = uuid.uuid4().hex
    http.post("/gradio_api/queue/join", json={
        "data": data, "fn_index": dep["id"], "session_hash": session, "event_data": None,
        "trigger_id": dep["targets"][0][0]}).raise_for_status()
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session},
                     timeout=180) as stream:
        for line in stream.iter_lines():
            msg = json.loads(line[5:]) if line.startswith("data:") else {}
            if msg.get("msg") == "process_completed":
                return msg
    raise AssertionError(f"{api_name}: the event stream ended without a result")
