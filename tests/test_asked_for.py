"""What a question asks for and what it names, as the extractive answerer reads them (issue #24):
"what year" is answered by a year, not by the weekday of the event; a name the question gives
counts as mentioned when the article says it in another paragraph than the retrieved one (the
abstention says "the articles never mention", so the articles are read, not only the passages);
"US" is found as "U.S.". Sentences are written for these tests; no model is needed."""

from __future__ import annotations

from assistant.answer.question import mentions, satisfies
from assistant.answer.sentences import select
from assistant.kernel.answers import Passage

YEAR_QUESTION = "The city closed the Tern Bridge this week. What year did the bridge open?"


def _passage(doc_id: str, text: str, rank: int = 0) -> Passage:
    return Passage(chunk_id=f"{doc_id}::0", doc_id=doc_id, text=text, start=0, end=len(text),
                   title="", source=None, url=None, published=None, cluster_id=doc_id,
                   sentences=((0, len(text)),), dense=0.5, rank=rank)


def test_what_year_is_answered_by_a_year_not_a_weekday() -> None:
    weekday = "The city closed the Tern Bridge on Wednesday, decades after the bridge first opened."
    year = "The Tern Bridge was opened to traffic in 1998 by the regional council."
    assert not satisfies(weekday, "date", YEAR_QUESTION)
    assert satisfies(year, "date", YEAR_QUESTION)
    assert satisfies(weekday, "date", "When did the city close the Tern Bridge?")  # a day answers "when"
    chosen = select(YEAR_QUESTION, [_passage("a", weekday), _passage("b", year, 1)]).sentences
    assert [c.passage.doc_id for c in chosen] == ["b"]


def test_a_name_elsewhere_in_the_article_is_mentioned() -> None:
    question = "Mayor Ingrid Solberg closed the Tern Bridge this week. What year did the bridge open?"
    passage = _passage("a", "The Tern Bridge was opened to traffic in 1998 by the regional council.")
    article = ("Mayor Ingrid Solberg ordered the Tern Bridge closed on Monday.\n\n"
               "The Tern Bridge was opened to traffic in 1998 by the regional council.")
    assert set(select(question, [passage]).missing) == {"ingrid", "solberg"}
    found = select(question, [passage], articles={"a": article})
    assert found.missing == () and found.sentences


def test_us_is_found_as_u_s() -> None:
    assert mentions("The U.S. Food and Drug Administration approved it.", {"us"})
    assert not mentions("The Canadian regulator approved it.", {"us"})
