"""The RealTime QA adapter (eval/realtimeqa.py) and the perf harness (bench/perf.py), end to end
on a tiny RealTime QA week written here: real model, real Chroma."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from eval.realtimeqa import (
    BASELINES,
    MODES,
    Question,
    baselines_for,
    group,
    load_weeks,
    losses,
    published_baselines,
    realtimeqa,
)

ROOT = Path(__file__).resolve().parents[1]
WEEK = "20220107"
LANTERN = "https://news.example.com/2022/01/05/tromso-lantern-festival/index.html"
SCOOTER = "https://news.example.com/2022/01/04/voltra-scooter-recall/index.html"
BERGEN = "https://other.example.org/bergen-harbour-lights"
SALES = "https://other.example.org/scooter-sales-record"
CHESS = "https://other.example.org/chess-club-opens"

ARTICLES = {
    LANTERN: ("Tromso picked for 2031 lantern festival",
              "The Arctic city of Tromso was chosen on Tuesday to host the 2031 Winter Lantern "
              "Festival, organisers announced in Geneva. Tromso beat bids from Bergen and "
              "Reykjavik after a vote of the festival council. The city expects forty thousand "
              "visitors to walk its frozen harbour during the polar night. Local hotels said "
              "bookings had already started to rise after the announcement."),
    SCOOTER: ("Voltra recalls 40,000 electric scooters",
              "Voltra recalled 40,000 electric scooters this week after reports of battery fires "
              "in three countries. The company said owners should stop charging the Model V2 at "
              "once. Regulators in Ohio had opened an inquiry into twelve fires linked to the "
              "batteries. "
              "Voltra will replace every affected battery pack free of charge."),
    BERGEN: ("Bergen harbour lights draw crowds",
             "Bergen switched on its harbour lights on Friday evening as crowds gathered along the "
             "old wharf. The display runs every night until the end of February. Musicians played "
             "from boats moored near the fish market while children carried paper lanterns."),
    SALES: ("Scooter sales hit a record in December",
            "Sales of electric scooters reached a record in December, an industry group said on "
            "Monday. Cheaper models from several makers drove the rise in sales across Europe. "
            "Analysts expect demand to slow as cities tighten rules on rental fleets."),
    CHESS: ("A new chess club opens downtown",
            "A new chess club opened downtown on Saturday with twenty boards and a small cafe. "
            "Members meet every evening, and beginners get free lessons on Sunday mornings."),
}
QUESTIONS = [  # (question, choices, correct index, gold urls, search results)
    ("Which city will host the 2031 Winter Lantern Festival?",
     ["Bergen", "Tromso", "Reykjavik", "Geneva"], 1, [LANTERN], [LANTERN, BERGEN, CHESS]),
    ("Which company recalled 40,000 electric scooters this week over battery fires?",
     ["Segway", "Lime", "Voltra", "Bird"], 2, [SCOOTER], [SALES, SCOOTER]),
    ("Which team won the regional curling championship?",  # no gold article, answer not indexed
     ["Oslo Bears", "Umea Hawks", "Perth Stones", "Basel Eagles"], 0, [], [CHESS, SALES]),
]


def write_week(folder: Path) -> Path:
    """One RealTime QA week in the public layout: _qa, _gold and _gcs JSONL files."""
    folder.mkdir(parents=True, exist_ok=True)
    qa, gold, gcs = [], [], []
    for i, (question, choices, correct, golds, results) in enumerate(QUESTIONS):
        qid = f"{WEEK}_{i}"
        qa.append({"question_id": qid, "question_date": "2022/01/06", "question_source": "Test",
                   "question_url": "https://quiz.example.com", "question_sentence": question,
                   "choices": choices, "answer": [str(correct)], "evidence": ""})
        gold.append({"question_id": qid, "search_result": [
            {"url": u, "text": ARTICLES[u][1], "authors": [], "publish_date": None}
            for u in golds]})
        gcs.append({"question_id": qid, "search_time": "2022/01/07", "search_result": [
            {"url": u, "title": ARTICLES[u][0], "text": ARTICLES[u][1], "authors": [],
             "publish_date": None} for u in results]})
    for name, rows in (("qa", qa), ("gold", gold), ("gcs", gcs)):
        (folder / f"{WEEK}_{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_load_weeks_reads_questions_gold_urls_and_article_files(tmp_path: Path) -> None:
    questions, files = load_weeks(write_week(tmp_path / "weeks"))
    assert [q.correct for q in questions] == ["Tromso", "Voltra", "Oslo Bears"]
    assert [set(q.gold) for q in questions] == [{LANTERN}, {SCOOTER}, set()]
    assert sorted(f.name for f in files) == [f"{WEEK}_gcs.jsonl", f"{WEEK}_gold.jsonl"]


@pytest.mark.slow
def test_realtimeqa_end_to_end(tmp_path: Path, embedder: Any) -> None:
    data, out = write_week(tmp_path / "weeks"), tmp_path / "out"
    args = argparse.Namespace(suite="realtimeqa", data=str(data), out=str(out), limit=None,
                              store_dir=str(tmp_path / "store"), embedder=None)
    assert realtimeqa(args, model=embedder) == 0
    result = json.loads((out / "realtimeqa.json").read_text())
    md = (out / "realtimeqa.md").read_text()
    s = result["summary"]
    # every url once, though the gold articles are also search results
    assert result["corpus"]["articles"] == len(ARTICLES)
    assert (s["questions"], s["with_gold"]) == (3, 2)
    items = {r["id"]: r for r in result["items"]}
    easy, recall, unanswerable = (items[f"{WEEK}_{i}"] for i in range(3))
    for row in (easy, recall):  # distinctive words: the gold article comes first in every mode
        for mode in ("dense", "bm25", "rrf", "fused"):
            assert row[f"{mode}.hit@1"] == 1.0 and row[f"{mode}.mrr"] == 1.0
            assert row[f"{mode}.choice@5"] == 1.0
        assert row["cited_passages_contain"] == 1.0 and row["gold_cited"] == 1.0
        assert row["ask_is_fused_prefix"]
        assert row["answer_contains"] == float(row["correct"] in row["answer"])
    assert "Tromso" in easy["answer"] and easy["answer_contains"] == 1.0
    assert unanswerable["fused.hit@10"] == 0.0 and unanswerable["cited_passages_contain"] == 0.0
    # the answerable questions' choices are in the store; the unanswerable one's is in none
    assert (easy["in_store"], recall["in_store"], unanswerable["in_store"]) == (1.0, 1.0, 0.0)
    # all-question means count the question without a gold article as a miss
    assert s["modes"]["fused"]["hit@1"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["modes"]["fused"]["gold_only"]["hit@1"] == 1.0
    assert s["answers"]["cited_passages_contain"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["latency"]["p50"] > 0
    assert "Tromso" in md
    # the issue's dev baselines are not printed beside other weeks as if they were theirs
    assert result["baselines"] == {} and "0.137/0.214/0.251" not in md
    assert "| dense | 1.000 |" in md and md.count("| -/-/- | - |") == len(MODES)
    # a second run reuses the index and gives the same numbers
    assert realtimeqa(args, model=embedder) == 0
    again = json.loads((out / "realtimeqa.json").read_text())["summary"]
    assert again["modes"] == s["modes"] and again["answers"] == s["answers"]


def test_the_issue_baselines_stand_beside_the_whole_dev_set_only() -> None:
    def week(stamp: str, n: int) -> list[Question]:
        return [Question(f"{stamp}_{i}", "Who?", ("a", "b"), "a", frozenset()) for i in range(n)]

    assert baselines_for(week("20220617", 299)) == BASELINES
    assert baselines_for(week("20220617", 25)) == {}  # --limit: part of dev
    assert baselines_for(week("20241108", 299)) == {}  # other weeks


def test_each_question_loses_its_point_in_one_named_place() -> None:
    def row(contains: bool, retrieved: bool, abstained: bool, cited_passage: bool = False,
            cut: bool = False, in_store: bool = True) -> dict[str, Any]:
        r = {"answer_contains": float(contains), "retrieved_contain": float(retrieved),
             "abstained": abstained, "cited_passages_contain": float(cited_passage),
             "cut_mid_name": float(cut), "in_store": float(in_store)}
        return r | {"group": group(r)}

    rows = [row(True, True, False), row(False, True, False, cited_passage=True, cut=True),
            row(False, True, False), row(False, True, True), row(False, False, True),
            row(False, False, False, in_store=False)]
    assert [r["group"] for r in rows] == ["correct", "wrong sentence", "wrong sentence",
                                          "needless abstention", "retrieval miss", "retrieval miss"]
    shares = losses(rows)
    assert sum(shares[g] for g in ("correct", "wrong sentence", "needless abstention",
                                   "retrieval miss")) == pytest.approx(1.0)
    assert shares["wrong sentence, in a cited passage"] == pytest.approx(1 / 6, abs=1e-3)
    assert shares["retrieval miss, abstained"] == pytest.approx(1 / 6, abs=1e-3)
    assert shares["retrieval miss, in no stored passage"] == pytest.approx(1 / 6, abs=1e-3)
    assert shares["cut mid-name (of answers)"] == pytest.approx(1 / 4, abs=1e-3)


def test_a_quote_cut_inside_a_name_is_counted() -> None:
    from eval.realtimeqa import CUT_INSIDE_NAME

    assert CUT_INSIDE_NAME.search("The state will invite Florida Gov.")
    assert CUT_INSIDE_NAME.search("The speech was given by John F.”")
    assert not CUT_INSIDE_NAME.search("Troops will stay in the U.S.")
    assert not CUT_INSIDE_NAME.search("The vote was held on Tuesday.")


def test_the_read_path_fuses_its_two_rankings_in_one_place(seeds_assistant: Any) -> None:
    """``Assistant.retriever``: the rankings before fusion, their reciprocal-rank fusion
    (which the benchmark's ``rrf`` mode reports) and ``search``, scored by that fusion."""
    retriever = seeds_assistant.retriever
    question = "Where did Borrell give his speech about security guarantees?"
    found = retriever.rankings(question)
    assert found.dense and found.keyword
    fused = retriever.fuse(found)
    rrf_k = seeds_assistant.settings.rrf_k
    ranks = [{c: i for i, (c, _) in enumerate(r)} for r in (found.dense, found.keyword)]
    for cid, score in fused:
        assert score == pytest.approx(sum(1 / (rrf_k + r[cid] + 1) for r in ranks if cid in r))
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)
    passages = retriever.search(question, k=len(fused))
    assert {p.chunk_id: p.score for p in passages} == dict(fused)
    last = fused[-1][0]  # a follow-up about its story lifts it by a fixed amount
    boosted = dict(retriever.fuse(found, boost_docs=[last.rsplit("::", 1)[0]]))
    assert boosted[last] == pytest.approx(dict(fused)[last] + 0.5 / (rrf_k + 1))


