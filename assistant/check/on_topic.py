"""Whether a question's filters left its topic out: judged on the quotes chosen from what the
filters let through and those the whole index would give.

A date range or an outlet can leave only passages that are off the question's topic; quoting
the best of them would answer something else. ``left_out_topic`` compares the evidence of the
quotes chosen from what the filters let through with the quotes of the whole index and what
they cite, and names where the answer is when the filters exclude it, so the assistant abstains
with that note instead (before the filtered answer is made).
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.kernel.answers import Citation


def left_out_topic(filtered: float | None, whole: float | None, cited: Sequence[Citation],
                   allowed: set[str], threshold: float) -> str | None:
    """The note for a question whose filters left nothing on topic, or None when its answer stands.

    ``filtered`` is the evidence score of the quotes chosen from what the filters let through
    (None: they abstain), ``whole`` that of the whole index's quotes and ``cited`` what those
    would cite (``ExtractiveAnswerer.cited``), ``allowed`` the articles the filters let through
    and ``threshold`` the calibrated abstention threshold of the evidence score. The filters
    left the topic out when the index answers only from articles they exclude, and what they
    let through either does not answer (the reader is told where the answer is) or its evidence
    lies nearer the abstention threshold than the index's own: it barely clears the bar the
    answer clears by far. An outlet's or a day's own version of the answer scores close to the
    index's, so it stands.
    """
    if whole is None or not cited:
        return None
    if any(c.doc_id in allowed for c in cited):
        return None  # the index answers from articles the filters keep
    if filtered is not None and filtered >= (threshold + whole) / 2:
        return None
    where = "; ".join(dict.fromkeys(
        f"{c.source or 'no outlet named'}, {f'published {c.published}' if c.published else 'undated'}"
        for c in cited))
    return f"the filters left nothing on topic: the articles that answer this are outside them ({where})"

