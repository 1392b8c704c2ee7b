"""Eval reports: ``report.json`` (everything), ``report.md`` (tables and failing items) and
``report.png`` (metrics per question type as grouped bars, one panel per answerer)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.results import METRICS, EvalResult, ItemRecord

LABELS = {
    "doc_hit_at_1": "gold doc hit@1", "doc_hit_at_3": "gold doc hit@3",
    "doc_hit_at_5": "gold doc hit@5", "doc_mrr": "gold doc MRR",
    "doc_hit_all_at_5": "all gold docs in top 5", "span_hit_at_1": "evidence hit@1",
    "span_hit_at_3": "evidence hit@3", "span_hit_at_5": "evidence hit@5",
    "span_mrr": "evidence MRR", "correct": "answer correct (contains)",
    "token_f1": "answer token F1", "abstained": "abstained (share)",
    "citation_recall": "citation recall", "citation_precision": "citation precision",
    "corroborated": "cites >= min outlets", "conflict_flagged": "conflict reported",
    "as_of_match": "as-of date right",
    "citation_recall_rules": "citation recall (rules φ)",
    "citation_precision_rules": "citation precision (rules φ)",
    "citation_recall_learned": "citation recall (learned judge)",
    "citation_precision_learned": "citation precision (learned judge)",
}
# What the chart shows per question type (the table has everything).
CHART = ("doc_hit_at_1", "span_hit_at_5", "correct", "citation_recall", "citation_precision",
         "decision", "story")
STORY = ("corroborated", "conflict_flagged", "as_of_match")  # the checks only some types have


def write(results: Sequence[EvalResult], out: str | Path, eval_set: str = "") -> list[Path]:
    """Write report.json, report.md and report.png into ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.json", out / "report.md", out / "report.png"]
    paths[0].write_text(json.dumps({"eval_set": eval_set,
                                    "results": [r.to_dict() for r in results]},
                                   indent=2, ensure_ascii=False), encoding="utf-8")
    paths[1].write_text(markdown(results, eval_set), encoding="utf-8")
    chart(results, paths[2], eval_set)
    return paths


def _cell(cell: dict[str, Any] | None) -> str:
    if not cell or cell.get("mean") is None:
        return "–"
    return f"{cell['mean']:.2f} ({cell['n']})"


def metric_table(result: EvalResult) -> str:
    """Markdown table: one row per metric, columns overall and each question type, as
    ``mean (n)``."""
    mt = result.metrics
    types = list(mt["by_type"])
    head = ["metric", f"overall ({mt['n_items']})",
            *(f"{t} ({mt['by_type'][t]['n_items']})" for t in types)]
    rows = [head, ["---"] * len(head)]
    for key in METRICS:
        rows.append([LABELS[key], _cell(mt["overall"][key]),
                     *(_cell(mt["by_type"][t][key]) for t in types)])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def summary(result: EvalResult) -> str:
    """The metric table with abstention and latency lines (what the terminal shows)."""
    if result.unavailable:
        return f"## {result.answerer}: unavailable: {result.unavailable}\n"
    a = result.metrics["abstention"]
    lat = {k: "–" if v is None else f"{v:.3f}s" for k, v in result.metrics["latency"].items()}
    return "\n".join([
        f"## {result.answerer} — {len(result.items)} questions, {result.created}", "",
        metric_table(result), "",
        f"abstention: precision {a['precision']:.2f} · recall {a['recall']:.2f} · "
        f"F1 {a['f1']:.2f} (tp {a['tp']}, fp {a['fp']}, fn {a['fn']})",
        f"latency: answer p50 {lat['seconds_p50']} · p95 {lat['seconds_p95']}; "
        f"wall p50 {lat['wall_p50']} · p95 {lat['wall_p95']}", "",
    ])


def comparison(results: Sequence[EvalResult]) -> str:
    """Side-by-side table of the headline metrics of several answerers."""
    head = ["answerer", "correct", "token F1", "citation recall", "citation precision",
            "citation precision: rules φ / learned", "abstention F1",
            "sentences removed/flagged by verification", "p50 s"]
    rows = [head, ["---"] * len(head)]
    for r in results:
        if r.unavailable:
            rows.append([r.answerer, f"unavailable: {r.unavailable}", *[""] * (len(head) - 2)])
            continue
        o, v = r.metrics["overall"], r.metrics["verification"]
        rows.append([r.answerer, *(_cell(o[k]) for k in ("correct", "token_f1", "citation_recall",
                                                          "citation_precision")),
                     " / ".join(_cell(o.get(f"citation_precision_{j}")) for j in ("rules", "learned")),
                     f"{r.metrics['abstention']['f1']:.2f}",
                     "n/a" if v is None else f"{v['share']:.2f} ({v['changed']}/{v['sentences']})",
                     f"{r.metrics['latency']['seconds_p50'] or 0.0:.3f}"])
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def problems(r: ItemRecord) -> list[str]:
    """Why an item counts as failed, in words; empty when it passed every check."""
    s, out = r.scores, []
    if r.answerable and r.abstained:
        out.append("abstained on an answerable question")
    elif r.answerable and not s["correct"]:
        out.append("gold answer not in the answer")
    if not r.answerable and not r.abstained:
        out.append("answered an unanswerable question")
    for key in ("citation_recall", "citation_precision"):
        if (value := s[key]) is not None and value < 1.0:
            out.append(f"{LABELS[key]} {value:.2f}")
    for key in ("doc_hit_at_5", "span_hit_at_5", "corroborated", "conflict_flagged", "as_of_match"):
        if (value := s[key]) is not None and value < 1.0:
            out.append(f"{LABELS[key]}: no" + (f" (got {r.as_of})" if key == "as_of_match" else ""))
    return out


