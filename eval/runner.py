"""Run an eval set through the assistant, score every answer, and gate CI on thresholds.

``evaluate`` asks each question (follow-ups through a chat session, scoring only the last
answer) and scores it with ``eval.metrics``:

- **retrieval** — hit@1/3/5 and MRR of the gold articles in the ranking ``answer.retrieved``
  (the passages the answerer saw, best first; article ids deduplicated, first position
  kept), ``doc_hit_all_at_5`` for corroboration items (every gold article in the top 5), and
  the same on gold evidence spans (chunk offsets against evidence located in the cleaned
  article text; evidence that cannot be located is a miss and a warning);
- **answers** — ``correct`` (gold answer contained) and ``token_f1`` on answerable items,
  0 when the assistant abstained; abstention precision/recall/F1 over all items;
- **faithfulness** — ALCE citation recall and precision with the support judge φ;
- **story checks** — ``corroborated`` (distinct cited articles >= ``min_outlets``),
  ``conflict_flagged`` (the answer reports a conflict), ``as_of_match``;
- **latency** — p50/p95 of ``answer.seconds`` and of wall time.

``main`` is what ``assistant eval`` runs: it writes ``report.json``, ``report.md`` and
``report.png`` and, with ``--gate thresholds.json`` (``{"overall.correct": 0.85, ...}``),
returns 1 when a metric falls below its minimum, naming the metric and the failing items.
"""

from __future__ import annotations

import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.kernel.errors import AssistantError
from eval import metrics as m
from eval.gate import gate, load_thresholds
from eval.results import JUDGES, KS, METRICS, EvalResult, ItemRecord, summarise
from eval.schema import EvalItem, load_items, locate_evidence

DEFAULT_SET = Path(__file__).with_name("seeds.jsonl")
SEEDS_DIR = Path(__file__).resolve().parents[1] / "seeds"
def evaluate(assistant: Any, items: Sequence[EvalItem], answerer_name: str = "extractive",
             judge: Any = None, progress: bool = True,
             judges: Mapping[str, Any] | None = None) -> EvalResult:
    """Ask every item's question and score the answers (see the module docstring). ``judge``
    grades the citations (default: the configured support judge); ``judges`` (name -> judge,
    default: every judge that can run here, unless ``judge`` was given) grade them again, side
    by side, as ``citation_*_<name>``."""
    from tqdm import tqdm

    if judges is None:
        judges = {} if judge is not None else _judges(assistant)
    if judge is None:
        judge = judges[assistant.settings.support_judge]
    texts = _gold_texts(assistant, items)
    records = [_run_item(assistant, item, texts, judge, judges)
               for item in tqdm(items, desc=f"eval {answerer_name}", unit="q", file=sys.stderr,
                                disable=not progress)]
    return EvalResult(answerer_name, tuple(records), summarise(records, answerer_name))


def _judges(assistant: Any) -> dict[str, Any]:
    """Every support judge that can run here, by ``Settings.support_judge`` name."""
    from assistant.check.choice import make_judge
    from assistant.kernel.errors import MissingExtraError

    embedder = assistant.embedder()
    out = {}
    for name in JUDGES:
        try:
            out[name] = make_judge(assistant.settings.replace(support_judge=name),
                                   lambda texts: embedder.embed(texts))
        except MissingExtraError:
            continue  # no trained model in this checkout
    return out


def _run_item(assistant: Any, item: EvalItem, texts: Mapping[str, str], judge: Any,
              judges: Mapping[str, Any] | None = None) -> ItemRecord:
    if item.history:
        session = assistant.chat()
        for earlier in item.history:
            session.ask(earlier)
        ask: Callable[[str], Any] = session.ask
    else:
        ask = assistant.ask
    started = time.perf_counter()
    answer = ask(item.question)
    wall = time.perf_counter() - started
    spans, warnings = locate(item, texts)
    scores, sentences = score(item, answer, spans, judge, judges or {})
    return ItemRecord(
        id=item.id, type=item.type, question=item.question, history=item.history,
        expected=item.answers, answerable=item.answerable, answer=answer.text,
        abstained=answer.abstained, answerer=answer.answerer,
        citations=tuple({"number": c.number, "doc_id": c.doc_id, "quote": c.quote,
                         "start": c.start, "end": c.end} for c in answer.citations),
        sentences=sentences, retrieved=_ranked_docs(answer), conflicts=len(answer.conflicts),
        as_of=answer.as_of, seconds=answer.seconds, wall_seconds=round(wall, 4),
        removed=len(getattr(answer, "removed", ()) or ()),
        flagged=sum(not s.supported for s in answer.sentences),
        scores=scores, warnings=tuple(warnings),
    )


