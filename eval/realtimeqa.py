"""``assistant bench realtimeqa``: the RealTime QA accuracy benchmark.

It runs RealTime QA (Kasai et al., 2022) weeks from any folder in its layout
(``YYYYMMDD_qa.jsonl`` / ``_gold.jsonl`` / ``_gcs.jsonl``): it indexes every gold and
search-result article (one article per URL: the reader dedupes), asks each
``question_sentence`` as free text and scores retrieval, answers and citations against
the gold article and the correct multiple-choice string. Definitions are in
``DEFINITIONS`` and repeated in the Markdown report.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.metrics import contains_match, hit_at_k, normalize_answer, percentile, reciprocal_rank

MODES = ("dense", "bm25", "rrf", "fused")
CHOICE_AT = (5, 8, 10, 40)  # 8: the passages ask answers from (top_k); 40: every candidate
ANSWER_METRICS = ("answer_contains", "answer_contains_wrong", "retrieved_contain",
                  "cited_quote_contains", "citation_contains", "cited_passages_contain",
                  "abstained")
# Issue baselines (RealTime QA dev, 1,000-char chunks, no cleaning): gold-URL hit@1/5/10
# and "correct choice in the top-5 chunks". They equal whole counts over all 299 questions
# (41/299 = 0.137), so questions without a gold article count as misses, as ours do. They
# hold for that question set only (``baselines_for``).
DEV_YEAR = "2022"  # the dev weeks' year: benchmarked here, never trained on (train/weeks.py)
DEV_QUESTIONS = 299
BASELINES = {
    "dense": {"hit@1": 0.137, "hit@5": 0.214, "hit@10": 0.251, "choice@5": 0.512},
    "bm25": {"hit@1": 0.117, "hit@5": 0.214, "hit@10": 0.254, "choice@5": 0.552},
    "rrf": {"hit@1": 0.137, "hit@5": 0.234, "hit@10": 0.271, "choice@5": 0.555},
}
DEFINITIONS = {
    "ranking": "chunks, best first; a chunk's doc id is its article URL. dense = Chroma cosine, "
               "bm25 = the keyword index, rrf = Retriever.fuse of the two (reciprocal-rank fusion, "
               "1/(rrf_k+rank)), fused = Retriever.search as ask uses it (RRF + at most 2 "
               "chunks per story cluster in the top); each mode keeps `candidates` chunks",
    "hit@k": "1 if a gold URL is the doc id of one of the first k chunks; mean over ALL "
             "questions (no gold article = miss, like the baselines) and over questions with one",
    "mrr": "mean of 1/rank of the first chunk from a gold URL (0 if none in the ranking)",
    "choice@5": "the correct choice (normalised, whole tokens) occurs in one of the first 5 chunks",
    "choice@10": "the same in the first 10 chunks: about as much text as the baselines' 5 chunks "
                 "of 1,000 characters when our chunks are ~500",
    "choice@8 / choice@40": "the same in the first 8 chunks (top_k: what ask answers from) and "
                            "in all 40 (candidates: what a better ranking could bring up)",
    "answer_contains": "the correct choice occurs in the answer text (0 when abstaining)",
    "answer_contains_wrong": "some wrong choice occurs in the answer text",
    "retrieved_contain": "it occurs in one of the top_k passages ask retrieved (the answerer's "
                         "input): retrieved but not cited = the answerer chose another sentence",
    "cited_quote_contains": "the correct choice occurs in a cited sentence (quote)",
    "citation_contains": "it occurs in a cited quote or a cited passage",
    "cited_passages_contain": "it occurs in the text of a cited passage (the key metric)",
    "gold_cited": "a gold URL is among the cited doc ids (questions with a gold article)",
    "abstained": "share of questions answered with the abstention text",
    "where the points go": "each question in one group: correct (the answer holds the correct "
                           "choice); wrong sentence (a retrieved passage holds it, the answer "
                           "does not: of these, 'in a cited passage' quoted the right passage's "
                           "wrong sentence); needless abstention (abstained though a retrieved "
                           "passage holds it); retrieval miss (no retrieved passage holds it: "
                           "of these, 'in no stored passage' could not be found by any "
                           "retriever, because no passage of the store holds the choice)",
    "cut mid-name": "a cited quote ends at a title or an initial (\"Gov.\", \"J.\"): the "
                    "sentence splitter cut a name",
}
# Titles and initials that end a sentence only when it was split inside a name ("… invite
# Florida Gov." + "Ron DeSantis …"); also what train/punkt.py counts in whole articles.
CUT_INSIDE_NAME = re.compile(r"(?:^|\s)(?:Mr|Mrs|Ms|Dr|St|Gen|Gov|Sen|Rep|Prof|Lt|Col|Capt|Sgt|"
                             r"Adm|Rev|Maj|Cmdr|Cpl|Brig|Atty|Supt|Pres|[A-Z])\.[\"”’)]*$")


@dataclass(frozen=True)
class Question:
    """One RealTime QA question with its correct choice and gold article URLs."""

    id: str
    text: str
    choices: tuple[str, ...]
    correct: str
    gold: frozenset[str]


def load_weeks(folder: Path) -> tuple[list[Question], list[Path]]:
    """Questions of every week in ``folder`` and the article files (gold + gcs) to index."""
    qa_files = sorted(folder.glob("*_qa.jsonl"))
    if not qa_files:
        from assistant.kernel.errors import AssistantError

        raise AssistantError(
            f"no *_qa.jsonl files in {folder} — point --data at a folder of RealTime QA weeks")
    gold: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*_gold.jsonl")):
        for rec in _jsonl(path):
            found = rec.get("search_result") or []
            urls = {r["url"] for r in found if (r.get("text") or "").strip()}  # indexed ones only
            gold.setdefault(rec["question_id"], set()).update(urls)
    questions = []
    for path in qa_files:
        for rec in _jsonl(path):
            choices = tuple(rec["choices"])
            questions.append(Question(rec["question_id"], rec["question_sentence"], choices,
                                      choices[int(rec["answer"][0])],
                                      frozenset(gold.get(rec["question_id"], ()))))
    # name order, as `assistant index DIR` walks the folder: when two copies of a URL are
    # equally long the reader keeps the first, so another order would flip those articles
    articles = sorted([*folder.glob("*_gold.jsonl"), *folder.glob("*_gcs.jsonl")])
    return questions, articles


def _jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


class Modes:
    """The chunk ranking of each of ``MODES`` for one question, from the assistant's read path
    (``Assistant.retriever``): its two rankings before fusion, their fusion, and ``search``,
    the ranking ``ask`` uses. It only reads."""

    def __init__(self, assistant: Any) -> None:
        self.retriever = assistant.retriever
        self.texts = dict(self.retriever.manifest.all_chunk_texts())
        # every passage normalised once, so "is the answer anywhere in the store" is one search
        self.store_text = " | ".join(f" {normalize_answer(t)} " for t in self.texts.values())

    def rank(self, question: str) -> dict[str, list[str]]:
        """Chunk ids, best first, for each of ``MODES``."""
        found = self.retriever.rankings(question)
        search = self.retriever.search(question, k=self.retriever.settings.candidates)
        return {"dense": [c for c, _ in found.dense], "bm25": [c for c, _ in found.keyword],
                "rrf": [c for c, _ in self.retriever.fuse(found)],
                "fused": [p.chunk_id for p in search]}


def score_question(q: Question, answer: Any, ranks: dict[str, list[str]],
                   texts: dict[str, str], store_text: str = "") -> dict[str, Any]:
    """Every per-question metric (see ``DEFINITIONS``) as one flat row (``store_text``: every
    stored passage normalised, ``Modes.store_text``)."""
    def has(text: str) -> bool:
        return bool(contains_match(text, [q.correct]))

    row: dict[str, Any] = {"id": q.id, "question": q.text, "correct": q.correct,
                           "has_gold": bool(q.gold), "abstained": answer.abstained,
                           "seconds": answer.seconds, "answer": answer.text}
    for mode, chunks in ranks.items():
        docs = [c.rsplit("::", 1)[0] for c in chunks]
        for k in (1, 5, 10):
            row[f"{mode}.hit@{k}"] = hit_at_k(docs, q.gold, k) if q.gold else 0.0
        row[f"{mode}.mrr"] = reciprocal_rank(docs, q.gold) if q.gold else 0.0
        for k in CHOICE_AT:
            row[f"{mode}.choice@{k}"] = float(any(has(texts.get(c, "")) for c in chunks[:k]))
    cites = [q for c in answer.citations for q in c.quotes]  # every quoted sentence
    wrong = [c for c in q.choices if c != q.correct]
    row.update({
        "answer_contains": float(not answer.abstained and has(answer.text)),
        "answer_contains_wrong": float(not answer.abstained
                                       and bool(contains_match(answer.text, wrong))),
        "retrieved_contain": float(any(has(p.text) for p in answer.retrieved)),
        "cited_quote_contains": float(any(has(c.quote) for c in cites)),
        "citation_contains": float(any(has(c.quote) or has(c.passage) for c in cites)),
        "cited_passages_contain": float(any(has(c.passage) for c in cites)),
        "gold_cited": float(any(c.doc_id in q.gold for c in cites)),
        "ask_is_fused_prefix": [p.chunk_id for p in answer.retrieved]
        == ranks["fused"][: len(answer.retrieved)],
        "cited": [c.doc_id for c in answer.citations],
        "cut_mid_name": float(any(CUT_INSIDE_NAME.search(c.quote) for c in cites)),
        "in_store": float(bool(norm := normalize_answer(q.correct)) and f" {norm} " in store_text),
    })
    row["group"] = group(row)
    return row


GROUPS = ("correct", "wrong sentence", "needless abstention", "retrieval miss")


def group(row: dict[str, Any]) -> str:
    """Where a question's point went (``DEFINITIONS['where the points go']``)."""
    if row["answer_contains"]:
        return "correct"
    if not row["retrieved_contain"]:
        return "retrieval miss"
    return "needless abstention" if row["abstained"] else "wrong sentence"


