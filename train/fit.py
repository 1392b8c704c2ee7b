"""Fine-tune a cross-encoder from the packaged all-MiniLM-L6-v2 weights and export it as int8 ONNX.

``python -m train.fit reranker|judge --data ../shared/benchmarks/realtimeqa/train``
1. makes the labelled rows from the training weeks — judge pairs (``train.judge_data``),
   reranker groups of one positive and seven negatives (``train.rerank_data``) — keeping the
   last weeks apart as a validation split (the 2022 dev weeks are never read);
2. trains a BERT cross-encoder with one logit, fixed seed, with a checkpoint every
   ``--save-every`` steps that a rerun resumes from: binary cross-entropy for the learned judge;
   for the reranker a softmax over each group (the positive first) plus half the binary loss
   (and with ``--span`` a head pointing at the answer in the text, ``train.span``);
3. exports it to ONNX, quantises the weights to int8 and writes it with its tokenizer and the
   validation metrics to ``assistant/models/<name>/``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import random
import time
from pathlib import Path
from typing import Any

import numpy as np

from train.rerank_data import RESTATING

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = ROOT / "train" / "checkpoints"  # one resumable file per model, kept in the repo
# Cross-article cloze groups added to the reranker's training, per quiz group. At 1 (v3, 0.6
# epochs) validation fell from 0.51 to 0.27 of sentence groups ranked right: not by default.
CLOZE_SHARE = 0.0
VALIDATION_WEEKS = 8  # the last training weeks, held out for validation curves
MAX_LEN = {"reranker": 160, "judge": 160}  # tokens; training cost grows with them (2 CPU cores)
# What the shipped models were trained with on 2 cores: the learned judge (v2) 86 minutes in two
# runs (~3.5 s a step); the reranker 84 minutes in two runs (1.3-3 s a step), stopped at step
# 1,854 of 2,192.
# The reranker's span loss with --span (train.span), beside the listwise and pointwise losses'
# 1 and 0.5. v6 (0.5) ranked as many validation sentence groups first as v2 and answered fewer
# questions of the last 8 training weeks: not the default (the reranker's model card).
SPAN_WEIGHT = 0.5
RECIPE = {"judge": {"epochs": 0.35, "lr": 5e-5}, "reranker": {"epochs": 2.0, "lr": 5e-5}}


def _pairs(name: str, data: Path, work: Path, cloze_share: float = CLOZE_SHARE,
           restating: int = RESTATING, titled: bool = False,
           outlets: bool = False) -> tuple[list[Any], list[Any]]:
    """(train, validation) rows, cached in ``work`` (building them reads ~15k articles) under
    a name that holds the recipe, so a run never reads another recipe's rows.
    Judge rows are pairs (passage, claim, label, kind); reranker rows are groups (query, texts,
    kinds, unit, correct choice)."""
    work.mkdir(parents=True, exist_ok=True)
    rows = "groups" if name == "reranker" else "pairs"  # reranker groups carry their choice since v6
    cache = work / f"{name}-{rows}{_recipe(cloze_share, restating, titled, outlets)}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())  # type: ignore[no-any-return]
    from train import cloze_data, judge_data, rerank_data
    from train.weeks import cached, weeks

    stamps = weeks(data)
    qs, docs = cached(data, stamps, work)
    held = set(stamps[-VALIDATION_WEEKS:])
    split = ([q for q in qs if q.week not in held], [q for q in qs if q.week in held])
    out = []
    for part in split:
        urls = {u for q in part for u in q.urls}
        part_docs = {u: d for u, d in docs.items() if u in urls}
        if name == "reranker":  # groups: (query, texts, kinds, unit), texts[0] the positive
            found = rerank_data.build(part, part_docs, restating=restating, titled=titled)
            if part is split[0] and cloze_share:  # validation stays quiz questions only
                cloze = cloze_data.build(part, part_docs)
                random.Random(13).shuffle(cloze)  # from every week, not the first ones
                found += cloze[: int(cloze_share * len(found))]
            out.append([(g.query, g.texts, g.kinds, g.unit, g.answer) for g in found])
        else:
            pairs = judge_data.build(part, part_docs, outlets=outlets)
            out.append([(p.passage, p.claim, p.label, p.kind) for p in pairs])
    cache.write_bytes(pickle.dumps(tuple(out)))
    return out[0], out[1]


def _recipe(cloze_share: float, restating: int, titled: bool, outlets: bool = False,
            span: bool = False) -> str:
    """The part of a cache or checkpoint name that tells one recipe from another (``span``
    changes how a model learns, not its rows: only checkpoints are named by it)."""
    return ((f"-restating{restating}" if restating else "")
            + (f"-cloze{cloze_share:g}" if cloze_share else "") + ("-titled" if titled else "")
            + ("-outlets" if outlets else "") + ("-span" if span else ""))


def _batches(rows: list[Any], size: int, rng: random.Random) -> list[list[Any]]:
    order = list(range(len(rows)))
    rng.shuffle(order)
    return [[rows[i] for i in order[k : k + size]] for k in range(0, len(order), size)]


def _group_batches(groups: list[Any], pairs: int, rng: random.Random) -> list[list[Any]]:
    """Batches of whole groups, ``pairs`` texts each; sentence and chunk groups apart, so a
    batch of short sentences is not padded to the length of a chunk."""
    per = max(1, pairs // len(groups[0][1]))
    out: list[list[Any]] = []
    for unit in sorted({g[3] for g in groups}):
        out += _batches([g for g in groups if g[3] == unit], per, rng)
    rng.shuffle(out)
    return out


def _flatten(groups: list[Any]) -> list[Any]:
    """Groups as (query, text, label, kind, correct choice) pairs, the positive of each group
    first."""
    return [(g[0], t, float(i == 0), f"{g[3]}:{k}", g[4])
            for g in groups for i, (t, k) in enumerate(zip(g[1], g[2], strict=True))]


def _encode(tok: Any, batch: list[Any], max_len: int, offsets: bool = False) -> dict[str, Any]:
    import torch

    # longest_first, as the query path's tokenizer: the longer text (the passage) loses tokens
    enc = tok([r[0] for r in batch], [r[1] for r in batch], truncation="longest_first",
              max_length=max_len, padding=True, return_tensors="pt",
              return_offsets_mapping=offsets)
    enc["labels"] = torch.tensor([r[2] for r in batch], dtype=torch.float32)
    return enc


def _logits(model: Any, enc: dict[str, Any]) -> Any:
    """The pairs' logits, from a cross-encoder or a ``train.span.SpanReader``."""
    out = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
    return (out[0] if isinstance(out, tuple) else out.logits)[:, 0]


