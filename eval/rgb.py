"""RGB counterfactual robustness: ``assistant bench rgb --data en_fact.json --out DIR``.

RGB (Chen et al., AAAI 2024) pairs each question with ``positive`` passages stating the
true answer and ``positive_wrong`` copies where it is swapped for ``fakeanswer``. We index
both sides together — two groups of sources that contradict each other — and check that
the answer shows the disagreement instead of silently picking a side.

All records share one store: each passage is its own article (``rgb://{id}/pos/{i}`` or
``rgb://{id}/wrong/{i}``) and each question is asked with ``doc_ids`` restricted to its
record's passages, so records never see each other. Indexing is incremental: a second
run re-uses the embeddings and only asks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metrics import contains_match, percentile

CLASSES = ("conflict", "true_only", "fake_only", "both_unflagged", "neither")
DEFINITIONS = {
    "conflict": "the answer reports a conflict (Answer.conflicts non-empty) and both the true "
                "and the fake answer occur in the answer text or the conflict's claims",
    "true_only": "the true answer occurs in the answer text, the fake one does not",
    "fake_only": "the fake answer occurs in the answer text, the true one does not",
    "both_unflagged": "both occur in the answer text but no conflict names them both",
    "neither": "the assistant abstained, or neither answer occurs in its text",
    "claims_name_both": "stricter, per conflict answer: the conflict's own claims (not just the "
                        "answer text) contain both the true and the fake answer",
    "occurs": "normalised whole-token containment (eval.metrics.contains_match); a list "
              "answer counts when any of its variants occurs",
}
EXAMPLES = 3  # per class in the Markdown report


@dataclass(frozen=True)
class RgbRecord:
    """One RGB question: true answer variants, the fake answer and both sides' passages."""

    id: str
    query: str
    answers: tuple[str, ...]
    fake: str
    positive: tuple[str, ...]
    positive_wrong: tuple[str, ...]

    def urls(self) -> dict[str, str]:
        """url -> passage for every passage of this record (true side first)."""
        out = {f"rgb://{self.id}/pos/{i}": p for i, p in enumerate(self.positive)}
        out |= {f"rgb://{self.id}/wrong/{i}": p for i, p in enumerate(self.positive_wrong)}
        return out


def _flatten(value: Any) -> list[str]:
    """RGB answers are a string, a list of them, or a list of lists of date variants."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _flatten(v)]
    return [str(value)]


def load_records(path: str | Path) -> list[RgbRecord]:
    """Records of an RGB file (JSON Lines, whatever its suffix)."""
    from assistant.kernel.errors import AssistantError

    path = Path(path)
    if not path.is_file():
        raise AssistantError(f"no RGB file at {path} — point --data at en_fact.json")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            out.append(RgbRecord(str(rec["id"]), rec["query"], tuple(_flatten(rec["answer"])),
                                 str(rec["fakeanswer"]), tuple(rec["positive"]),
                                 tuple(rec["positive_wrong"])))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise AssistantError(f"{path}:{n} is not an RGB record ({e})") from e
    return out


def support_cases(path: Path) -> list[dict[str, Any]]:
    """RGB as judgements for a support judge: (id, form, sentence, side, passages, expected).

    Two true-answer sentences per record, ``query`` ("{query}: {answer}.") and ``passage``
    (the first sentence of a ``positive`` passage stating the answer), each judged against
    ``positive`` (expected: supported) and ``positive_wrong`` (expected: unsupported), and,
    for name answers that no ``negative`` passage words, against ``negative`` (unsupported).
    Used by ``bench/calibrate_support.py`` and ``train/calibrate.py``.
    """
    from assistant.kernel.text import fold, quick_sentences

    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        answers = [a.strip() for a in _flatten(r["answer"])]
        forms = {"query": f"{r['query'].strip()}: {answers[0]}."}
        for passage in r["positive"]:
            hit = next((s for s in quick_sentences(passage)
                        if any(fold(a) in fold(s) for a in answers)), None)
            if hit:
                forms["passage"] = hit
                break
        # A third side, "negative": topic-near passages that never state the answer. RGB warns
        # that some negatives do, often reworded ("Nov. 12", "Tampa Bay"), so only name answers
        # none of whose words (3+ letters) occurs in any negative passage are used.
        words = set(re.findall(r"\w{3,}", fold(answers[0])))
        clean = isinstance(r["answer"], str) and not re.search(r"\d", answers[0]) and not any(
            w in re.findall(r"\w+", fold(p)) for w in words for p in r["negative"])
        sides = [("positive", True), ("positive_wrong", False)] + [("negative", False)] * clean
        for form, sentence in forms.items():
            for side, expected in sides:
                out.append({"id": r["id"], "form": form, "sentence": sentence, "side": side,
                            "passages": r[side], "expected": expected})
    return out


def write_corpus(records: Sequence[RgbRecord], path: Path) -> None:
    """Every passage as one article: JSON Lines the index reader takes as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            for url, text in r.urls().items():
                # source is set so the outlet is not the url's "host" (the record id)
                row = {"url": url, "title": r.query, "text": text, "source": "rgb"}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _claims(answer: Any) -> str:
    """The values of every side of every conflict the answer reports, as one text."""
    return " ".join(c.value for k in answer.conflicts for c in k.claims)


