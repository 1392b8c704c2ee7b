"""The support judge catches claims that keep a passage's words but change what it says
(``assistant/check/contrasts.py``), and still accepts the same facts in other words.

The sentences are made up for these tests; the hand-written validation pairs
(``eval/support_pairs*.jsonl``) only measure the judge (``python -m train.calibrate``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.check import contrasts
from assistant.check.judge import HeuristicJudge

PASSAGE = ("Northwind Airlines on Tuesday agreed to acquire Harbor Air for $1.2 billion, the first deal "
           "of its kind this year. The merger is expected to close in March, pending approval by "
           "regulators. Northwind's shares rose 4% after the announcement.")

CHANGED = [  # (claim, the kind of change the judge must name)
    ("Harbor Air on Tuesday agreed to acquire Northwind Airlines for $1.2 billion.", "roles"),
    ("Northwind Airlines was acquired by Harbor Air on Tuesday for $1.2 billion.", "roles"),
    ("Northwind's shares fell 4% after the announcement.", "fell"),
    ("Northwind Airlines on Tuesday agreed to acquire Harbor Air, the second deal of its kind this "
     "year.", "ordinal"),
    ("Northwind Airlines on Thursday agreed to acquire Harbor Air for $1.2 billion.", "day"),
    ("The merger closed in March after regulators approved it.", "stated as done"),
    ("The merger will close in March, pending approval by regulators.", "stated as done"),
]
SAME = [  # the passage's facts in other words: no change to name
    "Harbor Air agreed on Tuesday to be acquired by Northwind Airlines for $1.2 billion.",
    "Northwind Airlines agreed to acquire Harbor Air for $1.2 billion on Tuesday.",
    "The merger is expected to close in March.",
    "Shares of Northwind rose 4% after the announcement.",
    "It was the first deal of its kind this year, Northwind Airlines agreeing to acquire Harbor Air.",
]


@pytest.mark.parametrize(("claim", "change"), CHANGED)
def test_a_claim_that_changes_what_the_passage_says_is_rejected_and_the_change_named(
        claim: str, change: str) -> None:
    verdict = HeuristicJudge().judge([PASSAGE], claim)
    assert not verdict.supported
    assert any(change in m for m in verdict.mismatches), verdict.mismatches


@pytest.mark.parametrize("claim", SAME)
def test_the_same_facts_in_other_words_are_still_supported(claim: str) -> None:
    verdict = HeuristicJudge().judge([PASSAGE], claim)
    assert verdict.supported, verdict.mismatches


def test_who_said_it_moved_to_the_front_is_not_a_change_of_roles() -> None:
    passage = "Maria Lopez and Tom Reyes were married on Saturday, a friend of Lopez told Channel 9."
    claim = "A friend of Lopez told Channel 9 that Maria Lopez and Tom Reyes were married on Saturday."
    assert contrasts.role_swap(claim, [passage]) is None
    assert HeuristicJudge().judge([passage], claim).supported


def test_a_hedge_worded_longer_than_the_passages_is_not_stated_as_done() -> None:
    passage = "Talks are possible only if the rebels stop firing and pull back their units."
    claim = "Talks are possible only on the condition that the rebels stop firing and pull back."
    assert contrasts.modality(claim, [passage]) is None


def test_a_modal_word_governs_only_its_own_clause() -> None:
    passage = "Profits beat what analysts expected. Revenue: $6.04 billion for the quarter."
    assert contrasts.modality("Revenue was $6.04 billion for the quarter.", [passage]) is None


def test_the_month_may_is_not_a_modal_word() -> None:
    passage = "The bridge reopened in May after repairs."
    assert contrasts.modality("The bridge reopened in May.", [passage]) is None


HAND = Path(__file__).resolve().parents[1] / "eval"


# (set, kept, rejected): what `python -m train.calibrate` measured, less a margin; the rules before
# the contrasts rejected 0.35 / 0.39 of the first two, before the grammar, strength,
# added-words and displaced-value checks 0.647 / 0.639 / 0.393 / 0.536 / 0.500 of the first five.
# The last six were never looked at when the rules were changed: their rates are what the rules
# do on news pairs nobody tuned on
MEASURED = [("support_pairs.jsonl", 0.982, 0.809), ("support_pairs_heldout.jsonl", 0.958, 0.694),
            ("support_pairs_blind2.jsonl", 0.950, 0.893), ("support_pairs_blind3.jsonl", 0.944, 0.929),
            ("support_pairs_blind4.jsonl", 0.889, 0.893), ("support_pairs_blind5.jsonl", 0.833, 0.893),
            ("support_pairs_blind6.jsonl", 0.778, 0.857), ("support_pairs_blind7.jsonl", 0.667, 0.821),
            ("support_pairs_blind8.jsonl", 0.611, 0.643), ("support_pairs_blind9.jsonl", 0.722, 0.750),
            ("support_pairs_blind10.jsonl", 0.722, 0.786), ("support_pairs_blind11.jsonl", 0.611, 0.679),
            ("support_pairs_blind12.jsonl", 0.556, 0.607)]


@pytest.mark.parametrize(("name", "kept_then", "rejected_then"), MEASURED)
def test_the_rules_reject_most_wrong_claims_of_the_hand_written_pairs_and_keep_the_right(
        name: str, kept_then: float, rejected_then: float) -> None:
    rows = [json.loads(line) for line in (HAND / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]
    judge = HeuristicJudge()
    verdicts = [(r["supported"], judge.judge([r["passage"]], r["claim"]).supported) for r in rows]
    kept = [v for s, v in verdicts if s]
    rejected = [not v for s, v in verdicts if not s]
    assert sum(kept) / len(kept) >= kept_then - 0.06
    assert sum(rejected) / len(rejected) >= rejected_then - 0.06


def test_a_quote_that_opens_with_its_heading_is_read_as_the_sentence_it_holds() -> None:
    """A quoted sentence may start with its article's heading, names in another order and the
    plan stated as if done; the sentence itself is still the passage's."""
    sentence = ("Mayor Ann Cole is seeking to delay a Tuesday hearing before a Bristol county board "
                "after her lawyer said she was ill.")
    claim = "Cole trying to delay Bristol hearing : " + sentence
    verdict = HeuristicJudge().judge([sentence], claim)
    assert verdict.supported, verdict.mismatches
