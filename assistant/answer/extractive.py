"""The extractive answerer: quotes the sentences of the articles that answer the question and
abstains below the calibrated threshold. It needs no LLM; the LLM answerers write from it.

Three stages, which ``Assistant.ask`` runs in turn: ``compose`` chooses the sentences (or
abstains), ``check`` picks the other articles' copies that back each of them, and ``news``
makes the Answer with the conflicts between them and, asked who reported it, the outlets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.answer import coverage, news, question, readable
from assistant.answer.base import Evidence, abstain
from assistant.answer.build import build_answer, fact_first
from assistant.answer.cite import backing, cite
from assistant.answer.news import Disagreement
from assistant.answer.sentences import Candidate, Selection, candidates, select
from assistant.check.judge import SupportJudge
from assistant.kernel.answers import Answer, Citation, Claim, Conflict
from assistant.kernel.settings import Settings
from assistant.kernel.text import terms


@dataclass(frozen=True)
class Quotes:
    """The sentences the extractive answerer chose (``compose``), before the check picks the other
    articles' copies that back them (``check``) and the Answer is made with its conflicts
    (``news``)."""

    chosen: tuple[Candidate, ...]
    pool: tuple[Candidate, ...] = ()  # where copies of them are looked for
    lead: str | None = None  # the query whose asked-for value opens the answer
    confidence: float = 0.0
    disagreeing: tuple[Disagreement, ...] = ()  # sentences stating another value than chosen[0]
    covers: str | None = None  # a question about who reported it: ``coverage.asks``
    notes: tuple[str, ...] = ()


class ExtractiveAnswerer:
    """Quotes the sentences that answer the question; abstains below the calibrated threshold.

    News-aware on top of plain selection: "which came first" questions are answered
    event by event in date order, "the latest on" prefers the most recent evidence, and
    sentences that state a different value for the same fact are shown side by side.
    """

    name = "extractive"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._judge: SupportJudge | None = None
        self._reranker: Any = None

    @property
    def judge(self) -> SupportJudge:
        """The strict support judge that decides which copies back a quoted sentence. It reads
        words, not grammar: a copy is another outlet's sentence, not a generated one, and the
        parser's load would add seconds to a cold ``ask``."""
        if self._judge is None:
            from assistant.check.choice import make_judge

            self._judge = make_judge(self.settings, strict=True, grammar=False)
        return self._judge

    def choose(self, evidence: Evidence) -> Selection:
        reranker = self.reranker
        learned = ((lambda found: reranker.score(evidence.query, [c.text for c in found],
                                                 [c.passage.title for c in found]))
                   if reranker is not None else None)
        return select(evidence.query, evidence.top, self.settings.answer_sentences, evidence.articles,
                      learned=learned, learned_weight=self.settings.rerank_weight,
                      recency_weight=self.settings.recency_weight)

    @property
    def reranker(self) -> Any:
        """The trained reranker (sentence scores) when ``Settings.reranker`` is on."""
        if self.settings.reranker != "off" and self._reranker is None:
            from assistant.models import make_reranker

            self._reranker = make_reranker(self.settings)
        return self._reranker

    def answer(self, evidence: Evidence) -> Answer:
        """The quoted answer: ``compose``, ``check`` and ``news`` in turn (the stages
        ``Assistant.ask`` runs)."""
        quotes = self.compose(evidence)
        return quotes if isinstance(quotes, Answer) else self.news(evidence, quotes,
                                                                   self.check(quotes))

    def compose(self, evidence: Evidence) -> Quotes | Answer:
        """The sentences that answer the question, or the abstention when none does."""
        if evidence.parts:
            ordered = self._order(evidence)
            if ordered is not None:
                return ordered
        selection = self.choose(evidence)
        missing = (*selection.missing,
                   *news.unmentioned_dates(evidence.query, list(evidence.documents.values())))
        if missing:
            return abstain(evidence, ("the articles never mention: " + ", ".join(missing),))
        if not selection.sentences or selection.evidence < self.settings.abstain_threshold:
            return abstain(evidence, confidence=selection.evidence)
        chosen = list(selection.sentences)
        planned = self._planned(evidence, chosen[0])
        if planned:  # asked what happened; the best evidence only announces it
            follow = self._after_plan(evidence, chosen[0], selection)
            if follow is None:
                return abstain(evidence, (f"the articles were written before the event on {planned} "
                                          "and only say what was planned",), confidence=selection.evidence)
            chosen = [follow]
        if news.is_recency(evidence.question):
            chosen = [self._latest(evidence, selection)]
        chosen = _standalone(chosen, selection)
        anchor, disagreeing = _disagreement(chosen, selection, question.need(evidence.query),
                                            evidence.query)
        asked = coverage.asks(evidence.question)
        lead = None  # the query whose asked-for value opens the answer
        if disagreeing:
            chosen = [anchor] + [c for c, *_ in disagreeing]
        elif not fact_first(evidence.question):
            chosen = news.other_outlets(evidence.query, chosen, candidates(
                evidence.passages + evidence.story([c.passage.doc_id for c in chosen])),
                most=coverage.MOST if asked else 3)
            chosen = [r for c in chosen if (r := readable.with_antecedent(c)) is not None] or chosen
        elif planned or news.is_recency(evidence.question):
            lead = evidence.query
        else:
            chosen, lead = _fact_first(evidence.query, chosen, selection), evidence.query
        pool = candidates(evidence.passages + evidence.story([c.passage.doc_id for c in chosen]))
        return Quotes(tuple(chosen), tuple(pool), lead, round(selection.evidence, 4),
                      tuple(disagreeing), asked)

    def cited(self, evidence: Evidence) -> tuple[float | None, list[Citation]]:
        """The evidence score of the quotes for ``evidence`` (None: it abstains) and what they
        would cite, from ``compose`` and ``check`` without making an Answer (the filters'
        on-topic check reads this of the whole index)."""
        quotes = self.compose(evidence)
        if isinstance(quotes, Answer):
            return None, []
        return quotes.confidence, cite(evidence, self.check(quotes))[1]

    def check(self, quotes: Quotes) -> list[list[Candidate]]:
        """Each chosen sentence with the other articles' copies that back it (``cite.backing``,
        with the strict judge)."""
        return backing(quotes.chosen, quotes.pool, self.judge)

    def news(self, evidence: Evidence, quotes: Quotes, backed: list[list[Candidate]]) -> Answer:
        """The Answer of the checked quotes, with the conflicts between them and, for a question
        about who reported it, the line naming the outlets."""
        sentences, citations = cite(evidence, backed)
        conflicts = _conflicts(citations, quotes.chosen[0], quotes.disagreeing)
        reports = coverage.reports(citations, quotes.covers) if quotes.covers else None
        return build_answer(evidence, sentences, citations, answerer=self.name, lead=quotes.lead,
                            notes=quotes.notes, confidence=quotes.confidence,
                            conflicts=conflicts, reports=reports)

    def _planned(self, evidence: Evidence, c: Candidate) -> str | None:
        return news.planned_only(evidence.question, c, evidence.documents.get(c.passage.doc_id))

    def _after_plan(self, evidence: Evidence, plan: Candidate, selection: Selection) -> Candidate | None:
        """The sentence right after an announcement, if it supplies what the question asks beyond it.

        "Which newspaper did Macron speak to before meeting Putin?": the best sentence announces
        the meeting; the next one ("... said in an interview to Le Journal du Dimanche") holds the
        question's missing words ("interview") and answers it. Without such a neighbour the
        question is about the announced event itself, and the articles cannot know its outcome.
        """
        wanted = set(terms(evidence.query)) - set(terms(plan.text))
        for c in selection.ranked:
            # the very next sentence of the same paragraph: one space between them
            near = c.passage.doc_id == plan.passage.doc_id and 0 <= c.start - plan.end <= 2
            if (near and c is not plan and wanted & set(terms(c.text))
                    and not self._planned(evidence, c)):
                return c
        return None

    def _latest(self, evidence: Evidence, selection: Selection) -> Candidate:
        best = selection.ranked[0]
        close = [c for c in selection.ranked[:10] if c.score >= 0.8 * best.score]
        return max(close, key=lambda c: (news.evidence_date(c, evidence.article(c.passage.doc_id)) or "",
                                         c.score))

    def _order(self, evidence: Evidence) -> Quotes | None:
        """Answer each compared event on its own (``evidence.parts``), then list them in date order."""
        events: list[tuple[Candidate, str | None]] = []
        confidence = 1.0
        for part, found in evidence.parts:
            top = found[: self.settings.top_k]
            articles = {p.doc_id: f"{p.title}\n{a.text}" for p in top
                        if (a := evidence.article(p.doc_id)) is not None}
            # Best: a dated sentence naming the event; then undated; then names nearby only.
            for kind, strict in (("date", True), (None, True), ("date", False), (None, False)):
                sel = select(part, top, 1, articles, kind=kind, names_in_sentence=strict)
                if sel.sentences and sel.evidence >= self.settings.abstain_threshold:
                    break
            else:
                return None  # one event not found: answer the question as a plain question
            c = sel.sentences[0]
            confidence = min(confidence, sel.evidence)
            events.append((c, news.event_date(c, evidence.article(c.passage.doc_id))))
        if events[0][0].text == events[1][0].text:
            return None
        dated = sorted(events, key=lambda e: (e[1] is None, e[1] or ""))
        when = [f"[{i + 1}] {d}" if d else f"[{i + 1}] undated in the articles"
                for i, (_, d) in enumerate(dated)]
        note = "in date order: " + "; ".join(when)
        if all(d for _, d in dated) and dated[0][1] == dated[1][1]:
            note = "both on the same day: " + "; ".join(when)
        return Quotes(tuple(c for c, _ in dated), confidence=round(confidence, 4), notes=(note,))


