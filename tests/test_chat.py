"""Chat follow-ups resolved from history without an LLM."""

from __future__ import annotations

from assistant.app.chat import contextualise, depends_on_history


def test_follow_up_finds_the_broadcast_date(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    session = seeds_assistant.chat()
    first = session.ask("What did Macron say on TF1?")
    assert not first.abstained
    follow = session.ask("When was it broadcast?")
    assert not follow.abstained
    assert "3 December" in follow.text
    assert any(c.doc_id == "003_b638dfb737329836" for c in follow.citations)
    assert len(session.turns) == 2


def test_clear_forgets(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    session = seeds_assistant.chat()
    session.ask("What did Borrell say about security guarantees?")
    session.clear()
    assert session.turns == []


def test_contextualise_rules() -> None:
    history = ["What did Macron say on TF1?"]
    assert depends_on_history("When was it broadcast?")
    assert not depends_on_history("When did Russia launch its military operation in Ukraine?")
    assert "tf1" in contextualise("When was it broadcast?", history)
    assert contextualise("Who is Josep Borrell?", history) == "Who is Josep Borrell?"
    assert contextualise("When was it broadcast?", []) == "When was it broadcast?"
