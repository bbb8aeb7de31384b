"""Row spools: rows written once to a private file and read back in the same order, compactly.

A spool is a zstd stream (pyarrow's codec; a standard `.zst` file) of pickled batches of rows. Pickle, because
a spool must hand back exactly the dicts that went in (key order, None versus a missing key, int versus float),
which a resumed build needs to stay byte-identical to a fresh one, and no Arrow schema can promise that for
every row kind and extra key; the files are the toolkit's own, private, and never read from anywhere else.
Batches, because one dump of 1,024 rows shares their repeated keys and costs less per row than one dump each.
Measured on a 22k-record synthetic build (bench/bench_spool.py): 2.7 KB per task row as one pickle per row,
about 0.18 KB as a spool, and no slower to write or read.

Not marshal, though marshal.loads alone is up to ~20% faster than pickle.loads on these rows (best of 5): it
writes any object with a buffer (a bytearray, a numpy scalar) silently as bytes, so every batch must first be
checked to hold only exact builtin types, and with the check it wrote 0.97-1.53 CPU-s where pickle wrote
0.52-0.87, and read no faster (1.30-1.74 against 1.10-2.00; 90k SFT rows, four alternating turns of
bench/bench_spool.py); its format is also one Python version's.
Not each batch compressed alone with pyarrow's Codec either: the same cost within noise, files 3% larger.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path

import numpy as np
import pyarrow as pa

CODEC = "zstd"
BATCH_ROWS = 1024


class BatchWriter:
    """Rows appended one by one, handed on `batch_rows` at a time (`_write_batch`); `close()` (or leaving the
    `with` block) hands on the last batch and ends the file (`_end`). The spools' one batching mechanism."""

    def __init__(self, path: Path, batch_rows: int = BATCH_ROWS):
        self.path = Path(path)
        self.rows = 0
        self._batch: list[dict] = []
        self._batch_rows = batch_rows
        self._closed = False

    def write(self, row: dict) -> None:
        self._batch.append(row)
        self.rows += 1
        if len(self._batch) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._write_batch(self._batch)
            self._batch = []

    def close(self) -> None:
        if not self._closed:
            self._flush()
            self._end()
            self._closed = True

    def _write_batch(self, batch: list[dict]) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SpoolWriter(BatchWriter):
    """A row spool: each batch one pickle in the zstd stream."""

    def __init__(self, path: Path, batch_rows: int = BATCH_ROWS):
        super().__init__(path, batch_rows)
        self._stream = pa.CompressedOutputStream(str(self.path), CODEC)

    def _write_batch(self, batch: list[dict]) -> None:
        pickle.dump(batch, self._stream, protocol=pickle.HIGHEST_PROTOCOL)

    def _end(self) -> None:
        self._stream.close()


def write_spool(path: Path, rows: Iterable[dict]) -> int:
    """Write every row of `rows` (a stage's output, run to its end) into a spool; returns the row count."""
    with SpoolWriter(path) as writer:
        for row in rows:
            writer.write(row)
    return writer.rows


def read_batches(path: Path) -> Iterator[list[dict]]:
    """The spool's rows, batch by batch, in the order they were written."""
    with pa.CompressedInputStream(pa.OSFile(str(path)), CODEC) as stream:
        while True:
            try:
                yield pickle.load(stream)
            except EOFError:
                return


def read_spool(path: Path) -> Iterator[dict]:
    """The spool's rows one by one, in the order they were written."""
    for batch in read_batches(path):
        yield from batch


def read_kept(path: Path, keep: np.ndarray) -> Iterator[dict]:
    """The spool's rows where `keep` (one bool per spooled row) is set, in order."""
    start = 0
    for batch in read_batches(path):
        flags = keep[start : start + len(batch)]
        start += len(batch)
        yield from batch if flags.all() else compress(batch, flags.tolist())


@dataclass
class KeptRows:
    """Rows that already lie in a spool: the spool's rows where `keep` is set (None: all of them). A checkpoint's
    rows (cmedins.runner.checkpoints), or a stage's output in a spool it wrote or read (dedup's: its input less
    the duplicates), which the runner then adopts as the stage's checkpoint instead of writing the rows once
    more. `shared`: the file belongs to a checkpoint (linked into the next one, not moved). An iterator over
    the rows, like any stage's output (taking rows reads the file, once)."""

    path: Path
    keep: np.ndarray | None = None
    shared: bool = False
    _reading: Iterator[dict] | None = field(default=None, init=False, repr=False)

    @property
    def rows(self) -> int:
        return int(np.count_nonzero(self.keep)) if self.keep is not None else sum(map(len, read_batches(self.path)))

    def __iter__(self) -> KeptRows:
        return self

    def __next__(self) -> dict:
        if self._reading is None:
            self._reading = read_spool(self.path) if self.keep is None else read_kept(self.path, self.keep)
        return next(self._reading)

    def within(self, keep: np.ndarray) -> KeptRows:
        """The same file, keeping of these rows only those where `keep` (one flag per row read) is set."""
        if self.keep is None:
            return KeptRows(self.path, keep, self.shared)
        full = np.zeros(len(self.keep), dtype=np.bool_)
        full[np.flatnonzero(self.keep)] = keep
        return KeptRows(self.path, full, self.shared)
