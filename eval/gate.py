"""The CI gate: metric minimums in ``eval/thresholds.json``, checked against an eval result.

``{"overall.correct": 0.85, "abstention.f1": 0.8, ...}`` — a dotted path into the report's
metrics and the lowest value that passes. A failing metric is reported with the items
that pull it down, so a regression names what got worse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.kernel.errors import AssistantError

if TYPE_CHECKING:
    from eval.results import EvalResult, ItemRecord

DEFAULT_THRESHOLDS = Path(__file__).with_name("thresholds.json")


class ThresholdsError(AssistantError):
    """The thresholds file is unreadable or names a metric the report does not have."""


def load_thresholds(path: str | Path) -> dict[str, float]:
    """``{"metric.path": minimum}`` from a JSON file."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ThresholdsError(f"cannot read thresholds {path}: {e}") from e
    if not isinstance(raw, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw.values()):
        raise ThresholdsError(f"{path}: expected {{\"metric.path\": minimum, ...}}")
    return {str(k): float(v) for k, v in raw.items()}


def metric_value(metrics: Mapping[str, Any], path: str) -> float | None:
    """The value at a dotted path (``overall.correct``, ``by_type.date.as_of_match``,
    ``abstention.f1``); a ``{"mean", "n"}`` cell gives its mean. Unknown paths raise."""
    node: Any = metrics
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            raise ThresholdsError(f"unknown metric {path!r} in the thresholds")
        node = node[key]
    if isinstance(node, Mapping):
        node = node.get("mean")
    return None if node is None else float(node)


def failing_items(result: EvalResult, path: str) -> list[ItemRecord]:
    """The items that pull the metric at ``path`` down."""
    parts = path.split(".")
    if parts[0] == "abstention":
        wrong_way = {"precision": (True,), "recall": (False,)}.get(parts[-1], (True, False))
        return [r for r in result.items if r.abstained != (not r.answerable)
                and r.abstained in wrong_way]
    key, kind = parts[-1], parts[1] if parts[0] == "by_type" else None
    scored = [r for r in result.items if (kind is None or r.type == kind)
              and r.scores.get(key) is not None and (r.scores[key] or 0.0) < 1.0]
    return sorted(scored, key=lambda r: r.scores[key] or 0.0)


def gate(results: Sequence[EvalResult], thresholds: Mapping[str, float]) -> list[str]:
    """One line per metric below its minimum (with the failing items); empty when all pass."""
    lines: list[str] = []
    for result in results:
        if result.unavailable:  # a gate that ran nothing must not pass
            lines.append(f"FAIL [{result.answerer}] unavailable: {result.unavailable}")
            continue
        for path, minimum in thresholds.items():
            value = metric_value(result.metrics, path)
            if value is not None and value >= minimum - 1e-9:
                continue
            shown = "no value" if value is None else f"{value:.3f}"
            lines.append(f"FAIL [{result.answerer}] {path} = {shown} < {minimum:.3f}")
            bad = failing_items(result, path)
            lines += [f"    {r.id} ({r.type}): {r.question}  ->  {r.answer[:100]}"
                      for r in bad[:15]]
            if len(bad) > 15:
                lines.append(f"    ... and {len(bad) - 15} more (see report.md)")
    return lines
