"""Learned judges: small cross-encoders trained on open news data (``make train``), shipped as
int8 ONNX files in ``assistant/models/`` and run with onnxruntime — no torch on the query path.

- :class:`CrossEncoder` scores text pairs: a probability per (first, second) pair.
- :class:`LearnedReranker` scores (question, passage) and (question, sentence) pairs.
- :class:`LearnedJudge` is a :class:`~assistant.support.SupportJudge`: (passages, claim) ->
  ``Support``. The rules' number/date/name mismatch stays a hard veto in front of it where
  ``veto`` says so (a passage stating 2020 where the claim says 2021 is never support).

Each model folder holds ``model.onnx``, ``tokenizer.json``, ``MODEL_CARD.md`` and
``calibration.json`` (the threshold chosen on held-out data by ``train/calibrate.py``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.support import HeuristicJudge, Support
from index.errors import MissingExtraError

MODELS = Path(__file__).parent / "models"
RUN_BATCH = 16  # pairs per onnxruntime call: attention buffers stay small, little padding


def model_folder(name: str, override: Path | None = None) -> Path:
    """The folder of a packaged model (``reranker`` or ``verifier``), or ``override``."""
    folder = Path(override) if override else MODELS / name
    if not (folder / "model.onnx").exists():
        raise MissingExtraError(
            f"no {name} model at {folder} — rebuild it with `make train`, or set the "
            f"{name} setting to 'off' / the judge to 'rules'")
    return folder


WINDOW_SENTENCES = 3  # the verifier was trained on windows of 1-5 sentences around a claim
WINDOW_CHARS = 700


def windows(passage: str) -> list[str]:
    """A passage as the verifier reads it: whole if short, else overlapping runs of three
    sentences (its input is cut at 192 tokens, so a long passage would lose its end)."""
    if len(passage) <= WINDOW_CHARS:
        return [passage]
    from assistant.facts import split_sentences

    sentences = split_sentences(passage)
    step = WINDOW_SENTENCES - 1
    return [" ".join(sentences[i : i + WINDOW_SENTENCES])
            for i in range(0, max(1, len(sentences) - 1), step)]


class CrossEncoder:
    """One int8 ONNX cross-encoder: (first, second) text pairs -> probabilities."""

    def __init__(self, folder: Path, max_length: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length, strategy="longest_first")
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()  # one run at a time: the session's buffers are shared
        calibration = folder / "calibration.json"
        self.calibration: dict[str, Any] = (json.loads(calibration.read_text())
                                            if calibration.exists() else {})

    def scores(self, firsts: Sequence[str], seconds: Sequence[str]) -> np.ndarray:
        """Probability per pair (sigmoid of the model's logit), in input order."""
        pairs = list(zip(firsts, seconds, strict=True))
        out = np.zeros(len(pairs), np.float32)
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        for k in range(0, len(order), RUN_BATCH):
            idx = order[k : k + RUN_BATCH]
            enc = self.tokenizer.encode_batch([pairs[i] for i in idx])
            feed = {"input_ids": np.array([e.ids for e in enc], np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], np.int64),
                    "token_type_ids": np.array([e.type_ids for e in enc], np.int64)}
            with self._lock:
                logits = self.session.run(None, feed)[0][:, 0]
            out[idx] = 1.0 / (1.0 + np.exp(-logits))
        return out


@lru_cache(maxsize=4)
def load(name: str, override: str | None = None, max_length: int = 256) -> CrossEncoder:
    """A model loaded once per process (the UI, the eval and the CLI share it)."""
    return CrossEncoder(model_folder(name, Path(override) if override else None), max_length)


class LearnedReranker:
    """Scores how well a passage or sentence answers a question (trained on RealTime QA 2023–24)."""

    name = "learned"

    def __init__(self, override: Path | None = None) -> None:
        self.model = load("reranker", str(override) if override else None, 192)

    def score(self, question: str, texts: Sequence[str]) -> np.ndarray:
        return self.model.scores([question] * len(texts), list(texts))


class LearnedJudge:
    """Support verifier: do ``passages`` (together) support ``sentence``?

    The claim is checked against each passage (and against them joined, for a claim that
    combines two), and the best probability is compared with the calibrated threshold.
    ``veto`` keeps the rules' hard mismatch check in front: a number, date or name that the
    aligned passage sentence states differently rejects the claim whatever the model says.
    """

    name = "learned"

    def __init__(self, override: Path | None = None, threshold: float | None = None,
                 veto: bool = True, unstated: tuple[str, ...] = ()) -> None:
        self.model = load("verifier", str(override) if override else None, 192)
        self.threshold = float(threshold if threshold is not None
                               else self.model.calibration.get("threshold", 0.5))
        # ``unstated``: kinds whose values the passages must state (see HeuristicJudge)
        self.rules = HeuristicJudge(unstated=unstated) if veto else None

    def judge(self, passages: Sequence[str], sentence: str) -> Support:
        texts = [p for p in passages if p and p.strip()]
        if not texts or not sentence.strip():
            return Support(False, 0.0, 0.0, 0.0)
        candidates = [w for t in texts for w in windows(t)]
        if len(texts) > 1 and sum(map(len, texts)) <= WINDOW_CHARS:
            candidates.append(" ".join(texts))  # a claim that combines two short passages
        probs = self.model.scores(candidates, [sentence] * len(candidates))
        best = int(np.argmax(probs))
        score = float(probs[best])
        mismatches: tuple[str, ...] = ()
        if self.rules is not None:
            mismatches = self.rules.judge(texts, sentence).mismatches
        return Support(supported=score >= self.threshold and not mismatches, score=round(score, 4),
                       coverage=0.0, similarity=0.0, mismatches=mismatches,
                       evidence=candidates[best][:500])
