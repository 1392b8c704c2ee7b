"""``Assistant``: the one front door — index articles, ask questions, chat, inspect."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from assistant.answer.base import Answerer, abstain
from assistant.answer.extractive import ExtractiveAnswerer
from assistant.answer.llm import Draft, LLMAnswerer
from assistant.answer.registry import make_answerer
from assistant.app import stages
from assistant.app.chat import ChatSession
from assistant.app.store_reader import StoreReader
from assistant.check.judge import Support, SupportJudge
from assistant.check.on_topic import left_out_topic
from assistant.kernel.answers import Answer
from assistant.kernel.errors import AssistantError, BadQuestionError, CollectionGoneError, StoreError
from assistant.kernel.records import Article, IndexReport, Status
from assistant.kernel.settings import Settings
from assistant.retrieve.filters import strings
from assistant.retrieve.retriever import Retriever


class Assistant:
    """Question answering over an index of news articles, with cited answers.

    ``Assistant(store_dir="store")`` opens (or will create) the index in ``store_dir``;
    any other :class:`Settings` field can be passed as a keyword, or a whole
    ``settings=Settings(...)``. Heavy parts (model, Chroma) load on first use; pass
    ``model=`` (an embedder) to share an already loaded model. ``llm=`` (any
    ``llama_index.core.llms.LLM``) writes the answers in place of ``settings.answerer``,
    verified sentence by sentence like the built-in LLM answerers.
    """

    def __init__(self, store_dir: str | Path | None = None, *, settings: Settings | None = None,
                 model: Any = None, llm: Any = None, **overrides: Any) -> None:
        base = settings or Settings()
        if store_dir is not None:
            overrides["store_dir"] = Path(store_dir)
        self.settings = base.replace(**overrides) if overrides else base
        self._lock = threading.RLock()
        self._embedder: Any = model  # share one loaded embedding model between assistants
        self._reader = StoreReader(self.settings, self.embedder)
        self._llm = llm
        self._answerer: Answerer | None = None
        self._quoter: ExtractiveAnswerer | None = None
        self._judge: SupportJudge | None = None

    # --- shared heavy parts ------------------------------------------------------
    def embedder(self) -> Any:
        """The embedding model (loaded once, shared by indexing and questions)."""
        with self._lock:
            if self._embedder is None:
                from assistant.storage.embedding import make_embedder

                self._embedder = make_embedder(self.settings)
            return self._embedder

    def answerer(self) -> Answerer:
        """The answerer on the ``llm`` given, else the one ``settings.answerer`` names
        (created once)."""
        with self._lock:
            if self._answerer is None:
                self._answerer = (self._llm_answerer(self._llm) if self._llm is not None else
                                  make_answerer(self.settings, self._embed))
            return self._answerer

    def _llm_answerer(self, llm: Any) -> Answerer:
        from assistant.answer.any_llm import llm_answerer

        return llm_answerer(llm, self.settings, self._embed)

    def _embed(self, texts: list[str]) -> Any:
        return self.embedder().embed(texts)

    def _extractive(self) -> ExtractiveAnswerer:
        """The extractive answerer that composes the quoted answer every answer starts from:
        the configured one when it is extractive, an LLM answerer's own otherwise."""
        answerer = self.answerer()
        if isinstance(answerer, ExtractiveAnswerer):
            return answerer
        if isinstance(answerer, LLMAnswerer):
            return answerer.fallback
        with self._lock:
            if self._quoter is None:
                self._quoter = ExtractiveAnswerer(self.settings)
            return self._quoter

    @property
    def retriever(self) -> Retriever:
        """The read path on its own, for scripts and benchmarks: ``search(query, k=...)``
        ranks passages as ``ask`` does; ``rankings`` and ``fuse`` show the vector and keyword
        rankings before and after fusion. Read the property again after ``index`` rather
        than keeping it: a rebuild switches to a new store generation."""
        return self._retriever()

    def _retriever(self) -> Retriever:
        return self._reader.retriever()

    # --- verbs ---------------------------------------------------------------------
    def index(self, paths: Sequence[str | Path] | str | Path, *, keep_missing: bool = False,
              rebuild: bool = False, drop_uploads: bool = False, progress: Any = None) -> IndexReport:
        """Add, update and remove articles from files or folders; returns what changed and
        names what left the index (``report.removed_articles``).

        ``rebuild`` builds the index anew from ``paths`` and the store's ``uploads/`` folder
        (the files uploaded in the UI), or from ``paths`` alone with ``drop_uploads``."""
        from index.pipeline import Indexer

        if drop_uploads and not rebuild:
            raise AssistantError("--drop-uploads goes with --rebuild: a plain index run leaves "
                                 "the uploads as they are")
        if isinstance(paths, (str, Path)):
            paths = [paths]
        if rebuild:
            self.close()
        return Indexer(self.settings, self.embedder).run(
            paths, keep_missing=keep_missing, rebuild=rebuild, progress=progress,
            drop_uploads=drop_uploads)

    def ask(self, question: str, *, since: str | date | None = None,
            until: str | date | None = None, sources: Sequence[str] = (),
            doc_ids: Sequence[str] = (), include_undated: bool | None = None,
            history: Sequence[str] = (), boost_docs: Sequence[str] = ()) -> Answer:
        """Answer one question from the indexed articles, with citations (or abstain).

        ``since``/``until`` keep articles published in that range (ISO days or unambiguous
        dates like "March 14, 2023"); undated articles are left out of a range unless
        ``include_undated`` (default: ``Settings.include_undated``). ``sources`` keeps those
        outlets, ``doc_ids`` those articles. ``answer.filters`` says what was applied.
        """
        *_, answer = self.ask_stream(question, since=since, until=until, sources=sources,
                                     doc_ids=doc_ids, include_undated=include_undated,
                                     history=history, boost_docs=boost_docs)
        assert isinstance(answer, Answer)  # the stream ends with the answer
        return answer

    def ask_stream(self, question: str, *, since: str | date | None = None,
                   until: str | date | None = None, sources: Sequence[str] = (),
                   doc_ids: Sequence[str] = (), include_undated: bool | None = None,
                   history: Sequence[str] = (), boost_docs: Sequence[str] = ()
                   ) -> Iterator[str | Answer]:
        """``ask`` as it happens, for UIs: an LLM answerer's draft as ``str`` pieces while the
        model writes, then the :class:`Answer` that ``ask`` returns. Show the answer in place of
        the draft: verification may have dropped the draft's unsupported sentences, or
        replaced it with quotes. Other answerers (extractive) yield the Answer alone."""
        args = (question, since, until, sources, doc_ids, include_undated, history, boost_docs)
        seen = self._reader.opened_at()
        drafted = False
        try:
            for item in self._answers(*args):
                drafted |= isinstance(item, str)
                yield item
        except StoreError as e:
            # a rebuild switched generations (or Chroma was replaced) while this one asked
            if not (isinstance(e, CollectionGoneError) or self._reader.where() != seen):
                raise
            self._reader.reopen()
            # a second draft would run on from the first one shown: send only its answer
            yield from (i for i in self._answers(*args) if not (drafted and isinstance(i, str)))

    def _answers(self, question: str, since: Any, until: Any, sources: Sequence[str],
                 doc_ids: Sequence[str], include_undated: bool | None, history: Sequence[str],
                 boost_docs: Sequence[str]) -> Iterator[str | Answer]:
        """One pass through the stages (``assistant/app/stages.py``), each taking what the one
        before returned: parse, retrieve, compose, check, news and the Answer; an LLM answerer
        then writes from the quoted answer, and its draft is checked in turn."""
        started = time.perf_counter()
        asked = stages.parse(question, since, until, sources, doc_ids, include_undated, history,
                             boost_docs, self.settings)
        retriever = self._retriever()
        evidence = stages.retrieve(retriever, asked, self.settings)
        quoter, answerer = self._extractive(), self.answerer()
        # an answerer of its own (neither the quotes nor an LLM writing from them) needs no quotes,
        # unless the filters' check does
        own = not isinstance(answerer, LLMAnswerer) and answerer is not quoter
        if own and evidence.unfiltered is None:
            yield _timed(answerer.answer(evidence), started)
            return
        quotes = quoter.compose(evidence)  # compose: the sentences that answer it, or abstain
        if evidence.unfiltered is not None:  # check: the filters left the question's topic in
            note = left_out_topic(None if isinstance(quotes, Answer) else quotes.confidence,
                                  *quoter.cited(evidence.unfiltered), set(evidence.allowed or ()),
                                  self.settings.abstain_threshold)
            if note:
                yield _timed(abstain(evidence, (note,), quotes.confidence, answerer.name), started)
                return
        if own:
            yield _timed(answerer.answer(evidence), started)
            return
        # check: the other articles' copies that back each quote; news: conflicts, the Answer
        quoted = quotes if isinstance(quotes, Answer) else quoter.news(evidence, quotes,
                                                                       quoter.check(quotes))
        if not isinstance(answerer, LLMAnswerer):  # the extractive answerer: the quotes are the answer
            yield _timed(quoted, started)
            return
        for item in answerer.write(evidence, quoted):  # compose: an LLM writes from the quotes
            if isinstance(item, str):
                yield item
            else:  # check: the draft's sentences against the passages they cite
                checked = answerer.check(evidence, quoted, item) if isinstance(item, Draft) else item
                yield _timed(checked, started)

    def supports(self, claim: str, passages: Sequence[str] | str) -> Support:
        """Whether ``passages`` (read together) support ``claim``: the judge that verifies LLM
        answers and grades the eval (``Settings.support_judge``), as ``Support(supported, score)``."""
        if isinstance(passages, str):
            passages = [passages]
        if not isinstance(claim, str) or not claim.strip():
            raise BadQuestionError("the claim is empty — give the sentence to check")
        texts = strings("passages", passages)
        with self._lock:
            if self._judge is None:
                from assistant.check.choice import make_judge

                self._judge = make_judge(self.settings, self._embed)
            judge = self._judge
        return judge.judge(texts, claim)

    def chat(self) -> ChatSession:
        """A conversation that remembers earlier turns for follow-up questions."""
        return ChatSession(self)

    def document(self, doc_id: str) -> Article:
        """The indexed article (metadata and cleaned ``.text``) with this id."""
        article = self._retriever().manifest.article(doc_id)
        if article is None:
            raise KeyError(f"no article {doc_id!r} in {self.settings.store_dir}")
        return article

    def status(self) -> Status:
        """What the index holds: articles, chunks, story clusters, where and how big."""
        retriever = self._retriever()
        manifest = retriever.manifest
        articles, chunks, clusters = manifest.counts()
        missing, _ = retriever.missing_vectors()
        meta = manifest.articles_meta()
        dates = sorted(m.published for m in meta if m.published)
        store = Path(self.settings.store_dir)
        size = sum(f.stat().st_size for f in store.rglob("*") if f.is_file()) if store.exists() else 0
        return Status(
            articles=articles, chunks=chunks, clusters=clusters,
            store_dir=str(store.resolve()), size_bytes=size,
            last_indexed=manifest.get_meta("last_indexed"),
            backend=retriever.vectors.location,
            sources=tuple(sorted({m.source for m in meta if m.source})),
            first_date=dates[0] if dates else None, last_date=dates[-1] if dates else None,
            missing_vectors=missing,
        )

    # --- llama-index conventions (assistant/app/llamaindex.py) --------------------------
    def as_retriever(self, similarity_top_k: int | None = None, *, since: str | date | None = None,
                     until: str | date | None = None, sources: Sequence[str] = (),
                     include_undated: bool | None = None) -> Any:
        """A llama-index ``BaseRetriever``: the ``similarity_top_k`` (default
        ``Settings.top_k``) fused passages as ``NodeWithScore``s, with their provenance as
        metadata (``doc_id``, ``start``, ``end``, ``title``, ``source``, ``published``,
        ``cluster_id``); ``node.get_content()`` is the article's text ``[start:end]``."""
        from assistant.app.llamaindex import NewsRetriever, filters_of

        filters = filters_of(since, until, sources, include_undated, self.settings.include_undated)
        return NewsRetriever(self, similarity_top_k or self.settings.top_k, filters)

    def as_query_engine(self, llm: Any = None, **filters: Any) -> Any:
        """A llama-index ``BaseQueryEngine``: the response text is the cited answer, its
        ``source_nodes`` the cited passages, ``metadata["answer"]`` the :class:`Answer`.
        Extractive with no ``llm``; with a llama-index LLM, generative and verified sentence
        by sentence. ``filters`` are ``ask``'s (``since``, ``until``, ``sources``, ...)."""
        from assistant.app.llamaindex import NewsQueryEngine

        answerer = self._extractive() if llm is None else self._llm_answerer(llm)
        return NewsQueryEngine(self._answering_with(answerer), filters)

    def _answering_with(self, answerer: Answerer) -> Assistant:
        """This assistant with another answerer: the same store, model and locks (a shallow
        copy; close the original, not the copy)."""
        twin = copy.copy(self)
        twin._answerer = answerer
        return twin

    def close(self) -> None:
        """Release the store (the model stays loaded)."""
        self._reader.close()


def _timed(answer: Answer, started: float) -> Answer:
    return replace(answer, seconds=round(time.perf_counter() - started, 4))
