"""How to store a stage's rows for resume: bytes on disk and CPU to write and read, per candidate format.

    .venv/bin/python bench/bench_spool.py BUILD_DIR [BUILD_DIR ...]

Reads the rows of each build's resume checkpoint (the latest one a finished build keeps: `.<name>.cmedins/
checkpoints/*/rows.pickle.zst`) and writes them again as:
- one pickle per row (the former checkpoint format, the baseline),
- the row spool (cmedins.rowio.spool: pickled batches of 1,024 rows in one zstd stream),
- JSON lines in batches, zstd-compressed,
- Arrow IPC and Parquet (zstd), with the schema pyarrow infers from the rows.
Each is read back and compared with the rows: a checkpoint must give back exactly the dicts that went in (key
order, a missing key versus None), or a resumed build would not be byte-identical to a fresh one.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from collections.abc import Callable
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


FORMATS = {"pickle per row (before)": per_row_pickle, "row spool (now)": row_spool, "JSONL + zstd": json_zstd,
           "Arrow IPC + zstd": arrow_ipc, "Parquet + zstd": parquet}


def exact(back: list[dict], rows: list[dict]) -> bool:
    return back == rows and all(list(a) == list(b) for a, b in zip(back, rows, strict=True))


def measure(build_dir: Path) -> None:
    found = sorted((build_dir.parent / f".{build_dir.name}.cmedins" / "checkpoints").glob("*/rows.pickle.zst"))
    if not found:
        raise SystemExit(f"{build_dir}: no finished checkpoint beside it (build it with this version first)")
    rows = list(read_spool(found[0]))
    kinds = sorted({str(row.get("kind")) for row in rows})
    print(f"{build_dir}: {len(rows):,} rows ({', '.join(kinds)}) from checkpoint {found[0].parent.name}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, write in FORMATS.items():
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
                continue
            size = path.stat().st_size
            print(f"  {name:24s} {size / 1e6:8.1f} MB ({size / len(rows):6.0f} B/row)  write {written:5.2f} CPU-s  "
                  f"read {read_s:5.2f} CPU-s  exact rows back: {exact(back, rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("builds", nargs="+", type=Path)
    for build_dir in parser.parse_args().builds:
        measure(build_dir)


if __name__ == "__main__":
    main()
