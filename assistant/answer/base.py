"""What every answerer shares: the :class:`Evidence` retrieval hands over, the
:class:`Answerer` protocol, and the fixed abstention."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from assistant.kernel.answers import ABSTAIN_TEXT, Answer, Filters, Passage
from assistant.kernel.records import Article

STORY_ARTICLES = 12  # other articles of a story whose copies of a sentence may be cited


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for one question: everything the later stages read, as data, so
    none of them reaches back into the store."""

    question: str  # as the user asked it
    query: str  # with the conversation's context added (follow-ups)
    passages: list[Passage]  # every candidate, best first
    top: list[Passage]  # the top-k the answer is built from
    documents: dict[str, Article]  # doc id -> article, for the top passages' articles
    notes: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)  # what they were restricted to, and left out
    library: dict[str, Article] = field(default_factory=dict, repr=False)  # every article here
    # cluster id -> every passage of the story's articles, for the clusters of ``passages``
    stories: dict[str, tuple[Passage, ...]] = field(default_factory=dict, repr=False)
    allowed: frozenset[str] | None = None  # the articles the filters let through (None: all)
    # "which came first, A or B?": each event with its own candidates (searched alone)
    parts: tuple[tuple[str, list[Passage]], ...] = field(default=(), repr=False)
    # a filtered question: what the whole index finds, for judging whether the filters left
    # the topic out (``assistant.check.on_topic``)
    unfiltered: Evidence | None = field(default=None, repr=False)

    @property
    def articles(self) -> dict[str, str]:
        """doc id -> title and text of the top passages' articles (what sentences are read in)."""
        return {d: f"{a.title}\n{a.text}" for d, a in self.documents.items()}

    def article(self, doc_id: str) -> Article | None:
        """The article of a passage here (for the resolved dates of a quote)."""
        return self.library.get(doc_id)

    def story(self, doc_ids: list[str]) -> list[Passage]:
        """Every passage of the other articles in the stories of ``doc_ids`` (the first
        ``STORY_ARTICLES`` of them by id, in chunk order), for copies of a quoted sentence;
        copies cited as backing obey the filters too."""
        cluster = {p.doc_id: p.cluster_id for ps in (self.passages, *self.stories.values())
                   for p in ps}
        clusters = {cluster[d] for d in doc_ids if d in cluster}
        shared = [p for c in sorted(clusters) for p in self.stories.get(c, ())]
        mates = set(sorted({p.doc_id for p in shared} - set(doc_ids))[:STORY_ARTICLES])
        found = {p.chunk_id: p for p in shared if p.doc_id in mates}
        return [found[c] for c in sorted(found)
                if self.allowed is None or found[c].doc_id in self.allowed]


class Answerer(Protocol):
    """Writes an answer from evidence."""

    name: str

    def answer(self, evidence: Evidence) -> Answer: ...


def abstain(evidence: Evidence, notes: tuple[str, ...] = (), confidence: float = 0.0,
            answerer: str = "extractive") -> Answer:
    """The fixed "the articles don't say" answer, with the closest passages for the reader."""
    return Answer(question=evidence.question, text=ABSTAIN_TEXT, abstained=True,
                  closest=tuple(evidence.top[:3]), notes=evidence.notes + notes,
                  confidence=round(confidence, 4), answerer=answerer, filters=evidence.filters,
                  retrieved=tuple(evidence.top))
