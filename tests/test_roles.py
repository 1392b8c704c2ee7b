"""The support judge reads who does what to whom and who says it (``assistant/check/roles.py``,
a dependency parse with the packaged spaCy model), and rejects claims that add words, claim
more than the passage, or take a number from another sentence than the one they restate.

The sentences are made up for these tests; the hand-written validation pairs
(``eval/support_pairs*.jsonl``) only measure the judge (``python -m train.calibrate``).
"""

from __future__ import annotations

import pytest

from assistant.check import roles
from assistant.check.judge import HeuristicJudge

HOUSE = ("The new library in Millbrook was designed by a young Lisbon architect and built by a "
         "local contractor for the county. According to the county, it cost $14 million.")
COUNCIL = ("Councilwoman Dana Ortiz said the budget vote was delayed because the mayor pressured "
           "the finance committee to add a new police station. The committee will meet again on "
           "Monday, Ortiz said.")
MERGER = ("Harbor Air lost about $2 billion a year before the merger. Northwind expects the merger "
          "to lower its costs by more than $1 billion a year once it closes.")
ROUTE = ("General Motors made the call to close the Lakeside plant after a two-week strike, "
         "leaving Harbor Motors as the only carmaker in the county. The Lakeside plant is the "
         "county's second-largest employer.")
QUAKE = ("The earthquake struck one of the most active fault zones in the region, according to "
         "the survey. Some of the town's schools were closed on Friday.")

CHANGED = [  # (passage, claim, the change the judge must name)
    (HOUSE, "The new library in Millbrook was designed by a local contractor and built by a young "
            "Lisbon architect for the county.", "exchanged"),
    (COUNCIL, "Councilwoman Dana Ortiz said the budget vote was delayed because the finance "
              "committee pressured the mayor to add a new police station.", "roles of pressure"),
    (COUNCIL, "The mayor said the committee will meet again on Monday.", "speaker"),
    (QUAKE, "The earthquake struck the most active fault zone in the region, according to the "
            "survey.", "overstated"),
    (QUAKE, "All of the town's schools were closed on Friday.", "overstated"),
    (QUAKE, "Some of the town's schools were closed on Friday after inspectors found cracked "
            "walls.", "not in the passages"),
    (ROUTE, "Harbor Motors made the call to close the Lakeside plant after a two-week strike.",
            "who makes"),
    (ROUTE, "The Lakeside plant is the county's largest employer.", "second largest"),
    (MERGER, "Northwind expects the merger to lower its costs by more than $2 billion a year once "
             "it closes.", "number $2 billion vs $1 billion"),
]
SAME = [  # the passages' facts in other words
    (HOUSE, "A local contractor built the new library in Millbrook for the county."),
    (HOUSE, "According to the county, the new library cost $14 million."),
    (ROUTE, "Motors made the call to close the Lakeside plant after a two-week strike."),
    (ROUTE, "The Lakeside plant is the second-largest employer in the county."),
    (MERGER, "Harbor Air lost about $2 billion a year, and Northwind expects the merger to cut its "
             "costs by more than $1 billion a year."),
    (COUNCIL, "Ortiz said the mayor pressured the finance committee to add a new police station."),
    (COUNCIL, "The finance committee will meet again on Monday, according to Councilwoman Ortiz."),
    (QUAKE, "According to the survey, the earthquake struck one of the region's most active fault "
            "zones."),
    (QUAKE, "Some schools in the town were closed on Friday."),
]


@pytest.mark.parametrize(("passage", "claim", "change"), CHANGED)
def test_a_claim_that_changes_roles_speaker_or_strength_is_rejected_and_named(
        passage: str, claim: str, change: str) -> None:
    verdict = HeuristicJudge().judge([passage], claim)
    assert not verdict.supported
    assert any(change in m for m in verdict.mismatches), verdict.mismatches


@pytest.mark.parametrize(("passage", "claim"), SAME)
def test_the_same_facts_in_other_words_are_kept(passage: str, claim: str) -> None:
    verdict = HeuristicJudge().judge([passage], claim)
    assert verdict.supported, verdict.mismatches


def test_frames_turn_the_passive_round() -> None:
    active = roles.read("A local contractor built the library.")
    passive = roles.read("The library was built by a local contractor.")
    assert active is not None and passive is not None
    assert {("build", "contractor", "library")} == {
        (f.verb, f.agent, f.patient) for f in active.frames} == {
        (f.verb, f.agent, f.patient) for f in passive.frames}


def test_a_speaker_who_does_what_the_passage_reports_is_not_a_wrong_speaker() -> None:
    """"The agency said it rescued 40 people" for "The agency rescued 40 people …, the force
    said": the claim's speaker is the one who acts in the passage."""
    passage = ("The Coast Guard rescued 40 people from the flooded valley on Monday, the force said "
               "in a statement.")
    claim = "The Coast Guard said it rescued 40 people from the flooded valley on Monday."
    assert roles.wrong_speaker(claim, [passage]) is None
    assert HeuristicJudge().judge([passage], claim).supported


def test_a_question_shaped_claim_is_judged_on_its_answer() -> None:
    """"{question}?: {answer}" (RGB's statements) states no roles and claims only the answer."""
    passage = "Mia Torres won the Best Actress award at the 2031 Harbor Film Festival."
    claim = "Which actress won Best Actress at the 2031 Harbor Film Festival?: Mia Torres."
    assert HeuristicJudge().judge([passage], claim).supported


@pytest.mark.parametrize(("passage", "claim"), [
    ("Advisers to the US Food and Drug Administration voted on Wednesday to back the vaccine.",
     "On Wednesday, the FDA's advisers voted to back the vaccine."),
    ("Advisers to the FDA voted on Wednesday to back the vaccine.",
     "Advisers to the Food and Drug Administration voted on Wednesday to back the vaccine."),
])
def test_a_name_and_its_initialism_are_the_same_name(passage: str, claim: str) -> None:
    assert HeuristicJudge().judge([passage], claim).supported
    other = claim.replace("FDA", "FTC").replace("Food and Drug Administration",
                                                "Federal Trade Commission")
    assert not HeuristicJudge().judge([passage], other).supported


def test_a_name_and_its_initials_do_the_same_deed() -> None:
    """The grammar check takes "GM" for "General Motors" (the value check still asks for the
    name as the passage writes it)."""
    claim = "GM made the call to close the Lakeside plant after a two-week strike."
    assert roles.role_swap(claim, [ROUTE.split(". ")[0]]) is None


def test_without_grammar_the_judge_reads_words_only() -> None:
    claim = CHANGED[0][1]
    assert HeuristicJudge(grammar=False).judge([HOUSE], claim).supported
