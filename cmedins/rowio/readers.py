"""Reading row files: JSON array, JSONL, CSV, Parquet (every physical row counted).

Real corpora are messy: GBK/GB18030 files, UTF-8 with a BOM, CRLF line endings, stray U+FEFF inside text.
`iter_rows` hides all of that: it yields (1-based row number, dict) with clean strings, and raises
CmedinsError naming the file and row when a row cannot be parsed at all.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cmedins.errors import CmedinsError, RowError

FORMATS = ("json", "jsonl", "csv", "parquet")
_SNIFF_BYTES = 1 << 16
csv.field_size_limit(sys.maxsize)  # clinical notes in one CSV cell exceed the 128 KiB default
# A JSON escape of a UTF-16 surrogate; only a line holding one can decode to a lone surrogate, which no UTF-8
# file, hash or writer downstream accepts.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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
    """The encoding of a text file, judged on every line (not a leading sample: a GBK file's Chinese may
    start after megabytes of ASCII). UTF-8 (with or without BOM) unless most non-ASCII lines are not UTF-8;
    then GB18030 (a superset of GBK/GB2312) if it reads more of them, else charset-normalizer's guess.
    A few undecodable lines in a UTF-8 file stay UTF-8: the readers quarantine those lines alone."""
    try:
        with path.open("rb") as handle:
            if handle.read(3) == codecs.BOM_UTF8:
                return "utf-8-sig"
    except OSError as error:
        raise CmedinsError(f"{path}: cannot read the file ({error.strerror})") from None
    return decide_encoding([encoding_evidence(path)])


@dataclass(frozen=True)
class EncodingEvidence:
    """What one byte range of a text file says about its encoding (ranges read apart, in file order, add up
    to the whole file's judgement: decide_encoding), and how many physical lines it holds."""

    bom: bool
    good: int
    bad: int
    gb_bad: int
    sample: tuple[bytes, ...]  # its leading lines that are not UTF-8, up to _SNIFF_BYTES
    lines: int


def encoding_evidence(path: Path, start: int = 0, end: int | None = None) -> EncodingEvidence:
    """Count the lines of bytes [start, end) (boundaries at line starts) that are UTF-8, not UTF-8, not
    GB18030 either."""
    good = bad = gb_bad = lines = 0
    sample: list[bytes] = []
    sampled = 0
    try:
        with path.open("rb") as handle:
            bom = start == 0 and handle.read(3) == codecs.BOM_UTF8
            for line in _byte_lines(handle, start, end):
                lines += 1
                if line.isascii():
                    continue
                try:
                    line.decode("utf-8")
                    good += 1
                    continue
                except UnicodeDecodeError:
                    bad += 1
                try:
                    line.decode("gb18030")
                except UnicodeDecodeError:
                    gb_bad += 1
                if sampled < _SNIFF_BYTES:
                    sample.append(line)
                    sampled += len(line)
    except OSError as error:
        raise CmedinsError(f"{path}: cannot read the file ({error.strerror})") from None
    return EncodingEvidence(bom, good, bad, gb_bad, tuple(sample), lines)


def decide_encoding(parts: list[EncodingEvidence]) -> str:
    """The encoding of a file from the evidence of its ranges in file order (see detect_encoding)."""
    if parts and parts[0].bom:
        return "utf-8-sig"
    good, bad, gb_bad = (sum(getattr(part, name) for part in parts) for name in ("good", "bad", "gb_bad"))
    if bad == 0 or good >= bad:
        return "utf-8"
    if gb_bad < bad:
        return "gb18030"
    sample = bytearray()
    for line in (line for part in parts for line in part.sample):
        if len(sample) < _SNIFF_BYTES:  # the whole-file rule: whole lines while under the limit
            sample += line
    from charset_normalizer import from_bytes

    best = from_bytes(bytes(sample)).best()
    # No better guess: UTF-8, so that the readers name each undecodable row.
    return best.encoding if best is not None else "utf-8"


def line_ranges(path: Path, part_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges of about `part_bytes` covering the file, each starting and ending at a line boundary."""
    size = path.stat().st_size
    points = [0]
    with path.open("rb") as handle:
        while points[-1] + part_bytes < size:
            handle.seek(points[-1] + part_bytes - 1)
            handle.readline()  # to the end of the line holding that byte: the next line starts a range
            if handle.tell() >= size:
                break
            points.append(handle.tell())
    return list(zip(points, [*points[1:], size], strict=True))


def _byte_lines(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    """Physical lines (split at b"\\n" only, as file iteration does) of bytes [start, end)."""
    handle.seek(start)
    position = start
    for line in handle:
        if end is not None and position >= end:
            return
        position += len(line)
        yield line


def _decoded_lines(path: Path, encoding: str, start: int = 0,
                   end: int | None = None) -> Iterator[tuple[str, UnicodeDecodeError | None]]:
    """Physical lines (line ending kept) of bytes [start, end), each decoded on its own: a bad byte spoils
    its line only. An undecodable line comes back with surrogate escapes and its error."""
    encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    with path.open("rb") as handle:
        for number, raw in enumerate(_byte_lines(handle, start, end)):
            if number == 0 and start == 0 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8):]
            try:
                yield raw.decode(encoding), None
            except UnicodeDecodeError as error:
                yield raw.decode(encoding, errors="surrogateescape"), error


def clean_text(value: str) -> str:
    """Normalise line endings and drop zero-width no-break spaces (BOMs pasted into the middle of text)."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    if "\ufeff" in value:
        value = value.replace("\ufeff", "")
    return value


def replace_lone_surrogates(value: Any) -> Any:
    """Lone surrogates (JSON `"\\ud800"` without its pair) become U+FFFD, as a UTF-8 decoder does for bad bytes:
    the row is kept and everything downstream can encode it."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [replace_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {replace_lone_surrogates(key): replace_lone_surrogates(item) for key, item in value.items()}
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
    """Yield (row number, row) from a file; row numbers are 1-based (line number for JSONL, record number for
    CSV, item number for JSON and Parquet). Every physical row comes out: one that cannot be read is an error
    row (see `row_error`) for the runner to quarantine, so rows in = kept + dropped + quarantined holds."""
    path = Path(path)
    if not path.is_file():
        raise CmedinsError(f"{path}: file not found")
    fmt = fmt or detect_format(path)
    readers = {"json": _iter_json, "jsonl": _iter_jsonl, "csv": _iter_csv, "parquet": _iter_parquet}
    if fmt not in readers:
        raise CmedinsError(f"{path}: unknown file format '{fmt}' (expected one of {', '.join(FORMATS)})")
    try:
        yield from readers[fmt](path)
    except OSError as error:
        raise CmedinsError(f"{path}: cannot read the file ({error.strerror or error})") from None


def text_lines(path: Path) -> Iterator[tuple[str, UnicodeDecodeError | None]]:
    """A text file's physical lines in its detected encoding, each decoded alone (for format readers of their
    own: a bad byte spoils its line, not the file)."""
    return _decoded_lines(path, detect_encoding(path))


def error_row(message: str, raw: str = "") -> dict:
    """A raw row standing for input that could not be read; the runner quarantines it (see `row_error`).
    `message` must not quote the input; `raw` goes to the private quarantine only."""
    return _unparsable(message, raw)


def _undecodable(encoding: str, error: UnicodeDecodeError, line: str) -> dict:
    return _unparsable(f"not valid {encoding} text (byte {error.start + 1} of the row)",
                       line.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace"))


def _iter_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    return read_jsonl_range(path, detect_encoding(path))


def read_jsonl_range(path: Path, encoding: str, start: int = 0, end: int | None = None,
                     first: int = 1) -> Iterator[tuple[int, dict]]:
    """The rows of the lines in bytes [start, end) of a JSON Lines file, the first line numbered `first`."""
    for number, (line, failure) in enumerate(_decoded_lines(path, encoding, start, end), start=first):
        if failure is not None:
            yield number, _undecodable(encoding, failure, line)
            continue
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, _unparsable(f"invalid JSON at column {error.colno}: {json_problem(error)}", line)
            continue
        except RecursionError:
            yield number, _unparsable("JSON nested too deeply", line)
            continue
        if _SURROGATE_ESCAPE.search(line):
            row = replace_lone_surrogates(row)
        if isinstance(row, dict):
            yield number, clean_value(row)
        elif isinstance(row, list) and row and all(isinstance(item, dict) for item in row):
            # Several rows written onto one line: each is counted, none is guessed at.
            for item in row:
                yield number, _unparsable(f"a JSON array of {len(row)} values on one line of a JSON Lines file",
                                          json.dumps(item, ensure_ascii=False))
        else:
            yield number, _unparsable("not a JSON object", line)


def json_problem(error: json.JSONDecodeError) -> str:
    """What is wrong, as a whole phrase: two of json's own messages end in "at" because its str() appends the
    position (`Invalid control character at`, `Unterminated string starting at`); callers give the position
    themselves. Names a control character by code point only (U+0000 for a NUL byte), never the text."""
    if error.msg.startswith("Invalid control character"):
        char = error.doc[error.pos] if 0 <= error.pos < len(error.doc) else ""
        code = f"U+{ord(char):04X}" if len(char) == 1 else "?"
        what = "a NUL byte" if char == "\0" else "a control character"
        return f"{what} ({code}) inside a string; JSON strings must escape it"
    if error.msg.startswith("Unterminated string"):
        return "a string that starts here is never closed"
    return error.msg


def _unparsable(message: str, line: str, field: str | None = None) -> dict:
    """A row that is not an object: passed on (not raised) so the runner quarantines it and carries on.
    `field`: the column the error is about, when there is one (a name from the file's header, not a value)."""
    row = {"__error__": message, "__raw__": line[:2000]}
    return {**row, "__field__": field} if field is not None else row


def _iter_json(path: Path) -> Iterator[tuple[int, dict]]:
    """A JSON array of objects, `{"data": [...]}`, one object, or several JSON values one after another
    (JSON Lines in a .json file, concatenated arrays). A file holding several lists (`{"train": [...],
    "test": [...]}`) is not one row set: each of its items is quarantined, naming its list."""
    encoding = detect_encoding(path)
    lines = list(_decoded_lines(path, encoding))
    failed = next(((number, error) for number, (_, error) in enumerate(lines, start=1) if error), None)
    if failed is not None:
        raise CmedinsError(f"{path}, line {failed[0]}: not valid {encoding} text (byte {failed[1].start + 1}); "
                           "a JSON document must decode as a whole")
    text = "".join(line for line, _ in lines)
    values, number = _json_values(path, text), 0
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    for value, line in values:
        if surrogates:
            value = replace_lone_surrogates(value)
        if isinstance(value, dict):
            lists = {key: item for key, item in value.items() if isinstance(item, list)}
            only = next(iter(lists.values()), None)
            # {"data": [...]} wrapper. A row whose one list is empty ({"id": .., "history": []}) is one row, not
            # a wrapper of none: it was read as zero rows and counted nowhere.
            if len(lists) == 1 and all(isinstance(x, dict) for x in only) and (only or len(value) == 1):
                value = only
            elif len(lists) > 1 and len(lists) == len(value):
                names = ", ".join(lists)
                for key, items in lists.items():
                    for item in items:
                        number += 1
                        yield number, _unparsable(f"item of list '{key}' in a file of several lists ({names}); "
                                                  "give each list its own source", json.dumps(item, ensure_ascii=False))
                continue
            else:
                value = [value]
        if not isinstance(value, list):
            number += 1
            yield number, _unparsable(f"a JSON {type(value).__name__} at line {line}, not an object", json.dumps(value))
            continue
        for row in value:
            number += 1
            yield number, (clean_value(row) if isinstance(row, dict)
                           else _unparsable("not a JSON object", json.dumps(row, ensure_ascii=False)))


def _json_values(path: Path, text: str) -> Iterator[tuple[Any, int]]:
    """Successive JSON values of a text with the line each starts on; the first syntax error ends the file
    as a one-line error (what follows it cannot be counted)."""
    decoder = json.JSONDecoder()
    position, end = 0, len(text)
    while True:
        while position < end and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= end:
            return
        line = text.count("\n", 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise CmedinsError(f"{path}: invalid JSON at line {error.lineno} column {error.colno}: "
                               f"{json_problem(error)}") from None
        except RecursionError:
            raise CmedinsError(f"{path}: JSON nested too deeply near line {line}") from None
        yield value, line


def _iter_csv(path: Path) -> Iterator[tuple[int, dict]]:
    """Records of a CSV file. A record with an unclosed quote (which would swallow every later row) or a
    multi-line record whose cell count does not match the header is quarantined alone, and reading starts
    again on the physical line after its first one. A record with fewer or more cells than the header (a
    missing or a stray delimiter: its cells no longer line up with the columns) or holding an undecodable
    byte is quarantined. Messages name the record's physical line (row numbers count records)."""
    encoding = detect_encoding(path)
    lines = ((line, error) for line, error in _decoded_lines(path, encoding))
    pending: list[str] = []  # physical lines of the record being parsed

    def feed(source: Iterator[str]) -> Iterator[str]:
        for line in source:
            pending.append(line)
            yield line

    source: Iterator[str] = (line for line, _ in lines)
    header: list[str] | None = None
    number = 0
    consumed = 0  # physical lines before the record being parsed
    while True:
        reader = csv.reader(feed(source), strict=True)
        restart = None
        try:
            for cells in reader:
                record, pending[:] = pending[:], []
                line_number = consumed + 1
                if not cells:
                    consumed += len(record)
                    continue
                if header is None:
                    header = _csv_header(path, cells)
                    consumed += len(record)
                    continue
                number += 1
                if len(record) > 1 and len(cells) != len(header):
                    yield number, _unparsable(f"a quoted cell runs over {len(record)} lines and the row has "
                                              f"{len(cells)} cells, not {len(header)} (unbalanced quote?; "
                                              f"line {line_number})", record[0])
                    restart = record[1:]
                    consumed += 1
                    break
                consumed += len(record)
                yield number, _csv_row(header, cells, encoding, record[0], line_number)
        except csv.Error as error:
            record, pending[:] = pending[:], []
            number += 1
            consumed += 1
            yield number, _unparsable(f"bad CSV: {error} (unclosed quote?; line {consumed})", record[0] if record else "")
            restart = record[1:]
        if restart is None:
            return
        source = itertools.chain(restart, source)


# A CSV header is source text that no de-identification reads, and in a file without a header line it is the
# first record (张三,13812345678,...): messages, quarantine reasons and stats name a column by its header cell
# only when that reads as a column name (ASCII letters, digits, _ - . and spaces, starting with a letter), by
# its position otherwise.
_COLUMN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_ .-]{0,63}")


def column_label(header: list[str], index: int) -> str:
    name = header[index]
    return name if _COLUMN_NAME.fullmatch(name) else f"column {index + 1}"


def _csv_header(path: Path, cells: list[str]) -> list[str]:
    names = [clean_text(name).strip() for name in cells]
    duplicates = sorted({index for index, name in enumerate(names) if names.count(name) > 1})
    if duplicates:
        shown = ", ".join(map(repr, dict.fromkeys(column_label(names, index) for index in duplicates)))
        raise CmedinsError(f"{path}: the header names column(s) {shown} more than once; one would silently "
                           "replace the other")
    return names


def _csv_row(header: list[str], cells: list[str], encoding: str, line: str, line_number: int) -> dict:
    if len(cells) > len(header):
        return _unparsable(f"{len(cells) - len(header)} cell(s) beyond the header's {len(header)} columns "
                           f"(line {line_number})", line)
    if len(cells) < len(header):
        # Not padded with empty values: a lost delimiter shifts every later cell into the wrong column.
        return _unparsable(f"{len(cells)} cell(s), the header has {len(header)} columns: no cell for this column "
                           f"(line {line_number})", line, field=column_label(header, len(cells)))
    if any("\udc80" <= char <= "\udcff" for cell in cells for char in cell):
        return _unparsable(f"not valid {encoding} text (line {line_number})",
                           line.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    return {name: clean_text(cell) for name, cell in zip(header, cells, strict=True)}


def _iter_parquet(path: Path) -> Iterator[tuple[int, dict]]:
    return read_parquet_groups(path)


def read_parquet_groups(path: Path, row_groups: list[int] | None = None, first: int = 1) -> Iterator[tuple[int, dict]]:
    """The rows of a Parquet file (of some of its row groups: `row_groups`, the first row numbered `first`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        batches = pq.ParquetFile(path).iter_batches(batch_size=4096, row_groups=row_groups)
        number = first - 1
        for batch in batches:
            for row in batch.to_pylist():
                number += 1
                yield number, clean_value(row)
    except (pa.ArrowException, OSError) as error:
        reason = "empty file" if path.stat().st_size == 0 else type(error).__name__
        raise CmedinsError(f"{path}: not a readable Parquet file ({reason})") from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def row_error(row: dict) -> RowError | None:
    """The parse error iter_rows attached to a row it could not read as an object, if any."""
    return RowError(row["__error__"], field=row.get("__field__")) if "__error__" in row else None


def require_readable(row: dict, file: Path | str, number: int) -> dict:
    """The row itself, or a one-line CmedinsError naming file, row and why it could not be read (for commands
    that stop at a bad row instead of quarantining it)."""
    error = row_error(row)
    if error is not None:
        raise CmedinsError(error.at(str(file), number).describe())
    return row