def losses(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Shares of all questions per group, with the sub-shares the issue tracks."""
    n = len(rows) or 1
    out = {g: round(sum(r["group"] == g for r in rows) / n, 4) for g in GROUPS}
    out["wrong sentence, in a cited passage"] = round(sum(
        r["group"] == "wrong sentence" and bool(r["cited_passages_contain"]) for r in rows) / n, 4)
    out["retrieval miss, abstained"] = round(sum(
        r["group"] == "retrieval miss" and bool(r["abstained"]) for r in rows) / n, 4)
    out["retrieval miss, in no stored passage"] = round(sum(
        r["group"] == "retrieval miss" and not r.get("in_store", 1.0) for r in rows) / n, 4)
    answered = [r for r in rows if not r["abstained"]]
    out["cut mid-name (of answers)"] = round(
        sum(r["cut_mid_name"] for r in answered) / (len(answered) or 1), 4)
    return out


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Means over all questions (and over those with a gold article for URL metrics)."""
    def mean(key: str, only_gold: bool = False) -> float:
        vals = [float(r[key]) for r in rows if r["has_gold"] or not only_gold]
        return round(sum(vals) / len(vals), 4) if vals else 0.0

    modes = {m: {**{f"hit@{k}": mean(f"{m}.hit@{k}") for k in (1, 5, 10)},
                 "mrr": mean(f"{m}.mrr"),
                 **{f"choice@{k}": mean(f"{m}.choice@{k}") for k in CHOICE_AT},
                 "gold_only": {f"hit@{k}": mean(f"{m}.hit@{k}", True) for k in (1, 5, 10)}
                 | {"mrr": mean(f"{m}.mrr", True)}} for m in MODES}
    secs = [r["seconds"] for r in rows]
    answers = {k: mean(k) for k in ANSWER_METRICS}
    answers["gold_cited"] = mean("gold_cited", True)
    return {"questions": len(rows), "with_gold": sum(r["has_gold"] for r in rows),
            "modes": modes, "answers": answers,
            "ask_is_fused_prefix": mean("ask_is_fused_prefix"), "losses": losses(rows),
            "latency": {f"p{p}": round(percentile(secs, p), 4) for p in (50, 95)}}


def baselines_for(questions: Sequence[Question]) -> dict[str, dict[str, float]]:
    """``BASELINES`` when ``questions`` are the whole dev set (the 299 questions of the 2022
    weeks) and nothing otherwise: other weeks, or part of dev, are not what they measured."""
    dev = len(questions) == DEV_QUESTIONS and all(q.id.startswith(DEV_YEAR) for q in questions)
    return BASELINES if dev else {}


def published_baselines(data: Path, questions: Sequence[Question]) -> dict[str, dict[str, float]]:
    """The benchmark authors' own generations for the same questions (``dev-baselines/`` beside
    the weeks: GPT-3 175B and RAG, both given the same search results), scored like our
    answers: the correct choice contained in the prediction."""
    folder = Path(data).parent / "dev-baselines"
    out: dict[str, dict[str, float]] = {}
    for name in ("gpt3", "rag"):
        predictions: dict[str, str] = {}
        for path in sorted(folder.glob(f"*_{name}_gcs_gen.jsonl")):
            predictions.update({r["question_id"]: str(r.get("prediction") or "")
                                for r in _jsonl(path)})
        scored = [float(bool(contains_match(predictions[q.id], [q.correct])))
                  for q in questions if q.id in predictions]
        wrong = [float(bool(contains_match(predictions[q.id], [c for c in q.choices if c != q.correct])))
                 for q in questions if q.id in predictions]
        if scored:
            out[name] = {"answer_contains": round(sum(scored) / len(scored), 4),
                         "answer_contains_wrong": round(sum(wrong) / len(wrong), 4),
                         "questions": len(scored)}
    return out


def realtimeqa(args: argparse.Namespace, model: Any = None) -> int:
    """Index the weeks in ``args.data``, ask every question, write JSON + Markdown to ``args.out``.

    The store is ``args.store_dir`` (the global ``--store-dir``) or ``OUT/realtimeqa-store``;
    indexing is incremental, so a second run only asks. ``model`` shares a loaded embedder.
    """
    from assistant import Assistant
    from index import progress

    data, out = Path(args.data), Path(args.out)
    questions, files = load_weeks(data)
    questions = questions[: args.limit] if args.limit else questions
    store = Path(args.store_dir) if getattr(args, "store_dir", None) else out / "realtimeqa-store"
    overrides: dict[str, Any] = {"store_dir": store}
    if getattr(args, "embedder", None):
        overrides["embedder"] = args.embedder
    assistant = Assistant(model=model, **overrides)
    report = assistant.index(files, keep_missing=True, progress=progress.progress_bar())
    print(progress.index_report(report), file=sys.stderr)
    modes = Modes(assistant)
    rows = []
    for i, q in enumerate(questions, 1):
        rows.append(score_question(q, assistant.ask(q.text), modes.rank(q.text), modes.texts,
                                   modes.store_text))
        if i % 25 == 0 or i == len(questions):
            print(f"  asked {i}/{len(questions)}", file=sys.stderr)
    status = assistant.status()
    result = {"data": str(data.resolve()), "store": str(store.resolve()),
              "corpus": {"articles": status.articles, "chunks": status.chunks,
                         "clusters": status.clusters},
              "settings": {k: getattr(assistant.settings, k) for k in
                           ("chunk_chars", "top_k", "candidates", "rrf_k", "embedder",
                            "answerer", "abstain_threshold", "reranker", "rerank_depth",
                            "rerank_weight", "support_judge")},
              "summary": summarise(rows), "baselines": baselines_for(questions), "definitions": DEFINITIONS,
              "published": published_baselines(data, questions),
              "items": rows}
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, ensure_ascii=False, default=str)
    (out / "realtimeqa.json").write_text(text, encoding="utf-8")
    (out / "realtimeqa.md").write_text(markdown(result), encoding="utf-8")
    print(f"wrote {out / 'realtimeqa.json'} and {out / 'realtimeqa.md'}", file=sys.stderr)
    assistant.close()
    return 0