def evaluate(model: Any, tok: Any, rows: list[Any], max_len: int,
             scores_out: list[float] | None = None, batch: int = 64) -> dict[str, Any]:
    """Accuracy at 0.5, ROC AUC and per-kind accuracy on ``rows`` (the probabilities are
    appended to ``scores_out`` when given)."""
    import torch

    model.eval()
    scores: list[float] = []
    with torch.no_grad():
        for k in range(0, len(rows), batch):
            part = rows[k : k + batch]
            enc = _encode(tok, part, max_len)
            enc.pop("labels")
            scores += torch.sigmoid(_logits(model, enc)).tolist()
    model.train()
    if scores_out is not None:
        scores_out += scores
    labels = np.array([r[2] for r in rows])
    probs = np.array(scores)
    by_kind: dict[str, list[bool]] = {}
    for r, p in zip(rows, probs, strict=True):
        by_kind.setdefault(r[3], []).append((p >= 0.5) == (r[2] >= 0.5))
    return {"n": len(rows), "accuracy": float(((probs >= 0.5) == (labels >= 0.5)).mean()),
            "auc": _auc(labels, probs),
            "by_kind": {k: round(float(np.mean(v)), 3) for k, v in sorted(by_kind.items())}}


def evaluate_groups(model: Any, tok: Any, groups: list[Any], max_len: int) -> dict[str, Any]:
    """How often the positive of a group ranks first (top1), its mean reciprocal rank, and
    the pair metrics of :func:`evaluate` over the flattened groups."""
    scores_out: list[float] = []
    metrics = evaluate(model, tok, _flatten(groups), max_len, scores_out)
    size = len(groups[0][1])
    ranks: dict[str, list[int]] = {"sentence": [], "chunk": []}
    for g, k in zip(groups, range(0, len(scores_out), size), strict=True):
        part = scores_out[k : k + size]
        ranks[g[3]].append(1 + sum(s > part[0] for s in part[1:]))
    for unit, rs in ranks.items():
        if rs:
            metrics[f"{unit}_top1"] = round(float(np.mean([r == 1 for r in rs])), 3)
            metrics[f"{unit}_mrr"] = round(float(np.mean([1 / r for r in rs])), 3)
    return metrics


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    pos, neg = scores[labels >= 0.5], scores[labels < 0.5]
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def train(name: str, data: Path, work: Path, epochs: float, batch: int, lr: float,
          save_every: int, seed: int, limit_minutes: float, cloze_share: float = CLOZE_SHARE,
          restating: int = RESTATING, titled: bool = False, out: Path | None = None,
          outlets: bool = False, span: bool = False) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from assistant.storage.embedding import model_dir

    torch.manual_seed(seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    work.mkdir(parents=True, exist_ok=True)
    rows, val = _pairs(name, data, work, cloze_share, restating, titled, outlets)
    rng = random.Random(seed)
    grouped = name == "reranker"
    val = rng.sample(val, min(600 if grouped else 3000, len(val)))
    max_len = MAX_LEN[name]
    tok = AutoTokenizer.from_pretrained(str(model_dir()))
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir()), num_labels=1)
    # The word embeddings (30k x 384) stay as MiniLM learned them: updating them costs more
    # than the rest of a step on a CPU and a few thousand pairs cannot improve them.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    if span:  # a start/end head beside the logit (train.span); only the logit is exported
        from train import span as spans

        model = spans.SpanReader(model)
    epoch_batches: list[list[Any]] = []
    for e in range(math.ceil(epochs)):
        shuffle = random.Random(seed + e)
        epoch_batches += _group_batches(rows, batch, shuffle) if grouped else _batches(rows, batch, shuffle)
    total = int(len(epoch_batches) / math.ceil(epochs) * epochs)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                            weight_decay=0.01)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    ckpt = CHECKPOINTS / f"{name}{_recipe(cloze_share, restating, titled, outlets, span)}.pt"
    step, earlier = 0, 0.0  # minutes spent by the runs this one resumes
    if ckpt.exists():  # resume
        state = torch.load(ckpt, weights_only=False)
        if state.get("total") != total:
            raise SystemExit(f"{ckpt} was saved by a run of {state.get('total')} steps, this one "
                             f"has {total}: delete it to start over, or rerun with the same data")
        model.load_state_dict({k: v.float() for k, v in state["weights"].items()}, strict=False)
        sched.load_state_dict(state["sched"])
        step = state["step"]
        earlier = state.get("minutes", 0.0)
        print(f"resumed {name} at step {step}/{total} (fresh optimiser moments)", flush=True)
    log = work / f"{name}-log.jsonl"
    bce = torch.nn.BCEWithLogitsLoss()
    started = time.monotonic()
    model.train()

    def check(rows: list[Any]) -> dict[str, Any]:
        return evaluate_groups(model, tok, rows, max_len) if grouped else evaluate(model, tok, rows, max_len)

    while step < total:
        part = epoch_batches[step]
        flat = _flatten(part) if grouped else part
        enc = _encode(tok, flat, max_len, offsets=span)
        labels = enc.pop("labels")
        if span:
            gold_start, gold_end, allowed = spans.targets(enc, flat)
            enc.pop("offset_mapping")
            logits, start, end = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            logits = logits[:, 0]
        else:
            logits = _logits(model, enc)
        if grouped:  # listwise: the positive (first of each group) against its negatives,
            # plus a pointwise term that keeps sigmoid(logit) a usable probability
            by_group = logits.view(len(part), -1)
            first = torch.zeros(len(part), dtype=torch.long)
            loss = torch.nn.functional.cross_entropy(by_group, first) + 0.5 * bce(logits, labels)
            if span:
                loss = loss + SPAN_WEIGHT * spans.loss(start, end, allowed, gold_start, gold_end)
        else:
            loss = bce(logits, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        step += 1
        if step % 50 == 0:
            print(f"{name} step {step}/{total} loss {loss.item():.4f} "
                  f"{(time.monotonic() - started) / 60:.1f} min", flush=True)
        out_of_time = (time.monotonic() - started) / 60 > limit_minutes
        if step % save_every == 0 or step == total or out_of_time:
            metrics = check(val[:250] if grouped else val[:1000])
            with open(log, "a") as handle:
                handle.write(json.dumps({"step": step, "loss": loss.item(), **metrics}) + "\n")
            print(f"{name} step {step}: " + json.dumps(
                {k: v for k, v in metrics.items() if k != "by_kind"}), flush=True)
            _save(ckpt, model, sched, step, total, earlier + (time.monotonic() - started) / 60)
        if out_of_time:
            print(f"{name}: time limit reached at step {step}/{total}; run again to resume", flush=True)
            break
    final = check(val)
    final.update({"steps": step, "total_steps": total,
                  "train_groups" if grouped else "train_pairs": len(rows),
                  "minutes": round(earlier + (time.monotonic() - started) / 60, 1),
                  "max_len": max_len, "cloze_share": cloze_share, "restating": restating,
                  "context": "title" if titled else "none", "outlets": outlets, "span": span,
                  "lr": lr, "batch": batch, "epochs": epochs, "seed": seed})
    return export(name, model, tok, final, work, out)


def _save(ckpt: Path, model: Any, sched: Any, step: int, total: int, minutes: float) -> None:
    """The checkpoint a rerun resumes from: the trained weights in fp16 (the frozen word
    embeddings are MiniLM's, reloaded from the package), the schedule and the step. It is one
    file of about 22 MB in the repo, replaced at each save; the optimiser's moments are left
    out (they would triple it) and rebuild within a few dozen steps of a resumed run."""
    import torch

    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    weights = {k: v.detach().half() for k, v in model.state_dict().items() if k in trained}
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"weights": weights, "sched": sched.state_dict(), "step": step, "total": total,
                "minutes": minutes}, ckpt.with_suffix(".tmp"))
    os.replace(ckpt.with_suffix(".tmp"), ckpt)


