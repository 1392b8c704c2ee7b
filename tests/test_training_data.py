"""The training pairs mean what their labels say: every negative edit changes a fact of the
sentence, every positive one keeps them, and reranker positives state the correct choice
in a sentence about the question. (Unit tests: no model, small made-up articles.)"""

from __future__ import annotations

import random

import pytest

from assistant.check.compare import fact_differences
from train import cloze_data, judge_data, rerank_data
from train.weeks import Doc, Question

SENTENCES = [
    "The Kestrel Harbor council voted 7 to 2 on Tuesday to close the old bridge in March.",
    "Mayor Ana Ortiz said the second inspection found 14 cracked beams.",
    "Repairs will cost $4.5 million, and the work is expected to start in 2024.",
    "The bridge carried nearly 12,000 cars a day, according to the Harbor Transit Authority.",
    "Residents raised concerns about longer commutes during the closure.",
    "On Friday, Ortiz thanked Governor Lee Park for the emergency funds.",
]


def _doc(sentences: list[str] = SENTENCES) -> Doc:
    text = " ".join(sentences)
    return Doc("https://example.test/bridge", "Bridge closed", text, list(sentences), [text])


@pytest.mark.parametrize("edit", sorted(judge_data.NEGATIVE_EDITS))
def test_every_negative_edit_changes_the_sentence_it_applies_to(edit: str) -> None:
    make = judge_data.NEGATIVE_EDITS[edit]
    changed = 0
    for seed in range(20):
        for s in SENTENCES:
            out = make(s, _doc(), random.Random(seed))
            if out is not None:
                assert out != s
                changed += 1
    assert changed, f"{edit} applied to none of the sentences"


@pytest.mark.parametrize(("edit", "sentence", "kind"), [
    ("number", SENTENCES[1], "number"),
    ("date", "The bridge was closed on March 3, 2023, after the inspection.", "date"),
])
def test_value_swaps_state_a_different_value(edit: str, sentence: str, kind: str) -> None:
    out = judge_data.NEGATIVE_EDITS[edit](sentence, _doc(), random.Random(1))
    assert out is not None
    assert any(k == kind for k, _, _ in fact_differences(sentence, out)), out


def test_negation_adds_or_removes_one_not() -> None:
    rng = random.Random(0)
    assert " not " in judge_data.negate(SENTENCES[2], _doc(), rng)  # type: ignore[operator]
    assert judge_data.negate("The council did not vote on Tuesday.", _doc(), rng) == \
        "The council did vote on Tuesday."


def test_role_swap_exchanges_two_names() -> None:
    s = "On Sunday, Arsenal beat Chelsea 2-1 at home."
    assert judge_data.swap_roles(s, _doc([s]), random.Random(0)) == \
        "On Sunday, Chelsea beat Arsenal 2-1 at home."


def test_antonym_flips_direction() -> None:
    out = judge_data.antonym(SENTENCES[4], _doc(), random.Random(0))
    assert out == "Residents cut concerns about longer commutes during the closure."


def test_positive_edits_keep_every_value() -> None:
    rng = random.Random(3)
    for s in SENTENCES:
        for make in (judge_data.clause_of, judge_data.compress, judge_data.paraphrase):
            out = make(s, rng)
            if out is not None:
                assert not fact_differences(s, out), (make.__name__, s, out)


def test_pairs_are_half_positive_and_never_leave_the_claim_in_the_passage_as_a_negative() -> None:
    doc = _doc()
    pairs = [p for i in range(len(SENTENCES)) for seed in range(5)
             for p in judge_data.pairs_for(doc, i, random.Random(seed), ["Another story."])]
    positives = [p for p in pairs if p.label == 1.0]
    negatives = [p for p in pairs if p.label == 0.0]
    assert len(positives) == 5 * len(SENTENCES) and len(negatives) >= 4 * len(SENTENCES)
    assert all(p.claim not in p.passage for p in negatives)


