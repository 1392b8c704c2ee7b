"""Train a query adapter: a linear map that moves a question's vector toward the passages that
answer it, learned from the training weeks' questions (the 2022 dev weeks are never read).

    .venv/bin/python -m train.query_adapter --data ../shared/benchmarks/realtimeqa/train

**Measured, not shipped** (issue #24, lever 4). On the held-out weeks' pools it never ranked
better than no adapter: choice@8 0.44 without, 0.38-0.44 with, choice@40 0.53 without,
0.50-0.54 with, over the recipe below (30 epochs) and three gentler ones (learning rate 1e-4
to 5e-4, weight decay up to 5, 6 epochs), while the training loss fell from 1.7 to 0.03: a
map fitted on 1,093 questions learns their stories, not how questions ask. The
assistant has no hook for it; the script stays as the measurement for the next attempt
(more and other pairs, e.g. cross-article ones: ``train/cloze_data.py``), and writes to
``train/out/query_adapter/`` only.

A news quiz question ("X was chosen as the new leader. Who does X replace?") embeds close to
every passage that retells its premise; the passage with the missing fact is often further
away. The adapter is ``q' = normalise(q + q @ W)``, with ``W`` (384 x 384) starting at zero,
so it starts as the identity and stays near it (weight decay pulls ``W`` back). Only the
question's vector changes: the stored passage vectors are untouched, so nothing re-embeds.

1. Examples: each question of a training week with its search results' chunks, as cut by the
   indexer. A positive chunk states the correct choice and shares a word with the question;
   a negative states no choice-distinctive word of the correct one; the rest are left out.
2. Vectors: every question and chunk embedded once by the assistant's default embedder (int8
   ONNX MiniLM), cached in ``--work`` (~55k texts: 15-60 minutes on 2 cores, by the load).
3. Training: a softmax over each question's own chunks (its positives against its negatives)
   plus the other questions' positives in the batch, temperature ``TAU``; AdamW, a fixed seed.
4. Validation, each epoch, on the last ``VALIDATION_POOLS`` of the ``VALIDATION_WEEKS`` held
   out of training (100 questions): every chunk of a week's search results is one pool, as a
   week's store is; choice@8 and choice@40 are the shares of questions whose correct choice
   (whole tokens, as the benchmark scores it) is in the first 8 / 40 chunks of the dense
   ranking. The epoch with the best choice@40 + choice@8
   is written with its curve to ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.kernel.text import content_words
from eval.metrics import contains_match
from train.rerank_data import _distinctive, _question_words, states
from train.weeks import Doc, Question, cached, weeks

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "train" / "out" / "query_adapter"
VALIDATION_WEEKS = 8  # as train.fit: the last training weeks, held out of training
VALIDATION_POOLS = 4  # of those, the last weeks whose every chunk is embedded (~4.8k each)
TAU = 0.05  # softmax temperature over cosines
HARD, EASY = 16, 8  # negatives per question from its own search results (see ``examples``)
RECIPE = {"epochs": 30, "lr": 2e-3, "weight_decay": 1e-3, "batch": 32}


@dataclass(frozen=True)
class Example:
    query: str
    positives: tuple[str, ...]
    negatives: tuple[str, ...]


def examples(questions: list[Question], docs: dict[str, Doc], seed: int = 13) -> list[Example]:
    """One example per question with at least one positive and one negative chunk. The
    negatives are the ``HARD`` sharing the most question words (the premise retold) and
    ``EASY`` others at random: embedding every chunk of every search result would take hours."""
    rng = random.Random(seed)
    out = []
    for q in questions:
        asked, hint = _question_words(q), _distinctive(q, q.answer)
        pos: dict[str, None] = {}
        neg: dict[str, int] = {}
        for url in dict.fromkeys(q.urls):
            for chunk in docs[url].chunks if url in docs else ():
                words = content_words(chunk)
                if states(chunk, q.correct):
                    if words & asked:
                        pos[chunk] = None
                elif not words & hint:
                    neg[chunk] = len(words & asked)
        if pos and neg:
            ranked = list(neg)
            rng.shuffle(ranked)  # equal overlaps in random order
            ranked.sort(key=lambda c: -neg[c])
            rest = ranked[HARD:]
            chosen = ranked[:HARD] + rng.sample(rest, min(EASY, len(rest)))
            out.append(Example(q.question, tuple(pos), tuple(chosen)))
    return out


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def embed_all(texts: list[str], work: Path) -> dict[str, np.ndarray]:
    """Vectors of ``texts`` by the default embedder, cached in ``work`` by text hash."""
    from assistant.kernel.settings import Settings
    from assistant.storage.embedding import make_embedder

    cache = work / "adapter-vectors.npz"
    have: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as z:
            have = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    todo = list(dict.fromkeys(t for t in texts if _key(t) not in have))
    if todo:
        embedder = make_embedder(Settings())
        started = time.time()
        for i in range(0, len(todo), 2000):  # cached as it goes: a stopped run keeps its work
            part = todo[i : i + 2000]
            have.update(zip((_key(t) for t in part), embedder.embed(part), strict=True))
            np.savez(cache, keys=np.array(list(have)), vectors=np.stack(list(have.values())))
            print(f"  embedded {i + len(part):,}/{len(todo):,} ({time.time() - started:.0f} s)",
                  flush=True)
    return {t: have[_key(t)] for t in texts}


def adapt(q: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``q + q @ w`` back at unit length: the adapted question (rows of ``q`` are unit vectors)."""
    out = q + q @ w
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def choice_at(questions: list[Question], docs: dict[str, Doc], vec: dict[str, np.ndarray],
              w: np.ndarray | None, ks: tuple[int, ...] = (8, 40)) -> dict[str, float]:
    """Dense-only choice@k with each week's chunks as one pool (see the module docstring)."""
    hits = {k: 0 for k in ks}
    by_week: dict[str, list[Question]] = {}
    for q in questions:
        by_week.setdefault(q.week, []).append(q)
    for qs in by_week.values():
        pool = list(dict.fromkeys(c for q in qs for u in q.urls if u in docs for c in docs[u].chunks))
        matrix = np.stack([vec[c] for c in pool])
        queries = np.stack([vec[q.question] for q in qs])
        if w is not None:
            queries = adapt(queries, w)
        order = np.argsort(-(queries @ matrix.T), axis=1)[:, : max(ks)]
        for q, row in zip(qs, order, strict=True):
            found = [bool(contains_match(pool[i], [q.correct])) for i in row]
            for k in ks:
                hits[k] += any(found[:k])
    return {f"choice@{k}": round(hits[k] / max(1, len(questions)), 4) for k in ks}