def export(name: str, model: Any, tok: Any, metrics: dict[str, Any], work: Path,
           out: Path | None = None) -> Path:
    """ONNX (opset 17, dynamic batch and length) -> int8 weights -> ``out``, by default the
    shipped model's folder, assistant/models/<name>/."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.models import MODELS

    model.eval()
    enc = tok(["a question"], ["a passage that answers it"], return_tensors="pt")
    fp32 = work / f"{name}-fp32.onnx"
    from train.span import LogitOnly, SpanReader

    if isinstance(model, SpanReader):  # trained with --span: its logit alone
        model = LogitOnly(model)
    torch.onnx.export(
        model, (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]), str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={k: {0: "batch", 1: "tokens"} for k in
                      ("input_ids", "attention_mask", "token_type_ids")} | {"logits": {0: "batch"}},
        opset_version=17, dynamo=False)
    target = out or MODELS / name
    target.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(fp32), str(target / "model.onnx"), weight_type=QuantType.QInt8)
    (target / "tokenizer.json").unlink(missing_ok=True)  # the embedding model's is read instead
    metrics["size_mb"] = round((target / "model.onnx").stat().st_size / 2**20, 1)
    (target / "train_metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    return target


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", choices=["reranker", "judge"])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared/benchmarks/realtimeqa/train")
    p.add_argument("--work", type=Path, default=ROOT / "train" / "out")
    p.add_argument("--epochs", type=float, help="passes over the pairs (default: the model's own)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, help="peak learning rate (default: the model's own)")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--limit-minutes", type=float, default=55.0)
    p.add_argument("--cloze-share", type=float, default=CLOZE_SHARE,
                   help="reranker: cross-article cloze groups per quiz group (train.cloze_data)")
    p.add_argument("--restating", type=int, default=RESTATING,
                   help="reranker: negatives per group that restate the question (train.rerank_data)")
    p.add_argument("--titled", action="store_true",
                   help="reranker: each text read with its article's title in front (train.rerank_data)")
    p.add_argument("--outlets", action=argparse.BooleanOptionalAction, default=True,
                   help="judge: other outlets' wordings as positives too, edited as negatives "
                   "(train.judge_data; the shipped v2's recipe; --no-outlets: without them)")
    p.add_argument("--span", action="store_true",
                   help="reranker: also learn to point at the answer inside the positive text "
                   "(train.span; v6, not shipped: see the reranker's model card)")
    p.add_argument("--out", type=Path, help="folder for the trained model (default: the shipped "
                   "model's, assistant/models/<name>/; give another to try a recipe out)")
    p.add_argument("--pairs-only", action="store_true", help="build and cache the pairs, then stop")
    a = p.parse_args()
    a.outlets = a.outlets and a.name == "judge"  # a judge recipe: the reranker's names stay as they were
    a.span = a.span and a.name == "reranker"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if a.pairs_only:
        rows, val = _pairs(a.name, a.data, a.work, a.cloze_share, a.restating, a.titled, a.outlets)
        print(f"{a.name}: {len(rows)} training pairs, {len(val)} validation pairs")
        return
    epochs = a.epochs if a.epochs is not None else RECIPE[a.name]["epochs"]
    lr = a.lr if a.lr is not None else RECIPE[a.name]["lr"]
    train(a.name, a.data, a.work, epochs, a.batch, lr, a.save_every, a.seed, a.limit_minutes,
          a.cloze_share, a.restating, a.titled, a.out, a.outlets, a.span)


if __name__ == "__main__":
    main()