def test_reranker_group_puts_the_answer_sentence_against_its_neighbour_and_restating_ones(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rerank_data, "GROUP", 5)
    q = Question("q1", "20230106", "Which bridge did the Kestrel Harbor council vote to close?",
                 ["Old Mill bridge", "the old bridge", "Harbor tunnel", "Ferry pier"], 1, "",
                 ["https://example.test/bridge", "https://example.test/budget"])
    later = "The Kestrel council will vote on next year's budget in December."
    elsewhere = "Budget talks in Kestrel went on late into the night, members said."
    docs = {q.urls[0]: _doc([*SENTENCES, later]),
            q.urls[1]: Doc(q.urls[1], "Budget", elsewhere, [elsewhere], [elsewhere])}
    groups = list(rerank_data.groups(q, docs, random.Random(0), ["Unrelated."], restating=2))
    sentence = [g for g in groups if g.unit == "sentence"]
    assert len(sentence) == 1
    group = sentence[0]
    assert group.texts[0] == SENTENCES[0] and group.kinds[0] == "pos"
    kinds = dict(zip(group.texts, group.kinds, strict=True))
    assert kinds[SENTENCES[1]] == "neighbour"  # the answer is in the sentence before it
    # the answer's own article retelling the council's vote without the answer: the sentence an
    # answer must not quote instead; another article's sentence about the town is only topical
    assert kinds[later] == "restating" and kinds[elsewhere] == "topical"
    assert not any(rerank_data.states(t, q.correct) for t in group.texts[1:])
    # the shipped model's recipe (restating=0) has no such kind: the same sentence is topical
    plain = [g for g in rerank_data.groups(q, docs, random.Random(0), ["Unrelated."], restating=0)
             if g.unit == "sentence"]
    assert len(plain) == 1 and "restating" not in plain[0].kinds
    assert dict(zip(plain[0].texts, plain[0].kinds, strict=True))[later] == "topical"


def test_reranker_negatives_never_hold_the_distinctive_word_of_the_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"Sesame seeds" is the answer: a sentence saying "sesame" is no negative, even though
    it does not state the whole choice."""
    monkeypatch.setattr(rerank_data, "GROUP", 4)
    sentences = ["The FDA added Sesame seeds to the list of major food allergens on Tuesday.",
                 "Starting January 1, sesame joins the list of major food allergens.",
                 "The FDA list of major food allergens now has nine entries, the agency said.",
                 "Food allergens must be labelled, according to the FDA list rules."]
    q = Question("q2", "20230106", "Which seed did the FDA add to its list of major food allergens?",
                 ["Chia seeds", "Sesame seeds", "Pumpkin seeds", "Poppy seeds"], 1, "",
                 ["https://example.test/fda"])
    doc = Doc(q.urls[0], "Sesame", " ".join(sentences), sentences, [" ".join(sentences)])
    groups = list(rerank_data.groups(q, {q.urls[0]: doc}, random.Random(0), ["Unrelated."]))
    assert [g.texts[0] for g in groups if g.unit == "sentence"] == [sentences[0]]
    negatives = [t for g in groups for t in g.texts[1:]]
    assert sentences[2] in negatives and sentences[3] in negatives
    assert not any("sesame" in t.lower() for t in negatives)


def test_dev_weeks_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from train.weeks import weeks

    (tmp_path / "20220617_qa.jsonl").write_text("")
    with pytest.raises(SystemExit, match="dev weeks"):
        weeks(tmp_path)


def test_cloze_groups_ask_for_a_masked_name_that_only_another_outlets_sentence_states(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloze_data, "GROUP", 4)
    one = ["Kestrel Harbor Mayor Ana Ortiz announced on Tuesday that the old swing bridge "
           "will close in March.",
           "The council approved the closure after a long debate about repair costs."]
    other = ["The old swing bridge in Kestrel Harbor will close in March, Mayor Ana Ortiz "
             "said on Tuesday.",
             "The swing bridge closure in Kestrel Harbor follows a debate about repair costs.",
             "The bridge was built in 1931 and carries about 12,000 cars a day.",
             "Ferries will run every 20 minutes while the bridge is shut.",
             "Drivers in Kestrel Harbor face longer trips during the March closure.",
             "Residents gathered at the town hall on Tuesday evening.",
             "The mayor's office said the closure would last a year."]
    docs = [Doc("https://a.test/1", "Bridge to close", " ".join(one), one, [" ".join(one)]),
            Doc("https://b.test/2", "Bridge closure", " ".join(other), other, [" ".join(other)])]
    groups = list(cloze_data.event_groups("e1", docs, random.Random(0), ["Unrelated sentence."]))
    assert groups
    for g in groups:
        asked = [(s, n) for s in one + other for n in cloze_data.names(s)
                 if cloze_data.mask(s, n) == g.query]
        assert len(asked) == 1 and g.kinds[0] == "cloze"
        sentence, name = asked[0]
        assert g.texts[0] != sentence and rerank_data.states(g.texts[0], name)
        assert (sentence in one) != (g.texts[0] in one)  # the answer is in the other outlet's article
        assert not any(cloze_data.mentions(t, name) for t in g.texts[1:])


def test_titled_groups_read_each_text_after_its_own_articles_title(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``--titled``: the reranker learns from "Title | sentence", each text with the title of
    the article it comes from; a group whose positive has no article (a quiz's own evidence
    sentence) is left out, so a missing title never marks the positive."""
    monkeypatch.setattr(rerank_data, "GROUP", 4)
    q = Question("q1", "20230106", "Which bridge did the Kestrel Harbor council vote to close?",
                 ["Old Mill bridge", "the old bridge", "Harbor tunnel", "Ferry pier"], 1,
                 "The Kestrel Harbor council will close the old bridge, officials said.",
                 ["https://example.test/bridge", "https://example.test/budget"])
    elsewhere = "Budget talks in Kestrel Harbor went on late into the night, members said."
    docs = {q.urls[0]: _doc(),
            q.urls[1]: Doc(q.urls[1], "Budget talks", elsewhere, [elsewhere], [elsewhere])}
    plain = [g for g in rerank_data.build([q], docs) if g.unit == "sentence"]
    titled = [g for g in rerank_data.build([q], docs, titled=True) if g.unit == "sentence"]
    assert {g.texts[0] for g in plain} == {SENTENCES[0], q.evidence}
    assert [g.texts[0] for g in titled] == [f"Bridge closed | {SENTENCES[0]}"]
    texts = titled[0].texts
    assert f"Budget talks | {elsewhere}" in texts
    assert all(" | " in t for t in texts) and not any(t.startswith(" | ") for t in texts)


