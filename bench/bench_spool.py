"""How to store a stage's rows for resume: bytes on disk and CPU to write and read, per candidate format.

    .venv/bin/python bench/bench_spool.py [--repeat N] BUILD_DIR [BUILD_DIR ...]

Reads the rows of each build's resume checkpoint (the latest one a finished build keeps: `.<name>.cmedins/
checkpoints/*/rows.spool.zst`, or an older toolkit's `rows.pickle.zst`) and writes them again as:
- one pickle per row (the first checkpoint format, the baseline),
- pickled batches of 1,024 rows in one zstd stream (the row spool's first format),
- the row spool (cmedins.rowio.spool: each batch marshalled, or pickled where marshal would not keep it),
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

from cmedins.rowio.spool import BATCH_ROWS, SpoolFormatError, read_spool, write_spool  # noqa: E402


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


def pickled_batches(rows: list[dict], path: Path) -> Callable[[], list[dict]]:
    with pa.CompressedOutputStream(str(path), "zstd") as stream:
        for batch in _batches(rows):
            pickle.dump(batch, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return lambda: [row for batch in _read_pickled_batches(path) for row in batch]


def _read_pickled_batches(path: Path):
    with pa.CompressedInputStream(pa.OSFile(str(path)), "zstd") as stream:
        while True:
            try:
                yield pickle.load(stream)
            except EOFError:
                return


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


FORMATS = {"pickle per row (first)": per_row_pickle, "pickled batches (before)": pickled_batches,
           "row spool (now)": row_spool, "JSONL + zstd": json_zstd, "Arrow IPC + zstd": arrow_ipc,
           "Parquet + zstd": parquet}


def exact(back: list[dict], rows: list[dict]) -> bool:
    return back == rows and all(list(a) == list(b) for a, b in zip(back, rows, strict=True))


def checkpoint_rows(build_dir: Path) -> tuple[Path, list[dict]]:
    root = build_dir.parent / f".{build_dir.name}.cmedins" / "checkpoints"
    found = sorted([*root.glob("*/rows.spool.zst"), *root.glob("*/rows.pickle.zst")])
    if not found:
        raise SystemExit(f"{build_dir}: no finished checkpoint beside it (build it first)")
    try:
        return found[0], list(read_spool(found[0]))
    except SpoolFormatError:  # an older toolkit's checkpoint: a bare stream of pickled batches
        return found[0], [row for batch in _read_pickled_batches(found[0]) for row in batch]


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
