"""How to store a stage's rows for resume: bytes on disk and CPU to write and read, per candidate format.

    .venv/bin/python bench/bench_spool.py [--repeat N] BUILD_DIR [BUILD_DIR ...]

Reads the rows of each build's resume checkpoint (the latest one a finished build keeps: `.<name>.cmedins/
checkpoints/*/rows.pickle.zst`) and writes them again as:
- one pickle per row (the first checkpoint format, the baseline),
- the row spool (cmedins.rowio.spool: pickled batches of 1,024 rows in one zstd stream),
- the same batches each compressed alone with pyarrow's zstd Codec (bytes in, bytes out) instead of one stream,
- marshalled batches in one zstd stream, each batch's codec tagged: marshal where every object in it is of an
  exact builtin type marshal keeps, pickle otherwise (marshal writes a bytearray or numpy scalar silently as
  bytes, so the check is part of the cost); and the same without the check (unsafe: what the check costs),
- JSON lines in batches, zstd-compressed,
- Arrow IPC and Parquet (zstd), with the schema pyarrow infers from the rows.
Each is read back and compared with the rows: a checkpoint must give back exactly the dicts that went in (key
order, a missing key versus None), or a resumed build would not be byte-identical to a fresh one.
With --repeat N, the formats take turns N times (CPU seconds vary on a shared machine) and each figure is
printed as its range over the N turns.
"""

from __future__ import annotations

import argparse
import json
import marshal
import pickle
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from itertools import chain, compress
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmedins.rowio.spool import BATCH_ROWS, read_spool, write_spool  # noqa: E402


def _batches(rows: list[dict]) -> list[list[dict]]:
    return [rows[start:start + BATCH_ROWS] for start in range(0, len(rows), BATCH_ROWS)]


