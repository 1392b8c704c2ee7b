"""Small helpers shared by test modules (not tests themselves)."""

from __future__ import annotations

import re


def markers_in_order(text: str) -> list[int]:
    """The citation numbers ``[n]`` of ``text``, each once, in order of first use."""
    seen: list[int] = []
    for n in map(int, re.findall(r"\[(\d+)\]", text)):
        if n not in seen:
            seen.append(n)
    return seen
