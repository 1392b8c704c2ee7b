"""Security of the served UI: loopback by default, --auth enforced on every route, uploads over
HTTP stay in <store>/uploads, size limits hold, secrets never reach a page or the server log.

Servers are real (the CLI's ``assistant ui`` in a subprocess, or ``ui.launch`` in this
process through the ``serve_ui`` fixture) and only ever on 127.0.0.1 unless a test is about
another host; requests go through Gradio's HTTP routes (``/login``, ``/gradio_api/upload``,
the queue) the way a browser or a script would. What needs no server is in ``test_security.py``.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant
from assistant.app import cli, ui
from assistant.kernel.settings import Settings
from index.folders import SUPPORTED
from tests.helpers import call_event, free_port, stop, wait_until_up
from tests.security_cases import (
    API_KEY,
    CHROMA_HEADER,
    HOSTILE_NAMES,
    NO_AUTH_REFUSAL,
    PASSWORD,
    USER,
    assert_no_secret,
    assert_safe,
    tree,
)

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_QUESTION = ui.EXAMPLES[0]


def file_data(path: str, name: str) -> dict[str, Any]:
    return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}


# --- servers -----------------------------------------------------------------------------
@dataclass
class CliServer:
    url: str
    store: Path
    log: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def cli_ui(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Iterator[CliServer]:
    """``assistant ui --auth ...`` (default host) with both secrets in its environment."""
    store = tmp_path_factory.mktemp("cli-ui") / "store"
    with_seeds = Assistant(settings=Settings(store_dir=store), model=embedder)
    assert with_seeds.index([SEEDS]).added == 5
    with_seeds.close()
    env = {**os.environ, "ASSISTANT_LLM_API_KEY": API_KEY, "ASSISTANT_CHROMA_AUTH_HEADER":
           CHROMA_HEADER, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    port, log = free_port(), store.parent / "ui.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(store), "ui", "--port",
             str(port), "--auth", f"{USER}:{PASSWORD}"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log)
        yield CliServer(f"http://127.0.0.1:{port}", store, log, env)
    finally:
        stop(proc)


def ui_client(serve_ui: Callable[..., str], assistant: Assistant) -> httpx.Client:
    """An HTTP client of ``assistant``'s UI, served in this process."""
    return httpx.Client(base_url=serve_ui(assistant), timeout=60)


