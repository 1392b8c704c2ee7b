"""RealTime QA weeks as cleaned articles split into sentences, with their questions.

Only the training weeks (2023–2024) may be used for training; ``load`` refuses a folder of
2022 weeks, so the dev weeks can never leak into a model by a wrong path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.kernel.records import RawArticle
from assistant.kernel.text import split_sentences
from eval.realtimeqa import DEV_YEAR
from index.chunking import chunk_article
from index.cleaning import clean_article

_TAG = re.compile(r"<[^>]+>")


@dataclass
class Doc:
    """One cleaned search-result article: its sentences and ~600-character chunks."""

    url: str
    title: str
    text: str
    sentences: list[str]
    chunks: list[str]


@dataclass
class Question:
    qid: str
    week: str
    question: str
    choices: list[str]
    answer: int  # index into choices
    evidence: str  # the quiz's sentence stating the answer ('' when none)
    urls: list[str] = field(default_factory=list)  # its search results, in rank order

    @property
    def correct(self) -> str:
        return self.choices[self.answer]


def weeks(folder: Path) -> list[str]:
    """The week stamps (YYYYMMDD) in ``folder``; refuses 2022 (the dev weeks)."""
    stamps = sorted(p.name.split("_")[0] for p in Path(folder).glob("*_qa.jsonl"))
    if any(s.startswith(DEV_YEAR) for s in stamps):
        raise SystemExit(f"{folder} holds {DEV_YEAR} weeks: those are the dev weeks, never trained on")
    return stamps


def _records(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load(folder: Path, stamps: list[str] | None = None,
         docs: dict[str, Doc] | None = None) -> tuple[list[Question], dict[str, Doc]]:
    """Questions of ``stamps`` (default: all weeks) and their cleaned search results by url."""
    folder = Path(folder)
    docs = {} if docs is None else docs
    questions: list[Question] = []
    for stamp in stamps or weeks(folder):
        results = {r["question_id"]: r.get("search_result") or []
                   for r in _records(folder / f"{stamp}_gcs.jsonl")}
        for r in _records(folder / f"{stamp}_qa.jsonl"):
            try:
                answer = int(r["answer"][0])
            except (KeyError, IndexError, ValueError):
                continue
            q = Question(r["question_id"], stamp, r["question_sentence"], list(r["choices"]), answer,
                         " ".join(_TAG.sub("", r.get("evidence") or "").split()))
            for hit in results.get(q.qid, []):
                url, text = hit.get("url"), hit.get("text") or ""
                if not url or len(text) < 200:
                    continue
                if url not in docs:
                    doc = _doc(url, hit.get("title") or "", text)
                    if doc is None:
                        continue
                    docs[url] = doc
                q.urls.append(url)
            questions.append(q)
    return questions, docs


def _doc(url: str, title: str, text: str) -> Doc | None:
    cleaned = clean_article(RawArticle(doc_id=url, text=text, title=title or None, url=url))
    if len(cleaned.text) < 200:
        return None
    sentences = [cleaned.text[s:e] for s, e in split_sentences(cleaned.text)]
    chunks = [c.text for c in chunk_article(url, cleaned.text, 600, 1)]
    return Doc(url, cleaned.title, cleaned.text, sentences, chunks)


def cached(folder: Path, stamps: list[str], work: Path) -> tuple[list[Question], dict[str, Doc]]:
    """``load`` of ``stamps``, kept in ``work/weeks.pkl``: cleaning and splitting ~15k articles
    takes minutes, and every trainer reads the same weeks."""
    import pickle

    path = Path(work) / "weeks.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())  # type: ignore[no-any-return]
    path.parent.mkdir(parents=True, exist_ok=True)
    found = load(folder, stamps)
    path.write_bytes(pickle.dumps(found))
    return found
