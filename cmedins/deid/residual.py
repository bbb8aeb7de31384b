"""Residual scan: after de-identification, look again for the identifiers that must never survive (ID numbers,
mobile numbers, emails) with patterns independent of, and looser than, the recognizers'. Spans written by a
pseudonym operator are skipped by the caller (surrogates look real on purpose)."""

from __future__ import annotations

import re

RESIDUAL_PATTERNS: dict[str, re.Pattern] = {
    "id_number": re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])"),
    "mobile": re.compile(r"(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"),
    # A domain ends in a letter TLD: `web3@1.3.0` (a package pinned in a code answer) is not an address.
    "email": re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}", re.ASCII),
}


def residual_hits(text: str, allowed: set[str] = frozenset()) -> list[tuple[str, int, int]]:
    """(kind, start, end) of every identifier-shaped string left in `text`, except exact `allowed` values
    (the surrogates this record was given)."""
    hits = []
    for kind, pattern in RESIDUAL_PATTERNS.items():
        for match in pattern.finditer(text):
            if match.group() not in allowed:
                hits.append((kind, match.start(), match.end()))
    return sorted(hits, key=lambda hit: hit[1])
