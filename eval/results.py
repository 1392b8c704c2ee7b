"""What an eval run produces: one record per item, the metrics over them, and their names.

The runner (``eval.runner``) fills these; the report (``eval.report``) and the gate
(``eval.gate``) read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from eval import metrics as m

KS = (1, 3, 5)
# Per-item metrics, in report order; a row leaves out the ones that do not apply to it.
METRICS = (
    *(f"doc_hit_at_{k}" for k in KS), "doc_mrr", "doc_hit_all_at_5",
    *(f"span_hit_at_{k}" for k in KS), "span_mrr",
    "correct", "token_f1", "abstained", "citation_recall", "citation_precision",
    "corroborated", "conflict_flagged", "as_of_match",
    # the same citation metrics graded by each judge, side by side (the one above is the
    # configured ``support_judge``'s)
    "citation_recall_rules", "citation_precision_rules",
    "citation_recall_learned", "citation_precision_learned",
)
JUDGES = ("rules", "learned")


@dataclass(frozen=True)
class ItemRecord:
    """One eval item: what the assistant answered and how it scored."""

    id: str
    type: str
    question: str
    history: tuple[str, ...]
    expected: tuple[str, ...]
    answerable: bool
    answer: str
    abstained: bool
    answerer: str
    citations: tuple[dict[str, Any], ...]  # number, doc_id, quote, start, end
    sentences: tuple[dict[str, Any], ...]  # text, citations, supported (ALCE verdict), verdicts
    retrieved: tuple[str, ...]  # article ids in rank order, deduplicated
    conflicts: int
    as_of: str | None
    seconds: float  # answer.seconds: the assistant's own timing of the scored question
    wall_seconds: float  # wall time of the scored question
    removed: int  # sentences verification removed (LLM answerers)
    flagged: int  # sentences verification kept but marked unsupported
    scores: Mapping[str, float | None]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalResult:
    """All item records of one answerer and the metrics aggregated over them."""

    answerer: str
    items: tuple[ItemRecord, ...]
    metrics: Mapping[str, Any]
    created: str = field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))
    unavailable: str | None = None  # why the answerer could not run

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)


def summarise(records: Sequence[ItemRecord], answerer_name: str) -> dict[str, Any]:
    """Aggregate item scores: means per metric (overall, per type), abstention, latency."""
    rows = [{"type": r.type, **r.scores} for r in records]
    prf = m.abstention_prf((r.abstained, r.answerable) for r in records)
    total = sum(len(r.sentences) + r.removed for r in records)  # sentences before verification
    changed = sum(r.removed + r.flagged for r in records)
    return {
        **m.aggregate(rows, METRICS),
        "abstention": prf._asdict(),
        "latency": {f"{key}_{name}": round(m.percentile(values, p), 4) if values else None
                    for key, values in (("seconds", [r.seconds for r in records]),
                                        ("wall", [r.wall_seconds for r in records]))
                    for name, p in (("p50", 50), ("p95", 95))},
        # extractive answers quote the articles verbatim: there is nothing to verify
        "verification": None if answerer_name == "extractive" else {
            "sentences": total, "changed": changed, "share": changed / total if total else 0.0},
        "warnings": sorted({w for r in records for w in r.warnings}),
    }
