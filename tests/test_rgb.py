"""The RGB counterfactual benchmark runner (eval/rgb.py), end to end on five hand-written
records in RGB's format (tests/data/rgb_sample.jsonl): each fact is stated by two passages
and contradicted by their copies with the value swapped. Real model, real Chroma."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.kernel.answers import Answer, Claim, Conflict
from assistant.kernel.errors import AssistantError
from eval.rgb import CLASSES, RgbRecord, classify, load_records, run_rgb

SAMPLE = Path(__file__).parent / "data" / "rgb_sample.jsonl"


def _record(**kw: Any) -> RgbRecord:
    base = {"id": "7", "query": "Who won?", "answers": ("Ingrid Solberg",),
            "fake": "Marta Lindqvist", "positive": ("p",), "positive_wrong": ("w",)}
    return RgbRecord(**{**base, **kw})


def test_load_records_takes_string_list_and_nested_list_answers(tmp_path: Path) -> None:
    records = load_records(SAMPLE)
    assert len(records) == 5
    by_id = {r.id: r for r in records}
    assert by_id["0"].answers == ("Tromso",)
    assert by_id["4"].answers == ("Kestrel Books", "Kestrel")
    assert "March 3, 2024" in by_id["1"].answers and "3 March 2024" in by_id["1"].answers
    # each passage becomes its own article, the true side and the swapped side apart
    assert set(by_id["0"].urls()) == {"rgb://0/pos/0", "rgb://0/pos/1",
                                      "rgb://0/wrong/0", "rgb://0/wrong/1"}

    bad = tmp_path / "bad.jsonl"
    bad.write_text(SAMPLE.read_text().splitlines()[0] + "\n{\"id\": 9, \"query\": \"q\"}\n")
    with pytest.raises(AssistantError, match=r"bad.jsonl:2"):
        load_records(bad)


def test_classify_reads_answer_text_and_conflict_claims() -> None:
    r = _record()
    claims = (Claim("Ingrid Solberg", (1,)), Claim("Marta Lindqvist", (2,)))
    conflict = (Conflict("name", claims),)
    named = Answer("q", "Solberg was named. [1]", False, conflicts=conflict)
    assert classify(r, named) == "conflict"  # the full names are in the claims
    assert classify(r, Answer("q", "Ingrid Solberg was named. [1]", False)) == "true_only"
    assert classify(r, Answer("q", "Marta Lindqvist was named. [1]", False)) == "fake_only"
    both = "Ingrid Solberg was named. [1] Marta Lindqvist was named. [2]"
    assert classify(r, Answer("q", both, False)) == "both_unflagged"
    assert classify(r, Answer("q", "The board met. [1]", False)) == "neither"
    # abstaining is "neither" even though the closest passages may hold both values
    assert classify(r, Answer("q", both, True)) == "neither"
    # whole tokens after normalisation: list answers match any variant
    dated = _record(answers=("March 3 2024", "3 March 2024"), fake="March 13, 2021")
    assert classify(dated, Answer("q", "It began on 3 March 2024. [1]", False)) == "true_only"


@pytest.fixture(scope="module")
def rgb_run(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> dict[str, Any]:
    """The sample benchmarked twice on one store: the second run must only ask."""
    from assistant import Assistant
    from assistant.kernel.settings import Settings

    out = tmp_path_factory.mktemp("rgb-out")
    assistant = Assistant(settings=Settings(store_dir=out / "store"), model=embedder)
    records = load_records(SAMPLE)
    first = run_rgb(assistant, records, out)
    second = run_rgb(assistant, records, out)
    assistant.close()
    return {"out": out, "first": first, "second": second}


@pytest.mark.slow
def test_rgb_reports_the_sources_disagreeing(rgb_run: dict[str, Any]) -> None:
    out, result = rgb_run["out"], rgb_run["first"]
    saved = json.loads((out / "rgb.json").read_text(encoding="utf-8"))
    report = (out / "rgb.md").read_text(encoding="utf-8")
    classes = saved["summary"]["classes"]
    assert set(classes) == set(CLASSES)
    assert sum(c["count"] for c in classes.values()) == 5
    for name in CLASSES:
        assert f"| {name} | {classes[name]['share']:.1%} | {classes[name]['count']} |" in report

    # Both sides are indexed and worded alike: the assistant must not silently pick one.
    assert classes["conflict"]["count"] >= 3
    assert classes["fake_only"]["count"] == 0 and classes["true_only"]["count"] == 0
    for item in saved["items"]:
        if item["class"] == "conflict":
            assert item["claims_name_both"], item  # the conflict names the two values
            assert item["cited_true_side"] and item["cited_fake_side"], item
    assert result["index"]["added"] == 20  # 5 records x 4 passages, each its own article


@pytest.mark.slow
def test_rgb_rerun_reuses_the_index(rgb_run: dict[str, Any]) -> None:
    first, second = rgb_run["first"], rgb_run["second"]
    assert second["index"]["added"] == 0
    assert [r["class"] for r in second["items"]] == [r["class"] for r in first["items"]]


@pytest.mark.slow
def test_rgb_answers_cite_only_their_own_record(rgb_run: dict[str, Any]) -> None:
    # Records 1 and 2 are both about one scooter recall: they form one story cluster.
    assert all(not r["cited_outside"] for r in rgb_run["first"]["items"])


def test_cli_bench_rgb_missing_file_is_a_one_line_error(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.app.cli import main

    code = main(["bench", "rgb", "--data", str(tmp_path / "nope.json"), "--out", str(tmp_path)])
    assert code == 2
    assert "no RGB file" in capsys.readouterr().err
