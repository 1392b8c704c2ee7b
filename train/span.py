"""The reranker's second task in training: point at the answer inside the text.

``train.fit reranker --span`` trains the cross-encoder with a token head beside its one logit.
For a group's positive, the head learns where the correct choice starts and ends in it; for a
negative, it learns to point at [CLS] ("no answer here", as SQuAD 2 readers do). A sentence
that restates the question shares its words but holds no span that answers it, so the shared
layers must learn what fills the asked-for slot, not only how much of the question a text
repeats. Only the logit is exported: the assistant's reranker is the same drop-in model.
Tried as reranker v6 (2026-12-07) and not shipped; the reranker's model card has its numbers.
"""

from __future__ import annotations

import re
from typing import Any

import torch

IGNORE = -100  # a positive whose choice is not found in it: no span target, the logit still learns
NO_ANSWER = 0  # a negative points at [CLS]


def char_span(text: str, choice: str, question: str) -> tuple[int, int] | None:
    """Where ``choice`` is in ``text`` (whole words, any case); else where its longest word that
    the question lacks is ("Moldovan" for "Moldova"); else None."""
    if not choice.split():
        return None
    whole = r"(?<!\w)" + r"\s+".join(map(re.escape, choice.split())) + r"(?!\w)"
    m = re.search(whole, text, re.IGNORECASE)
    if m:
        return m.span()
    asked = question.lower()
    for w in sorted((w for w in re.findall(r"\w+", choice) if len(w) >= 4 and w.lower() not in asked),
                    key=len, reverse=True):
        m = re.search(r"(?<!\w)" + re.escape(w) + r"\w*", text, re.IGNORECASE)
        if m:
            return m.span()
    return None


def targets(enc: Any, rows: list[Any]) -> tuple[Any, Any, Any]:
    """(start, end, allowed) for a batch encoded with offsets: the token span of each positive's
    choice (``IGNORE`` when not found or cut off), ``NO_ANSWER`` for negatives, and the tokens a
    span may point at (the text's and [CLS]). ``rows``: (query, text, label, kind, choice)."""
    offsets = enc["offset_mapping"]
    allowed = torch.zeros(enc["input_ids"].shape, dtype=torch.bool)
    allowed[:, 0] = True
    starts, ends = [], []
    for i, (query, text, label, _, choice) in enumerate(rows):
        in_text = [t for t, s in enumerate(enc.sequence_ids(i)) if s == 1]
        allowed[i, in_text] = True
        if label < 0.5:
            starts.append(NO_ANSWER)
            ends.append(NO_ANSWER)
            continue
        found = char_span(text, choice, query)
        first = last = None
        for t in in_text if found else ():
            a, b = offsets[i, t].tolist()
            if first is None and b > found[0]:
                first = t
            if a < found[1]:
                last = t
        ok = first is not None and last is not None and last >= first
        starts.append(first if ok else IGNORE)
        ends.append(last if ok else IGNORE)
    return torch.tensor(starts), torch.tensor(ends), allowed


class SpanReader(torch.nn.Module):
    """A ``BertForSequenceClassification`` (``base``) with a start/end head beside its logit:
    forward gives (logit, start logits, end logits)."""

    def __init__(self, base: Any) -> None:
        super().__init__()
        self.base = base
        self.qa = torch.nn.Linear(base.config.hidden_size, 2)

    def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
        seq, pooled = self.base.bert(input_ids=input_ids, attention_mask=attention_mask,
                                     token_type_ids=token_type_ids)[:2]
        start, end = self.qa(seq).unbind(-1)
        return self.base.classifier(self.base.dropout(pooled)), start, end


class LogitOnly(torch.nn.Module):
    """What is exported: the reader's logit alone, so the shipped model stays a drop-in
    cross-encoder (one logit per pair)."""

    def __init__(self, reader: SpanReader) -> None:
        super().__init__()
        self.reader = reader

    def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
        return self.reader(input_ids, attention_mask, token_type_ids)[0]


def loss(start: Any, end: Any, allowed: Any, gold_start: Any, gold_end: Any) -> Any:
    """Cross-entropy of the start and of the end over the tokens a span may point at."""
    low = torch.finfo(start.dtype).min / 4
    ce = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
    return 0.5 * (ce(start.masked_fill(~allowed, low), gold_start)
                  + ce(end.masked_fill(~allowed, low), gold_end))
