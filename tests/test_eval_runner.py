"""The eval runner: reports from a real run on the seeds, and metric math through fakes."""

from __future__ import annotations

import json
from argparse import Namespace
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assistant.kernel.answers import ABSTAIN_TEXT, Answer, AnswerSentence, Citation, Claim, Conflict, Passage
from assistant.kernel.records import Article
from eval.runner import DEFAULT_SET, METRICS, evaluate, locate, main
from eval.schema import EvalItem, load_items

ITEMS = load_items(DEFAULT_SET)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _one_of_each_type() -> list[EvalItem]:
    seen: dict[str, EvalItem] = {}
    for item in ITEMS:
        seen.setdefault(item.type, item)
    return list(seen.values())


@pytest.mark.slow
def test_run_on_seeds_writes_well_formed_reports(seeds_assistant: Any, tmp_path: Path) -> None:
    subset = _one_of_each_type()
    eval_set = tmp_path / "subset.jsonl"
    eval_set.write_text("\n".join(json.dumps(i.to_dict()) for i in subset) + "\n")
    out = tmp_path / "out"

    code = main(seeds_assistant, Namespace(eval_set=str(eval_set), answerer=None, out=str(out),
                                           gate=None))

    assert code == 0
    report = json.loads((out / "report.json").read_text())
    (result,) = report["results"]
    assert result["answerer"] == "extractive" and result["unavailable"] is None
    assert [r["id"] for r in result["items"]] == [i.id for i in subset]
    metrics = result["metrics"]
    assert metrics["n_items"] == len(subset)
    assert sum(t["n_items"] for t in metrics["by_type"].values()) == len(subset)
    for key in METRICS:
        cell = metrics["overall"][key]
        assert cell["n"] == sum(t[key]["n"] for t in metrics["by_type"].values())
        assert cell["mean"] is None or 0.0 <= cell["mean"] <= 1.0
    answerable = sum(i.answerable for i in subset)
    overall = metrics["overall"]
    assert overall["correct"]["n"] == overall["doc_hit_at_5"]["n"] == answerable
    abst = metrics["abstention"]
    assert abst["tp"] + abst["fn"] == len(subset) - answerable
    assert all(0.0 <= abst[k] <= 1.0 for k in ("precision", "recall", "f1"))
    assert 0.0 <= metrics["latency"]["seconds_p50"] <= metrics["latency"]["seconds_p95"]
    # citations recorded in the report point at the exact text of the indexed article
    for record in result["items"]:
        for c in record["citations"]:
            assert seeds_assistant.document(c["doc_id"]).text[c["start"]:c["end"]] == c["quote"]

    md = (out / "report.md").read_text()
    assert "| metric | overall (8) |" in md
    assert "| --- | --- |" in md and "| answer correct (contains) |" in md
    assert "Failing items" in md
    assert (out / "report.png").read_bytes()[:8] == PNG_MAGIC


# --- fakes: the model is beside the point, the arithmetic is not ----------------------------

DOC_TEXT = {d: " ".join(dict.fromkeys(ev for i in ITEMS if d in i.doc_ids for ev in i.evidence))
            for d in {d for i in ITEMS for d in i.doc_ids}}


class SubstringJudge:
    """Supported when the sentence occurs in the cited passages, nothing more."""

    def judge(self, passages: list[str], sentence: str) -> Any:
        from assistant.check.judge import Support

        ok = sentence.lower() in " ".join(passages).lower()
        return Support(ok, float(ok), float(ok), 0.0)


class FakeAssistant:
    """Answers from a lookup table instead of an index."""

    def __init__(self, answer: Any) -> None:
        self._answer = answer  # question -> Answer

    def ask(self, question: str, **_: Any) -> Answer:
        return self._answer(question)

    def chat(self) -> Any:
        return self  # each item's turns are asked in order; only the last one is scored

    def document(self, doc_id: str) -> Article:
        if doc_id not in DOC_TEXT:
            raise KeyError(doc_id)
        return Article(doc_id=doc_id, title=doc_id, text=DOC_TEXT[doc_id])


def _abstain(question: str) -> Answer:
    return Answer(question=question, text=ABSTAIN_TEXT, abstained=True)


