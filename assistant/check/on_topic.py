"""Whether a question's filters left its topic out: judged on the filtered quotes' evidence and
the whole index's answer.

A date range or an outlet can leave only passages that are off the question's topic; quoting
the best of them would answer something else. ``left_out_topic`` compares the evidence of the
quotes chosen from what the filters let through with the answer from the whole index, and
names where the answer is when the filters exclude it, so the assistant abstains with that note
instead (before the filtered answer is made).
"""

from __future__ import annotations

from assistant.kernel.answers import Answer


def left_out_topic(filtered: float | None, whole: Answer, allowed: set[str],
                   threshold: float) -> str | None:
    """The note for a question whose filters left nothing on topic, or None when its answer stands.

    ``filtered`` is the evidence score of the quotes chosen from what the filters let through
    (None: they abstain), ``whole`` the extractive answer from the whole index, ``allowed`` the
    articles the filters let through and ``threshold`` the calibrated abstention threshold of
    the evidence score. The filters left the topic out when the index answers only from
    articles they exclude, and what they let through either does not answer (the reader is
    told where the answer is) or its evidence lies nearer the abstention threshold than the
    index's own: it barely clears the bar the answer clears by far. An outlet's or a day's own
    version of the answer scores close to the index's, so it stands.
    """
    if whole.abstained or not whole.citations:
        return None
    if any(c.doc_id in allowed for c in whole.citations):
        return None  # the index answers from articles the filters keep
    if filtered is not None and filtered >= (threshold + whole.confidence) / 2:
        return None
    where = "; ".join(dict.fromkeys(
        f"{c.source or 'no outlet named'}, {f'published {c.published}' if c.published else 'undated'}"
        for c in whole.citations))
    return f"the filters left nothing on topic: the articles that answer this are outside them ({where})"

