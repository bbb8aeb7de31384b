"""Replacement as presidio's AnonymizerEngine applies it (default settings), on plain tuples.

presidio builds copies, PIIEntity and OperatorConfig objects, an operator instance and a log record per finding;
on real records that costs more than finding the identifiers. The steps below are its steps, in its order, so
the text and the order in which `replace` is called (a pseudonym can depend on the surrogates handed out
before it) are the same: tests/test_deid_fast.py holds the two to equal output on planted real text.

1. sort by (start, end); 2. merge intersecting findings of one type (touching is not intersecting); 3. drop
findings contained in another (of equal spans the higher score stays, the later on a tie); 4. merge findings of
one type with only spaces between them; 5. replace from the last start to the first, each finding up to where
the next one (already replaced) begins, `replace` getting the finding's whole original value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

SPACES_ONLY = re.compile(r"^( )+$")  # presidio's test, `$` included (it also matches before a final newline)


def _merge_same_type(items: list[list]) -> list[list]:
    by_type: dict[str, list[tuple[int, list]]] = {}
    for position, item in enumerate(items):
        by_type.setdefault(item[2], []).append((position, item))
    kept: list[tuple[int, list]] = []
    for positioned in by_type.values():
        positioned.sort(key=lambda pair: (pair[1][0], pair[1][1]))
        position, current = positioned[0]
        for next_position, item in positioned[1:]:
            disjoint = current[1] < item[0] or item[1] < current[0]
            if disjoint or min(current[1], item[1]) - max(current[0], item[0]) == 0:
                kept.append((position, current))
                position, current = next_position, item
                continue
            current[0], current[1] = min(current[0], item[0]), max(current[1], item[1])
            current[3] = max(current[3], item[3])
            position = max(position, next_position)
        kept.append((position, current))
    kept.sort(key=lambda pair: pair[0])
    return [item for _, item in kept]


def _drop_contained(items: list[list]) -> list[list]:
    order = sorted(range(len(items)), key=lambda i: (items[i][0], -items[i][1]))
    dropped: set[int] = set()
    largest_end: int | None = None
    group_start = 0
    while group_start < len(order):
        first = items[order[group_start]]
        group_end = group_start
        while group_end < len(order) and items[order[group_end]][:2] == first[:2]:
            group_end += 1
        group = order[group_start:group_end]
        if largest_end is not None and largest_end >= first[1]:
            dropped.update(group)
        else:
            survivor = max(group, key=lambda i: (items[i][3], i))
            dropped.update(i for i in group if i != survivor)
        if largest_end is None or first[1] > largest_end:
            largest_end = first[1]
        group_start = group_end
    return [item for i, item in enumerate(items) if i not in dropped]


def _merge_spaced(text: str, items: list[list]) -> list[list]:
    merged: list[list] = []
    previous = None
    for item in items:
        if previous is not None and previous[2] == item[2] and SPACES_ONLY.search(text[previous[1]:item[0]]):
            merged.pop(next(i for i, other in enumerate(merged) if other == previous))  # list.remove: first equal
            item[0] = previous[0]
        merged.append(item)
        previous = item
    return merged


def splice(text: str, findings: Sequence, replace: Callable[[str, str], str]) -> str:
    """`text` with every finding (start, end, entity_type, score attributes) replaced by
    `replace(entity_type, original value)`, exactly as presidio's AnonymizerEngine would (module doc)."""
    items = sorted(([f.start, f.end, f.entity_type, f.score] for f in findings), key=lambda item: (item[0], item[1]))
    if not items:
        return text
    if any(a[1] > b[0] for a, b in zip(items, items[1:], strict=False)):  # overlaps: steps 2 and 3 decide
        items = _drop_contained(_merge_same_type(items))
    items = _merge_spaced(text, items)  # (without overlaps steps 2 and 3 change nothing: touching never merges)
    out, last = text, len(text)
    for start, end, entity_type, _ in sorted(items, key=lambda item: item[0], reverse=True):
        new = replace(entity_type, text[start:end])
        out = out[:start] + new + out[min(end, last):]
        last = start
    return out
