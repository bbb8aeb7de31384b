"""Streaming writers for the sample files: JSON Lines, and JSON arrays written one item per line.

Both take any JSON value per row (the sample plants a non-object line on purpose) and never hold the rows in
memory, so `cmedins sample --records 220000` runs in constant memory. Bytes depend only on the rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _line(row: Any) -> str:
    return json.dumps(row, ensure_ascii=False)


def write_jsonl(path: Path, rows: Iterable[Any]) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(_line(row) + "\n")
            count += 1
    return count


def write_json_array(path: Path, rows: Iterable[Any]) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("[")
        for row in rows:
            handle.write(("\n" if count == 0 else ",\n") + _line(row))
            count += 1
        handle.write("\n]\n")
    return count