def markdown(result: dict[str, Any]) -> str:
    """The report a person reads: modes beside the baselines, answer metrics, examples."""
    s, cfg = result["summary"], result["settings"]
    issue = result.get("baselines") or {}
    base = lambda m, k: f"{issue[m][k]:.3f}" if m in issue else "-"  # noqa: E731
    lines = [
        "# RealTime QA benchmark", "",
        f"Data: `{result['data']}` — {s['questions']} questions, {s['with_gold']} with a gold "
        f"article. Index: `{result['store']}` — {result['corpus']['articles']} articles, "
        f"{result['corpus']['chunks']} chunks, {result['corpus']['clusters']} story clusters.",
        "Settings: " + ", ".join(f"{k}={v}" for k, v in cfg.items()) + ".", "",
        f"## Retrieval (all {s['questions']} questions; baselines: 1,000-char chunks, no cleaning)",
        "", "| mode | hit@1 | hit@5 | hit@10 | MRR | " + " | ".join(f"choice@{k}" for k in CHOICE_AT)
        + " | baseline hit@1/5/10 | baseline choice@5 |", "|" + "---|" * (7 + len(CHOICE_AT))]
    for m in MODES:
        v = s["modes"][m]
        cells = [f"{v[k]:.3f}" for k in ("hit@1", "hit@5", "hit@10", "mrr",
                                          *(f"choice@{k}" for k in CHOICE_AT))]
        cells += ["/".join(base(m, f"hit@{k}") for k in (1, 5, 10)), base(m, "choice@5")]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", f"Over the {s['with_gold']} questions with a gold article:", "",
              "| mode | hit@1 | hit@5 | hit@10 | MRR |", "|---|---|---|---|---|"]
    for m in MODES:
        g = s["modes"][m]["gold_only"]
        lines.append(f"| {m} | " + " | ".join(f"{g[k]:.3f}" for k in g) + " |")
    lines += ["", f"`ask`'s retrieved passages equal the fused ranking's prefix for "
              f"{s['ask_is_fused_prefix']:.0%} of questions.", "", "## Answers", "",
              "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in s["answers"].items()]
    lines += ["", "Where the points go (shares of all questions):", "", "| group | share |",
              "|---|---|"]
    lines += [f"| {k} | {v:.3f} |" for k, v in s.get("losses", {}).items()]
    if result.get("published"):
        lines += ["", "The benchmark's own generations for the same questions, scored the same way "
                  "(`dev-baselines/`, given the same search results):", "",
                  "| system | correct choice in the answer | a wrong choice in it | questions |",
                  "|---|---|---|---|",
                  f"| this assistant ({cfg['answerer']}, reranker {cfg.get('reranker', 'off')}) | "
                  f"{s['answers']['answer_contains']:.3f} | {s['answers']['answer_contains_wrong']:.3f} "
                  f"| {s['questions']} |"]
        names = {"gpt3": "GPT-3 175B + search (published)", "rag": "RAG + search (published)"}
        for key, v in result["published"].items():
            lines.append(f"| {names.get(key, key)} | {v['answer_contains']:.3f} | "
                         f"{v['answer_contains_wrong']:.3f} | {v['questions']} |")
    lines += ["", f"Latency of `ask` (warm): p50 {s['latency']['p50']:.3f} s, "
              f"p95 {s['latency']['p95']:.3f} s.", "", "## Definitions", ""]
    lines += [f"- **{k}**: {v}" for k, v in result["definitions"].items()]
    groups = (("Retrieved but not cited: the top passages held the correct choice",
               lambda r: r["retrieved_contain"] and not r["cited_passages_contain"]),
              ("Not retrieved: no top passage held the correct choice",
               lambda r: not r["retrieved_contain"]),
              ("Hits: a cited passage holds the correct choice",
               lambda r: r["cited_passages_contain"]))
    for title, keep in groups:
        chosen = [r for r in result["items"] if keep(r)]
        lines += ["", f"## {title} ({len(chosen)}; first 6)", ""]
        for r in chosen[:6]:
            text = " ".join(r["answer"].split())
            lines.append(f"- `{r['id']}` {r['question']} — correct: **{r['correct']}**; "
                         f"answer: {text[:300]}{'…' if len(text) > 300 else ''}")
    return "\n".join(lines) + "\n"
