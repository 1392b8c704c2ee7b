"""The trained models the assistant ships, and the one function that loads them.

Each folder holds one model: ``reranker/`` and ``judge/`` are small cross-encoders
(``model.onnx``, int8, with ``MODEL_CARD.md``, ``train_metrics.json`` and, for the learned judge,
its ``calibration.*``), ``punkt/`` the sentence splitter's news abbreviations (read by
``assistant.kernel.text``). ``make train`` rebuilds them in place (``train/``). The
cross-encoders read text with the packaged embedding model's tokenizer (all-MiniLM-L6-v2,
which they were fine-tuned from), so no copy of it is kept here; a model folder given in the
settings may bring its own ``tokenizer.json``.

:func:`load` is how every caller gets a model: the reranker (``Settings.reranker``,
:func:`make_reranker`) and the learned judge (``Settings.support_judge = "learned"``,
``assistant.check.learned_judge``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.kernel.errors import MissingExtraError
from assistant.kernel.settings import Settings
from assistant.models.cross_encoder import CrossEncoder

MODELS = Path(__file__).parent
# the shipped cross-encoders, each with the setting that does without it
CROSS_ENCODERS = {"reranker": "ASSISTANT_RERANKER=off", "judge": "ASSISTANT_SUPPORT_JUDGE=rules"}


def folder(name: str, override: Path | None = None) -> Path:
    """The folder of a packaged cross-encoder (one of ``CROSS_ENCODERS``), or ``override``."""
    found = Path(override) if override else MODELS / name
    if not (found / "model.onnx").exists():
        raise MissingExtraError(
            f"no {name} model at {found} — rebuild it with `make train`, or do without it: "
            f"{CROSS_ENCODERS[name]}")
    return found


@lru_cache(maxsize=4)
def load(name: str, override: str | None = None, max_length: int = 256) -> CrossEncoder:
    """A cross-encoder loaded once per process (the UI, the eval and the CLI share it)."""
    return CrossEncoder(folder(name, Path(override) if override else None), max_length)


def with_title(title: str, text: str) -> str:
    """How a reranker trained with titles (``train.fit --titled``) reads a text: its article's
    title, a bar, the text."""
    title = title.strip()
    return f"{title} | {text}" if title else text


class LearnedReranker:
    """Scores how well a passage or sentence answers a question (trained on RealTime QA 2023–24).

    A model trained with titles (its ``train_metrics.json`` says ``"context": "title"``) reads
    each text after its article's title; the others read the text alone."""

    name = "learned"

    def __init__(self, override: Path | None = None) -> None:
        self.model = load("reranker", str(override) if override else None, 192)
        metrics = self.model.folder / "train_metrics.json"
        self.titled = metrics.exists() and json.loads(metrics.read_text()).get("context") == "title"

    def score(self, question: str, texts: Sequence[str],
              titles: Sequence[str] | None = None) -> np.ndarray:
        """Probability per text that it answers ``question``; ``titles``, one per text, are
        read by a model trained with them and ignored by the others."""
        if self.titled and titles is not None:
            texts = [with_title(t, x) for t, x in zip(titles, texts, strict=True)]
        return self.model.scores([question] * len(texts), list(texts))


def make_reranker(settings: Settings) -> LearnedReranker | None:
    """The trained reranker when ``settings.reranker`` is on, else None."""
    if settings.reranker == "off":
        return None
    return LearnedReranker(settings.reranker_model)
