"""Benchmark the whole build on scaled synthetic corpora against the pyarrow I/O floor, in one run.

    nice .venv/bin/python bench/bench_build.py --records 22000,220000 --stages full,no-deid \
        --executors local,ray1,ray2 [--ray-records 22000] [--extrapolate 2200000] [--json-out FILE]

For each size:
1. `cmedins sample` writes the corpus (cached under --work; not timed as part of the build).
2. The floor: pyarrow alone reads every input file and writes it back as Parquet, best of 3 (one run varied
   0.1-1.05 s on a shared machine, so a single measurement is no baseline), wall and CPU time.
3. `cmedins build --fresh` per recipe variant (`--stages`) and executor, in a child process, into an emptied
   folder: wall time; CPU time of the build and every process it started (the children's rusage, or the sum
   sampled every 0.2 s when that is larger: Ray's workers are not the build's children); peak summed RSS; peak
   temporary disk, i.e. the build's private folders (`.<name>.cmedins/`: partial build, checkpoints; and the
   finished build's `.work/`), sampled every 0.2 s, against the input files' size; wall time per stage.
Reports the build/floor ratios, CPU-ms per input row (which must not grow with size), and, between the two
largest sizes of each variant, what one more input row costs in CPU, peak RSS and temporary disk, with the
straight-line extrapolation to `--extrapolate` records.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
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
SAMPLE_EVERY_S = 0.2


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
    shutil.rmtree(scratch, ignore_errors=True)
    return {"best_s": min(walls), "worst_s": max(walls), "cpu_s": min(cpus)}


def private_folders(out: Path) -> list[Path]:
    """The build's temporary disk: the toolkit's folder beside it and the finished build's work folder."""
    return [out.parent / f".{out.name}.cmedins", out / ".work"]


def build(corpus: Path, out: Path, stages: list, extra_args: list[str], time_limit: float | None) -> dict:
    recipe = {"name": "bench", "seed": 1, "output": str(out), "stages": stages,
              "sources": [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in SOURCES
                          if (corpus / f).exists()],
              # no-deid measures the other stages on synthetic identities; a recipe without deid must say so
              **({} if any("deid" in stage for stage in stages) else {"sources_already_deidentified": True})}
    recipe_path = corpus / f"bench-{out.name}.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    for folder in (out, *private_folders(out)):  # a clean start: no earlier build, checkpoint or spool
        shutil.rmtree(folder, ignore_errors=True)
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "cmedins.cli", "build", str(recipe_path), "--out", str(out), "-q",
                              "--fresh", *extra_args], start_new_session=True)
    peak, sampled_cpu, disk, high_water = _watch_tree(child, private_folders(out),
                                                      start + time_limit if time_limit else None)
    wall = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped_cpu = (children.ru_utime - children_before.ru_utime) + (children.ru_stime - children_before.ru_stime)
    # Not ru_maxrss of the children: a child forked while this process held the floor's tables (9.9 GB at 2.2M
    # records) reports that as its own maximum (Linux copies the parent's RSS into the forked child's high-water
    # mark), so the 2.2M builds' "9.71 GB VmHWM" was the floor's memory, not the build's. VmHWM read from /proc.
    result = {"wall_s": wall, "cpu_s": max(reaped_cpu, sampled_cpu), "peak_rss": peak, "temp_disk": disk,
              "max_process_rss": high_water, "status": child.returncode}
    if child.returncode != 0:
        return result
    result["rows"] = json.loads((out / "stats.json").read_text(encoding="utf-8"))["rows"]
    timings = json.loads((out / "timings.json").read_text(encoding="utf-8"))
    result["stage_s"] = {step: figures.get("seconds") for step, figures in timings.items()}
    return result


def _folder_bytes(folders: list[Path]) -> int:
    total = 0
    for folder in folders:
        for root, _, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(OSError):  # renamed or removed while we looked
                    total += os.lstat(os.path.join(root, name)).st_size
    return total


def _watch_tree(child: subprocess.Popen, folders: list[Path],
                deadline: float | None) -> tuple[int, float, int, int]:
    """Peak summed RSS and CPU seconds of the build and every process it started (de-identification and Ray
    workers), the largest VmHWM any of them reported (read from /proc, so not from the parent: see build()), and
    the peak size of `folders`, sampled every 0.2 s. Past `deadline`, the build's process group is killed (the
    report then says so)."""
    import psutil

    process, peak, cpu_seen, disk, high_water = psutil.Process(child.pid), 0, {}, 0, 0
    while child.poll() is None:
        if deadline is not None and time.perf_counter() > deadline:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            break
        try:
            tree = [process, *process.children(recursive=True)]
            rss = 0
            for member in tree:
                with member.oneshot():
                    rss += member.memory_info().rss
                    times = member.cpu_times()
                    cpu_seen[member.pid] = times.user + times.system
                high_water = max(high_water, _vm_hwm(member.pid))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        disk = max(disk, _folder_bytes(folders))
        time.sleep(SAMPLE_EVERY_S)
    return peak, sum(cpu_seen.values()), disk, high_water


