"""News abbreviations for the sentence splitter, learned by Punkt from the training weeks.

    python -m train.punkt --data ../shared/benchmarks/realtimeqa/train [--max-chars 60000000]

NLTK's English Punkt tables were trained on older newswire and lack abbreviations that
today's news uses before names ("Gov. Ron DeSantis", "Capt.", "Cmdr."), so a quoted
sentence could end inside a name. This runs Punkt's own unsupervised trainer over the
cleaned search-result articles of the RealTime QA training weeks (never the 2022 dev weeks:
``train.weeks`` refuses them), keeps the abbreviations it learned that the English tables
lack and that look like abbreviations (letters, optionally with inner periods or one hyphen;
seen often enough), and writes them to ``assistant/models/punkt/abbreviations.txt``, which
``assistant.kernel.text`` adds to the English tables. ``MODEL_CARD.md`` beside it says what
they change, measured on the dev weeks' articles.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path

from assistant.kernel.records import RawArticle
from assistant.kernel.text import NEWS_ABBREVIATIONS
from eval.realtimeqa import CUT_INSIDE_NAME
from index.cleaning import clean_article
from train.weeks import weeks

OUT = NEWS_ABBREVIATIONS.parent
# What an abbreviation looks like: "gov", "capt", "d-ill" (party and state), "j.r.r"; not "$4m",
# "9c", "co," or a five-letter word.
_SHAPE = re.compile(r"(?:[a-z]-)?[a-z]{1,4}(?:\.[a-z]{1,3})*")
MIN_COUNT = 8  # times "word." occurs in the corpus: rarer ones are noise of one article


def cleaned_texts(files: Sequence[Path], max_chars: int | None = None) -> Iterator[str]:
    """Cleaned texts of the search results (and gold articles) in RealTime QA ``files``, in
    their order, each URL once, up to ``max_chars`` characters."""
    seen: set[str] = set()
    total = 0
    for path in files:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                for hit in (json.loads(line).get("search_result") or []) if line.strip() else []:
                    url, text = hit.get("url"), hit.get("text") or ""
                    if not url or url in seen or len(text) < 200:
                        continue
                    seen.add(url)
                    cleaned = clean_article(RawArticle(doc_id=url, text=text, url=url,
                                                       title=hit.get("title") or None)).text
                    total += len(cleaned)
                    yield cleaned
                    if max_chars is not None and total >= max_chars:
                        return


def training_texts(folder: Path, max_chars: int) -> Iterator[str]:
    """The training weeks' search results, newest week first (closest to the news the
    assistant will read); ``weeks`` refuses the dev weeks."""
    return cleaned_texts([folder / f"{stamp}_gcs.jsonl" for stamp in reversed(weeks(folder))],
                         max_chars)


def held_out_texts(folder: Path) -> Iterator[str]:
    """Any weeks' gold and search-result articles, to measure on."""
    return cleaned_texts(sorted([*folder.glob("*_gcs.jsonl"), *folder.glob("*_gold.jsonl")]))


def learn(texts: Sequence[str]) -> list[str]:
    """Abbreviations Punkt learns from ``texts`` that the English tables lack, shaped like one
    and seen at least ``MIN_COUNT`` times with their period."""
    from nltk.tokenize.punkt import PunktTrainer

    from assistant.kernel.text import english_punkt

    trainer = PunktTrainer()
    trainer.train("\n\n".join(texts), finalize=True)
    known = english_punkt()._params.abbrev_types
    counts = Counter(m.group(1).lower() for t in texts
                     for m in re.finditer(r"(?<![\w.])([A-Za-z][\w.-]{0,14})\.(?=\s)", t))
    return sorted(a for a in trainer.get_params().abbrev_types
                  if a not in known and _SHAPE.fullmatch(a) and counts[a] >= MIN_COUNT)


def measure(texts: Sequence[str]) -> dict[str, dict[str, int]]:
    """Sentences, cuts inside a name, and sentence ends, by the English tables alone and with
    the news abbreviations, over ``texts`` (never ones the abbreviations were learned from)."""
    from assistant.kernel import text as kernel

    out = {}
    for name, tokenizer in (("english", kernel.english_punkt()), ("news", kernel._punkt())):
        sentences = cuts = 0
        for t in texts:
            spans = tokenizer.span_tokenize(t)
            parts = [t[a:b] for a, b in spans]
            sentences += len(parts)
            cuts += sum(1 for a, b in pairwise(parts)
                        if CUT_INSIDE_NAME.search(a) and b[:1].isupper())
        out[name] = {"sentences": sentences, "cuts_inside_names": cuts}
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.punkt", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="RealTime QA training weeks")
    p.add_argument("--max-chars", type=int, default=60_000_000)
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--measure", help="RealTime QA weeks to measure the splitter on (the dev "
                   "weeks: nothing was learned from them); no training")
    args = p.parse_args(argv)
    if args.measure:
        texts = list(held_out_texts(Path(args.measure)))
        print(json.dumps({"articles": len(texts), **measure(texts)}, indent=1))
        return 0
    started = time.perf_counter()
    texts = list(training_texts(Path(args.data), args.max_chars))
    found = learn(texts)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "abbreviations.txt").write_text("\n".join(found) + "\n", encoding="utf-8")
    print(f"{len(found)} abbreviations from {len(texts)} articles "
          f"({sum(map(len, texts)) / 1e6:.1f}M characters) in {time.perf_counter() - started:.0f} s "
          f"-> {out / 'abbreviations.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
