"""``assistant`` on the command line as a user types it: flags in either place, one-line
errors for a busy port, a missing path or a missing extra, and help without markup."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.app import cli
from assistant.kernel.records import FileProblem, FileWarning, IndexReport
from index.progress import ProgressBars
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "On which TV channel did Macron speak about guarantees for Russia?"
COMMANDS = ["index", "status", "ask", "chat", "ui", "eval", "bench"]


def run_cli(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m assistant.app.cli ARGS`` from the repository root."""
    return subprocess.run([sys.executable, "-m", "assistant.app.cli", *map(str, args)], cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=300)


# --- global flags ------------------------------------------------------------------------------
def test_global_flags_work_after_the_subcommand(tmp_path: Path, seeds_copy: Path,
                                                seeds_assistant: Assistant) -> None:
    store = tmp_path / "store"
    indexed = run_cli("index", seeds_copy, "--store-dir", store, "--embedder", "onnx")
    assert indexed.returncode == 0, indexed.stderr
    assert "5 added" in indexed.stdout and (store / "manifest.sqlite").exists()
    assert "articles: 5" in run_cli("status", "--store-dir", store).stdout

    seeds_store = seeds_assistant.settings.store_dir
    for args in (["ask", "--store-dir", seeds_store, QUESTION],
                 ["ask", QUESTION, "--store-dir", seeds_store, "--embedder", "onnx"],
                 ["--store-dir", seeds_store, "ask", QUESTION]):  # before it still works
        run = run_cli(*args)
        assert run.returncode == 0, (args, run.stderr)
        assert "TF1" in run.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_takes_the_global_flags_before_or_after(command: str) -> None:
    needs = {"index": ["seeds"], "ask": ["Q"], "bench": ["perf", "--data", "d"]}.get(command, [])
    after = cli._parser().parse_args([command, *needs, "--store-dir", "S", "--embedder", "torch"])
    before = cli._parser().parse_args(["--store-dir", "S", "--embedder", "torch", command, *needs])
    neither = cli._parser().parse_args([command, *needs])
    for args in (after, before):
        assert (args.command, args.store_dir, args.embedder) == (command, "S", "torch")
    assert (neither.store_dir, neither.embedder) == (None, None)


# --- one line for each mistake -----------------------------------------------------------------
@pytest.mark.server  # it holds a listening port itself, as another server would
def test_a_port_in_use_is_one_line_naming_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_cli("--store-dir", tmp_path / "store", "ui", "--port", port, "--seeds", "")
    assert run.returncode == 2
    assert run.stderr.splitlines() == [f"assistant: port {port} is in use — choose another with --port"]
    assert not run.stdout


def test_a_missing_path_is_reported_once(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    run = run_cli("--store-dir", tmp_path / "store", "index", missing)
    assert run.returncode == 1
    assert (run.stdout + run.stderr).count("no-such-folder") == 1, run.stdout + run.stderr
    assert f"  {missing}: no such file or folder — check the path" in run.stdout.splitlines()


def test_progress_shows_each_problem_once(capsys: pytest.CaptureFixture[str]) -> None:
    """File problems are left to the report; a repaired store is said once, after the bars;
    a run that failed before its report shows every problem."""
    bad, odd = FileProblem("a.txt", "the file is empty"), FileWarning("b.json", "id 7 repeated")

    def shown(report: IndexReport | None) -> list[str]:
        bars = ProgressBars()
        for problem in (f"{bad}", f"warning: {odd}", "Chroma lost its files"):
            bars(f"problem: {problem}", 0, 0)
        bars.close(report)
        return capsys.readouterr().err.splitlines()

    assert shown(IndexReport(failed=(bad,), warnings=(odd,))) == ["  ! Chroma lost its files"]
    assert shown(None) == [f"  ! {bad}", f"  ! warning: {odd}", "  ! Chroma lost its files"]


def test_clear_in_chat_says_it_cleared(seeds_assistant: Assistant) -> None:
    run = run_cli("chat", "--store-dir", seeds_assistant.settings.store_dir, stdin="clear\nexit\n")
    assert run.returncode == 0, run.stderr
    assert "Conversation cleared: the next question starts a new one." in run.stdout


@pytest.mark.parametrize(("answerer", "module"), [("llama-cpp", "llama_cpp"),
                                                  ("openai", "llama_index.llms.openai_like")])
@pytest.mark.parametrize("command", ["ask", "chat", "ui"])
def test_an_llm_answerer_without_its_extra_says_how_to_install_it(
        answerer: str, module: str, command: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Before any work: no REPL, no server, not even a look for the index."""
    from assistant.answer import registry

    monkeypatch.setattr(registry, "_installed", lambda name: name != module)
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail("the chat started"))
    monkeypatch.setattr("assistant.app.ui.launch", lambda *a, **k: pytest.fail("the UI was served"))
    args = {"ask": ["ask", "--answerer", answerer, QUESTION], "chat": ["chat", "--answerer", answerer],
            "ui": ["ui", "--port", str(free_port())]}[command]
    if command == "ui":  # the UI has no --answerer flag: the setting comes from the environment
        monkeypatch.setenv("ASSISTANT_ANSWERER", answerer)
    assert cli.main(["--store-dir", str(tmp_path / "none"), *args]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"assistant: the {answerer!r} answerer needs the LLM extra ({module} "
                                'is missing): pip install -e ".[llm]"']
    assert not out


# --- help ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_plain_text_and_lists_the_global_flags(command: str | None) -> None:
    run = run_cli(*([command] if command else []), "--help")
    assert run.returncode == 0, run.stderr
    assert "``" not in run.stdout
    assert "--store-dir DIR" in run.stdout and "--embedder" in run.stdout



def test_output_cut_short_by_a_pipe_ends_quietly(seeds_assistant: Assistant) -> None:
    """`assistant ask … | head -c 1`: no BrokenPipeError traceback once the reader has enough."""
    store = seeds_assistant.settings.store_dir
    shell = (f"{sys.executable} -m assistant.app.cli --store-dir {store} ask --json '{QUESTION}' "
             "| head -c 1")
    out = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.stdout == "{"
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr
    assert out.returncode == 0
