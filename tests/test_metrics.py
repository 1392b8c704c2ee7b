"""Metric functions on small cases computed by hand."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    PRF,
    abstention_prf,
    aggregate,
    contains_match,
    exact_match,
    hit_at_k,
    normalize_answer,
    percentile,
    reciprocal_rank,
    span_hit_at_k,
    token_f1,
)

# --- normalize_answer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("The  Finnish border.", "finnish border"),
        ("An apple, a pear", "apple pear"),
        ("Russia\u2019s borders", "russia s borders"),  # curly apostrophe == straight one
        ("Russia's borders", "russia s borders"),
        ("\u201cTF1\u201d", "tf1"),
        ("short\u2013range", "short range"),  # en dash
        ("short-range", "short range"),
        ("recorded\u00a0during", "recorded during"),  # non-breaking space
        ("Correspondent.net", "correspondent net"),
        ("theatre", "theatre"),  # only whole-word articles go
        ("  ", ""),
    ],
)
def test_normalize_answer(raw: str, expected: str) -> None:
    assert normalize_answer(raw) == expected


# --- answer metrics -----------------------------------------------------------------------


def test_exact_match() -> None:
    assert exact_match("the Finnish border", ["Finnish border."]) == 1.0
    assert exact_match("Finnish", ["Finnish border"]) == 0.0
    assert exact_match("Kiev", ["Kyiv", "Kiev"]) == 1.0
    assert exact_match("anything", []) == 0.0


def test_contains_match_uses_whole_tokens() -> None:
    pred = "The last round took place on March 29 in Turkey [1]."
    assert contains_match(pred, ["March 29"]) == 1.0
    assert contains_match(pred, ["march 2"]) == 0.0  # "2" is not the token "29"
    assert contains_match("They do not yet have a call.", ["no"]) == 0.0
    assert contains_match("NATO is approaching Russia\u2019s borders", ["Russia's borders"]) == 1.0
    assert contains_match(pred, ["", "Belarus"]) == 0.0
    assert contains_match(pred, []) == 0.0


def test_token_f1_by_hand() -> None:
    # pred tokens {finnish, border, area}, gold {finnish, border}: p = 2/3, r = 1, f1 = 0.8
    assert token_f1("the Finnish border area", ["Finnish border"]) == pytest.approx(0.8)
    # max over golds: second gold matches exactly
    assert token_f1("Turkey", ["Belarus", "Turkey"]) == 1.0
    # multiplicity: pred "two two", gold "two": common 1, p = 1/2, r = 1, f1 = 2/3
    assert token_f1("two two", ["two"]) == pytest.approx(2 / 3)
    assert token_f1("Paris", ["Moscow"]) == 0.0
    assert token_f1("", [""]) == 1.0
    assert token_f1("the", ["Moscow"]) == 0.0  # normalises to nothing
    assert token_f1("Moscow", []) == 0.0


# --- retrieval metrics --------------------------------------------------------------------

RANKED = ["d3", "d3", "d1", "d4", "d0"]


def test_hit_at_k_counts_positions() -> None:
    assert hit_at_k(RANKED, ["d1"], 2) == 0.0  # d1 is third
    assert hit_at_k(RANKED, ["d1"], 3) == 1.0
    assert hit_at_k(RANKED, ["d9", "d3"], 1) == 1.0  # any gold id counts
    assert hit_at_k(RANKED, ["d1", "d4"], 3, require_all=True) == 0.0
    assert hit_at_k(RANKED, ["d1", "d4"], 4, require_all=True) == 1.0
    assert hit_at_k([], ["d1"], 5) == 0.0


def test_hit_at_k_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="k must be"):
        hit_at_k(RANKED, ["d1"], 0)
    with pytest.raises(ValueError, match="gold ids are empty"):
        hit_at_k(RANKED, [], 3)


def test_reciprocal_rank() -> None:
    assert reciprocal_rank(RANKED, ["d3"]) == 1.0
    assert reciprocal_rank(RANKED, ["d4", "d1"]) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, ["d0"]) == pytest.approx(1 / 5)
    assert reciprocal_rank(RANKED, ["d9"]) == 0.0
    with pytest.raises(ValueError, match="gold ids are empty"):
        reciprocal_rank(RANKED, [])


def test_span_hit_at_k_needs_a_shared_character() -> None:
    gold = [("d0", 100, 150)]
    assert span_hit_at_k([("d0", 140, 200)], gold, 1) == 1.0  # overlaps 140..150
    assert span_hit_at_k([("d0", 150, 200)], gold, 1) == 0.0  # touches the end only
    assert span_hit_at_k([("d0", 0, 100)], gold, 1) == 0.0  # touches the start only
    assert span_hit_at_k([("d1", 100, 150)], gold, 1) == 0.0  # other document
    assert span_hit_at_k([("d0", 110, 120)], gold, 1) == 1.0  # inside
    assert span_hit_at_k([("d0", 0, 10), ("d0", 90, 101)], gold, 1) == 0.0
    assert span_hit_at_k([("d0", 0, 10), ("d0", 90, 101)], gold, 2) == 1.0
    with pytest.raises(ValueError, match="gold spans are empty"):
        span_hit_at_k([("d0", 0, 10)], [], 1)
    with pytest.raises(ValueError, match="k must be"):
        span_hit_at_k([("d0", 0, 10)], gold, 0)


# --- abstention ---------------------------------------------------------------------------


def test_abstention_prf_by_hand() -> None:
    pairs = [
        (True, False),  # tp
        (True, False),  # tp
        (True, True),  # fp: abstained on an answerable question
        (False, False),  # fn: answered an unanswerable question
        (False, True),  # tn
        (False, True),  # tn
    ]
    result = abstention_prf(pairs)
    assert (result.tp, result.fp, result.fn) == (2, 1, 1)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert result.f1 == pytest.approx(2 / 3)


def test_abstention_prf_empty_denominators_give_zero() -> None:
    assert abstention_prf([]) == PRF(0.0, 0.0, 0.0, 0, 0, 0)
    # never abstains although one question is unanswerable
    assert abstention_prf([(False, False), (False, True)]) == PRF(0.0, 0.0, 0.0, 0, 0, 1)
    # abstains only where it should
    assert abstention_prf([(True, False), (False, True)]) == PRF(1.0, 1.0, 1.0, 1, 0, 0)


# --- percentile ---------------------------------------------------------------------------


def test_percentile_interpolates_linearly() -> None:
    values = [4.0, 1.0, 3.0, 2.0]  # sorted: 1 2 3 4
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)  # position 1.5
    assert percentile(values, 90) == pytest.approx(3.7)  # position 2.7
    assert percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="within"):
        percentile(values, 101)


# --- aggregate ----------------------------------------------------------------------------


def test_aggregate_means_and_counts_per_type() -> None:
    rows: list[dict[str, object]] = [
        {"type": "single", "em": 1.0, "hit@5": True},
        {"type": "single", "em": 0.0, "hit@5": False},
        {"type": "date", "em": 1.0, "hit@5": True},
        {"type": "unanswerable", "em": None},  # hit@5 absent: does not apply
    ]
    result = aggregate(rows, ["em", "hit@5"])
    assert result["n_items"] == 4
    assert result["overall"]["em"] == {"mean": pytest.approx(2 / 3), "n": 3}
    assert result["overall"]["hit@5"] == {"mean": pytest.approx(2 / 3), "n": 3}
    assert list(result["by_type"]) == ["date", "single", "unanswerable"]
    assert result["by_type"]["single"] == {
        "n_items": 2,
        "em": {"mean": 0.5, "n": 2},
        "hit@5": {"mean": 0.5, "n": 2},
    }
    assert result["by_type"]["unanswerable"]["em"] == {"mean": None, "n": 0}


def test_aggregate_refuses_non_numbers() -> None:
    with pytest.raises(TypeError, match="'em'"):
        aggregate([{"type": "single", "em": "yes"}], ["em"])


def test_aggregate_of_nothing() -> None:
    result = aggregate([], ["em"])  # no rows: every mean is None, never NaN
    assert result == {"n_items": 0, "overall": {"em": {"mean": None, "n": 0}}, "by_type": {}}
    assert not any(isinstance(v, float) and math.isnan(v) for v in result["overall"]["em"].values())
