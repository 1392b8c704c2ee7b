"""Quiz questions that open with context ("X was chosen as the new leader. Who does X
replace?"): the answer should quote the sentence that holds what is asked, not the one that
repeats the context (issue #24, the biggest loss on unseen news weeks).

The articles are written for these tests: in each story one outlet's sentence restates the
context almost word for word, and another sentence, with fewer of the question's words,
holds the asked-for fact. The council case is a known miss of the word rules and reranker
v2: scoring a sentence on the asking sentence's words only (or half on them) fixed it, but
was neutral on the RealTime QA dev weeks (+4 −4 and +3 −3 correct answers, one more wrong
choice each), so it was not shipped; the learned reader must fix it.
"""

from __future__ import annotations

import pytest

from assistant import Assistant

STORIES = {
    "council.txt": (
        "Title: Holm to lead the Arctic Lantern Council\n\n"
        "Kari Holm was chosen on Tuesday as the new head of the Arctic Lantern Council, the "
        "council said in a statement from Tromso.\n"
        "Holm replaces Erik Dahl, who stepped down in March after ten years in the post.\n"
        "The council organises the winter lantern festival that draws visitors to the city."),
    "council-wire.txt": (
        "Title: Arctic Lantern Council picks Kari Holm as its new head\n\n"
        "The Arctic Lantern Council chose Kari Holm as its new head on Tuesday, in a vote of "
        "its members held in Tromso.\n"
        "The vote was held behind closed doors and lasted less than an hour."),
    "ferry.txt": (
        "Title: Ferry service resumes on the fjord\n\n"
        "The Nordvik ferry service resumed its crossings of the fjord on Monday after a storm "
        "damaged the pier last week.\n"
        "Repairs to the pier cost the county 2.4 million kroner, officials said.\n"
        "The ferry carries about four hundred passengers a day in winter."),
    "ferry-local.txt": (
        "Title: Nordvik ferry back after the storm\n\n"
        "The Nordvik ferry resumed its crossings of the fjord on Monday, a week after the storm "
        "that damaged its pier.\n"
        "Passengers said they were glad to see the boat again."),
}
QUIZ = [  # (question with context, a word of the answer)
    pytest.param("Kari Holm was chosen as the new head of the Arctic Lantern Council on Tuesday. "
                 "Who does Holm replace?", "Dahl", id="council",
                 marks=pytest.mark.xfail(strict=True, reason="known miss: quotes the sentence that "
                                         "restates the context (#24)")),
    pytest.param("The Nordvik ferry resumed its crossings of the fjord on Monday after a storm "
                 "damaged the pier. How much did the repairs cost the county?", "2.4 million",
                 id="ferry"),
]


@pytest.fixture(scope="module")
def quiz(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Assistant:
    from assistant.kernel.settings import Settings

    folder = tmp_path_factory.mktemp("quiz-articles")
    for name, text in STORIES.items():
        (folder / name).write_text(text, encoding="utf-8")
    a = Assistant(settings=Settings(store_dir=tmp_path_factory.mktemp("quiz-store")),
                  model=embedder)
    assert a.index([folder]).added == len(STORIES)
    return a


@pytest.mark.parametrize(("question", "expected"), QUIZ)
def test_the_answer_quotes_what_is_asked_not_the_context_again(
        quiz: Assistant, question: str, expected: str) -> None:
    answer = quiz.ask(question)
    assert not answer.abstained, answer.notes
    assert expected in answer.text, answer.text
    assert any(expected in c.quote for c in answer.citations)
