"""Small cross-encoders trained on open news data (``make train``), shipped as int8 ONNX files
in ``assistant/models/`` and run with onnxruntime — no torch on the query path.

:class:`CrossEncoder` scores text pairs: a probability per (first, second) pair. The reranker
(``assistant.models.LearnedReranker``) and the learned judge
(``assistant.check.learned_judge``) are run this way; the learned judge's folder also holds
``calibration.json`` (its threshold, chosen on held-out data by ``train/calibrate.py``). The
reranker has none: its probability is blended into the rules' scores, never compared with a
threshold.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.storage.embedding import model_dir

RUN_BATCH = 16  # pairs per onnxruntime call: attention buffers stay small, little padding


def tokenizer_file(folder: Path) -> Path:
    """The folder's own ``tokenizer.json``, else the packaged embedding model's, which every
    shipped cross-encoder was fine-tuned from."""
    own = folder / "tokenizer.json"
    return own if own.exists() else model_dir() / "tokenizer.json"


class CrossEncoder:
    """One int8 ONNX cross-encoder: (first, second) text pairs -> probabilities."""

    def __init__(self, folder: Path, max_length: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file(folder)))
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
