"""News awareness on the seeds: dates, event order, corroboration, conflicting sources."""

from __future__ import annotations

import pytest

from assistant.answer.news import asks_who_reports, is_recency, order_parts


def test_answer_is_dated_and_citations_show_resolved_dates(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("When did Macron say he was in contact with Putin?")
    assert not answer.abstained
    assert answer.as_of == max(c.published for c in answer.citations if c.published)
    resolved = dict(d for c in answer.citations for d in c.resolved_dates)
    assert resolved.get("The day before") == "2022-12-05", "relative date resolved from the article date"


def test_which_came_first_uses_the_dates_of_the_evidence(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("Which came first, the talks in Belarus or the talks in Turkey?")
    assert not answer.abstained
    order_note = next(n for n in answer.notes if n.startswith("in date order"))
    assert "2022-03-29" in order_note
    answer = seeds_assistant.ask("Which came first, Macron's Moscow meeting with Putin or his TF1 interview?")
    assert answer.citations[0].doc_id == "002_bce7acdd8eae0ae1", "the dated February meeting is listed first"
    assert "February 7" in answer.text


def test_corroboration_counts_outlets(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("Which outlets report that Biden would only talk to Putin if he showed "
                                 "interest in ending the war?")
    cited = {c.doc_id for c in answer.citations}
    assert {"003_b638dfb737329836", "004_80287d7f8de47a75"} <= cited
    assert answer.reported_by == len(cited) >= 2


def test_borrell_role_conflict_is_surfaced(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    answer = seeds_assistant.ask("What is Josep Borrell's role?")
    assert answer.conflicts, answer.text
    values = " | ".join(cl.value for c in answer.conflicts for cl in c.claims)
    assert "head of diplomacy" in values and "European Parliament" in values
    for conflict in answer.conflicts:
        for claim in conflict.claims:
            assert claim.citations and all(1 <= n <= len(answer.citations) for n in claim.citations)


def test_an_article_that_contradicts_itself_is_not_called_sources_disagreeing(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    # seed 000 calls Borrell both "head of diplomacy of the EU" and "President of the European
    # Parliament": one article, so it contradicts itself; no second source disagrees
    answer = seeds_assistant.ask("What is Josep Borrell's role?")
    conflict = next(c for c in answer.conflicts if c.kind == "role")
    assert conflict.same_article
    assert {n for cl in conflict.claims for n in cl.citations} == {answer.citations[0].number}
    assert conflict.note.startswith("this article contradicts itself on the role")
    assert not any("sources disagree" in n for n in answer.notes)


def test_rewrites_naming_different_people_are_no_name_conflict(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    # "Macron expressed his willingness …" and "Western countries should …" are one claim
    # written twice, not a disagreement about a name ("Emmanuel Macron vs Western")
    answer = seeds_assistant.ask("Under what condition did Macron say Russia could be given "
                                 "security guarantees?")
    assert not answer.abstained
    assert not [c for c in answer.conflicts if c.kind == "name"], answer.notes


def test_conflicting_numbers_across_articles_are_both_shown(make_assistant, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "feed"
    folder.mkdir()
    town = "people in the coastal town of Vila Nova, officials said"
    (folder / "a.txt").write_text(f" date 2023-03-01 The storm killed 12 {town} on Tuesday.\n\n"
                                  "Rescue teams are still searching.\n")
    (folder / "b.txt").write_text(f" date 2023-03-02 The storm killed 19 {town} on Wednesday.\n\n"
                                  "Schools stay closed.\n")
    a = make_assistant()
    a.index([folder])
    answer = a.ask("How many people did the storm kill in Vila Nova?")
    assert answer.conflicts and answer.conflicts[0].kind == "number"
    values = {cl.value for cl in answer.conflicts[0].claims}
    assert values == {"12", "19"}
    assert {c.doc_id for c in answer.citations} == {"a", "b"}
    assert not answer.conflicts[0].same_article
    assert answer.conflicts[0].note.startswith("the sources disagree on the number")


@pytest.mark.parametrize(("question", "parts"), [
    ("Which came first, Macron's Moscow meeting with Putin or his TF1 interview?",
     ("Macron's Moscow meeting with Putin", "his TF1 interview")),
    ("Which talks between Russia and Ukraine came later, those in Belarus or those in Turkey?",
     ("those in Belarus", "those in Turkey")),
    ("What did Macron say on TF1?", None),
])
def test_order_questions_are_recognised(question, parts) -> None:  # type: ignore[no-untyped-def]
    got = order_parts(question)
    assert (got[:2] if got else None) == parts


def test_question_kinds() -> None:
    assert is_recency("What is the latest on contact between Macron and Putin?")
    assert not is_recency("What did Macron say?")
    assert asks_who_reports("How many sources report that Macron spoke to TF1?")
    assert not asks_who_reports("What did Macron tell TF1?")


def test_outcome_asked_of_articles_written_before_the_event_is_not_answered(make_assistant, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "summit.txt").write_text(
        " date 2023-05-10 The summit between the mayors of Lisbon and Porto will be held on "
        "Friday, May 12, in Coimbra, and will focus on the regional railway plan. The plan was "
        "revealed in an interview the mayor of Lisbon gave to Diario Nacional.\n\n"
        "Both mayors have asked for more trains on the coastal line.\n")
    a = make_assistant()
    a.index([folder])
    outcome = a.ask("What did the mayors of Lisbon and Porto agree at their May 12 summit in Coimbra?")
    assert outcome.abstained
    assert any("2023-05-12" in n and "planned" in n for n in outcome.notes), outcome.notes
    plan = a.ask("When was the summit between the mayors of Lisbon and Porto due to be held?")
    assert not plan.abstained and "May 12" in plan.text, "a question about the plan is still answered"
    before = a.ask("Which newspaper did the mayor of Lisbon give an interview to before the May 12 "
                   "summit in Coimbra?")
    assert not before.abstained and "Diario Nacional" in before.text, "the sentence after the plan answers"


def test_a_day_no_article_mentions_is_reported_missing(make_assistant, tmp_path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "talks.txt").write_text(
        " date 2023-06-02 Negotiators from Lisbon and Porto met on Tuesday in Coimbra to discuss "
        "the regional railway plan, officials said.\n\nThe talks were chaired by Ana Silva.\n")
    a = make_assistant()
    a.index([folder])
    known = a.ask("Who chaired the May 30 talks between Lisbon and Porto in Coimbra?")  # Tuesday = May 30
    assert not known.abstained and "Ana Silva" in known.text
    unknown = a.ask("Who chaired the April 4 talks between Lisbon and Porto in Coimbra?")
    assert unknown.abstained
    assert any("April 4" in n for n in unknown.notes), unknown.notes