def per_row_pickle(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    with path.open("wb") as handle:
        for row in rows:
            pickle.dump(row, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def read() -> list[dict]:
        out = []
        with path.open("rb") as handle:
            while True:
                try:
                    out.append(pickle.load(handle))
                except EOFError:
                    return out
    return read


def row_spool(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    write_spool(path, rows)
    return lambda: list(read_spool(path))


_LENGTHS = struct.Struct("<QQ")  # raw and compressed bytes of one batch


def codec_batches(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    codec = pa.Codec("zstd")
    with path.open("wb") as handle:
        for batch in _batches(rows):
            raw = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            packed = codec.compress(raw, asbytes=True)
            handle.write(_LENGTHS.pack(len(raw), len(packed)))
            handle.write(packed)

    def read() -> list[dict]:
        out = []
        with path.open("rb") as handle:
            while head := handle.read(_LENGTHS.size):
                raw, packed = _LENGTHS.unpack(head)
                out.extend(pickle.loads(codec.decompress(handle.read(packed), decompressed_size=raw, asbytes=True)))
        return out
    return read


_SCALARS = frozenset({str, int, float, bool, type(None), bytes})
_CONTAINERS = frozenset({dict, list, tuple})
_FRAME = struct.Struct("<BQ")  # codec (1 marshal, 2 pickle), payload bytes


def marshal_keeps(batch: list, max_depth: int = 64) -> bool:
    """Whether every object in `batch` is of an exact type marshal writes and reads back unchanged; level by
    level, the per-object work in C (a per-object Python walk cost ~1/3 more)."""
    level: list = [batch]
    for _ in range(max_depth):
        dicts = [item for item in level if type(item) is dict]
        if dicts and not set(map(type, chain.from_iterable(dicts))) <= _SCALARS:
            return False
        values = list(chain.from_iterable(map(dict.values, dicts)))
        if len(dicts) < len(level):
            values.extend(chain.from_iterable(item for item in level if type(item) is not dict))
        kinds = set(map(type, values))
        if kinds <= _SCALARS:
            return True
        if not kinds <= _SCALARS | _CONTAINERS:
            return False
        level = list(compress(values, map(_CONTAINERS.__contains__, map(type, values))))
    return False


def _marshalled(check: Callable[[list], bool]) -> Callable[[list[dict], Path], Callable[[], list[dict]]]:
    def write(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
        with pa.CompressedOutputStream(str(path), "zstd") as stream:
            for batch in _batches(rows):
                codec, payload = (1, marshal.dumps(batch)) if check(batch) else \
                    (2, pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
                stream.write(_FRAME.pack(codec, len(payload)))
                stream.write(payload)
        return lambda: [row for batch in _read_marshalled(path) for row in batch]
    return write


def _read_marshalled(path: Path) -> Iterator[list[dict]]:
    with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
        while head := stream.read(_FRAME.size):
            codec, size = _FRAME.unpack(head)
            payload = stream.read(size)
            yield marshal.loads(payload) if codec == 1 else pickle.loads(payload)


def json_zstd(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    with pa.CompressedOutputStream(str(path), "zstd") as stream:
        for batch in _batches(rows):
            stream.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in batch).encode())

    def read() -> list[dict]:
        with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
            return [json.loads(line) for line in stream.read().decode().splitlines()]
    return read


def _tables(rows: list[dict]) -> tuple[pa.Schema, list[pa.Table]]:
    schema = pa.Table.from_pylist(rows).schema  # what one schema for the whole stage's rows would be
    return schema, [pa.Table.from_pylist(batch, schema=schema) for batch in _batches(rows)]


def arrow_ipc(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    schema, tables = _tables(rows)
    with ipc.new_file(path, schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        for table in tables:
            writer.write_table(table)
    return lambda: ipc.open_file(path).read_all().to_pylist()


def parquet(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    schema, tables = _tables(rows)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for table in tables:
            writer.write_table(table)
    return lambda: pq.read_table(path).to_pylist()


FORMATS = {"pickle per row (first)": per_row_pickle, "row spool (now)": row_spool,
           "pickled, Codec per batch": codec_batches, "marshalled, checked": _marshalled(marshal_keeps),
           "marshalled, unchecked": _marshalled(lambda batch: True), "JSONL + zstd": json_zstd,
           "Arrow IPC + zstd": arrow_ipc, "Parquet + zstd": parquet}


def exact(back: list[dict], rows: list[dict]) -> bool:
    return back == rows and all(list(a) == list(b) for a, b in zip(back, rows, strict=True))


def checkpoint_rows(build_dir: Path) -> tuple[Path, list[dict]]:
    found = sorted((build_dir.parent / f".{build_dir.name}.cmedins" / "checkpoints").glob("*/rows.pickle.zst"))
    if not found:
        raise SystemExit(f"{build_dir}: no finished checkpoint beside it (build it with this version first)")
    return found[0], list(read_spool(found[0]))


def measure(build_dir: Path, repeat: int) -> None:
    path, rows = checkpoint_rows(build_dir)
    kinds = sorted({str(row.get("kind")) for row in rows})
    print(f"{build_dir}: {len(rows):,} rows ({', '.join(kinds)}) from checkpoint {path.parent.name}")
    figures: dict[str, list[tuple[int, float, float, bool]] | None] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeat):
            for name, write in FORMATS.items():
                if figures.get(name) is None and name in figures:
                    continue  # cannot store these rows
                path = Path(scratch) / name.split()[0]
                try:
                    start = time.process_time()
                    read = write(rows, path)
                    written = time.process_time() - start
                    start = time.process_time()
                    back = read()
                    read_s = time.process_time() - start
                except (pa.ArrowException, TypeError, ValueError) as error:
                    print(f"  {name:24s} cannot store these rows: {type(error).__name__}: {str(error)[:100]}")
                    figures[name] = None
                    continue
                figures.setdefault(name, []).append((path.stat().st_size, written, read_s, exact(back, rows)))
                del back
    for name, runs in figures.items():
        if runs:
            size = runs[0][0]
            print(f"  {name:24s} {size / 1e6:8.1f} MB ({size / len(rows):6.0f} B/row)  "
                  f"write {_range([run[1] for run in runs])} CPU-s  read {_range([run[2] for run in runs])} CPU-s  "
                  f"exact rows back: {all(run[3] for run in runs)}")


def _range(values: list[float]) -> str:
    return f"{min(values):5.2f}" if len(values) == 1 else f"{min(values):5.2f}-{max(values):5.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builds", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=1, help="turns of every format, alternating")
    args = parser.parse_args()
    for build_dir in args.builds:
        measure(build_dir, args.repeat)


if __name__ == "__main__":
    main()
