"""ALCE citation recall and precision: the eval suite's measure of whether an answer's
citations support it, with a support judge (``assistant/check/judge.py``) in place of NLI."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.check.judge import SupportJudge


@dataclass(frozen=True)
class CitationCheck:
    """ALCE verdict for one answer sentence and its cited passages."""

    sentence: str
    supported: bool
    verdicts: tuple[str, ...]  # per citation: "sufficient" | "needed" | "irrelevant" | "unsupported"


def citation_recall_precision(
    sentences: list[tuple[str, list[str]]], judge: SupportJudge
) -> tuple[float, float, list[CitationCheck]]:
    """ALCE citation recall and precision (Gao et al. 2023) with ``judge`` in place of NLI.

    - A sentence is *supported* when its cited passages, together, support it; a sentence
      without citations is not. **Recall** = supported sentences / all sentences.
    - A citation of a supported sentence is *irrelevant* when it does not support the
      sentence alone AND the other citations still support it without it; otherwise it is
      correct ("sufficient" alone, or "needed"). A sentence with a single citation has no
      irrelevant one. Every citation of an unsupported sentence counts as not precise.
      **Precision** = correct citations / all citations (0.0 when there are none).
    """
    checks: list[CitationCheck] = []
    for sentence, cited in sentences:
        supported = bool(cited) and judge.judge(cited, sentence).supported
        verdicts: list[str] = []
        for i, passage in enumerate(cited):
            if not supported:
                verdicts.append("unsupported")
            elif len(cited) == 1 or judge.judge([passage], sentence).supported:
                verdicts.append("sufficient")
            else:
                rest = cited[:i] + cited[i + 1 :]
                verdicts.append("irrelevant" if judge.judge(rest, sentence).supported else "needed")
        checks.append(CitationCheck(sentence, supported, tuple(verdicts)))
    total = sum(len(c.verdicts) for c in checks)
    correct = sum(v in ("sufficient", "needed") for c in checks for v in c.verdicts)
    recall = sum(c.supported for c in checks) / len(checks) if checks else 0.0
    return recall, (correct / total if total else 0.0), checks
