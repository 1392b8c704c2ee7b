"""The layout is the architecture: imports flow one way and no module imports itself back.

Layers, lowest first (README "How it works"): the kernel (settings, errors, records), storage,
the shipped models, then the write path (``index``) and retrieval side by side, checking,
answering, and the app (``Assistant``, chat, CLI, UI). A module imports its own package and
lower layers only. Every import counts, also the ones inside functions and under
``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "index", "eval", "bench", "train")
LAYERS = {  # package -> rank; a module may import its own package or a lower rank
    "assistant.kernel": 0,
    "assistant.storage": 1,
    "assistant.models": 2,  # the shipped models and their loader: used by retrieve, check, answer
    "index": 3,
    "assistant.retrieve": 3,
    "assistant.check": 4,
    "assistant.answer": 5,
    "assistant.app": 6,
}
OUTSIDE = ("eval", "bench", "train")  # measure and rebuild; nothing in the product imports them
ENTRY = "assistant.app.cli"  # ... except the CLI, which dispatches `assistant eval` / `bench`


@cache
def modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


@cache
def graph() -> dict[str, frozenset[str]]:
    known = modules()
    edges = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([node.module] if node.module else [])])
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in node.names)
        edges[name] = frozenset(t for t in targets if t in known and t != name)
    return edges


def layer(module: str) -> str | None:
    for package in sorted(LAYERS, key=len, reverse=True):
        if module == package or module.startswith(package + "."):
            return package
    return None


def test_the_graph_is_read() -> None:
    edges = graph()
    assert "assistant.app.assistant" in edges and "assistant.kernel.settings" in edges
    assert "assistant.kernel.settings" in edges["assistant.app.assistant"]


def test_no_import_cycles() -> None:
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert cycles == []


def test_imports_flow_down_the_layers() -> None:
    wrong = []
    for module, targets in graph().items():
        own = layer(module)
        if own is None:
            continue
        for target in targets:
            theirs = layer(target)
            if target == "assistant":
                wrong.append(f"{module} -> assistant (import the module itself, not the front door)")
            elif theirs is None:
                if target.split(".")[0] in OUTSIDE and module != ENTRY:
                    wrong.append(f"{module} -> {target} (the product never imports {OUTSIDE})")
            elif theirs != own and LAYERS[theirs] >= LAYERS[own]:
                wrong.append(f"{module} ({own}) -> {target} ({theirs})")
    assert wrong == []


def test_the_accuracy_benchmarks_do_not_import_the_performance_harness() -> None:
    """``bench/`` may use ``eval``'s metrics; ``eval`` (and so ``assistant eval``) never needs ``bench``."""
    assert [(m, t) for m, targets in graph().items() if m.split(".")[0] == "eval"
            for t in targets if t.split(".")[0] == "bench"] == []
    for path in modules().values():  # nor by name, which the graph cannot see
        if path.is_relative_to(ROOT / "eval"):
            assert not re.search(r"import_module\(\s*f?[\"']bench", path.read_text()), path


def test_the_kernel_imports_nothing_of_the_project() -> None:
    for module, targets in graph().items():
        if layer(module) == "assistant.kernel":
            assert all(layer(t) == "assistant.kernel" for t in targets), (module, targets)


# Building a pattern from the calendar names, or writing a year or a month-day pattern, is
# defining what a date is: that happens in the kernel only (``kernel/dates.py``, ``kernel/text.py``).
_DEFINES_A_DATE = re.compile(r"join\([^)]*\b(?:MONTHS|WEEKDAYS|MONTH_ABBREVIATIONS)\b"
                             r"|\(\?:19\|20\)|1\[89\]|\\d\{4\}-|\\d\{1,2\}\\s\+\(\?:")


def test_dates_and_numbers_are_defined_in_the_kernel_only() -> None:
    outside = [p for p in (ROOT / "assistant").rglob("*.py") if "kernel" not in p.parts]
    assert outside
    found = [(p.relative_to(ROOT), m.group()) for p in outside
             for m in _DEFINES_A_DATE.finditer(p.read_text(encoding="utf-8"))]
    assert not found, f"define dates in assistant/kernel, not here: {found}"
    assert _DEFINES_A_DATE.search((ROOT / "assistant/kernel/dates.py").read_text(encoding="utf-8"))