def score(item: EvalItem, answer: Any, gold_spans: Sequence[m.Span], judge: Any,
          judges: Mapping[str, Any] | None = None,
          ) -> tuple[dict[str, float | None], tuple[dict[str, Any], ...]]:
    """Per-item metric values (``None`` where a metric does not apply) and ALCE sentence checks.
    ``judges`` (name -> judge) also grade the citations, as ``citation_*_<name>``."""
    from assistant.check.citations import citation_recall_precision

    s: dict[str, float | None] = dict.fromkeys(METRICS)
    s["abstained"] = float(answer.abstained)
    checks: tuple[dict[str, Any], ...] = ()
    if not answer.abstained:
        by_number = {c.number: c for c in answer.citations}
        pairs = [(sent.text, [_cited_text(by_number[n]) for n in sent.citations if n in by_number])
                 for sent in answer.sentences] or [(answer.text, [])]
        recall, precision, verdicts = citation_recall_precision(pairs, judge)
        s["citation_recall"], s["citation_precision"] = recall, precision
        for name, other in (judges or {}).items():
            r, p, _ = (recall, precision, None) if other is judge else \
                citation_recall_precision(pairs, other)
            s[f"citation_recall_{name}"], s[f"citation_precision_{name}"] = r, p
        checks = tuple({"text": v.sentence, "citations": list(sent.citations),
                        "supported": v.supported, "verdicts": list(v.verdicts)}
                       for v, sent in zip(verdicts, answer.sentences, strict=False))
    if not item.answerable:
        return s, checks
    docs = _ranked_docs(answer)
    ranked_spans = [(p.doc_id, p.start, p.end) for p in answer.retrieved]
    for k in KS:
        s[f"doc_hit_at_{k}"] = m.hit_at_k(docs, item.doc_ids, k)
        s[f"span_hit_at_{k}"] = m.span_hit_at_k(ranked_spans, gold_spans, k) if gold_spans else 0.0
    s["doc_mrr"] = m.reciprocal_rank(docs, item.doc_ids)
    s["span_mrr"] = _span_rr(ranked_spans, gold_spans)
    text = " ".join(sent.text for sent in answer.sentences) or answer.text
    s["correct"] = 0.0 if answer.abstained else m.contains_match(text, item.answers)
    s["token_f1"] = 0.0 if answer.abstained else m.token_f1(text, item.answers)
    if item.type == "corroboration":
        s["doc_hit_all_at_5"] = m.hit_at_k(docs, item.doc_ids, 5, require_all=True)
        cited = {c.doc_id for c in answer.citations}
        s["corroborated"] = float(not answer.abstained and len(cited) >= (item.min_outlets or 2))
    if item.expect_conflict:
        s["conflict_flagged"] = float(bool(answer.conflicts))
    if item.as_of:
        s["as_of_match"] = float(answer.as_of == item.as_of)
    return s, checks


def _ranked_docs(answer: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.doc_id for p in answer.retrieved))


def _span_rr(ranked: Sequence[m.Span], gold: Sequence[m.Span]) -> float:
    for k in range(1, len(ranked) + 1):
        if gold and m.span_hit_at_k(ranked, gold, k):
            return 1.0 / k
    return 0.0


def _cited_text(c: Any) -> str:
    # the quote is normally inside its passage; keep it when a sentence straddles chunks.
    # One citation is one article: every sentence the answer quotes from it is cited text.
    parts: list[str] = []
    for q in getattr(c, "quotes", (c,)):
        text = str(q.passage) if q.quote in q.passage else f"{q.quote} {q.passage}"
        if text not in parts:
            parts.append(text)
    return " ".join(parts)


# --- gold evidence in the cleaned articles -------------------------------------------------