def _oracle(question: str) -> Answer:
    """The gold answer, cited to every gold article, retrieved at rank 1."""
    item = next((i for i in ITEMS if i.question == question), None)
    if item is None or not item.answerable:
        return _abstain(question)
    gold = item.answers[0]
    cites = tuple(
        Citation(number=n, doc_id=d, title=d, source=None, url=None, published=item.as_of,
                 passage=f"{gold}. {item.evidence[0]}", passage_start=0, passage_end=1,
                 quote=gold, start=0, end=len(gold))
        for n, d in enumerate(item.doc_ids, start=1))
    retrieved = []
    for doc in item.doc_ids:  # every gold article, the ones holding evidence first
        ev = next((e for e in item.evidence if e in DOC_TEXT[doc]), "")
        start = DOC_TEXT[doc].find(ev) if ev else 0
        retrieved.append((not ev, Passage(
            chunk_id=f"{doc}::0", doc_id=doc, text=ev, start=start, end=start + max(len(ev), 1),
            title=doc, source=None, url=None, published=None, cluster_id="", sentences=())))
    retrieved.sort(key=lambda x: x[0])
    conflict = Conflict("name", (Claim("a", (1,)), Claim("b", (1,))))
    conflicts = (conflict,) if item.expect_conflict else ()
    return Answer(question=question, text=f"{gold} [1]", abstained=False, citations=cites,
                  sentences=(AnswerSentence(gold, tuple(c.number for c in cites)),),
                  as_of=item.as_of, conflicts=conflicts, retrieved=tuple(p for _, p in retrieved),
                  seconds=0.01)


def test_always_abstaining_gets_full_abstention_recall_and_no_correct_answer() -> None:
    result = evaluate(FakeAssistant(_abstain), ITEMS, judge=SubstringJudge(), progress=False)
    m = result.metrics
    unanswerable = sum(not i.answerable for i in ITEMS)
    assert m["abstention"]["recall"] == 1.0
    assert m["abstention"]["precision"] == pytest.approx(unanswerable / len(ITEMS))
    assert m["overall"]["correct"] == {"mean": 0.0, "n": len(ITEMS) - unanswerable}
    assert m["overall"]["token_f1"]["mean"] == 0.0
    assert m["overall"]["doc_hit_at_5"]["mean"] == 0.0  # nothing was retrieved
    assert m["overall"]["abstained"]["mean"] == 1.0
    assert m["overall"]["citation_recall"]["n"] == 0  # no answer, no citation to check
    assert not m["warnings"]  # every evidence string is found in the articles


class RejectingJudge:
    """Supports nothing: a judge stricter than any real one."""

    def judge(self, passages: list[str], sentence: str) -> Any:
        from assistant.check.judge import Support

        return Support(False, 0.0, 0.0, 0.0)


def test_a_perfect_answerer_scores_one_everywhere() -> None:
    judges = {"rules": SubstringJudge(), "learned": SubstringJudge()}
    result = evaluate(FakeAssistant(_oracle), ITEMS, judge=SubstringJudge(), progress=False,
                      judges=judges)
    m = result.metrics
    for key in METRICS:
        if key != "abstained":
            assert m["overall"][key]["mean"] == 1.0, key
    assert m["abstention"]["f1"] == 1.0
    assert m["by_type"]["unanswerable"]["abstained"]["mean"] == 1.0
    assert m["overall"]["corroborated"]["n"] == sum(i.type == "corroboration" for i in ITEMS)
    assert m["overall"]["as_of_match"]["n"] == sum(i.as_of is not None for i in ITEMS)
    assert m["latency"]["seconds_p50"] == pytest.approx(0.01)


def test_each_judge_grades_the_citations_side_by_side() -> None:
    judges = {"rules": SubstringJudge(), "learned": RejectingJudge()}
    m = evaluate(FakeAssistant(_oracle), ITEMS, judge=judges["rules"], progress=False,
                 judges=judges).metrics["overall"]
    assert m["citation_precision"]["mean"] == m["citation_precision_rules"]["mean"] == 1.0
    assert m["citation_precision_learned"]["mean"] == 0.0
    assert m["citation_recall_learned"]["mean"] == 0.0


def test_evidence_missing_from_the_index_is_a_miss_with_a_warning() -> None:
    item = next(i for i in ITEMS if i.type == "single")
    moved = replace(item, evidence=("words that no article contains",))

    result = evaluate(FakeAssistant(lambda q: _oracle(item.question)), [moved],
                      judge=SubstringJudge(), progress=False)

    assert result.items[0].scores["span_hit_at_5"] == 0.0
    assert result.items[0].scores["doc_hit_at_1"] == 1.0
    assert any("evidence not found" in w and moved.id in w for w in result.metrics["warnings"])


def test_evidence_is_located_despite_quotes_and_line_breaks_changed_by_cleaning() -> None:
    item = replace(ITEMS[0], evidence=("the “tough” sanctions on Moscow’s economy",))
    cleaned = 'Intro.\nThe "tough"  sanctions on Moscow\'s\neconomy were announced.'

    spans, warnings = locate(item, {item.doc_ids[0]: cleaned})

    assert not warnings
    (doc, start, end), = spans
    assert doc == item.doc_ids[0]
    assert cleaned[start:end] == 'The "tough"  sanctions on Moscow\'s\neconomy'
