"""The eval-set format: one JSON object per line, loaded into frozen ``EvalItem`` records.

A line looks like::

    {"id": "borrell-role-1", "type": "conflict", "question": "What is Josep Borrell's job?",
     "answers": ["head of diplomacy of the European Union", "President of the European Parliament"],
     "doc_ids": ["000_59035ac7a78f4fad"],
     "evidence": ["The head of diplomacy of the European Union (EU), Josep Borrell"],
     "answerable": true, "expect_conflict": true}

Fields:

- ``id``: unique, stable slug.
- ``type``: one of ``ITEM_TYPES`` (see below).
- ``question``: what a reader asks.
- ``history``: follow-ups only — the earlier questions of the conversation, oldest first.
- ``answers``: short gold answers; the first is canonical, the rest acceptable variants.
  Empty for unanswerable items.
- ``doc_ids``: gold article ids (file stems). Any one of them counts as a retrieval hit,
  except for ``corroboration`` items, where every one of them should be found.
- ``evidence``: substrings (at most one sentence each) copied verbatim from a gold article.
- ``answerable``: false exactly for ``unanswerable`` items.
- ``min_outlets``: corroboration only — how many independent articles an answer should cite.
- ``expect_conflict``: true when the gold articles disagree and the answer should say so.
- ``as_of``: the publish date (YYYY-MM-DD) of the article whose evidence answers a
  "latest"/"last" question; the answer only holds as of that date.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.kernel.errors import AssistantError

ITEM_TYPES = (
    "single",  # one fact, stated in one article (occasionally restated in another)
    "multi",  # one fact stated by several articles; any of them answers it
    "date",  # the answer is a date or day
    "order",  # which of two events came first / what is the latest
    "unanswerable",  # the articles do not say; the assistant should abstain
    "followup",  # depends on ``history`` to be understood
    "corroboration",  # the answer should cite several independent articles
    "conflict",  # the gold articles contradict each other (or themselves)
)

_REQUIRED = ("id", "type", "question", "answers", "doc_ids", "evidence", "answerable")
_OPTIONAL = ("history", "min_outlets", "expect_conflict", "as_of")


class EvalSetError(AssistantError):
    """An eval-set file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class EvalItem:
    """One hand-written question with its gold answers, articles and evidence."""

    id: str
    type: str
    question: str
    answers: tuple[str, ...]
    doc_ids: tuple[str, ...]
    evidence: tuple[str, ...]
    answerable: bool
    history: tuple[str, ...] = ()
    min_outlets: int | None = None
    expect_conflict: bool = False
    as_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> EvalItem:
        """Validate one decoded JSON object; raises ``ValueError`` saying what is wrong."""
        unknown = sorted(set(raw) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}")
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise ValueError(f"missing field(s) {missing}")
        item = cls(
            id=_text(raw, "id"),
            type=_text(raw, "type"),
            question=_text(raw, "question"),
            answers=_texts(raw, "answers"),
            doc_ids=_texts(raw, "doc_ids"),
            evidence=_texts(raw, "evidence"),
            answerable=_flag(raw, "answerable"),
            # optional fields: absent and null mean the same (to_dict writes nulls)
            history=_texts(raw, "history") if raw.get("history") is not None else (),
            min_outlets=_count(raw, "min_outlets") if raw.get("min_outlets") is not None else None,
            expect_conflict=(
                _flag(raw, "expect_conflict") if raw.get("expect_conflict") is not None else False
            ),
            as_of=_iso_date(raw, "as_of") if raw.get("as_of") is not None else None,
        )
        item._check_consistency()
        return item

    def _check_consistency(self) -> None:
        if self.type not in ITEM_TYPES:
            raise ValueError(f"type {self.type!r} is not one of {list(ITEM_TYPES)}")
        if self.answerable != (self.type != "unanswerable"):
            raise ValueError("answerable must be false exactly when type is 'unanswerable'")
        if not self.answerable and (self.answers or self.doc_ids or self.evidence):
            raise ValueError("an unanswerable item has empty answers, doc_ids and evidence")
        if self.answerable and not (self.answers and self.doc_ids and self.evidence):
            raise ValueError("an answerable item needs answers, doc_ids and evidence")
        if (self.type == "followup") != bool(self.history):
            raise ValueError("history is required for followup items and only for them")
        if self.type == "corroboration":
            if self.min_outlets is None or not 2 <= self.min_outlets <= len(self.doc_ids):
                raise ValueError("a corroboration item needs 2 <= min_outlets <= len(doc_ids)")
        elif self.min_outlets is not None:
            raise ValueError("min_outlets is only for corroboration items")
        if (self.type == "conflict") and not self.expect_conflict:
            raise ValueError("a conflict item needs expect_conflict: true")
        if len(set(self.doc_ids)) != len(self.doc_ids):
            raise ValueError("doc_ids repeat an id")
        for ev in self.evidence:
            if "\n" in ev:
                raise ValueError(f"evidence spans several lines: {ev[:60]!r}")


def load_items(path: str | Path) -> list[EvalItem]:
    """Read a JSONL eval set; raises ``EvalSetError`` naming the file and line of a bad item.

    Blank lines are skipped. Ids must be unique across the file.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalSetError(f"cannot read eval set {path}: {exc.strerror}") from exc
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{where}: not valid JSON ({exc.msg})") from exc
        if not isinstance(raw, dict):
            raise EvalSetError(f"{where}: expected a JSON object, got {type(raw).__name__}")
        try:
            item = EvalItem.from_dict(raw)
        except ValueError as exc:
            label = f" (id {raw['id']!r})" if isinstance(raw.get("id"), str) else ""
            raise EvalSetError(f"{where}{label}: {exc}") from exc
        if item.id in seen:
            raise EvalSetError(f"{where}: id {item.id!r} already used on line {seen[item.id]}")
        seen[item.id] = lineno
        items.append(item)
    return items


def locate_evidence(item: EvalItem, texts: Mapping[str, str]) -> list[tuple[str, int, int]]:
    """Gold spans ``(doc_id, start, end)`` of the item's evidence in the given article texts.

    Each evidence string is looked up in every gold article present in ``texts`` (first
    occurrence per article); strings found nowhere are skipped, so callers passing
    cleaned text can compare the count against ``len(item.evidence)``.
    """
    spans: list[tuple[str, int, int]] = []
    for ev in item.evidence:
        for doc_id in item.doc_ids:
            start = texts.get(doc_id, "").find(ev)
            if start >= 0:
                spans.append((doc_id, start, start + len(ev)))
    return spans


# --- field validators: each names the field in its message -------------------------------


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _texts(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{key} must be a list of non-empty strings")
    return tuple(value)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw[key]
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


def _count(raw: Mapping[str, Any], key: str) -> int:
    value = raw[key]
    # bool is an int subclass; "min_outlets": true is a typo, not 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key} must be a positive integer")
    return value


def _iso_date(raw: Mapping[str, Any], key: str) -> str:
    value = _text(raw, key)
    try:
        parsed = dt.date.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.isoformat() != value:
        raise ValueError(f"{key} must be a date written YYYY-MM-DD, got {value!r}")
    return value
