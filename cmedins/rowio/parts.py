"""A source file cut into parts that can be read apart (in parallel, on Ray), numbered as the whole-file reader
numbers them.

- JSON Lines: byte ranges of about `part_bytes`, cut at line boundaries. Row numbers are line numbers, so a
  range's first number is 1 + the physical lines before it; the encoding is the whole file's. Both come from one
  cheap pass per range (`encoding_evidence`: the same line counts `detect_encoding` makes on the whole file),
  added up in file order before any range is decoded (`number_parts`).
- Parquet: consecutive row groups of about `part_bytes`; numbers from the row counts in the footer.
- CSV (a quoted cell may span lines), JSON documents and formats with their own reader: one part, the file whole.

Reading every part in order (`read_part`) yields exactly what `Format.read` yields for the whole source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from cmedins.errors import CmedinsError
from cmedins.rowio.formats import Format
from cmedins.rowio.readers import (
    EncodingEvidence,
    decide_encoding,
    detect_format,
    encoding_evidence,
    line_ranges,
    read_jsonl_range,
    read_parquet_groups,
)

LINES, ROW_GROUPS, WHOLE = "lines", "row_groups", "whole"


@dataclass(frozen=True)
class Part:
    path: str
    layout: str  # LINES: bytes [start, end); ROW_GROUPS: row groups [start, end); WHOLE: the source as a whole
    start: int = 0
    end: int = 0
    first: int = 1  # number of the part's first row (LINES: known once the lines before it are counted)
    encoding: str | None = None  # LINES: the whole file's


def plan_parts(fmt: Format, path: Path, part_bytes: int) -> list[Part]:
    """The parts of one source. Anything the whole-file reader would refuse (unknown suffix, unreadable
    Parquet footer) is one WHOLE part, so reading it raises the very same error."""
    if fmt.reader is not None or not path.is_file():
        return [Part(str(path), WHOLE)]
    try:
        kind = detect_format(path)
    except CmedinsError:
        return [Part(str(path), WHOLE)]
    if kind == "jsonl":
        return [Part(str(path), LINES, start, end) for start, end in line_ranges(path, part_bytes)]
    if kind == "parquet":
        return _row_group_parts(path, part_bytes)
    return [Part(str(path), WHOLE)]


def _row_group_parts(path: Path, part_bytes: int) -> list[Part]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError):
        return [Part(str(path), WHOLE)]
    parts, start, first, size = [], 0, 1, 0
    for group in range(meta.num_row_groups):
        size += meta.row_group(group).total_byte_size
        if size >= part_bytes or group == meta.num_row_groups - 1:
            parts.append(Part(str(path), ROW_GROUPS, start, group + 1, first))
            first += sum(meta.row_group(g).num_rows for g in range(start, group + 1))
            start, size = group + 1, 0
    return parts or [Part(str(path), ROW_GROUPS, 0, 0, 1)]


def part_evidence(part: Part) -> EncodingEvidence:
    """The encoding evidence and line count of a LINES part (read before the part is decoded)."""
    return encoding_evidence(Path(part.path), part.start, part.end)


def number_parts(parts: list[Part], evidence: dict[int, EncodingEvidence]) -> list[Part]:
    """Give each LINES part its first line number and its file's encoding, from the evidence of every LINES
    part of that file (`evidence[i]` for `parts[i]`). A file's parts are consecutive, the first at byte 0 (a
    file read by two sources comes twice, each time from byte 0)."""
    files: list[list[int]] = []
    for index, part in enumerate(parts):
        if part.layout == LINES:
            if part.start == 0:
                files.append([])
            files[-1].append(index)
    numbered = list(parts)
    for indices in files:
        encoding = decide_encoding([evidence[i] for i in indices])
        first = 1
        for i in indices:
            numbered[i] = replace(parts[i], first=first, encoding=encoding)
            first += evidence[i].lines
    return numbered


def read_part(fmt: Format, part: Part) -> Iterator[tuple[str, int, dict]]:
    """(file, row number, raw row) of one part, as `fmt.read` numbers them for the whole source."""
    path = Path(part.path)
    if part.layout == WHOLE:
        yield from fmt.read(path)
        return
    try:
        if part.layout == LINES:
            if part.encoding is None:
                raise ValueError("a LINES part is read after number_parts")
            rows = read_jsonl_range(path, part.encoding, part.start, part.end, part.first)
        else:
            rows = read_parquet_groups(path, list(range(part.start, part.end)), part.first)
        for number, row in rows:
            yield part.path, number, row
    except OSError as error:
        raise CmedinsError(f"{path}: cannot read the file ({error.strerror or error})") from None