CONFLICT_ANCHORS = 3  # best sentences tried as the first side of a conflict


def _disagreement(chosen: list[Candidate], selection: Selection, need: str | None, query: str
                  ) -> tuple[Candidate, list[tuple[Candidate, str, tuple[str, ...], tuple[str, ...]]]]:
    """The first of the chosen (then the best-ranked) sentences that other sentences contradict.

    The top sentence may hold no value at all (a heading: "Tournament Reaction Podcast") while
    the next ones state the answer and its contradiction; only sentences scoring nearly as
    well as the best are tried, so a side remark never becomes the headline of a conflict.
    """
    best = selection.ranked[0].score if selection.ranked else chosen[0].score
    tried: set[tuple[str, int]] = set()
    # Only a question asking for one kind of value ("who", "when", "how many") looks past the
    # first sentence: open questions quote rewrites whose wording differs in harmless names.
    anchors = [*chosen, *selection.ranked[:CONFLICT_ANCHORS]] if need else chosen[:1]
    for c in anchors:
        key = (c.passage.doc_id, c.start)
        if key in tried or (c is not chosen[0] and c.score < 0.8 * best):
            continue
        tried.add(key)
        found = news.conflicts(c, selection.ranked, query, need)
        if found:
            return c, found
    return chosen[0], []


