"""Small helpers shared by test modules (not tests themselves)."""

from __future__ import annotations

import re
import socket
import subprocess


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


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a server process: terminate, then kill if it does not exit within 30 s."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