# --- binding and authentication -----------------------------------------------------------
def listening_addresses(port: int) -> set[str]:
    """Addresses with a TCP socket listening on ``port`` (Linux /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                else:
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_ui_listens_on_loopback_only_by_default(cli_ui: CliServer) -> None:
    assert inspect.signature(ui.launch).parameters["host"].default == "127.0.0.1"
    assert cli._parser().parse_args(["ui"]).host == "127.0.0.1"
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read the bound address from")
    assert listening_addresses(int(cli_ui.url.rsplit(":", 1)[1])) == {"127.0.0.1"}


def test_auth_refuses_every_route_without_login(cli_ui: CliServer) -> None:
    with httpx.Client(base_url=cli_ui.url, timeout=30) as http:
        page = http.get("/").text  # the login page: nothing of the app, no index content
        assert SEED_QUESTION not in page and "Sources appear" not in page
        for method, route in (("GET", "/config"), ("GET", "/gradio_api/info"),
                              ("POST", "/gradio_api/upload"), ("POST", "/gradio_api/queue/join"),
                              ("GET", f"/gradio_api/file={cli_ui.store}/manifest.sqlite")):
            assert http.request(method, route, json={}).status_code == 401, route
        assert http.post("/login", data={"username": USER, "password": "wrong"}).status_code == 400
        assert http.get("/config").status_code == 401
    from gradio_client import Client

    with pytest.raises(Exception, match="credentials"):
        Client(cli_ui.url, verbose=False, download_files=False, analytics_enabled=False)


def test_login_opens_the_app_and_answers(cli_ui: CliServer) -> None:
    from gradio_client import Client

    with httpx.Client(base_url=cli_ui.url, timeout=30) as http:
        assert http.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert http.get("/config").status_code == 200
        assert SEED_QUESTION in http.get("/").text
    client = Client(cli_ui.url, auth=(USER, PASSWORD), verbose=False, download_files=False,
                    analytics_enabled=False)
    chat, *_ = client.predict(SEED_QUESTION, [], "", "", [], False, api_name="/respond")
    parts = chat[-1]["content"]  # Gradio 6: a list of {"type": "text", "text": ...} parts
    assert 'class="cite"' in "".join(p["text"] for p in parts)
    client.close()


def test_the_named_api_asks_for_the_same_credentials_as_the_page(cli_ui: CliServer) -> None:
    from gradio_client import Client

    for wrong in ((USER, "wrong"), ("someone", PASSWORD)):
        with pytest.raises(ValueError, match="Could not login"):
            Client(cli_ui.url, auth=wrong, verbose=False, analytics_enabled=False)
    with httpx.Client(base_url=cli_ui.url, timeout=30) as http:  # curl's route, no login
        assert http.post("/gradio_api/call/ask", json={"data": [SEED_QUESTION]}).status_code == 401
    client = Client(cli_ui.url, auth=(USER, PASSWORD), verbose=False, analytics_enabled=False)
    answer = client.predict(SEED_QUESTION, api_name="/ask")
    assert answer["citations"] and client.predict(api_name="/status")["articles"] == 5
    client.close()


def test_network_host_without_auth_is_refused_by_the_cli(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run([sys.executable, "-m", "assistant.app.cli", "--store-dir", str(tmp_path / "s"),
                           "ui", "--host", "0.0.0.0", "--port", str(port)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr[-1500:]
    assert done.stderr.splitlines() == [NO_AUTH_REFUSAL]  # one line, no traceback
    if Path("/proc/net/tcp").exists():
        assert not listening_addresses(port)


def test_no_auth_serves_the_network_with_a_warning(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "ui.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.app.cli", "--store-dir", str(tmp_path / "store"), "ui",
             "--host", "0.0.0.0", "--port", str(port), "--no-auth", "--seeds", ""],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log)
        warning = [line for line in log.read_text(errors="replace").splitlines() if "WARNING" in line]
        assert warning == [f"assistant: WARNING: --no-auth — the UI on 0.0.0.0:{port} is open to "
                           "anyone who can reach it, with no password: they can ask, read the "
                           "indexed articles and upload files"]
        if Path("/proc/net/tcp").exists():
            assert listening_addresses(port) == {"0.0.0.0"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert http.get("/config").status_code == 200  # no login
            assert SEED_QUESTION in http.get("/").text
    finally:
        stop(proc)


# --- secrets -----------------------------------------------------------------------------
def test_cli_and_ui_outputs_never_show_secrets(cli_ui: CliServer) -> None:
    seen: dict[str, str] = {}
    for name, args in (("status", ["status"]), ("ask", ["ask", SEED_QUESTION, "--json"]),
                       ("failing LLM", ["ask", SEED_QUESTION, "--answerer", "openai"])):
        env = {**cli_ui.env, "ASSISTANT_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1"}
        done = subprocess.run([sys.executable, "-m", "assistant.app.cli", "--store-dir",
                               str(cli_ui.store), *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == (2 if name == "failing LLM" else 0), done.stderr[-1500:]
        seen[f"`assistant {name}`"] = done.stdout + done.stderr
    with httpx.Client(base_url=cli_ui.url, timeout=60) as http:
        http.post("/login", data={"username": USER, "password": PASSWORD}).raise_for_status()
        for route in ("/", "/config", "/gradio_api/info"):
            seen[f"UI {route}"] = http.get(route).text
        # the raw queue takes every input, the session's gr.State (None at first) included
        for api_name, data in (("startup", []),
                               ("respond", [SEED_QUESTION, [], None, "", "", [], False])):
            result = call_event(http, api_name, data)
            assert result["success"], result
            seen[f"UI /{api_name}"] = json.dumps(result)
    seen["UI server log"] = cli_ui.log.read_text(errors="replace")
    for where, text in seen.items():
        assert_no_secret(text, where)


# --- uploads -----------------------------------------------------------------------------
def test_http_uploads_with_hostile_names_land_in_store_uploads(
        serve_ui: Callable[..., str], make_assistant: Callable[..., Assistant]) -> None:
    assistant = make_assistant("store")
    store = Path(assistant.settings.store_dir)
    sent = [n for n in HOSTILE_NAMES if Path(n.replace("\\", "/")).suffix in SUPPORTED]
    body = [("files", (name, f"Quenton notice {i}. The Quenton council met.".encode()))
            for i, name in enumerate(sent)]
    with ui_client(serve_ui, assistant) as http:
        cached = http.post("/gradio_api/upload", files=body).raise_for_status().json()
        result = call_event(http, "upload", [[file_data(path, name)
                                              for path, name in zip(cached, sent, strict=True)]])
    assert result["success"], result
    uploads = store / "uploads"
    saved = tree(uploads)
    assert saved, result
    for path in saved:
        assert_safe(path.name, uploads)
    # every copy of an uploaded file under the test's folders is in <store>/uploads
    copies = {p for p in tree(store.parent) if p.read_bytes().startswith(b"Quenton notice")}
    assert copies == saved


def test_server_files_cannot_be_indexed_through_the_api(
        serve_ui: Callable[..., str], make_assistant: Callable[..., Assistant],
        tmp_path: Path) -> None:
    assistant = make_assistant("store")
    store = Path(assistant.settings.store_dir)
    private = tmp_path / "private-notes.txt"
    private.write_text("The vault code is 1234.\n")
    with ui_client(serve_ui, assistant) as http:
        for path in (str(private), "/etc/passwd"):
            for event in ("upload", "index"):  # the page's upload box and the API's /index
                result = call_event(http, event, [[file_data(path, Path(path).name + ".txt")]])
                assert not result["success"], (event, result)
    assert not (store / "uploads").exists() or not tree(store / "uploads")


def test_oversized_uploads_are_refused(serve_ui: Callable[..., str],
                                       make_assistant: Callable[..., Assistant],
                                       tmp_path: Path) -> None:
    big = b"The Quenton council met. " * 1000  # 25 KB
    with ui_client(serve_ui, make_assistant("store", max_file_mb=0.01)) as http:  # 10 KB
        refused = http.post("/gradio_api/upload", files=[("files", ("big.txt", big))])
    assert refused.status_code == 413 and "maximum allowed size" in refused.text
    # the handler checks again: a file that reached it some other way is refused too
    assistant = make_assistant("handler-store", max_file_mb=0.01)
    (tmp_path / "big.txt").write_bytes(big)
    report_html, *_ = ui._Handlers(assistant, None).upload([str(tmp_path / "big.txt")],
                                                          lambda *a, **k: None)
    assert "big.txt" in report_html and "larger than" in report_html
    assert not tree(tmp_path / "handler-store" / "uploads")


def test_upload_under_a_fractional_limit_is_accepted(
        serve_ui: Callable[..., str], make_assistant: Callable[..., Assistant]) -> None:
    with ui_client(serve_ui, make_assistant("store", max_file_mb=0.01)) as http:
        small = http.post("/gradio_api/upload", files=[("files", ("small.txt", b"A short note."))])
    assert small.status_code == 200, small.text