def _fact_first(query: str, chosen: list[Candidate], selection: Selection) -> list[Candidate]:
    """The chosen sentences led by one holding the value the question asks for (the answer
    opens with that value: ``assistant.answer.build``).

    When the best sentence holds no such value (the Moscow meeting, asked who Macron phoned)
    but a sentence scoring nearly as well does (the call with Joe Biden), that one leads.
    """
    if readable.short_span(query, chosen[0].text) is not None or question.need(query) is None:
        return chosen
    best, options = chosen[0], []
    said = readable.asked_words(query, best.text)  # a lead must say as much of the question
    for i, c in enumerate(selection.ranked[:12]):
        if c.score < 0.8 * best.score:
            break
        lead = readable.with_antecedent(c)
        if lead is None or (lead.passage.doc_id, lead.start) == (best.passage.doc_id, best.start):
            continue
        says = readable.asked_words(query, lead.text)
        # the one saying most leads; ties: the best ranked
        if readable.short_span(query, lead.text) is not None and says >= said:
            options.append((says, -i, lead))
    if not options:
        return chosen
    *_, lead = max(options, key=lambda o: o[:2])
    # the best sentence stays, right after the one that leads: it may say more of the answer
    rest = [x for x in chosen if (x.passage.doc_id, x.start) != (lead.passage.doc_id, lead.start)]
    return [lead, *rest][: max(2, len(chosen))]


def _standalone(chosen: list[Candidate], selection: Selection) -> list[Candidate]:
    """The chosen sentences, each able to stand alone: one that opens with a pointer ("This is
    what …") comes with the sentence it points back to, or gives way to the best one that can."""
    out = [r for c in chosen if (r := readable.with_antecedent(c)) is not None]
    if not out:
        out = next(([r] for c in selection.ranked[:12]
                    if (r := readable.with_antecedent(c)) is not None), [])
    return out or chosen


def _conflicts(citations: list[Citation], first: Candidate,
               disagreeing: tuple[Disagreement, ...]) -> tuple[Conflict, ...]:
    """The conflicts, each claim with the number of the citation that states it.

    Two claims of one article are that article contradicting itself, not sources disagreeing."""
    number = {c.doc_id: c.number for c in citations}
    published = {c.doc_id: c.published for c in citations}
    key = first.passage.doc_id
    found = []
    for c, kind, left, right in disagreeing:
        other = c.passage.doc_id
        if key not in number or other not in number:
            continue
        same = key == other
        said = " vs ".join((", ".join(left), ", ".join(right)))
        found.append(Conflict(kind=kind, claims=(
            Claim(", ".join(left), (number[key],), published[key]),
            Claim(", ".join(right), (number[other],), published[other])),
            note=(f"this article contradicts itself on the {kind} [{number[key]}]: {said}" if same
                  else f"the sources disagree on the {kind}: {said}"),
            same_article=same))
    return tuple(found)
