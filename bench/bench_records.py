"""Benchmark record parsing and conversion against the parser as it was (tests/support/records_reference.py), in
one process, alternating, on the synthetic corpus of `cmedins sample`.

    nice .venv/bin/python bench/bench_records.py --records 66000 --sizes 3300,33000 [--rounds 3] [--work DIR]

The corpus (`--records` records, half free text, seed 3) is generated under --work when missing. For each size
(rows taken from the front of records_text.jsonl and records.jsonl) and round, the reference and the package
each parse every free text (parse_record_text) and convert every row (text_record, structured_record), in
alternating order; CPU seconds per pass, best and worst of the rounds, and the speed-up of the best. Every
output is compared with the reference's: a difference stops the bench.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support, beside the package it imports

from cmedins.records import formats, parser  # noqa: E402
from cmedins.rowio.readers import iter_rows  # noqa: E402
from tests.support import records_reference as reference  # noqa: E402


def corpus(work: Path, records: int) -> Path:
    folder = work / f"records-{records}"
    if not (folder / "records_text.jsonl").exists():
        subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(folder), "--records", str(records),
                        "--dialogues", "0", "--seed", "3"], check=True)
    return folder


def cpu(function, items: list) -> tuple[float, list]:
    start = time.process_time()
    out = [function(item) for item in items]
    return time.process_time() - start, out


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--records", type=int, default=66000)
    args.add_argument("--sizes", default="3300,33000", help="rows per format, comma-separated")
    args.add_argument("--rounds", type=int, default=3)
    args.add_argument("--work", type=Path, default=Path("/tmp/cmedins-bench-records"))
    options = args.parse_args()
    folder = corpus(options.work, options.records)
    text_rows = [row for _, row in iter_rows(folder / "records_text.jsonl")]
    rows = [row for _, row in iter_rows(folder / "records.jsonl")]
    passes = {
        "parse_record_text": (reference.parse_record_text, parser.parse_record_text, "text"),
        "text_record": (reference.text_record, formats.text_record, None),
        "structured_record": (reference.structured_record, formats.structured_record, None),
    }
    for size in (int(part) for part in options.sizes.split(",")):
        for name, (before, after, column) in passes.items():
            source = rows if name == "structured_record" else text_rows
            items = [row[column] for row in source[:size]] if column else source[:size]
            times: dict[str, list[float]] = {"main": [], "tree": []}
            for round_ in range(options.rounds):
                order = [("main", before), ("tree", after)]
                for label, function in order if round_ % 2 == 0 else order[::-1]:
                    seconds, out = cpu(function, items)
                    times[label].append(seconds)
                    if label == "main":
                        expected = out
                    else:
                        produced = out
                if produced != expected:
                    raise SystemExit(f"{name}: the package's output differs from the reference's at size {size}")
            print(json.dumps({
                "pass": name, "rows": len(items),
                "main_cpu_s": [round(min(times["main"]), 3), round(max(times["main"]), 3)],
                "tree_cpu_s": [round(min(times["tree"]), 3), round(max(times["tree"]), 3)],
                "us_per_row": [round(1e6 * min(times["main"]) / len(items), 1),
                               round(1e6 * min(times["tree"]) / len(items), 1)],
                "speedup_best": round(min(times["main"]) / min(times["tree"]), 2),
            }, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
