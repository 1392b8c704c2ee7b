"""The local model runs in a child process: a crash of llama.cpp costs one question, never the
process that asks (``assistant/answer/local_model.py``, ``backends.LocalBackend``).

Real kills of the real child serving the packaged Gemma: between two questions, in the middle
of an answer, with the signal a native crash sends; the parent killed under it; a file that
is no model. The UI under the same kills is tested in a browser in ``test_ui_local_model.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Answer, Assistant
from assistant.answer.backends import LLMError, LocalBackend
from assistant.answer.llm import LLMAnswerer
from assistant.answer.local_model import ModelStoppedError, describe_exit
from tests.test_llm import QUESTIONS, check_cited, llm_copy

ROOT = Path(__file__).resolve().parents[1]


def model_of(a: Assistant) -> LocalBackend:
    answerer = a.answerer()
    assert isinstance(answerer, LLMAnswerer)
    backend = answerer.backend()
    assert isinstance(backend, LocalBackend)
    return backend


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too: it is only waiting for its parent to read its status
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(scope="module")
def llama(seeds_assistant: Assistant, embedder: object) -> Iterator[Assistant]:
    a = llm_copy(seeds_assistant, embedder, answerer="llama-cpp")
    yield a
    a.close()


def test_exit_codes_read_as_a_person_reads_them() -> None:
    assert describe_exit(-9) == "signal 9, SIGKILL"
    assert describe_exit(-11) == "signal 11, SIGSEGV"
    assert describe_exit(1) == "exit code 1"


@pytest.mark.llm
def test_the_model_runs_in_a_child_that_listens_on_loopback_only(llama: Assistant) -> None:
    check_cited(llama, llama.ask(QUESTIONS[0]), "llama-cpp")
    model = model_of(llama)
    assert model.process.pid not in (None, os.getpid())
    assert model.process.url().startswith("http://127.0.0.1:")
    assert "llama_cpp" not in sys.modules  # llama.cpp's native code never loads in this process
    assert model.process.key not in repr(model.process)


@pytest.mark.llm
@pytest.mark.parametrize("seen_dead", [True, False], ids=["reaped", "not-yet-reaped"])
def test_a_model_killed_between_questions_is_started_again_by_the_next(
        llama: Assistant, monkeypatch: pytest.MonkeyPatch, seen_dead: bool) -> None:
    first = llama.ask(QUESTIONS[0])
    model = model_of(llama)
    proc = model.process._proc
    assert proc is not None and model.process.pid is not None
    pid = proc.pid
    os.kill(pid, signal.SIGKILL)
    if not seen_dead:  # the next question's first look sees it running, as just after a kill
        real_poll, unreaped = proc.poll, [True]
        monkeypatch.setattr(proc, "poll", lambda: None if unreaped and unreaped.pop() else real_poll())
    answer = llama.ask(QUESTIONS[0])
    check_cited(llama, answer, "llama-cpp")
    assert model.process.pid not in (None, pid)
    assert answer.text == first.text  # greedy decoding: a new child writes the same answer


@pytest.mark.llm
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV])
def test_a_model_that_dies_mid_answer_costs_that_question_only(
        llama: Assistant, sig: signal.Signals) -> None:
    llama.ask(QUESTIONS[1])  # the model is up
    model = model_of(llama)
    pid = model.process.pid
    assert pid is not None
    stream = llama.ask_stream(QUESTIONS[1])
    with pytest.raises(ModelStoppedError) as e:
        for item in stream:
            assert not isinstance(item, Answer), "the answer came before the kill"
            os.kill(pid, sig)  # at the first piece of the draft
    message = str(e.value)
    assert f"the local model stopped (signal {sig.value}, {sig.name})" in message
    assert "\n" not in message and isinstance(e.value, LLMError)
    assert not alive(pid)
    check_cited(llama, llama.ask(QUESTIONS[1]), "llama-cpp")  # the next question is answered
    assert model.process.pid not in (None, pid)


CHILD = """
import sys
from assistant import Assistant
a = Assistant(store_dir=sys.argv[1], answerer="llama-cpp")
a.ask(sys.argv[2])
print(a.answerer().backend().process.pid, flush=True)
sys.stdin.read()
"""


@pytest.mark.llm
@pytest.mark.slow
def test_the_model_stops_when_the_process_that_asked_is_killed(seeds_assistant: Assistant) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(seeds_assistant.settings.store_dir), QUESTIONS[0]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert alive(pid)
        parent.kill()  # no atexit, no clean-up: only the closed pipe tells the model
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid)
    finally:
        if parent.poll() is None:
            parent.kill()


@pytest.mark.llm
@pytest.mark.slow
def test_a_file_that_is_no_model_is_named_and_the_process_goes_on(
        seeds_assistant: Assistant, embedder: object, tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(4096))
    a = llm_copy(seeds_assistant, embedder, answerer="llama-cpp", llm_model_path=bad)
    with pytest.raises(ModelStoppedError) as e:
        a.ask(QUESTIONS[0])
    message = str(e.value)
    assert message.startswith("the local model did not start (exit code") and str(bad) in message
    assert "\n" not in message
    assert seeds_assistant.ask(QUESTIONS[0]).citations  # this process answers on