def _item(r: ItemRecord) -> list[str]:
    lines = [f"### {r.id} ({r.type}) — " + "; ".join(problems(r)), ""]
    if r.history:
        lines.append("- earlier turns: " + " / ".join(r.history))
    lines += [f"- question: {r.question}",
              f"- expected: {' | '.join(r.expected) or '(abstain)'}",
              f"- got: {r.answer}"]
    lines += [f"  - [{c['number']}] `{c['doc_id']}` “{c['quote']}”" for c in r.citations]
    lines += [f"- retrieved: {', '.join(r.retrieved[:5])}", ""]
    return lines


def markdown(results: Sequence[EvalResult], eval_set: str = "") -> str:
    """The whole Markdown report."""
    created = results[0].created if results else ""
    lines = [f"# Eval report — {Path(eval_set).name or 'eval set'} — {created}", ""]
    if len(results) > 1:
        lines += ["## Answerers side by side", "", comparison(results), ""]
    for r in results:
        lines.append(summary(r))
        if r.unavailable:
            continue
        answerers = sorted({i.answerer for i in r.items})
        if answerers != [r.answerer]:
            lines += [f"note: answers report answerer(s) {', '.join(answerers)}", ""]
        if r.metrics["warnings"]:
            lines += ["### Warnings", "", *(f"- {w}" for w in r.metrics["warnings"]), ""]
        failed = [i for i in r.items if problems(i)]
        lines += [f"### Failing items ({len(failed)} of {len(r.items)})", ""]
        for i in failed:
            lines += _item(i)
    return "\n".join(lines)


def _by_type(result: EvalResult, key: str) -> dict[str, float | None]:
    """Mean of ``key`` per type (``overall`` first). ``decision``: share of items where the
    assistant rightly answered or rightly abstained; ``story``: mean of the type-specific
    checks (outlets cited, conflict reported, as-of date) over the items that have one."""
    groups = {"overall": list(result.items)}
    for i in result.items:
        groups.setdefault(i.type, []).append(i)
    values: dict[str, float | None] = {}
    for name, items in groups.items():
        if key == "decision":
            values[name] = sum(i.abstained != i.answerable for i in items) / len(items)
        else:
            keys = STORY if key == "story" else (key,)
            scored = [i.scores[k] for i in items for k in keys if i.scores.get(k) is not None]
            values[name] = sum(scored) / len(scored) if scored else None  # type: ignore[arg-type]
    return values


def chart(results: Sequence[EvalResult], path: str | Path, eval_set: str = "") -> None:
    """Grouped bars: for each question type, the headline metrics; one panel per answerer."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    shown = [r for r in results if not r.unavailable and r.items]
    fig, axes = plt.subplots(max(1, len(shown)), 1, figsize=(15, 5.2 * max(1, len(shown))),
                             squeeze=False)
    labels = {**LABELS, "decision": "abstain/answer decision right",
              "story": "outlets / conflict / as-of check"}
    for ax, r in zip(axes[:, 0], shown, strict=False):
        per_key = {k: _by_type(r, k) for k in CHART}
        groups = list(per_key[CHART[0]])
        counts = {t: sum(i.type == t for i in r.items) for t in groups} | {"overall": len(r.items)}
        width = 0.8 / len(CHART)
        for j, key in enumerate(CHART):
            xs = [g + (j - (len(CHART) - 1) / 2) * width for g in range(len(groups))]
            ys = [per_key[key][g] for g in groups]
            bars = ax.bar([x for x, y in zip(xs, ys, strict=True) if y is not None],
                          [y for y in ys if y is not None], width, label=labels[key],
                          color=f"C{j}")
            ax.bar_label(bars, fmt="%.2f", fontsize=6.5, padding=1, rotation=90)
        ax.set_xticks(range(len(groups)), [f"{g}\n(n={counts[g]})" for g in groups])
        ax.set_ylim(0, 1.18)
        ax.set_ylabel("share / mean (1 = best)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(ncol=len(CHART), fontsize=7.5, loc="upper center", frameon=False)
        ax.set_title(f"{Path(eval_set).name or 'eval'} — answerer: {r.answerer} — {r.created[:10]}"
                     f" — {len(r.items)} questions")
    if not shown:
        axes[0, 0].text(0.5, 0.5, "no answerer could run", ha="center", va="center")
        axes[0, 0].set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
