"""ATEC (atec_nlp_sim_train.csv) line citations: which lines the project's data cites, which lines
are reserved for evaluation by others, and which block a cited line belongs to.

Every real-user example taken from ATEC names its line ("atec_nlp_sim_train.csv line 1491",
"…csv, line 31002", "…csv#L31002"); a header may name a range ("lines 32000-33999").
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

# Kept for evaluation by others: never read, labelled or trained on (developers' guide).
RESERVED = ((21000, 21999), (26000, 26999), (29000, 29999), (38000, 39346))
# Lines of one block were read and labelled together; the blocked cross-validation
# (quality/blocked_cv.py) never splits one.
BLOCK_SIZE = 1000

_CITATION = re.compile(r"atec_nlp_sim_train\.csv(?:,?\s*lines?\s*|#L)(\d+)", re.IGNORECASE)
_RANGE = re.compile(r"(?<!\d)(\d{1,5})\s*[-–—~]\s*(\d{1,5})(?!\d)")


def is_reserved(line: int) -> bool:
    return any(low <= line <= high for low, high in RESERVED)


def overlaps_reserved(low: int, high: int) -> bool:
    return any(low <= r_high and r_low <= high for r_low, r_high in RESERVED)


def cited_lines(text: str) -> Iterator[int]:
    for match in _CITATION.finditer(text):
        yield int(match.group(1))


def cited_line(text: str) -> Optional[int]:
    """The ATEC line a source string cites, or None when it cites none."""
    return next(cited_lines(text or ""), None)


def cited_ranges(text: str) -> Iterator[tuple[int, int]]:
    """Line ranges ("3000-3900", "lines 916–1359") named on lines that talk about ATEC lines."""
    for line in text.splitlines():
        if not re.search(r"\blines?\b|ATEC|atec", line):
            continue
        for match in _RANGE.finditer(line):
            low, high = int(match.group(1)), int(match.group(2))
            if low < high:
                yield low, high


def block_of(line: int) -> int:
    """The first line of the block a line belongs to (31002 → 31000)."""
    return line // BLOCK_SIZE * BLOCK_SIZE
