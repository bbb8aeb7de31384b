"""What the de-identification engine gives back: findings (offsets and types, never values) and new texts.

Their own module, without the engine's imports: results pickled by a worker process are unpickled by the
process that handed out the work (cmedins.deid.pool), which then needs these classes, not presidio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One identifier found in a text: offsets in the original text, never its value."""

    start: int
    end: int
    entity_type: str
    score: float


@dataclass(frozen=True)
class TextResult:
    """A de-identified text, what was found in the original, and what the residual scan still sees."""

    text: str
    findings: list[Finding]
    residual: list[tuple[str, int, int]]  # (kind, start, end) in the new text


Unit = tuple[str, Sequence[str]]  # (scope, texts): a record's fields or a dialogue's messages
