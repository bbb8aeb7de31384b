"""Benchmark the whole build on scaled synthetic corpora against the pyarrow I/O floor, in one run.

    .venv/bin/python bench/bench_build.py --records 5000,22000 [--stages full|no-deid] [--executors local,ray1,ray2]

For each size:
1. `cmedins sample` writes the corpus (cached under --work; not timed as part of the build).
2. The floor: pyarrow alone reads every input file and writes it back as Parquet, best of 3 (one run varied
   0.1-1.05 s on a shared machine, so a single measurement is no baseline).
3. `cmedins build` per executor in a child process: wall time, CPU time (user + system of the build and every
   process it started, sampled every 0.2 s, so up to 0.2 s per process is missed), peak summed RSS.
Reports the build/floor ratio, CPU-ms per input row (which must not grow with size) and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
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
EXECUTORS = {"local": [], "ray1": ["--executor", "ray", "--workers", "1"], "ray2": ["--executor", "ray", "--workers", "2"]}


def generate(corpus: Path, records: int, dialogues: int, seed: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records", str(records),
                    "--dialogues", str(dialogues), "--seed", str(seed)], check=True)
    return time.perf_counter() - start


def io_floor(corpus: Path, scratch: Path, repeats: int = 3) -> dict:
    """Read each input with pyarrow (JSON arrays through the json module, which pyarrow cannot read) and write
    it as Parquet: the least any build of the same data must do. Best (and worst) of `repeats`."""
    scratch.mkdir(parents=True, exist_ok=True)
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for name, file, _ in SOURCES:
            path = corpus / file
            if not path.exists():
                continue
            if path.suffix == ".jsonl":
                table = pajson.read_json(path)
            else:
                table = pa.Table.from_pylist(json.loads(path.read_text(encoding="utf-8")))
            pq.write_table(table, scratch / f"{name}.parquet")
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return {"best_s": min(walls), "worst_s": max(walls), "cpu_s": min(cpus)}


def build(corpus: Path, out: Path, stages: list, extra_args: list[str]) -> dict:
    recipe = {"name": "bench", "seed": 1, "output": str(out), "stages": stages,
              "sources": [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in SOURCES
                          if (corpus / f).exists()]}
    recipe_path = corpus / "bench.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cmedins.cli", "build", str(recipe_path), "--out", str(out), "-q",
                              *extra_args])
    peak, cpu = _watch_tree(child)
    wall = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"build failed with status {child.returncode}")
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss": peak, "rows": stats["rows"]}


def _watch_tree(child: subprocess.Popen) -> tuple[int, float]:
    """Peak summed RSS and total CPU seconds of the build and every process it started (de-identification and
    Ray workers; the build's own rusage would undercount both), sampled every 0.2 s."""
    import psutil

    process, peak, cpu_seen = psutil.Process(child.pid), 0, {}
    while child.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            rss = 0
            for member in tree:
                with member.oneshot():
                    rss += member.memory_info().rss
                    times = member.cpu_times()
                    cpu_seen[member.pid] = times.user + times.system
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    return peak, sum(cpu_seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default="5000,22000", help="comma-separated sizes (records)")
    parser.add_argument("--dialogues-per-record", type=float, default=20_000 / 220_000,
                        help="single- and as many multi-turn dialogues per record (the paper's mix by default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stages", choices=sorted(STAGES), default="full")
    parser.add_argument("--executors", default="local", help=f"comma-separated, of {', '.join(EXECUTORS)}")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cmedins-bench"))
    args = parser.parse_args()
    reports = []
    for records in (int(size) for size in args.records.split(",")):
        dialogues = max(1, round(records * args.dialogues_per_record))
        corpus = args.work / f"corpus-{records}-{dialogues}"
        generated = 0.0 if (corpus / "records.jsonl").exists() else generate(corpus, records, dialogues, args.seed)
        input_bytes = sum((corpus / f).stat().st_size for _, f, _ in SOURCES if (corpus / f).exists())
        floor = io_floor(corpus, args.work / "floor")
        for executor in args.executors.split(","):
            load_before = os.getloadavg()[0]
            stages = STAGES[args.stages]
            if executor.startswith("ray"):  # Ray runs one de-identifier per actor: no process pool inside it
                stages = [{"deid": {**stage["deid"], "workers": 1}} if "deid" in stage else stage for stage in stages]
            run = build(corpus, args.work / f"build-{records}-{args.stages}-{executor}", stages, EXECUTORS[executor])
            rows = run["rows"]
            report = {
                "records": records, "dialogues": dialogues, "stages": args.stages, "executor": executor,
                "input_rows": rows["input"], "input_mb": round(input_bytes / 1e6, 1), "kept_rows": rows["kept"],
                "generate_s": round(generated, 1), "floor_best_of_3_s": round(floor["best_s"], 3),
                "floor_worst_of_3_s": round(floor["worst_s"], 3), "floor_cpu_s": round(floor["cpu_s"], 3),
                "build_wall_s": round(run["wall_s"], 1), "build_cpu_s": round(run["cpu_s"], 1),
                "wall_over_floor": round(run["wall_s"] / floor["best_s"], 1),
                "cpu_over_floor_cpu": round(run["cpu_s"] / max(floor["cpu_s"], 1e-9), 1),
                "cpu_ms_per_input_row": round(1000 * run["cpu_s"] / rows["input"], 2),
                "peak_tree_rss_gb": round(run["peak_rss"] / 1e9, 2),
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cores": os.cpu_count(),
            }
            reports.append(report)
            print(json.dumps(report))
    for executor in args.executors.split(","):
        per_row = [r["cpu_ms_per_input_row"] for r in reports if r["executor"] == executor]
        if len(per_row) > 1:
            print(f"{executor}: CPU-ms per input row {per_row} across sizes {args.records} "
                  f"(largest / smallest size: {per_row[-1] / per_row[0]:.2f}x)")


if __name__ == "__main__":
    main()
