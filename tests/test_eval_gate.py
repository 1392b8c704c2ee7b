"""The CI gate: the full seeds eval must meet eval/thresholds.json; a worse result must fail."""

from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from assistant.kernel.errors import AssistantError
from eval.gate import DEFAULT_THRESHOLDS, ThresholdsError, gate, load_thresholds
from eval.runner import DEFAULT_SET, EvalResult, main
from eval.schema import load_items


@pytest.mark.slow
def test_full_seeds_eval_passes_the_gate(seeds_assistant: Any, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(seeds_assistant, Namespace(eval_set=None, answerer=None, out=str(tmp_path),
                                           gate=str(DEFAULT_THRESHOLDS)))

    out = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + out)  # the metric table, also when the gate passes
    assert code == 0, out
    assert f"gate {DEFAULT_THRESHOLDS}: passed" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["results"][0]["metrics"]["n_items"] == len(load_items(DEFAULT_SET))


@pytest.mark.slow
def test_a_result_below_the_thresholds_fails_and_names_metric_and_items(
        seeds_assistant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subset = [i for i in load_items(DEFAULT_SET) if i.type in ("multi", "unanswerable")][:6]
    eval_set = tmp_path / "subset.jsonl"
    eval_set.write_text("\n".join(json.dumps(i.to_dict()) for i in subset) + "\n")
    first = tmp_path / "first"
    assert main(seeds_assistant, Namespace(eval_set=str(eval_set), answerer=None,
                                           out=str(first), gate=None)) == 0
    achieved = json.loads((first / "report.json").read_text())["results"][0]
    f1 = achieved["metrics"]["overall"]["token_f1"]["mean"]
    # whole quoted sentences never equal the short gold answers token for token
    assert f1 < 1.0
    thresholds = tmp_path / "thresholds.json"
    thresholds.write_text(json.dumps({"overall.token_f1": f1 + 0.01, "overall.doc_hit_at_5": 0.0}))
    capsys.readouterr()

    code = main(seeds_assistant, Namespace(eval_set=str(eval_set), answerer=None,
                                           out=str(tmp_path / "second"), gate=str(thresholds)))

    out = capsys.readouterr().out
    assert code == 1
    assert f"FAIL [extractive] overall.token_f1 = {f1:.3f} < {f1 + 0.01:.3f}" in out
    assert "overall.doc_hit_at_5" not in out.split("FAIL")[-1]  # a met threshold is not listed
    worse = [r["id"] for r in achieved["items"]
             if r["scores"]["token_f1"] is not None and r["scores"]["token_f1"] < 1.0]
    assert worse and all(f"    {item_id} (" in out for item_id in worse)
    assert "FAILED" in out


def test_a_threshold_naming_an_unknown_metric_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"overall.corect": 0.9}))
    result = EvalResult("extractive", (), {"overall": {"correct": {"mean": 1.0, "n": 1}}})

    with pytest.raises(ThresholdsError, match=r"overall\.corect"):
        gate([result], load_thresholds(path))


def test_a_malformed_thresholds_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text('{"overall.correct": "high"}')

    with pytest.raises(AssistantError, match=r"metric\.path"):
        load_thresholds(path)


def test_an_answerer_that_could_not_run_fails_the_gate() -> None:
    result = EvalResult("llama-cpp", (), {}, unavailable="llama-cpp-python is not installed")

    lines = gate([result], {"overall.correct": 0.5})

    assert lines == ["FAIL [llama-cpp] unavailable: llama-cpp-python is not installed"]


def test_the_shipped_gate_covers_the_issue_metrics() -> None:
    thresholds = load_thresholds(DEFAULT_THRESHOLDS)
    issue = ("overall.doc_hit_at_5", "overall.citation_recall", "overall.citation_precision",
             "abstention.f1", "overall.correct")
    assert set(issue) <= set(thresholds)
    assert all(0.0 < v <= 1.0 for v in thresholds.values())
