"""How the support judge reads news wording (2026-12-08): lawmakers' party and place, hyphened
names, countries and clipped names, decades, a name's number, words that deny ("lack of", "yet
to", "instead of"), ranks of a place, processes under way stated as ended, and a speaker who
says something else. Each case is made up for these tests; the hand-written validation pairs
(``eval/support_pairs*.jsonl``) only measure the judge (``python -m train.calibrate``).
"""

from __future__ import annotations

import pytest

from assistant.check.facts import extract_facts
from assistant.check.judge import HeuristicJudge

BILL = ("State Rep. Lena Ruiz, D-Oakton, introduced a bill on Tuesday to ban the sale of fireworks "
        "in the county. The measure is now on the desk of Gov. Tom Hale, who has yet to sign it. "
        "Ruiz was the only Democrat to vote against the budget.")
SHOW = ("The revival sold 41,000 tickets in its second week, the third-best week in the theater's "
        "history. Critics called the Ruiz-directed production one of the best-reviewed shows of "
        "the season.")
GAMES = ("After 12 games, Okafor is averaging 31.5 points per game. He needs 410 points over the "
         "final 10 games to break the record.")
WINDOW = "The launch is set for 9:15 a.m. on Friday, June 6. Backup launch windows are on June 9 and June 11."
JURY = "The jury awarded Lee $2 million in damages. No punitive damages were awarded."
SPEAKERS = ("The storm damaged 300 homes, Mayor Jo Park said. Park toured the area on Monday, "
            "county commissioner Ray Diaz said.")
RATING = ("Lopez is within reach of the 88.1 rating Kim posted in 2019. Lopez and Ortega have both "
          "played 14 games this season.")
BANK = ("The bank made history on Thursday evening. After weeks of delays, the bank finally opened "
        "its first branch in the city.")

CHANGED = [  # (passage, claim, the change the judge must name)
    (BILL, "Gov. Tom Hale signed a bill banning the sale of fireworks in the county.", "stated as done"),
    (SHOW, "The revival sold 41,000 tickets in its second week, the second-best week in the "
           "theater's history.", "ordinal second best vs third best"),
    (SHOW, "Critics called the Ruiz-directed production the best-reviewed show of the season.",
           "overstated"),
    ("The mill was built in the early 1900s and closed in 1987.",
     "The mill was built in the early 1800s and closed in 1987.", "number 1800s vs 1900s"),
    (WINDOW, "The launch is set for Friday, June 6, with backup windows on June 10 and June 11.",
             "date June 10 vs June 9"),
    (SPEAKERS, "The storm damaged 300 homes, county commissioner Ray Diaz said.", "speaker"),
    (RATING, "Lopez is within reach of the 88.1 rating that Ortega posted in 2019.", "who posts"),
    (BANK, "After weeks of delays, the bank finally opened its first branch in the city on Friday "
           "evening.", "day friday vs thursday"),
    ("The bridge may reopen to traffic before Christmas, the agency said.",
     "The bridge will reopen to traffic before Christmas, the agency said.", "certain"),
    ("Sales grew slowly in the first quarter, the company said.",
     "Sales grew quickly in the first quarter, the company said.", "quick vs slowli"),
    ("The suspect has yet to be charged with the killing, police said.",
     "The suspect has been charged with the killing, police said.", "negation on charg"),
    ("He said he would stay on the network instead of rejoining the rival platform.",
     "He said he would rejoin the rival platform.", "negation on rejoin"),
]
SAME = [  # the passages' facts in other words
    (BILL, "Lena Ruiz of Oakton introduced a bill on Tuesday to ban fireworks sales in the county."),
    (BILL, "No other Democrat joined Ruiz in voting against the budget."),
    (SHOW, "Critics called the production, directed by Ruiz, one of the season's best-reviewed shows."),
    (GAMES, "Okafor, who is averaging 31.5 points per game after 12 games, needs 410 points over the "
            "final 10 games to break the record."),
    (JURY, "The jury awarded Lee $2 million in damages but did not award punitive damages."),
    ("The chain closed the store in March because of a lack of customers.",
     "The chain closed the store in March because it lacked customers."),
    ("The American turkey flock is the smallest since 1985, the group said.",
     "The U.S. turkey flock is the smallest since 1985, the group said."),
    ("The Cavaliers beat the Bucks 102-99 on Monday.", "The Cavs beat the Bucks 102-99 on Monday."),
    ("“Delays are unavoidable,” the director said.", "The director said delays cannot be avoided."),
    ("The company agreed to pay a total of $40 million to settle the claims.",
     "The company will pay $40 million in all to settle the claims."),
    ("The approval came after years of lobbying by the industry.",
     "The approval came only after years of lobbying by the industry."),
    ("The city held its first parade for the team in 1990.",
     "The city held its first-ever parade for the team in 1990."),
]


@pytest.mark.parametrize(("passage", "claim", "change"), CHANGED)
def test_a_changed_claim_is_rejected_and_the_change_named(passage: str, claim: str,
                                                          change: str) -> None:
    verdict = HeuristicJudge().judge([passage], claim)
    assert not verdict.supported
    assert any(change in m for m in verdict.mismatches), verdict.mismatches


@pytest.mark.parametrize(("passage", "claim"), SAME)
def test_the_same_facts_in_news_wording_are_kept(passage: str, claim: str) -> None:
    verdict = HeuristicJudge().judge([passage], claim)
    assert verdict.supported, verdict.mismatches


def test_names_as_news_writes_them() -> None:
    """A lawmaker's party and state ("R-Fla.") give the state; a hyphened role ("Nolan-directed")
    gives the name; a sentence's first word is not a name's number ("After 14 games")."""
    facts = extract_facts("Sen. Ada Cole, R-Fla., praised the Nolan-directed film after 14 games.")
    assert {"florida", "nolan", "ada cole"} <= facts.names
    assert "14" in facts.numbers
    assert "1900" in extract_facts("It dates to the 1900s.").numbers
