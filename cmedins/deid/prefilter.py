"""Which pattern may match in which text, from one native multi-pattern pass (Hyperscan), so the exact `regex`
scans run only on the texts that can hold a match.

Most record text holds no phone, ID, e-mail or record label, yet each of the ~35 patterns used to be scanned over
every text. Hyperscan compiles all of them into one automaton and tells, per text, which may match: the exact
pattern is then run only there (tests/test_deid_fast.py holds the result to presidio's full scan).

It must never miss a text that holds a match, so every expression given to Hyperscan is a superset of its pattern
(`superset_expression`), and Hyperscan's PREFILTER mode is a superset again (its documented guarantee: no false
negatives):
- lookarounds are dropped (a condition removed matches more), except a short positive lookahead that ends the
  pattern, which becomes part of the match (what it reads then lies inside the text: none crosses a newline);
- `\\K` is dropped (the whole match is the same string), a named group's back-reference becomes the group itself;
- a class difference (`[\\p{Han}--[...]]`) keeps its first operand; bounded repeats lose their upper bound;
- `\\s` and `\\p{Han}` become the exact code point ranges their module (`regex`, `re`) gives them (Hyperscan's Unicode
  tables are older); `\\d` becomes `[0-9]`, and a text holding any other digit (Arabic-Indic, Devanagari ...)
  or that is not valid UTF-8 is flagged for every pattern.
Without Hyperscan (it ships wheels for x86-64 only) every text is flagged for every pattern: the same findings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import cache

import regex

from cmedins.deid.normalise import FOLD_TRIGGERS, fold
from cmedins.deid.simplified import holds_traditional

log = logging.getLogger(__name__)

LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")
OTHER_DIGIT = regex.compile(r"[\d--[0-9]]", flags=regex.VERSION1)  # digits `[0-9]` does not cover
CLASS_DIFFERENCE = regex.compile(r"--\[(?:\\.|[^\]\\])*\]")
BOUNDED_REPEAT = regex.compile(r"\{(\d+),\d+\}\??")
NAMED_GROUP = regex.compile(r"\(\?P<(\w+)>")
# A longer final lookahead (the names' role rule: any of ~400 surnames) is dropped, not read: it would cost more to
# compile (0.2 s) than it saves in scanning.
MAX_READ_LOOKAHEAD = 200
Window = tuple[int, int]  # [start, end) of a region of the joined batch


def _closing(pattern: str, opening: int) -> int:
    """Index of the parenthesis closing the group that opens at `opening` (escapes and classes skipped)."""
    depth, i, in_class = 0, opening, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                i += 1  # a leading ] is a member
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError("unbalanced parentheses")


def _without_lookarounds(pattern: str) -> str:
    out: list[str] = []
    i, in_class, depth = 0, False, 0
    while i < len(pattern):
        if not in_class and pattern.startswith(LOOKAROUNDS, i):
            end = _closing(pattern, i)
            body = pattern[i + (4 if pattern.startswith("(?<", i) else 3):end]
            trailing = depth == 0 and (end == len(pattern) - 1 or pattern[end + 1] == "|")  # ends an alternative
            readable = "[^" not in body and "." not in body.replace("\\.", "")  # cannot read a separator's \x00
            if pattern.startswith("(?=", i) and trailing and readable and len(body) <= MAX_READ_LOOKAHEAD:
                out.append(f"(?:{_without_lookarounds(body)})")  # a lookahead ending the pattern: read it
            i = end + 1
            continue
        if not in_class and pattern[i] in "()":
            depth += 1 if pattern[i] == "(" else -1
        text, i, in_class = _plain_step(pattern, i, in_class)
        out.append(text)
    return "".join(out)


def _plain_step(pattern: str, i: int, in_class: bool) -> tuple[str, int, bool]:
    """One escape (two characters) or one character of `pattern` at i, the next position, and whether a
    character class is open after it."""
    ch = pattern[i]
    if ch == "\\":
        return pattern[i:i + 2], i + 2, in_class
    if in_class and ch == "]":
        return ch, i + 1, False
    if not in_class and ch == "[":
        return ch, i + 1, True
    return ch, i + 1, in_class


@cache
def _code_point_ranges(char_class: str, module: str) -> str:
    """The code points `module` (`regex` or `re`: their \\s differ) puts in `char_class`, as Hyperscan ranges."""
    every = "".join(map(chr, range(0x110000)))
    parts = []
    for run in (regex if module == "regex" else re).finditer(f"{char_class}+", every):
        first, last = run.start(), run.end() - 1
        parts.append(f"\\x{{{first:x}}}" + (f"-\\x{{{last:x}}}" if last > first else ""))
    return "".join(parts)


def _explicit_classes(pattern: str, module: str) -> str:
    classes = {r"\p{Han}": lambda: _code_point_ranges(r"\p{Han}", module),
               r"\s": lambda: _code_point_ranges(r"\s", module), r"\d": lambda: "0-9"}
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        token = next((t for t in classes if pattern.startswith(t, i)), None)
        if token:
            ranges = classes[token]()
            out.append(ranges if in_class else f"[{ranges}]")
            i += len(token)
            continue
        ch = pattern[i]
        if pattern.startswith("\\u", i):  # \uXXXX (re, regex) is \x{XXXX} for Hyperscan
            out.append(f"\\x{{{pattern[i + 2:i + 6]}}}")
            i += 6
            continue
        if ch == "\\" and pattern[i + 1].isalpha() and pattern[i + 1] not in "nxK":
            raise ValueError(f"no superset known for \\{pattern[i + 1]}")  # \w, \b ...: say so, do not guess
        text, i, in_class = _plain_step(pattern, i, in_class)
        out.append(text)
    return "".join(out)


def _back_references_expanded(pattern: str) -> str:
    for name in NAMED_GROUP.findall(pattern):
        opening = pattern.index(f"(?P<{name}>")
        body = pattern[opening + len(name) + 5:_closing(pattern, opening)]  # after "(?P<name>"
        pattern = pattern.replace(f"(?P={name})", f"(?:{body})")
    return NAMED_GROUP.sub("(?:", pattern)


def superset_expression(pattern: str, module: str = "regex") -> str:
    """A Hyperscan expression matching every string `pattern` (compiled by `module`, `regex` or `re`) matches
    (module docstring)."""
    expression = _back_references_expanded(_without_lookarounds(pattern)).replace(r"\K", "")
    expression = BOUNDED_REPEAT.sub(r"{\1,}", CLASS_DIFFERENCE.sub("", expression))
    return _explicit_classes(expression, module)


def _flag_text(pattern_id: int, start: int, end: int, flags: int, found: set[int]) -> None:
    found.add(pattern_id)


class Prefilter:
    """`windows(texts, starts, end)`: per pattern, the regions of a joined batch its exact scan must cover.
    `patterns`: regex-module pattern strings, or (pattern string, "re") for patterns the `re` module compiles.
    `folded(text)`: the folded view (cmedins.deid.normalise.fold) and the patterns that may match in it, from one
    pass over the text when it needs no folding (the usual case), two when it does."""

    def __init__(self, patterns: Sequence[str | tuple[str, str]]):
        self.count = len(patterns)
        self.database = None
        self.fold_ids = range(self.count, self.count + len(FOLD_TRIGGERS))
        patterns = [*patterns, *((p, "re") for p in FOLD_TRIGGERS)]
        try:
            import hyperscan
        except ImportError:  # no wheel for this machine: every pattern scans every text (same findings)
            log.info("hyperscan unavailable: de-identification scans every pattern over every text")
            return
        flags = (hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_DOTALL
                 | hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY)
        self.busy = hyperscan.ScratchInUseError
        database = hyperscan.Database()
        expressions = [superset_expression(*((p, "regex") if isinstance(p, str) else p)) for p in patterns]
        database.compile(expressions=[e.encode() for e in expressions],
                         ids=list(range(len(patterns))), flags=[flags] * len(patterns))
        self.database = database

    def possible(self, text: str) -> set[int] | range:
        """Ids of the patterns that may match in `text` (all of them when that cannot be told); fold triggers
        among them."""
        if self.database is None or OTHER_DIGIT.search(text):
            return range(self.count + len(FOLD_TRIGGERS))
        try:
            data = b"\n" + text.encode("utf-8") + b"\n"  # the newlines of the separators around it (windows)
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, Hyperscan's behaviour would be undefined
            return range(self.count + len(FOLD_TRIGGERS))
        found: set[int] = set()
        try:
            self.database.scan(data, match_event_handler=_flag_text, context=found)
        except self.busy:  # another thread is scanning with this database's scratch space: scan every pattern
            return range(self.count + len(FOLD_TRIGGERS))
        return found

    def folded(self, text: str) -> tuple[str, set[int] | range]:
        """`fold(text)` and the ids of the patterns that may match in it."""
        found = self.possible(text)
        if any(i in found for i in self.fold_ids) or holds_traditional(text):
            folded = fold(text)
            if folded != text:
                found = self.possible(folded)
            return folded, found
        return text, found  # no fold trigger: the text is its own folded view

    def windows(self, texts: Sequence[str], starts: Sequence[int], end: int,
                possible: Sequence | None = None) -> list[list[Window]]:
        """Per pattern id, the regions of the joined batch (`starts`: the texts' offsets in it, `end` its length)
        of the texts it may match in, neighbours merged. A text's region runs from the last newline of the separator
        before it to the \\x00 of the one after it: a match never holds a \\x00 (no pattern reads one), so every
        match of the whole batch lies in one region, and one may start at that newline (`\\s*（`)."""
        out: list[list[Window]] = [[] for _ in range(self.count)]
        lows = [0, *(start - 1 for start in starts[1:])][:len(starts)]
        if possible is None:
            possible = [self.possible(text) for text in texts]
        for found, lo, hi in zip(possible, lows, [*lows[1:], end][:len(lows)], strict=True):
            for pattern_id in found:
                if pattern_id >= self.count:
                    continue  # a fold trigger
                regions = out[pattern_id]
                if regions and regions[-1][1] == lo:
                    regions[-1] = (regions[-1][0], hi)
                else:
                    regions.append((lo, hi))
        return out
