"""News supersedes itself: of two articles that answer a question alike, the newer one is quoted
(``Settings.recency_weight``), unless the question names the time it is about (issue #24: on
unseen news weeks the answer often quoted an article from years before the one asked about).

The articles are written for these tests. The two answer alike, and the 2019 article says a little
more of the question's words, so without the recency preference it is the one quoted.
"""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answer.sentences import select
from assistant.kernel.answers import Passage
from assistant.kernel.settings import Settings

ARTICLES = {
    "board-2019.txt": (
        " date 2019-03-01 Title: Harbour Board names a new chair\n\n"
        "The Kestrel Harbour Board named Lena Voss as the new chair of the board on Friday, "
        "after a vote of its members.\n"
        "Voss has worked at the harbour for twenty years."),
    "board-2024.txt": (
        " date 2024-11-13 Title: Kestrel harbour gets a chair\n\n"
        "The Kestrel Harbour Board named Omar Reyes as its new chair on Wednesday.\n"
        "Reyes ran the port of Saltmere for a decade before he moved to Kestrel."),
}
QUESTION = "Who did the Kestrel Harbour Board name as the new chair of the board?"


@pytest.fixture(scope="module")
def harbour(tmp_path_factory: pytest.TempPathFactory, embedder: object) -> Settings:
    folder = tmp_path_factory.mktemp("harbour-articles")
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(store_dir=tmp_path_factory.mktemp("harbour-store"))
    assert Assistant(settings=settings, model=embedder).index([folder]).added == len(ARTICLES)
    return settings


def _ask(settings: Settings, embedder: object, question: str, **overrides: float) -> str:
    answer = Assistant(settings=settings.model_copy(update=overrides), model=embedder).ask(question)
    assert not answer.abstained, answer.notes
    return answer.citations[0].quote


def test_the_newer_article_answers_when_both_answer(harbour: Settings, embedder: object) -> None:
    assert "Reyes" in _ask(harbour, embedder, QUESTION)


def test_without_the_preference_the_closer_wording_wins(harbour: Settings, embedder: object) -> None:
    assert "Voss" in _ask(harbour, embedder, QUESTION, recency_weight=0.0)


def test_a_question_that_names_the_year_is_about_that_year(harbour: Settings, embedder: object) -> None:
    assert "Voss" in _ask(harbour, embedder, "Who did the Kestrel Harbour Board name as the new "
                          "chair of the board in 2019?")


def _passage(doc_id: str, text: str, published: str | None, rank: int) -> Passage:
    return Passage(chunk_id=f"{doc_id}::0", doc_id=doc_id, text=text, start=0, end=len(text),
                   title="", source=None, url=None, published=published, cluster_id=doc_id,
                   sentences=((0, len(text)),), dense=0.5, rank=rank)


def test_an_undated_article_is_not_taken_for_an_old_one() -> None:
    # the undated sentence says more of the question: no date, so nothing is taken from it
    undated = _passage("undated", "The Kestrel Harbour Board named Lena Voss as the new chair of "
                       "the board on Friday.", None, 0)
    old = _passage("old", "The Kestrel Harbour Board once picked Ada Lind as its chair.",
                   "2019-03-01", 1)
    new = _passage("new", "The Kestrel Harbour Board picked Omar Reyes as chair.", "2024-11-13", 2)
    chosen = select(QUESTION, [undated, old, new], recency_weight=0.15).sentences[0]
    assert chosen.passage.doc_id == "undated"
    # while the dated old article gives way to the dated new one
    assert select(QUESTION, [old, new], recency_weight=0.15).sentences[0].passage.doc_id == "new"
    assert select(QUESTION, [old, new], recency_weight=0.0).sentences[0].passage.doc_id == "old"
