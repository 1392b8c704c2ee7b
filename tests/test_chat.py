"""Chat follow-ups resolved from history without an LLM."""

from __future__ import annotations

from typing import Any

from assistant.app.chat import ChatSession, contextualise, depends_on_history
from assistant.kernel.answers import Answer, Citation


def test_follow_up_finds_the_broadcast_date(seeds_assistant) -> None:  # type: ignore[no-untyped-def]
    session = seeds_assistant.chat()
    first = session.ask("What did Macron say on TF1?")
    assert not first.abstained
    follow = session.ask("When was it broadcast?")
    assert not follow.abstained
    assert "3 December" in follow.text
    assert any(c.doc_id == "003_b638dfb737329836" for c in follow.citations)
    assert len(session.turns) == 2


class Recorder:
    """Stands in for the Assistant: records what each question is asked with and answers
    citing article "borrell-1" (the model is beside the point here)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def ask(self, question: str, **context: Any) -> Answer:
        self.asked.append((question, context))
        cited = Citation(number=1, doc_id="borrell-1", title="Borrell in Brussels", source=None,
                         url=None, published=None, passage="", passage_start=0, passage_end=0,
                         quote="", start=0, end=0)
        return Answer(question=question, text="He spoke in Brussels [1].", abstained=False,
                      citations=(cited,))


def test_after_clear_a_follow_up_no_longer_leans_on_the_earlier_turn() -> None:
    first, follow_up = "What did Josep Borrell say about security guarantees?", "Where did he say it?"
    kept, cleared = ChatSession(Recorder()), ChatSession(Recorder())
    for session in (kept, cleared):
        session.ask(first)
    cleared.clear()
    assert cleared.turns == []
    kept.ask(follow_up)
    cleared.ask(follow_up)
    _, leaning = kept.assistant.asked[-1]  # type: ignore[attr-defined]
    _, alone = cleared.assistant.asked[-1]  # type: ignore[attr-defined]
    assert leaning == {"history": [first], "boost_docs": ("borrell-1",)}
    assert "borrell" in contextualise(follow_up, leaning["history"])
    # cleared: asked as if it were the first question, with no article favoured
    assert alone == {"history": [], "boost_docs": ()}
    assert contextualise(follow_up, alone["history"]) == follow_up
    assert [t.question for t in cleared.turns] == [follow_up]


def test_contextualise_rules() -> None:
    history = ["What did Macron say on TF1?"]
    assert depends_on_history("When was it broadcast?")
    assert not depends_on_history("When did Russia launch its military operation in Ukraine?")
    assert "tf1" in contextualise("When was it broadcast?", history)
    assert contextualise("Who is Josep Borrell?", history) == "Who is Josep Borrell?"
    assert contextualise("When was it broadcast?", []) == "When was it broadcast?"