def test_other_outlets_wording_is_a_positive_and_its_edit_a_negative() -> None:
    """The judge's natural paraphrases: another outlet's sentence that says what the window says in
    other words is supported; the same sentence with a value changed is not; a sentence adding a
    name or number the window lacks, or a near copy, is not used."""
    other = ["The council voted 7 to 2 to close the old bridge in March, Mayor Ana Ortiz said.",
             "Repairs to the bridge will cost $4.5 million, Ortiz said.",
             "Engineer Tomas Reyes found 14 cracked beams during the second inspection.",  # new name
             "The bridge carried 12,000 cars a day, according to the Harbor Transit Authority."]  # a copy
    doc = _doc()
    peer = Doc("https://other.test/bridge", "Old bridge shut", " ".join(other), other, [" ".join(other)])
    pairs = [p for seed in range(10) for p in judge_data.outlet_pairs(doc, [peer], random.Random(seed))]
    positives = {p.claim for p in pairs if p.label == 1.0}
    assert positives == set(other[:2])
    assert all(p.kind == "outlet" and p.claim not in p.passage for p in pairs if p.label == 1.0)
    negatives = [p for p in pairs if p.label == 0.0]
    assert negatives and all(p.kind.startswith("outlet_") for p in negatives)
    for p in negatives:  # an edit of a positive (up to a three-word name for another), not in the window
        assert p.claim not in positives and p.claim not in p.passage
        assert any(len(set(p.claim.split()) ^ set(c.split())) <= 6 for c in positives)


def test_with_outlets_no_negative_is_a_sentence_the_passage_may_state() -> None:
    """Another outlet's sentence on the same question is a "foreign" negative in v1's recipe even
    when the passage says the same; with ``outlets`` it never is."""
    doc = _doc()
    restating = "Mayor Ortiz said a second inspection found 14 cracked beams in the bridge."
    other = Doc("https://o.test/x", "Other", restating + " Ferry timetables were changed.",
                [restating, "Ferry timetables were changed for the winter season today."], [restating])
    question = Question("q", "20230106", "?", ["a"], 0, "", [doc.url, other.url])

    def restating_negatives(outlets: bool) -> int:
        return sum(p.label == 0.0 and p.claim == restating and "14 cracked beams" in p.passage
                   for seed in range(20)
                   for p in judge_data.build([question], {doc.url: doc, other.url: other}, per_doc=6,
                                             seed=seed, outlets=outlets))

    assert restating_negatives(outlets=False) > 0
    assert restating_negatives(outlets=True) == 0
