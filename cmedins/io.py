"""Reading and writing row files: JSON array, JSONL, CSV, Parquet.

Real corpora are messy: GBK/GB18030 files, UTF-8 with a BOM, CRLF line endings, stray U+FEFF inside text.
`iter_rows` hides all of that: it yields (1-based row number, dict) with clean strings, and raises
CmedinsError naming the file and row when a row cannot be parsed at all.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cmedins.errors import CmedinsError, RowError

FORMATS = ("json", "jsonl", "csv", "parquet")
_SNIFF_BYTES = 1 << 16
csv.field_size_limit(sys.maxsize)  # clinical notes in one CSV cell exceed the 128 KiB default


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix in FORMATS:
        return suffix
    if suffix in ("txt", "tsv"):
        raise CmedinsError(f"{path}: plain text needs a source format with its own reader (e.g. speaker_turns)")
    raise CmedinsError(f"{path}: unknown file type '{path.suffix}' (expected .json, .jsonl, .csv or .parquet)")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312), then charset-normalizer."""
    with path.open("rb") as handle:
        sample = handle.read(_SNIFF_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for encoding in ("utf-8", "gb18030"):
        try:
            # final=False: the sample may end inside a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise CmedinsError(f"{path}: cannot detect the text encoding")
    return best.encoding


def clean_text(value: str) -> str:
    """Normalise line endings and drop zero-width no-break spaces (BOMs pasted into the middle of text)."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in value:
        value = value.replace("\ufeff", "")
    return value


def clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [clean_value(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_value(item) for key, item in value.items()}
    return value


def iter_rows(path: Path, fmt: str | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (row number, row) from a file; row numbers are 1-based (line number for JSONL)."""
    path = Path(path)
    if not path.is_file():
        raise CmedinsError(f"{path}: file not found")
    fmt = fmt or detect_format(path)
    readers = {"json": _iter_json, "jsonl": _iter_jsonl, "csv": _iter_csv, "parquet": _iter_parquet}
    if fmt not in readers:
        raise CmedinsError(f"{path}: unknown file format '{fmt}' (expected one of {', '.join(FORMATS)})")
    yield from readers[fmt](path)


def _iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, errors="strict", newline=None) as handle:
        number = 0
        while True:
            number += 1
            try:
                line = handle.readline()
            except UnicodeDecodeError as error:
                raise CmedinsError(f"{path}, row {number}: not valid {encoding} text ({error.reason})") from None
            if not line:
                return
            line = line.strip().lstrip("\ufeff")
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield number, _unparsable(f"invalid JSON: {error.msg} at column {error.colno}", line)
                continue
            yield number, clean_value(row) if isinstance(row, dict) else _unparsable("not a JSON object", line)


def _unparsable(message: str, line: str) -> dict:
    """A row that is not an object: passed on (not raised) so the runner quarantines it and carries on."""
    return {"__error__": message, "__raw__": line[:2000]}


def _iter_json(path: Path) -> Iterator[tuple[int, dict]]:
    encoding = detect_encoding(path)
    try:
        data = json.loads(path.read_text(encoding=encoding))
    except UnicodeDecodeError as error:
        raise CmedinsError(f"{path}: not valid {encoding} text ({error.reason})") from None
    except json.JSONDecodeError as error:
        if error.msg == "Extra data":  # a .json file that is really JSON Lines (ChatMed ships these)
            yield from _iter_jsonl(path)
            return
        raise CmedinsError(f"{path}: invalid JSON at line {error.lineno} column {error.colno}: {error.msg}") from None
    if isinstance(data, dict):
        # {"data": [...]} wrappers are common; a single object is one row.
        lists = [value for value in data.values() if isinstance(value, list)]
        data = lists[0] if len(lists) == 1 and all(isinstance(x, dict) for x in lists[0]) else [data]
    if not isinstance(data, list):
        raise CmedinsError(f"{path}: expected a JSON array of objects")
    for number, row in enumerate(data, start=1):
        yield number, clean_value(row) if isinstance(row, dict) else _unparsable("not a JSON object", json.dumps(row, ensure_ascii=False))


def _iter_csv(path: Path) -> Iterator[tuple[int, dict]]:
    encoding = detect_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            return
        reader.fieldnames = [clean_text(name).strip() for name in reader.fieldnames]
        number = 0
        try:
            for number, row in enumerate(reader, start=1):
                if None in row:  # more cells than header columns
                    yield number, _unparsable(f"{len(row[None])} cell(s) beyond the header's columns", str(row))
                    continue
                yield number, {key: clean_text(value) if value is not None else None for key, value in row.items()}
        except UnicodeDecodeError as error:
            raise CmedinsError(f"{path}, row {number + 1}: not valid {encoding} text ({error.reason})") from None
        except csv.Error as error:
            raise CmedinsError(f"{path}, row {number + 1}: {error}") from None


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict]]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield number, clean_value(row)


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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def row_error(row: dict) -> RowError | None:
    """The parse error iter_rows attached to a row it could not read as an object, if any."""
    return RowError(row["__error__"]) if "__error__" in row else None