def _vm_hwm(pid: int) -> int:
    """The process's own high-water mark of resident memory (bytes), 0 when gone."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def report_of(records: int, dialogues: int, variant: str, executor: str, corpus_facts: dict, floor: dict,
              run: dict, load_before: float) -> dict:
    input_bytes = corpus_facts["input_bytes"]
    report = {
        "records": records, "dialogues": dialogues, "stages": variant, "executor": executor,
        "input_mb": round(input_bytes / 1e6, 1), "generate_s": round(corpus_facts["generate_s"], 1),
        "floor_best_of_3_s": round(floor["best_s"], 3), "floor_worst_of_3_s": round(floor["worst_s"], 3),
        "floor_cpu_s": round(floor["cpu_s"], 3),
        "build_wall_s": round(run["wall_s"], 1), "build_cpu_s": round(run["cpu_s"], 1),
        "wall_over_floor": round(run["wall_s"] / floor["best_s"], 1),
        "cpu_over_floor_cpu": round(run["cpu_s"] / max(floor["cpu_s"], 1e-9), 1),
        "peak_tree_rss_gb": round(run["peak_rss"] / 1e9, 2),
        "max_process_rss_gb": round(run["max_process_rss"] / 1e9, 2),
        "temp_disk_peak_mb": round(run["temp_disk"] / 1e6, 1),
        "temp_disk_over_input": round(run["temp_disk"] / input_bytes, 2),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)], "cores": os.cpu_count(),
    }
    if run["status"] != 0:
        report["failed"] = f"exit status {run['status']}" + (" (killed at the time limit)" if run["status"] < 0 else "")
        return report
    rows = run["rows"]
    report.update({"input_rows": rows["input"], "kept_rows": rows["kept"],
                   "cpu_ms_per_input_row": round(1000 * run["cpu_s"] / rows["input"], 2),
                   "stage_wall_s": run["stage_s"]})
    return report


def growth(reports: list[dict], extrapolate: int | None) -> list[str]:
    """Per variant and executor, between its two largest finished sizes: the cost of one more input row."""
    lines = []
    for key in sorted({(r["stages"], r["executor"]) for r in reports}):
        done = sorted((r for r in reports if (r["stages"], r["executor"]) == key and "failed" not in r),
                      key=lambda r: r["input_rows"])
        if len(done) < 2:
            continue
        small, large = done[-2], done[-1]
        rows = large["input_rows"] - small["input_rows"]
        cpu = (large["build_cpu_s"] - small["build_cpu_s"]) / rows
        rss = (large["peak_tree_rss_gb"] - small["peak_tree_rss_gb"]) * 1e9 / rows
        disk = (large["temp_disk_peak_mb"] - small["temp_disk_peak_mb"]) * 1e6 / rows
        line = (f"{key[0]} {key[1]}: CPU-ms per input row {[r['cpu_ms_per_input_row'] for r in done]} at "
                f"{[r['records'] for r in done]} records; per extra input row {1000 * cpu:.2f} CPU-ms, "
                f"{rss / 1e3:.2f} KB peak RSS, {disk / 1e3:.2f} KB temporary disk")
        if extrapolate:
            per_record = large["input_rows"] / large["records"]
            extra = extrapolate * per_record - large["input_rows"]
            line += (f"; straight line to {extrapolate:,} records ({extrapolate * per_record:,.0f} input rows): "
                     f"~{(large['build_cpu_s'] + extra * cpu) / 3600:.1f} CPU-h, "
                     f"~{large['peak_tree_rss_gb'] + extra * rss / 1e9:.1f} GB peak RSS, "
                     f"~{(large['temp_disk_peak_mb'] * 1e6 + extra * disk) / 1e9:.1f} GB temporary disk "
                     f"(input ~{large['input_mb'] * extrapolate / large['records'] / 1e3:.1f} GB)")
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default="5000,22000", help="comma-separated sizes (records)")
    parser.add_argument("--dialogues-per-record", type=float, default=20_000 / 220_000,
                        help="single- and as many multi-turn dialogues per record (the paper's mix by default)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stages", default="full", help=f"comma-separated recipe variants, of {', '.join(STAGES)}")
    parser.add_argument("--executors", default="local", help=f"comma-separated, of {', '.join(EXECUTORS)}")
    parser.add_argument("--ray-records", default=None,
                        help="sizes at which the Ray executors run (default: the smallest size only)")
    parser.add_argument("--time-limit", type=float, default=None, help="kill a build after this many seconds")
    parser.add_argument("--extrapolate", type=int, default=None, help="extrapolate the per-row growth to N records")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cmedins-bench"))
    parser.add_argument("--json-out", type=Path, default=None, help="also write every report to this JSON file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.records.split(",")]
    ray_sizes = {int(size) for size in args.ray_records.split(",")} if args.ray_records else {min(sizes)}
    reports = []
    for records in sizes:
        dialogues = max(1, round(records * args.dialogues_per_record))
        corpus = args.work / f"corpus-{records}-{dialogues}"
        generated = 0.0 if (corpus / "records.jsonl").exists() else generate(corpus, records, dialogues, args.seed)
        corpus_facts = {"generate_s": generated,
                        "input_bytes": sum((corpus / f).stat().st_size for _, f, _ in SOURCES if (corpus / f).exists())}
        floor = io_floor(corpus, args.work / "floor")
        for variant in args.stages.split(","):
            for executor in args.executors.split(","):
                if executor.startswith("ray") and records not in ray_sizes:
                    continue
                load_before = os.getloadavg()[0]
                stages = STAGES[variant]
                if executor.startswith("ray"):  # Ray runs one de-identifier per actor: no process pool inside it
                    stages = [{"deid": {**stage["deid"], "workers": 1}} if "deid" in stage else stage
                              for stage in stages]
                out = args.work / f"build-{records}-{variant}-{executor}"
                run = build(corpus, out, stages, EXECUTORS[executor], args.time_limit)
                report = report_of(records, dialogues, variant, executor, corpus_facts, floor, run, load_before)
                reports.append(report)
                print(json.dumps(report), flush=True)
                if args.json_out:
                    args.json_out.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")
    for line in growth(reports, args.extrapolate):
        print(line)


if __name__ == "__main__":
    main()
