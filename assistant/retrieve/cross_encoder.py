"""Small cross-encoders trained on open news data (``make train``), shipped as int8 ONNX files
in ``assistant/models/`` and run with onnxruntime — no torch on the query path.

- :class:`CrossEncoder` scores text pairs: a probability per (first, second) pair.
- :class:`LearnedReranker` scores (question, passage) and (question, sentence) pairs;
  ``Settings.reranker`` turns it on (:func:`make_reranker`).
- The support verifier (``assistant.check.learned_judge``) is the other model run this way.

Each model folder holds ``model.onnx``, ``tokenizer.json`` and ``MODEL_CARD.md``; the
verifier's also ``calibration.json`` (its threshold, chosen on held-out data by
``train/calibrate.py``). The reranker has none: its probability is blended into the rules'
scores, never compared with a threshold.
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

from assistant.kernel.errors import MissingExtraError
from assistant.kernel.settings import Settings

MODELS = Path(__file__).parents[1] / "models"
RUN_BATCH = 16  # pairs per onnxruntime call: attention buffers stay small, little padding


def model_folder(name: str, override: Path | None = None) -> Path:
    """The folder of a packaged model (``reranker`` or ``verifier``), or ``override``."""
    folder = Path(override) if override else MODELS / name
    if not (folder / "model.onnx").exists():
        raise MissingExtraError(
            f"no {name} model at {folder} — rebuild it with `make train`, or set the "
            f"{name} setting to 'off' / the judge to 'rules'")
    return folder


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




def make_reranker(settings: Settings) -> LearnedReranker | None:
    """The trained reranker when ``settings.reranker`` is on, else None."""
    if settings.reranker == "off":
        return None
    return LearnedReranker(settings.reranker_model)
