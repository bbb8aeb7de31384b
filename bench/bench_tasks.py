"""Benchmark the `tasks` stage against reading alone, on the synthetic record corpus.

    .venv/bin/python bench/bench_tasks.py --records 220000 [--work /tmp/cmedins-bench-tasks]

1. `cmedins sample` writes records.jsonl (structured) and records_text.jsonl (free text), not timed.
2. Baseline, in a child process: read both files and convert each row with its source format (the runner's
   read path: io.iter_rows + the `record` / `record_text` adapters).
3. The same plus the tasks stage, in another child process.
Reports rows/s, wall and CPU seconds, the tasks/baseline time ratio, the stage's own CPU-µs per record and
each child's peak RSS: the stage streams, so its peak should stay near the baseline's whatever the corpus size.
The children import cmedins as this process does: to compare two trees, run the bench with each tree's
PYTHONPATH in turn (on a shared machine, alternate the runs and compare CPU seconds, not wall time).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = (("records.jsonl", "record"), ("records_text.jsonl", "record_text"))


def measure(corpus: Path, with_tasks: bool) -> dict:
    """Run in a child process: one pass over the corpus, returning time, rows and peak RSS."""
    from cmedins.rowio.formats import FORMATS
    from cmedins.rowio.readers import iter_rows
    from cmedins.runner.ledger import Ledger
    from cmedins.runner.registry import load_plugins
    from cmedins.runner.stage import BuildContext

    load_plugins()

    def records():
        for file, fmt in FILES:
            adapter = FORMATS[fmt].adapter
            for number, row in iter_rows(corpus / file):
                yield {**adapter(row), "record_id": f"{fmt}:{number}", "source": fmt, "_file": file, "_row": number}

    start, cpu = time.perf_counter(), time.process_time()
    rows_in = rows_out = 0
    stream = records()
    if with_tasks:
        from cmedins.tasks.stage import TasksStage

        work = Path(tempfile.mkdtemp())
        ctx = BuildContext(seed=42, work_dir=work, ledger=Ledger(work / "q", work / "p"))
        stream = TasksStage({}, ctx).run(stream)
    for _ in stream:
        rows_out += 1
    seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    rows_in = sum(1 for file, _ in FILES for _ in (corpus / file).open(encoding="utf-8"))
    return {"seconds": seconds, "cpu_s": cpu_s, "rows_in": rows_in, "rows_out": rows_out,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(corpus: Path, with_tasks: bool) -> dict:
    command = [sys.executable, __file__, "--measure", str(corpus)] + (["--with-tasks"] if with_tasks else [])
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "cmedins-bench-tasks")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--with-tasks", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.with_tasks)))
        return
    corpus = args.work / f"corpus-{args.records}"
    if not (corpus / "records.jsonl").exists():
        subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records",
                        str(args.records), "--seed", str(args.seed)], check=True, capture_output=True)
    baseline = child(corpus, with_tasks=False)
    tasks = child(corpus, with_tasks=True)
    print(f"records: {baseline['rows_in']:,}   task rows: {tasks['rows_out']:,}")
    for name, result in (("read + adapt (baseline)", baseline), ("read + adapt + tasks", tasks)):
        print(f"{name:26s} {result['seconds']:7.1f} s  CPU {result['cpu_s']:7.1f} s  "
              f"{result['rows_in'] / result['seconds']:9,.0f} records/s  peak RSS {result['peak_rss_mb']:6.0f} MB")
    print(f"tasks/baseline time ratio: {tasks['seconds'] / baseline['seconds']:.2f}  "
          f"(tasks stage alone: {(tasks['seconds'] - baseline['seconds']) / tasks['rows_in'] * 1e6:.0f} µs/record, "
          f"{(tasks['cpu_s'] - baseline['cpu_s']) / tasks['rows_in'] * 1e6:.0f} CPU-µs/record)")


if __name__ == "__main__":
    main()
