"""Benchmark the whole build on a scaled synthetic corpus against the pyarrow I/O floor.

    .venv/bin/python bench/bench_build.py --records 220000 [--stages full|no-deid] [--work /tmp/cmedins-bench]

1. `cmedins sample` writes the corpus (not timed as part of the build).
2. The floor: pyarrow alone reads every input file and writes it back as Parquet (same machine, same run).
3. `cmedins build` runs in a child process; wall time and the peak summed RSS of it and its workers.
Reports rows/s and the build/floor ratio (the target is <= 10x and peak RSS < 4 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq
import yaml

STAGES = {
    "full": [{"deid": {"operator": "placeholder", "dates": "year", "workers": 2}}, {"tasks": {}}, {"dialogues": {}},
             {"dedup": {}}, {"validate": {}}],
    "no-deid": [{"tasks": {}}, {"dialogues": {}}, {"dedup": {}}, {"validate": {}}],
}
SOURCES = [("records", "records.jsonl", "record"), ("records_text", "records_text.jsonl", "record_text"),
           ("chatmed", "chatmed.jsonl", "chatmed"), ("cmtmedqa", "cmtmedqa.json", "cmtmedqa"),
           ("general", "general_alpaca.json", "alpaca")]


def generate(corpus: Path, records: int, dialogues: int, seed: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records", str(records),
                    "--dialogues", str(dialogues), "--seed", str(seed)], check=True)
    return time.perf_counter() - start


def io_floor(corpus: Path, scratch: Path) -> tuple[float, int]:
    """Read each input with pyarrow (JSON arrays through the json module, which pyarrow cannot read) and write
    it as Parquet: the least any build of the same data must do."""
    scratch.mkdir(parents=True, exist_ok=True)
    start, total = time.perf_counter(), 0
    for name, file, _ in SOURCES:
        path = corpus / file
        if not path.exists():
            continue
        if path.suffix == ".jsonl":
            table = pajson.read_json(path)
        else:
            table = pa.Table.from_pylist(json.loads(path.read_text(encoding="utf-8")))
        pq.write_table(table, scratch / f"{name}.parquet")
        total += table.num_rows
    return time.perf_counter() - start, total


def build(corpus: Path, out: Path, stages: list) -> tuple[float, int, dict]:
    recipe = {"name": "bench", "seed": 1, "output": str(out), "stages": stages,
              "sources": [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in SOURCES
                          if (corpus / f).exists()]}
    recipe_path = corpus / "bench.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cmedins.cli", "build", str(recipe_path), "--out", str(out), "-q"])
    peak = _peak_tree_rss(child)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"build failed with status {child.returncode}")
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    return wall, peak, stats


def _peak_tree_rss(child: subprocess.Popen) -> int:
    """Peak of the summed RSS of the build and its worker processes (de-identification runs in workers, so
    the build's own ru_maxrss would undercount), sampled every 0.2 s."""
    import psutil

    process, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=220_000)
    parser.add_argument("--dialogues", type=int, default=20_000, help="single- and as many multi-turn dialogues")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stages", choices=sorted(STAGES), default="full")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cmedins-bench"))
    args = parser.parse_args()
    corpus = args.work / f"corpus-{args.records}-{args.dialogues}"
    generated = 0.0 if (corpus / "records.jsonl").exists() else generate(corpus, args.records, args.dialogues, args.seed)
    input_bytes = sum((corpus / f).stat().st_size for _, f, _ in SOURCES if (corpus / f).exists())
    floor, floor_rows = io_floor(corpus, args.work / "floor")
    wall, rss, stats = build(corpus, args.work / f"build-{args.stages}", STAGES[args.stages])
    rows = stats["rows"]
    report = {
        "records": args.records, "stages": args.stages, "input_rows": rows["input"], "input_mb": round(input_bytes / 1e6, 1),
        "kept_rows": rows["kept"], "generate_s": round(generated, 1), "io_floor_s": round(floor, 2),
        "build_s": round(wall, 1), "build_over_floor": round(wall / floor, 1),
        "input_rows_per_s": round(rows["input"] / wall), "kept_rows_per_s": round(rows["kept"] / wall),
        "peak_tree_rss_gb": round(rss / 1e9, 2), "self_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