def _gold_texts(assistant: Any, items: Iterable[EvalItem]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for doc_id in sorted({d for item in items for d in item.doc_ids}):
        try:
            texts[doc_id] = assistant.document(doc_id).text
        except KeyError:
            pass  # reported per item by ``locate``
    return texts


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded for matching (NFKC, lowercase, punctuation and whitespace runs as one
    space) and, for each folded character, its offset in ``text``. Cleaning may turn curly
    quotes straight or join lines, so raw evidence and cleaned text are compared folded."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c.isspace() or unicodedata.category(c)[0] in "PS":
                if not out or out[-1] == " ":
                    continue
                c = " "
            out.append(c)
            where.append(i)
    return "".join(out), where


def locate(item: EvalItem, texts: Mapping[str, str]) -> tuple[list[m.Span], list[str]]:
    """Gold evidence spans of ``item`` in the cleaned ``texts``, and a warning per evidence
    string (or gold article) that cannot be found."""
    warnings = [f"{item.id}: gold article {d} is not in the index" for d in item.doc_ids
                if d not in texts]
    folded = {d: _folded(t) for d, t in texts.items()}
    spans: list[m.Span] = []
    for ev in item.evidence:
        found = locate_evidence(replace(item, evidence=(ev,)), texts)
        if not found:
            probe = replace(item, evidence=(_folded(ev)[0].strip(),))
            found = [(d, folded[d][1][a], folded[d][1][b - 1] + 1)
                     for d, a, b in locate_evidence(probe, {d: f for d, (f, _) in folded.items()})]
        if not found:
            warnings.append(f"{item.id}: evidence not found in the cleaned text: {ev[:70]!r}")
        spans += found
    return spans, warnings


# --- the command and the gate ---------------------------------------------------------------


def main(assistant: Any, args: Any) -> int:
    """``assistant eval``: run the set for each answerer, write the reports, apply the gate."""
    from eval import report

    path = Path(args.eval_set) if getattr(args, "eval_set", None) else DEFAULT_SET
    items = load_items(path)
    ensure_seeds(assistant, items)
    results = [_run_answerer(assistant, name, items)
               for name in (getattr(args, "answerer", None) or ["extractive"])]
    out = Path(getattr(args, "out", None) or "eval/out")
    written = report.write(results, out, eval_set=str(path))
    for result in results:
        print(report.summary(result))
    print("reports: " + ", ".join(str(p) for p in written))
    if not getattr(args, "gate", None):
        return 0
    failures = gate(results, load_thresholds(args.gate))
    for line in failures:
        print(line)
    print(f"gate {args.gate}: " + ("FAILED" if failures else "passed"))
    return 1 if failures else 0


def ensure_seeds(assistant: Any, items: Sequence[EvalItem]) -> None:
    """Index the seed articles when the store is empty or lacks the set's gold articles."""
    from assistant.kernel.errors import NoIndexError

    gold = sorted({d for item in items for d in item.doc_ids})
    try:
        missing = [d for d in gold if not _has(assistant, d)]
    except NoIndexError:
        missing = gold or ["(empty store)"]
    if not missing:
        return
    if not SEEDS_DIR.is_dir():
        print(f"eval: {len(missing)} gold article(s) not indexed and no {SEEDS_DIR} to index",
              file=sys.stderr)
        return
    print(f"eval: indexing {SEEDS_DIR} into {assistant.settings.store_dir} "
          f"({len(missing)} gold article(s) missing, e.g. {missing[0]})", file=sys.stderr)
    report = assistant.index([SEEDS_DIR], keep_missing=True)
    print(f"eval: indexed {report.added} added, {report.updated} updated", file=sys.stderr)


def _has(assistant: Any, doc_id: str) -> bool:
    try:
        assistant.document(doc_id)
    except KeyError:
        return False
    return True


def _run_answerer(assistant: Any, name: str, items: Sequence[EvalItem]) -> EvalResult:
    """Evaluate one answerer. An optional (LLM) answerer that cannot run is reported, not
    fatal; an error of the extractive one is a real failure and propagates."""
    from assistant.app.assistant import Assistant

    other = assistant if assistant.settings.answerer == name else Assistant(
        settings=assistant.settings.replace(answerer=name),
        model=assistant.embedder())
    try:
        return evaluate(other, items, name)
    except AssistantError as e:
        if name == "extractive":
            raise
        print(f"eval: answerer {name} unavailable: {e}", file=sys.stderr)
        return EvalResult(name, (), {}, unavailable=str(e))
    finally:
        if other is not assistant:
            other.close()