def fit(train: list[Example], vec: dict[str, np.ndarray], val: Any, epochs: int, lr: float,
        weight_decay: float, batch: int, seed: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The adapter's ``W`` of the best validation epoch, and the curve (``val(W)`` → metrics)."""
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    dim = next(iter(vec.values())).shape[0]
    w = torch.zeros(dim, dim, requires_grad=True)
    opt = torch.optim.AdamW([w], lr=lr, weight_decay=weight_decay)
    as_t = lambda texts: torch.from_numpy(np.stack([vec[t] for t in texts]).astype(np.float32))  # noqa: E731
    curve = [{"epoch": 0, **val(None)}]
    best, best_w = curve[0]["choice@8"] + curve[0]["choice@40"], np.zeros((dim, dim), np.float32)
    print(f"  epoch 0 (no adapter): {curve[0]}", flush=True)
    for epoch in range(1, epochs + 1):
        order = list(range(len(train)))
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), batch):
            part = [train[i] for i in order[start : start + batch]]
            q = as_t([e.query for e in part])
            q = q + q @ w
            q = q / q.norm(dim=1, keepdim=True)
            shared = as_t([e.positives[0] for e in part])  # the other questions' positives
            loss = torch.zeros(())
            for i, e in enumerate(part):
                own = as_t(list(e.positives) + list(e.negatives))
                others = torch.cat([shared[:i], shared[i + 1 :]])
                logits = torch.cat([own, others]) @ q[i] / TAU
                npos = len(e.positives)
                loss = loss + torch.logsumexp(logits, 0) - torch.logsumexp(logits[:npos], 0)
            loss = loss / len(part)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(part)
        now = w.detach().numpy().copy()
        row = {"epoch": epoch, "loss": round(total / len(train), 4), **val(now)}
        curve.append(row)
        print(f"  epoch {epoch}: {row}", flush=True)
        if row["choice@8"] + row["choice@40"] > best:
            best, best_w = row["choice@8"] + row["choice@40"], now
    return best_w, curve


def export(w: np.ndarray, metrics: dict[str, Any], out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "adapter.npy", w.astype(np.float32))
    (out / "train_metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/benchmarks/realtimeqa/train")
    p.add_argument("--work", type=Path, default=ROOT / "train" / "out")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--seed", type=int, default=13)
    for k, v in RECIPE.items():
        p.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    a = p.parse_args()
    started = time.time()
    stamps = weeks(a.data)
    qs, docs = cached(a.data, stamps, a.work)
    held = set(stamps[-VALIDATION_WEEKS:])
    train_qs = [q for q in qs if q.week not in held]
    pools = set(stamps[-VALIDATION_POOLS:])
    val_qs = [q for q in qs if q.week in pools and any(u in docs for u in q.urls)]
    train = examples(train_qs, docs)
    val_texts = [q.question for q in val_qs] + [c for q in val_qs for u in q.urls if u in docs
                                                 for c in docs[u].chunks]
    train_texts = [t for e in train for t in (e.query, *e.positives, *e.negatives)]
    print(f"{len(train)} training questions, {len(val_qs)} validation questions; "
          f"embedding {len(set(train_texts + val_texts)):,} texts", flush=True)
    vec = embed_all(train_texts + val_texts, a.work)
    w, curve = fit(train, vec, lambda w: choice_at(val_qs, docs, vec, w), a.epochs, a.lr,
                   a.weight_decay, a.batch, a.seed)
    best = max(curve, key=lambda r: r["choice@8"] + r["choice@40"])
    metrics = {"recipe": {**RECIPE, **{k: getattr(a, k) for k in RECIPE}, "tau": TAU,
                          "hard_negatives": HARD, "easy_negatives": EASY, "seed": a.seed},
               "training_questions": len(train), "validation_questions": len(val_qs),
               "held_out_weeks": sorted(held), "validation_weeks": sorted(pools),
               "chosen_epoch": best["epoch"],
               "validation": {"without": curve[0], "with": best}, "curve": curve,
               "minutes": round((time.time() - started) / 60, 1)}
    export(w, metrics, a.out)
    print(f"wrote {a.out}: epoch {best['epoch']} {best} (without: {curve[0]})")


if __name__ == "__main__":
    main()
