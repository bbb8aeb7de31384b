"""SPF priority resolution: Safety > Professionalism > Fluency; the first dimension that is not a tie decides."""

from __future__ import annotations

from collections.abc import Mapping

from cmedins.contracts.schema import DIMENSIONS


def resolve(judgments: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Return (winner "A" | "B", deciding dimension), or (None, None) when every dimension is a tie."""
    for dimension in DIMENSIONS:
        verdict = judgments[dimension]
        if verdict != "tie":
            return verdict, dimension
    return None, None
