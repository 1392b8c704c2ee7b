"""A Ray cluster on this machine for the scale-out tests and ``make bench-scale``.

Each node is a ``ray start --block`` process in a session of its own, so ending its process
group ends exactly that node, never another Ray on the machine (``ray stop`` would stop them
all). Token authentication is on, as ``ray start`` has it by default; :attr:`LocalCluster.env`
is what a driver needs to connect.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")
ACTOR_PATTERN = r"ray::MapWorker\(MapBatches\(_EmbedActor"  # index/fanout.py's embedding actors


class LocalCluster:
    """``with LocalCluster([1, 1], log) as c``: a head node and one more, one CPU each, on
    127.0.0.1; ``c.address`` and ``c.env`` connect a driver. Stopped on exit."""

    def __init__(self, cpus_per_node: Sequence[int], log: Path, timeout: float = 120) -> None:
        self.cpus, self.log, self.timeout = list(cpus_per_node), log, timeout
        self.env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                    "RAY_USAGE_STATS_ENABLED": "0"}
        with socket.socket() as s:  # a free port on 127.0.0.1
            s.bind(("127.0.0.1", 0))
            self.address = f"127.0.0.1:{s.getsockname()[1]}"
        self.nodes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> LocalCluster:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.timeout
        try:
            for n, cpus in enumerate(self.cpus):
                where = (["--head", f"--port={self.address.rsplit(':', 1)[1]}",
                          "--include-dashboard=false"] if n == 0 else [f"--address={self.address}"])
                self._start([*where, "--node-ip-address=127.0.0.1", f"--num-cpus={cpus}"])
                while self.alive_nodes() < n + 1:
                    if time.monotonic() > deadline or self.nodes[-1].poll() is not None:
                        raise RuntimeError(f"Ray node {n} did not start: "
                                           f"{self.log.read_text(errors='replace')[-3000:]}")
                    time.sleep(1)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for node in reversed(self.nodes):
            try:
                os.killpg(node.pid, signal.SIGTERM)
                node.wait(timeout=30)
            except ProcessLookupError:
                continue
            except subprocess.TimeoutExpired:
                os.killpg(node.pid, signal.SIGKILL)
                node.wait(timeout=10)
        self.nodes.clear()

    def alive_nodes(self) -> int:
        done = subprocess.run([RAY, "status", f"--address={self.address}"],
                              env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=60)
        active = done.stdout.split("Active:", 1)[-1].split("Pending:", 1)[0]
        return active.count("node_") if done.returncode == 0 else 0

    def _start(self, args: list[str]) -> None:
        with self.log.open("ab") as out:
            self.nodes.append(subprocess.Popen(
                [RAY, "start", *args, "--block", "--disable-usage-stats"],
                env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True))


def embedding_actors() -> list[int]:
    """Process ids of the Ray actors embedding for an index run right now."""
    found = subprocess.run(["pgrep", "-f", ACTOR_PATTERN], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]
