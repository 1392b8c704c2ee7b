"""Pure metric functions for answers, retrieval and abstention. No model, no I/O.

Answer metrics compare *normalised* text (see ``normalize_answer``). Retrieval metrics take
ranked lists of ids or spans, best first. ``aggregate`` turns per-item rows into means with
counts, overall and per question type.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

# Typographic variants folded to ASCII before punctuation is stripped, so a curly
# apostrophe in an article and a straight one in a gold answer compare equal.
_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u00ab": '"', "\u00bb": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-",
    }
)  # fmt: skip
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """SQuAD-style normal form.

    Steps: Unicode NFKC (non-breaking spaces become spaces); curly quotes, primes and
    dashes folded to ASCII; lowercase; every punctuation or symbol character replaced by
    a space (unlike SQuAD, which deletes it, so "short-range" == "short range");
    the articles "a", "an", "the" removed; whitespace collapsed and trimmed.
    """
    text = unicodedata.normalize("NFKC", text).translate(_FOLD).lower()
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(pred: str, golds: Iterable[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0.

    No golds gives 0.0.
    """
    norm = normalize_answer(pred)
    return float(any(norm == normalize_answer(g) for g in golds))


def contains_match(pred_text: str, golds: Iterable[str]) -> float:
    """1.0 if any normalised gold occurs in the normalised prediction as whole tokens.

    Whole tokens: "no" does not match inside "not"; "march 29" matches
    "on march 29 in turkey". Golds that normalise to nothing are ignored; no golds gives 0.0.
    """
    padded = f" {normalize_answer(pred_text)} "
    for gold in golds:
        norm = normalize_answer(gold)
        if norm and f" {norm} " in padded:
            return 1.0
    return 0.0


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    if not pred_tokens or not gold_tokens:
        # SQuAD convention: two empty answers agree, one empty answer scores zero
        return float(pred_tokens == gold_tokens)
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_tokens)
    recall = common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(pred: str, golds: Iterable[str]) -> float:
    """Bag-of-tokens F1 between the normalised prediction and gold, maximised over golds.

    precision = shared tokens / prediction tokens, recall = shared tokens / gold tokens
    (shared counted with multiplicity). Both empty gives 1.0; one empty gives 0.0;
    no golds gives 0.0.
    """
    pred_tokens = normalize_answer(pred).split()
    return max((_f1(pred_tokens, normalize_answer(g).split()) for g in golds), default=0.0)


def _check_gold(gold_ids: Iterable[str]) -> set[str]:
    gold = set(gold_ids)
    if not gold:
        # an empty gold set has no right answer; averaging a 0 for it would hide a bug
        raise ValueError("gold ids are empty: retrieval metrics need at least one gold id")
    return gold


def hit_at_k(
    ranked_ids: Sequence[str], gold_ids: Iterable[str], k: int, *, require_all: bool = False
) -> float:
    """1.0 if a gold id is among the first ``k`` ranked ids, else 0.0.

    ``ranked_ids`` may repeat an id (several chunks of one article); positions, not distinct
    ids, are counted. With ``require_all`` (corroboration items) every gold id must be in
    the first ``k``. Raises ``ValueError`` for ``k < 1`` or empty gold ids.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    gold = _check_gold(gold_ids)
    top = set(ranked_ids[:k])
    return float(gold <= top if require_all else bool(gold & top))


def reciprocal_rank(ranked_ids: Sequence[str], gold_ids: Iterable[str]) -> float:
    """1 / (1-based position of the first gold id in ``ranked_ids``); 0.0 if none is there.

    Raises ``ValueError`` for empty gold ids.
    """
    gold = _check_gold(gold_ids)
    for position, doc_id in enumerate(ranked_ids, start=1):
        if doc_id in gold:
            return 1.0 / position
    return 0.0


Span = tuple[str, int, int]  # (doc_id, start, end), end exclusive


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] == b[0] and max(a[1], b[1]) < min(a[2], b[2])


def span_hit_at_k(ranked_spans: Sequence[Span], gold_spans: Iterable[Span], k: int) -> float:
    """1.0 if one of the first ``k`` ranked spans overlaps a gold span, else 0.0.

    Spans are ``(doc_id, start, end)`` with ``end`` exclusive; they overlap when they are in
    the same document and share at least one character (touching ends do not count).
    Raises ``ValueError`` for ``k < 1`` or no gold spans.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    gold = list(gold_spans)
    if not gold:
        raise ValueError("gold spans are empty: span hits need at least one gold span")
    return float(any(_overlaps(r, g) for r in ranked_spans[:k] for g in gold))


class PRF(NamedTuple):
    """Precision, recall and F1 of one positive class, with the counts behind them."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


def abstention_prf(pairs: Iterable[tuple[bool, bool]]) -> PRF:
    """Precision/recall/F1 of abstaining, from ``(abstained, answerable)`` pairs.

    Abstaining is the positive class: tp = abstained on an unanswerable question,
    fp = abstained on an answerable one, fn = answered an unanswerable one.
    precision = tp / (tp + fp), recall = tp / (tp + fn), f1 their harmonic mean;
    an empty denominator gives 0.0.
    """
    tp = fp = fn = 0
    for abstained, answerable in pairs:
        if abstained and not answerable:
            tp += 1
        elif abstained:
            fp += 1
        elif not answerable:
            fn += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp, fp, fn)


def percentile(values: Iterable[float], p: float) -> float:
    """The ``p``-th percentile (0-100) with linear interpolation between closest ranks.

    Same as ``numpy.percentile(values, p)`` (method "linear"): position
    ``(n - 1) * p / 100`` in the sorted values. Raises ``ValueError`` for no values or
    ``p`` outside [0, 100].
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be within [0, 100], got {p}")
    pos = (len(ordered) - 1) * p / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _mean_counts(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    sums = dict.fromkeys(keys, 0.0)
    counts = dict.fromkeys(keys, 0)
    for row in rows:
        for key in keys:
            value = row.get(key)
            if value is None:
                continue  # the metric does not apply to this item (e.g. hit@k when unanswerable)
            if not isinstance(value, (int, float)):
                raise TypeError(f"metric {key!r} must be a number or bool, got {value!r}")
            sums[key] += float(value)
            counts[key] += 1
    return {key: {"mean": sums[key] / counts[key] if counts[key] else None, "n": counts[key]} for key in keys}


def aggregate(
    per_item: Sequence[Mapping[str, Any]], keys: Sequence[str], *, type_key: str = "type"
) -> dict[str, Any]:
    """Mean and count of each metric, over all items and per question type.

    Each row maps metric names to a number, a bool (counted as 1.0/0.0) or ``None``/absent
    (the metric does not apply and the row is left out of that metric's mean). Returns::

        {"n_items": N,
         "overall": {key: {"mean": float | None, "n": int}, ...},
         "by_type": {type: {"n_items": int, key: {"mean": ..., "n": ...}, ...}, ...}}

    ``mean`` is ``None`` when no row has the metric. Types are sorted by name.
    """
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for row in per_item:
        by_type.setdefault(str(row.get(type_key, "")), []).append(row)
    return {
        "n_items": len(per_item),
        "overall": _mean_counts(per_item, keys),
        "by_type": {
            name: {"n_items": len(rows), **_mean_counts(rows, keys)} for name, rows in sorted(by_type.items())
        },
    }
