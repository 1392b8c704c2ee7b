"""Cross-article cloze groups: supervision for the sentence reader without labels (#24).

The search results of one RealTime QA question tell one event, usually by several outlets.
Mask a name in one outlet's sentence and it becomes a question whose answer sentence sits in
another outlet's article. A group, in the shape ``train.rerank_data`` gives the reranker:
- query: a sentence of article A with one name of two or more capitalised words replaced
  by "what" (the rest of the sentence is the context a quiz question gives);
- positive: a sentence of another article B of the same event that states the name and
  shares at least ``MIN_SHARED`` content words with the query (it tells the same fact);
- hard negatives, hardest first: sentences of the event's articles that share the most
  content words with the query and hold no word of the name (they restate the context
  without the answer: the loss #24 measures), the sentences next to the positive, and one
  sentence of another event.
No label of the benchmark is read: only the articles, so every training week's 15.5k
articles yield groups, many more than the ~2,000 questions with evidence.

    python -m train.cloze_data --data ../shared/benchmarks/realtimeqa/train [--weeks 4] [--show 5]
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from assistant.kernel.text import content_words
from train.rerank_data import GROUP, MAX_CHARS, MIN_CHARS, Group, f1, states
from train.weeks import Doc, Question

MIN_SHARED = 3  # content words a positive shares with the query, besides the name
COPY = 0.8  # content-word F1 above which a "positive" is the query sentence copied, not restated
MAX_PER_EVENT = 6  # groups from one event's articles, so big stories do not dominate
_NAME = re.compile(r"(?<![\w.])[A-Z][\w’'-]+(?:\s+(?:of\s+|de\s+)?[A-Z][\w’'-]+)+")


def names(sentence: str) -> list[str]:
    """Names of two or more capitalised words, not counting a sentence's first word."""
    out = []
    for m in _NAME.finditer(sentence):
        text = m.group()
        if m.start() == 0:  # "The Kremlin said": the first word is capitalised anyway
            text = text.split(None, 1)[1] if " " in text else ""
            if " " not in text.strip():
                continue
        out.append(text)
    return out


def _name_words(name: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[\w’'-]+", name) if len(w) >= 3 and w[0].isupper()}


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` holds any word of ``name`` (its last name alone states it too)."""
    have = {w.lower() for w in re.findall(r"[\w’'-]+", text)}
    return bool(_name_words(name) & have)


def mask(sentence: str, name: str) -> str:
    return sentence.replace(name, "what", 1)


def event_groups(event: str, docs: Sequence[Doc], rng: random.Random,
                 other: Sequence[str]) -> Iterator[Group]:
    """The cloze groups of one event's articles (``other``: sentences of other events)."""
    sentences = [(d.url, i, s) for d in docs for i, s in enumerate(d.sentences)
                 if MIN_CHARS <= len(s) <= MAX_CHARS]
    made = 0
    order = list(range(len(sentences)))
    rng.shuffle(order)
    for k in order:
        if made >= MAX_PER_EVENT:
            return
        url, _, sentence = sentences[k]
        for name in names(sentence):
            query = mask(sentence, name)
            asked = content_words(query)
            positives = [(u, i, s) for u, i, s in sentences
                         if u != url and states(s, name)
                         and len(content_words(s) & asked - content_words(name)) >= MIN_SHARED
                         and f1(content_words(s), asked) < COPY]  # not the same sentence again
            if not positives:
                continue
            pos_url, pos_i, positive = rng.choice(positives)
            restating = sorted(
                ((len(content_words(s) & asked), s) for _, _, s in sentences
                 if s != sentence and not mentions(s, name)),
                key=lambda t: -t[0])
            doc = next(d for d in docs if d.url == pos_url)
            near = [doc.sentences[j] for j in (pos_i - 1, pos_i + 1)
                    if 0 <= j < len(doc.sentences) and not mentions(doc.sentences[j], name)
                    and MIN_CHARS <= len(doc.sentences[j]) <= MAX_CHARS]
            negatives: list[tuple[str, str]] = []
            for text, kind in ([(s, "restating") for n, s in restating if n >= 2][:4]
                               + [(s, "neighbour") for s in near]
                               + [(s, "restating") for n, s in restating[4:] if n >= 1]
                               + ([(rng.choice(other), "easy")] if other else [])):
                if len(negatives) < GROUP - 1 and text not in {t for t, _ in negatives}:
                    negatives.append((text, kind))
            if len(negatives) == GROUP - 1:
                made += 1
                yield Group(f"{event}:cloze:{made}", query, (positive, *(t for t, _ in negatives)),
                            ("cloze", *(k for _, k in negatives)), "sentence", name)
            break  # one name per query sentence


def build(questions: Sequence[Question], docs: dict[str, Doc], seed: int = 13) -> list[Group]:
    """Cloze groups of every question's search results (one event each), deterministic."""
    rng = random.Random(seed)
    pool = [s for d in docs.values() for s in d.sentences if 40 <= len(s) <= 300]
    out: list[Group] = []
    for q in questions:
        event = [docs[u] for u in dict.fromkeys(q.urls) if u in docs]
        if len(event) >= 2:
            others = rng.sample(pool, min(3, len(pool)))
            out.extend(event_groups(q.qid, event, rng, others))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from train import weeks

    p = argparse.ArgumentParser(prog="python -m train.cloze_data",
                                description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="RealTime QA training weeks")
    p.add_argument("--weeks", type=int, default=4, help="how many of the latest weeks to read")
    p.add_argument("--show", type=int, default=3, help="groups to print")
    args = p.parse_args(argv)
    stamps = weeks.weeks(Path(args.data))[-args.weeks:]
    questions, docs = weeks.load(Path(args.data), stamps)
    groups = build(questions, docs)
    print(f"{len(groups)} cloze groups from {len(questions)} events and {len(docs)} articles "
          f"({len(stamps)} weeks)")
    for g in groups[: args.show]:
        print(f"\nquery: {g.query}")
        for text, kind in zip(g.texts, g.kinds, strict=True):
            print(f"  {kind:>10}: {text[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