def classify(record: RgbRecord, answer: Any) -> str:
    """Which of ``CLASSES`` an answer falls in (see ``DEFINITIONS``)."""
    if answer.abstained:
        return "neither"
    shown = f"{answer.text} {_claims(answer)}"
    if (answer.conflicts and contains_match(shown, record.answers)
            and contains_match(shown, [record.fake])):
        return "conflict"
    true = contains_match(answer.text, record.answers)
    fake = contains_match(answer.text, [record.fake])
    if true and fake:
        return "both_unflagged"
    return "true_only" if true else "fake_only" if fake else "neither"


def score(record: RgbRecord, answer: Any) -> dict[str, Any]:
    """One flat row per question: its class and what explains it."""
    from assistant.answer.question import need

    cited = [c.doc_id for c in answer.citations]
    claims = _claims(answer)
    return {
        "id": record.id, "query": record.query, "answer": record.answers[0], "fake": record.fake,
        "class": classify(record, answer), "abstained": answer.abstained,
        "need": need(record.query), "seconds": answer.seconds, "text": answer.text,
        "conflicts": [{"kind": c.kind, "claims": [k.value for k in c.claims]}
                      for c in answer.conflicts],
        "claims_name_both": bool(contains_match(claims, record.answers)
                                 and contains_match(claims, [record.fake])),
        "cited_true_side": sum(d.startswith(f"rgb://{record.id}/pos/") for d in cited),
        "cited_fake_side": sum(d.startswith(f"rgb://{record.id}/wrong/") for d in cited),
        # the question was asked with doc_ids = this record's passages: anything else leaked in
        "cited_outside": sorted({d for d in cited if d not in record.urls()}),
        "notes": list(answer.notes),
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Count and share of each class, abstentions, latency and the classes per question need."""
    n = len(rows)
    counts = Counter(r["class"] for r in rows)
    by_need: dict[str, Counter[str]] = {}
    for r in rows:
        by_need.setdefault(str(r["need"]), Counter())[r["class"]] += 1
    secs = [r["seconds"] for r in rows] or [0.0]
    return {
        "questions": n,
        "classes": {c: {"count": counts[c], "share": round(counts[c] / n, 4) if n else 0.0}
                    for c in CLASSES},
        "abstained": sum(r["abstained"] for r in rows),
        "cited_outside_filter": sum(bool(r["cited_outside"]) for r in rows),
        "conflict_claims_name_both": sum(r["class"] == "conflict" and r["claims_name_both"]
                                         for r in rows),
        "by_need": {k: dict(v) for k, v in sorted(by_need.items())},
        "latency": {f"p{p}": round(percentile(secs, p), 4) for p in (50, 95)},
    }


def run_rgb(assistant: Any, records: Sequence[RgbRecord], out_dir: str | Path,
            limit: int | None = None, progress: Any = None) -> dict[str, Any]:
    """Index both sides of each record, ask its question, classify; write rgb.json and rgb.md."""
    out = Path(out_dir)
    records = list(records[:limit] if limit else records)
    corpus = out / "rgb-articles.jsonl"
    write_corpus(records, corpus)
    started = time.perf_counter()
    # keep_missing: a --limit run must not delete the other records' articles from the store
    report = assistant.index([corpus], keep_missing=True, progress=progress)
    index_seconds = time.perf_counter() - started
    rows = []
    for i, r in enumerate(records, 1):
        rows.append(score(r, assistant.ask(r.query, doc_ids=list(r.urls()))))
        if progress is not None and (i % 25 == 0 or i == len(records)):
            print(f"  asked {i}/{len(records)}", file=sys.stderr)
    result = {
        "store": str(Path(assistant.settings.store_dir).resolve()),
        "index": {"added": report.added, "seconds": round(index_seconds, 2),
                  "passages": sum(len(r.urls()) for r in records)},
        "settings": {k: getattr(assistant.settings, k) for k in
                     ("top_k", "candidates", "answer_sentences", "abstain_threshold", "answerer")},
        "summary": summarise(rows), "definitions": DEFINITIONS, "items": rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "rgb.json").write_text(json.dumps(result, indent=1, ensure_ascii=False, default=str),
                                  encoding="utf-8")
    (out / "rgb.md").write_text(markdown(result), encoding="utf-8")
    return result


def markdown(result: dict[str, Any]) -> str:
    """The report a person reads: class shares with counts, per question need, examples."""
    s = result["summary"]
    lines = [
        "# RGB counterfactual robustness (en_fact)", "",
        f"{s['questions']} questions; each asked over its `positive` and `positive_wrong` "
        f"passages together ({result['index']['passages']} passages). Store: `{result['store']}`.",
        "Settings: " + ", ".join(f"{k}={v}" for k, v in result["settings"].items()) + ".", "",
        "| class | share | count |", "|---|---|---|"]
    lines += [f"| {c} | {v['share']:.1%} | {v['count']} |" for c, v in s["classes"].items()]
    lat, ix = s["latency"], result["index"]
    lines += ["", f"Of the {s['classes']['conflict']['count']} conflicts, "
              f"{s['conflict_claims_name_both']} name both values in the conflict's own claims "
              "(the others flag a disagreement on another value while quoting both answers).",
              "", f"Abstained: {s['abstained']}. Latency of `ask`: p50 {lat['p50']:.3f} s, "
              f"p95 {lat['p95']:.3f} s. Indexing: {ix['seconds']} s "
              f"({ix['added']} articles added).",
              "", f"Answers citing an article outside their record's `doc_ids` filter: "
              f"{s['cited_outside_filter']}.",
              "", "## By the kind of value the question asks for (`question.need`)", "",
              "| need | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    for need, counts in s["by_need"].items():
        lines.append(f"| {need} | " + " | ".join(str(counts.get(c, 0)) for c in CLASSES) + " |")
    lines += ["", "## Definitions", ""]
    lines += [f"- **{k}**: {v}" for k, v in result["definitions"].items()]
    for c in CLASSES:
        items = [r for r in result["items"] if r["class"] == c][:EXAMPLES]
        if not items:
            continue
        lines += ["", f"## {c}: first {len(items)}", ""]
        for r in items:
            text = " ".join(r["text"].split())
            lines.append(f"- `{r['id']}` {r['query']} — true **{r['answer']}**, fake "
                         f"**{r['fake']}**; cited {r['cited_true_side']} true / "
                         f"{r['cited_fake_side']} fake passages; answer: {text[:300]}"
                         f"{'…' if len(text) > 300 else ''}")
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    """``assistant bench rgb``: store in ``--store-dir`` or ``OUT/rgb-store``; reports in OUT."""
    from assistant import Assistant
    from index import progress

    out = Path(args.out)
    store = Path(args.store_dir) if getattr(args, "store_dir", None) else out / "rgb-store"
    overrides: dict[str, Any] = {"store_dir": store}
    if getattr(args, "embedder", None):
        overrides["embedder"] = args.embedder
    records = load_records(args.data)  # a wrong path fails before the model loads
    assistant = Assistant(**overrides)
    try:
        result = run_rgb(assistant, records, out, getattr(args, "limit", None),
                         progress=progress.progress_bar())
    finally:
        assistant.close()
    classes = result["summary"]["classes"]
    print(", ".join(f"{c} {v['count']} ({v['share']:.0%})" for c, v in classes.items()),
          file=sys.stderr)
    print(f"wrote {out / 'rgb.json'} and {out / 'rgb.md'}", file=sys.stderr)
    return 0