def test_published_baselines_are_scored_like_our_answers(tmp_path: Path) -> None:
    data = write_week(tmp_path / "dev")
    folder = tmp_path / "dev-baselines"
    folder.mkdir()
    rows = {"gpt3": ["It was Tromso, after a council vote.", "Lime", "Oslo Bears"],
            "rag": ["Bergen", "voltra", ""]}
    for name, predictions in rows.items():
        (folder / f"{WEEK}_{name}_gcs_gen.jsonl").write_text("".join(
            json.dumps({"question_id": f"{WEEK}_{i}", "prediction": p}) + "\n"
            for i, p in enumerate(predictions)))
    questions, _ = load_weeks(data)
    got = published_baselines(data, questions)
    assert got["gpt3"]["answer_contains"] == pytest.approx(2 / 3, abs=1e-3)  # Tromso, Oslo Bears
    assert got["gpt3"]["answer_contains_wrong"] == pytest.approx(1 / 3, abs=1e-3)  # Lime
    assert got["rag"]["answer_contains"] == pytest.approx(1 / 3, abs=1e-3)  # case-insensitive
    assert got["rag"]["questions"] == 3


@pytest.mark.slow
def test_perf_smoke_writes_every_section(tmp_path: Path) -> None:
    data = write_week(tmp_path / "weeks")
    out = tmp_path / "out"
    # as `make bench` runs it, in a new process from the project root
    run = subprocess.run(
        [sys.executable, "-m", "bench.perf", "--data", str(data), "--out", str(out),
         "--store-dir", str(tmp_path / "full"), "--replicas", "1", "--questions", "2",
         "--sample-articles", "3", "--repeats", "1", "--onnx-texts", "8",
         "--memory-articles", "4"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    perf = json.loads((out / "perf.json").read_text())
    for section in ("machine", "ingestion", "reindex", "large_store", "latency", "cold_start",
                    "memory", "onnx_vs_torch", "targets"):
        assert section in perf, section
    assert perf["reindex"]["embedded"] == 0 and perf["reindex"]["changed"] == 0
    built = perf["large_store"]["built"]
    assert (built["added"], built["embedded"]) == (len(ARTICLES), 0)  # replicas reuse vectors
    full = perf["latency"]["full"]["chunks"]
    assert perf["latency"]["large"]["chunks"] == 2 * full
    assert all(v["returncodes"] == [0] for v in perf["cold_start"].values())
    assert "Tromso" in perf["cold_start"]["onnx"]["answer_head"]
    assert perf["onnx_vs_torch"]["cosine_mean"] > 0.95
    small, large = perf["memory"]["indexing"], perf["memory"]["indexing_large"]
    assert small["returncode"] == large["returncode"] == 0 and large["chunks"] >= small["chunks"] > 0
    assert perf["ingestion"]["pipeline_onnx"]["seconds"] > 0
    assert all(isinstance(t["met"], bool) for t in perf["targets"].values())
    assert (out / "perf.md").read_text().startswith("# Performance")


@pytest.mark.slow
def test_chunking_table_smoke_two_settings(tmp_path: Path) -> None:
    from bench.chunking_table import main as chunking_main

    data, out, work = write_week(tmp_path / "weeks"), tmp_path / "out", tmp_path / "work"
    argv = ["--data", str(data), "--out", str(out), "--work", str(work), "--weeks", "0",
            "--settings", "300/0,600/1", "--eval-limit", "3", "--encode-sample", "4",
            "--repeats", "1"]
    assert chunking_main(argv) == 0
    table = json.loads((out / "chunking.json").read_text())
    small, default = table["rows"]
    assert [small["label"], default["label"]] == ["300/0 torch", "600/1 torch"]
    for row in (small, default):
        assert row["build"]["articles"] == len(ARTICLES) and row["build"]["seconds"] > 0
        assert row["chunks"]["articles"] == len(ARTICLES)
        assert 0 <= row["chunks"]["truncated_share"] <= 1
        assert row["realtimeqa"]["questions"] == len(QUESTIONS)
        # distinctive words: both gold articles are found whatever the chunk size
        assert row["realtimeqa"]["fused_hit@5"] == pytest.approx(2 / 3, abs=1e-3)
        assert row["seeds"]["items"] == 3
        assert row["encode"]["chunks_per_s"] > 0
    assert small["chunks"]["chars_mean"] < default["chunks"]["chars_mean"]
    assert small["chunks"]["chunks"] > default["chunks"]["chunks"]
    md = (out / "chunking.md").read_text()
    assert "300/0 torch" in md and "600/1 torch" in md and "20220107" in md
    # a second run reuses the stores: nothing is built again and the build times are kept
    assert chunking_main(argv) == 0
    again = json.loads((out / "chunking.json").read_text())["rows"]
    assert all(r["build"]["reused_store"] for r in again)
    assert [r["build"]["seconds"] for r in again] == [small["build"]["seconds"],
                                                      default["build"]["seconds"]]


def test_cli_bench_chunking_and_perf_reach_their_harnesses(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`assistant bench chunking|perf` hand the data, output and store folder to the harness
    modules (whose real runs are the smoke tests above)."""
    import bench.chunking_table
    import bench.perf
    from assistant.app.cli import main

    seen: dict[str, list[str]] = {}
    monkeypatch.setattr(bench.chunking_table, "main", lambda argv: seen.setdefault("chunking", argv) and 0)
    monkeypatch.setattr(bench.perf, "main", lambda argv: seen.setdefault("perf", argv) and 0)
    for suite in ("chunking", "perf"):
        assert main(["--store-dir", str(tmp_path / "s"), "bench", suite, "--data", "D",
                     "--out", "O"]) == 0
    assert seen["chunking"] == ["--data", "D", "--out", "O", "--work", str(tmp_path / "s")]
    assert seen["perf"] == ["--data", "D", "--out", "O", "--store-dir", str(tmp_path / "s")]
