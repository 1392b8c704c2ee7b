"""How the benchmarks measure: wall time, medians, a child process's time and peak memory,
and the machine a run was on. Shared by ``bench.perf`` and ``bench.chunking_table``.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("torch", "sentence-transformers", "chromadb", "llama-index-core",
            "llama-index-vector-stores-chroma", "onnxruntime", "bm25s", "numpy")


def log(msg: str) -> None:
    print(f"[perf {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, Python and package versions, and the load when the run started."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")),
               platform.processor())
    ram = next((int(x.split()[1]) // 1024 for x in meminfo if x.startswith("MemTotal")), 0)
    versions: dict[str, str | None] = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ram_mb": ram, "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": list(os.getloadavg()), "versions": versions}


def run_child(cmd: Sequence[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``cmd`` (with ``env`` added to this environment); seconds to its first output byte
    and to exit, and its peak RSS (MB).

    The peak is the child's own VmHWM, sampled every 20 ms: ``ru_maxrss`` of a child would
    also count this (large) process, whose memory the child shares until it execs.
    """
    env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}  # the answer is written when printed
    peak = [0]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        watcher = threading.Thread(target=_watch_rss, args=(proc, peak), daemon=True)
        watcher.start()
        assert proc.stdout is not None
        first = proc.stdout.read(1)
        first_s = time.perf_counter() - started
        rest = proc.stdout.read()
        proc.wait()
        exit_s = time.perf_counter() - started
        watcher.join()
        err.seek(0)
        problem = err.read().decode(errors="replace")[-500:] if proc.returncode else ""
    return {"to_output_s": round(first_s if first else exit_s, 3), "to_exit_s": round(exit_s, 3),
            "peak_rss_mb": round(peak[0] / 1024, 1), "returncode": proc.returncode,
            "output": (first + rest).decode(errors="replace")[:200], "stderr_tail": problem}


def _watch_rss(proc: subprocess.Popen[bytes], peak: list[int]) -> None:
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]))
        except (OSError, ValueError):
            pass  # the process is exiting
        time.sleep(0.02)


def cli() -> list[str]:
    script = Path(sys.executable).with_name("assistant")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.app.cli"]
