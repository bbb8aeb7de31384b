"""Row spools: rows written once to a private file and read back in the same order, compactly.

A spool is a zstd stream (pyarrow's codec; a standard `.zst` file) holding a header, then one frame per batch
of 1,024 rows: a codec byte, the payload's length, the payload. A spool must hand back exactly the dicts that
went in (key order, None versus a missing key, int versus float versus bool, tuple versus list), which a
resumed build needs to stay byte-identical to a fresh one, and no Arrow schema can promise that for every row
kind and extra key; the files are the toolkit's own, private, and never read from anywhere else. Batches,
because one dump of 1,024 rows shares their repeated keys and costs less per row than one dump each.

The codec is chosen per batch. marshal, when every object in the batch is of an exact builtin type it
keeps as it is (dict, list, tuple, str, int, float, bool, None, bytes): it reads ~15-40% faster than pickle.
Anything else goes to pickle: marshal refuses subclasses (a str subclass, an IntEnum) and unknown objects, and
worse, writes any object with a buffer (bytearray, a numpy scalar or array) silently as bytes, so the batch
is checked before marshal sees it, never trusted to fail. marshal's format belongs to one Python version:
the header names the interpreter and marshal's version, a spool from another one is refused
(SpoolFormatError), never misread, and checkpoint keys include the same tag
(cmedins.runner.checkpoints.chain_keys), so a resume under another Python starts fresh.
"""

from __future__ import annotations

import marshal
import pickle
import struct
import sys
from collections.abc import Iterable, Iterator
from itertools import chain, compress
from pathlib import Path

import pyarrow as pa

CODEC = "zstd"
BATCH_ROWS = 1024
FORMAT = 2  # 1: a bare stream of pickled batches (no header)
INTERPRETER = f"{sys.implementation.cache_tag} marshal {marshal.version}"  # e.g. "cpython-311 marshal 4"
MAGIC = b"cmedins row spool\n"
MARSHAL, PICKLE = 1, 2
_FRAME = struct.Struct("<BQ")  # codec, payload bytes
_MAX_DEPTH = 64  # deeper (or a cycle): pickle, which handles both

_SCALARS = frozenset({str, int, float, bool, type(None), bytes})
_CONTAINERS = frozenset({dict, list, tuple})
_KINDS = _SCALARS | _CONTAINERS
_is_container = _CONTAINERS.__contains__


class SpoolFormatError(ValueError):
    """The file is not a spool this interpreter wrote with this format (another Python, an older toolkit)."""


def header() -> bytes:
    """What a spool starts with: the format and the interpreter that wrote it."""
    tag = f"{FORMAT} {INTERPRETER}".encode()
    return MAGIC + struct.pack("<H", len(tag)) + tag


class SpoolWriter:
    """Append rows; `close()` (or leaving the `with` block) writes the last batch and ends the stream."""

    def __init__(self, path: Path, batch_rows: int = BATCH_ROWS):
        self.path = Path(path)
        self.rows = 0
        self._batch: list[dict] = []
        self._batch_rows = batch_rows
        self._stream = pa.CompressedOutputStream(str(self.path), CODEC)
        self._stream.write(header())

    def write(self, row: dict) -> None:
        self._batch.append(row)
        self.rows += 1
        if len(self._batch) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            codec, payload = encode(self._batch)
            self._stream.write(_FRAME.pack(codec, len(payload)))
            self._stream.write(payload)
            self._batch = []

    def close(self) -> None:
        if not self._stream.closed:
            self._flush()
            self._stream.close()

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def encode(batch: list) -> tuple[int, bytes]:
    """One batch as (codec, payload): marshal when it keeps every object as it is, else pickle."""
    if marshal_keeps(batch):
        try:
            return MARSHAL, marshal.dumps(batch)
        except ValueError:  # e.g. a string over 2 GiB, or nesting past marshal's own limit
            pass
    return PICKLE, pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)


def marshal_keeps(batch: list) -> bool:
    """Whether every object in `batch` is of an exact type marshal writes and reads back unchanged. Level by
    level, with the per-object work in C (map, set, compress): a per-object Python walk cost ~1/3 more."""
    level: list = [batch]
    for _ in range(_MAX_DEPTH):
        dicts = [item for item in level if type(item) is dict]
        if dicts and not set(map(type, chain.from_iterable(dicts))) <= _SCALARS:  # keys
            return False
        values = list(chain.from_iterable(map(dict.values, dicts)))
        if len(dicts) < len(level):
            values.extend(chain.from_iterable(item for item in level if type(item) is not dict))
        kinds = set(map(type, values))
        if kinds <= _SCALARS:
            return True
        if not kinds <= _KINDS:
            return False
        level = list(compress(values, map(_is_container, map(type, values))))
    return False


def write_spool(path: Path, rows: Iterable[dict]) -> int:
    """Write every row of `rows` (a stage's output, run to its end) into a spool; returns the row count."""
    with SpoolWriter(path) as writer:
        for row in rows:
            writer.write(row)
    return writer.rows


def read_frames(path: Path) -> Iterator[tuple[int, bytes]]:
    """The spool's batches as (codec, payload), after checking the header."""
    with pa.CompressedInputStream(pa.OSFile(str(path)), CODEC) as stream:
        found = stream.read(len(MAGIC) + 2)
        tag = stream.read(struct.unpack("<H", found[-2:])[0]) if found[:len(MAGIC)] == MAGIC else b""
        if found + tag != header():
            written = f"written by {tag.decode(errors='replace')}" if tag else "no spool header: an older spool?"
            raise SpoolFormatError(f"{path}: not a row spool of this format and interpreter ({written}; this one "
                                   f"is {FORMAT} {INTERPRETER}): a spool is read only by the Python that wrote it")
        while head := stream.read(_FRAME.size):
            codec, size = _FRAME.unpack(head) if len(head) == _FRAME.size else (0, 0)
            payload = stream.read(size)
            if codec not in (MARSHAL, PICKLE) or len(payload) != size:
                raise SpoolFormatError(f"{path}: damaged or truncated frame")
            yield codec, payload


def read_batches(path: Path) -> Iterator[list[dict]]:
    """The spool's rows, batch by batch, in the order they were written."""
    for codec, payload in read_frames(path):
        yield marshal.loads(payload) if codec == MARSHAL else pickle.loads(payload)


def read_spool(path: Path) -> Iterator[dict]:
    """The spool's rows one by one, in the order they were written."""
    for batch in read_batches(path):
        yield from batch

