"""A regex character class written as ranges of code points: the folded view's classes of thousands of
characters (other scripts' digits, traditional characters) stay short patterns."""

from __future__ import annotations

from collections.abc import Iterable


def ranges(codes: Iterable[int]) -> str:
    """The body of a character class (no brackets) matching exactly `codes`, consecutive ones as `a-b`."""
    ordered = sorted(set(codes))
    out, start = [], ordered[0]
    for before, code in zip(ordered, [*ordered[1:], None], strict=True):
        if code != before + 1:
            out.append(chr(start) if start == before else f"{chr(start)}-{chr(before)}")
            start = code
    return "".join(out)
