"""Writing row files: JSON array, JSONL, CSV, Parquet; the bytes depend only on the rows (deterministic)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cmedins.errors import CmedinsError
from cmedins.rowio.readers import detect_format


def write_rows(path: Path, rows: Iterable[Any], fmt: str | None = None) -> int:
    """Write rows; the format follows the suffix. Output bytes depend only on the rows (deterministic).
    JSON and JSONL stream one value per line and take any JSON value (a sample plants non-object lines)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("jsonl", "json"):
        return _write_json_lines(path, rows, array=fmt == "json")
    rows = list(rows)
    if fmt == "csv":
        columns = list(dict.fromkeys(key for row in rows for key in row))
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow({key: _csv_cell(row.get(key)) for key in columns})
    elif fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        raise CmedinsError(f"{path}: cannot write format '{fmt}'")
    return len(rows)


def _write_json_lines(path: Path, rows: Iterable[Any], *, array: bool) -> int:
    """One JSON value per line, streamed (constant memory at any size); a JSON array when `array` is set."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        if array:
            handle.write("[")
        for row in rows:
            line = json.dumps(row, ensure_ascii=False)
            handle.write((("\n" if count == 0 else ",\n") + line) if array else line + "\n")
            count += 1
        if array:
            handle.write("\n]\n")
    return count


def _csv_cell(value: Any) -> Any:
    # Nested values (message lists) survive a CSV round trip as JSON text.
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else value
