"""Row-local stages on Ray two ways, on the same input in one run: the executor's actor pool (the driver sends
chunks of pickled rows to N actors, cmedins.runner.executors.ray_executor) against Ray Data `map_batches` over
pyarrow batches (one Arrow row per input row, its pickle in a binary column; an actor pool of N via
`concurrency=N`, so presidio and jieba load once per actor; `preserve_order` so rows come back in order).

    nice .venv/bin/python bench/bench_ray_stages.py --records 1000,4000 --workers 2 [--stage deid] [--json-out F]

Both run the same stage class on the same chunks through the same per-chunk code (`_StageWorker.run_rows`) and
must give the same rows, counts, figures and files; only the way rows travel and actors are fed differs.
Also the sources read serially (the local executor) against Ray's parallel read by parts (same rows).
Reports per mechanism and size: wall s, rows/s, CPU s of the driver and every Ray process (sampled every
0.2 s), peak summed RSS. Rows are not typed Arrow columns: the stream mixes records and conversations whose
nested fields differ, and an Arrow struct would add every missing key as a null (rows would no longer be
byte-identical to a local build's), so a row travels as its pickle in either mechanism.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCES = [("records", "records.jsonl", "record"), ("records_text", "records_text.jsonl", "record_text"),
           ("chatmed", "chatmed.jsonl", "chatmed"), ("cmtmedqa", "cmtmedqa.json", "cmtmedqa"),
           ("general", "general_alpaca.json", "alpaca")]
STAGE_PARAMS = {"deid": {"operator": "placeholder", "dates": "year", "workers": 1}, "tasks": {}}


class Watch:
    """CPU seconds and peak summed RSS of this process and all its descendants (Ray's GCS, raylet, workers)."""

    def __init__(self) -> None:
        self.cpu: dict[int, float] = {}
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        rss = 0
        for member in [me, *me.children(recursive=True)]:
            try:
                with member.oneshot():
                    rss += member.memory_info().rss
                    times = member.cpu_times()
                    self.cpu[member.pid] = times.user + times.system
            except psutil.Error:
                continue
        self.peak = max(self.peak, rss)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> Watch:
        self._sample()
        self.start_cpu = sum(self.cpu.values())
        self.peak = 0
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.cpu_s = sum(self.cpu.values()) - self.start_cpu


def input_rows(records: int, work: Path, reader=None) -> tuple[list[dict], Path]:
    """The rows a build's first stage gets: the generated corpus read by the runner's own reader (serially,
    or by `reader`: the Ray executor's parallel one)."""
    from cmedins.runner.build import read_sources
    from cmedins.runner.ledger import Ledger
    from cmedins.runner.recipe import load_recipe
    from cmedins.runner.registry import load_plugins
    from cmedins.runner.stage import BuildContext
    from cmedins.sft.build import _convert

    corpus = work / f"corpus-{records}"
    if not (corpus / "records.jsonl").exists():
        subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records",
                        str(records), "--dialogues", str(max(1, records // 10)), "--general", str(max(10, records // 20)),
                        "--seed", "7"], check=True,
                       capture_output=True)
    recipe = work / f"recipe-{records}.yaml"
    sources = [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in SOURCES]
    recipe.write_text(json.dumps({"name": "bench", "seed": 1, "output": "out", "sources": sources,
                                  "stages": [{"validate": {}}], "sources_already_deidentified": True}),
                      encoding="utf-8")
    load_plugins()
    loaded, _, _ = load_recipe(recipe)
    ledger = Ledger(work / "q", work / "p")
    ctx = BuildContext(seed=1, work_dir=work / "w", ledger=ledger, recipe_dir=work)
    rows = list(read_sources(loaded, ctx, {}, _convert, reader=reader))
    ledger.close()
    return rows, work


def on_actor_pool(rows: list[dict], stage_name: str, workers: int, chunk_rows: int, scratch: Path) -> dict:
    from cmedins.runner.executors.ray_executor import RayExecutor

    stage, ledger, ctx = _stage(stage_name, scratch)
    out = list(RayExecutor(workers=workers, chunk_rows=chunk_rows).run_stage(ledger, stage_name, stage, iter(rows), ctx))
    return _outcome(out, ledger, ctx, scratch)


class StageBatches:
    """The map_batches UDF (an actor: constructed once, so engines load once): one batch of pickled rows in,
    its rows out, then one `meta` row with the chunk's counts, figures and files."""

    def __init__(self, specs: list, seed: int, recipe_dir: str):
        from cmedins.runner.executors.ray_executor import _StageWorker

        self.worker = _StageWorker(specs, seed, recipe_dir)

    def __call__(self, batch: pa.Table) -> pa.Table:
        rows = [pickle.loads(blob) for blob in batch.column("row").to_pylist()]
        result = self.worker.run_rows(rows)
        out = [pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL) for row in result.pop("rows", [])]
        meta = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        return pa.table({"row": pa.array([*out, None], pa.binary()), "meta": pa.array([None] * len(out) + [meta],
                                                                                       pa.binary())})


def on_ray_data(rows: list[dict], stage_name: str, workers: int, chunk_rows: int, scratch: Path) -> dict:
    import ray

    from cmedins.runner.executors.ray_executor import _Merged

    stage, ledger, ctx = _stage(stage_name, scratch)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    blobs = [pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL) for row in rows]
    blocks = [pa.table({"row": pa.array(blobs[at:at + chunk_rows], pa.binary())})
              for at in range(0, len(blobs), chunk_rows)]
    specs = [(stage_name, type(stage), stage.params)]
    dataset = ray.data.from_arrow(blocks).map_batches(
        StageBatches, fn_constructor_args=(specs, ctx.seed, str(ctx.recipe_dir)), batch_size=chunk_rows,
        batch_format="pyarrow", concurrency=workers, num_cpus=1)
    roots = {"quarantine": ledger.quarantine_dir, "private": ledger.private_dir, "build": ctx.build_dir}
    merged, out, chunk = _Merged(), [], []
    ledger.stage(stage_name)
    for batch in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
        for blob, meta in zip(batch.column("row").to_pylist(), batch.column("meta").to_pylist(), strict=True):
            if meta is None:
                chunk.append(pickle.loads(blob))
                continue
            out.extend(merged.absorb({**pickle.loads(meta), "rows": chunk}, ledger, roots))
            chunk = []
    ctx.reports.update(merged.reports)
    return _outcome(out, ledger, ctx, scratch)


def _stage(name: str, scratch: Path):
    from cmedins.runner.ledger import Ledger
    from cmedins.runner.stage import STAGES, BuildContext

    ledger = Ledger(scratch / "quarantine", scratch / "private")
    ctx = BuildContext(seed=1, work_dir=scratch / "build" / ".work", ledger=ledger, recipe_dir=scratch)
    ctx.work_dir.mkdir(parents=True)
    stage = STAGES[name](STAGE_PARAMS[name], ctx)
    stage.name = name
    return stage, ledger, ctx


def _outcome(out: list[dict], ledger, ctx, scratch: Path) -> dict:
    ledger.close()
    files = {str(path.relative_to(scratch)): path.read_bytes() for path in sorted(scratch.rglob("*")) if path.is_file()}
    return {"rows": out, "counts": {key: vars(counts) for key, counts in ledger.stages.items()},
            "reports": dict(ctx.reports),
            "files": files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", default="1000,4000", help="comma-separated sizes (records)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=500)
    parser.add_argument("--stage", default="deid", choices=[*sorted(STAGE_PARAMS), "read"],
                        help="the row-local stage to compare (read: only the two readers)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/cmedins-bench-ray-stages"))
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    import ray

    from cmedins.runner.executors.ray_executor import RayExecutor

    os.environ.setdefault("PYTHONPATH", str(ROOT))
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.environ["PYTHONPATH"]}})
    reports = []
    for size_number, records in enumerate(int(size) for size in args.records.split(",")):
        args.work.mkdir(parents=True, exist_ok=True)
        rows, _ = input_rows(records, args.work)
        read_rows = {}
        for name, reader in (("read_serial", None), ("read_ray", RayExecutor(workers=args.workers).read_sources)):
            with Watch() as watch:
                started = time.perf_counter()
                read_rows[name], _ = input_rows(records, args.work, reader)
                wall = time.perf_counter() - started
            report = {"mechanism": name, "stage": "read", "records": records, "rows_out": len(rows),
                      "workers": args.workers, "wall_s": round(wall, 2), "rows_per_s": round(len(rows) / wall, 1),
                      "cpu_s": round(watch.cpu_s, 1), "peak_rss_gb": round(watch.peak / 1e9, 2),
                      "load_average_1m": round(os.getloadavg()[0], 2)}
            reports.append(report)
            print(json.dumps(report), flush=True)
        if read_rows["read_serial"] != read_rows["read_ray"]:
            raise SystemExit("the two readers disagree")
        if args.stage == "read":
            continue
        results = {}
        mechanisms = [("actor_pool", on_actor_pool), ("ray_data", on_ray_data)]
        for name, run in mechanisms[::-1] if size_number % 2 else mechanisms:  # neither always goes first
            with tempfile.TemporaryDirectory(dir=args.work) as scratch, Watch() as watch:
                started = time.perf_counter()
                results[name] = run(rows, args.stage, args.workers, args.chunk_rows, Path(scratch))
                wall = time.perf_counter() - started
            report = {"mechanism": name, "stage": args.stage, "records": records, "rows_in": len(rows),
                      "workers": args.workers, "chunk_rows": args.chunk_rows, "wall_s": round(wall, 2),
                      "rows_per_s": round(len(rows) / wall, 1), "cpu_s": round(watch.cpu_s, 1),
                      "peak_rss_gb": round(watch.peak / 1e9, 2), "load_average_1m": round(os.getloadavg()[0], 2)}
            reports.append(report)
            print(json.dumps(report), flush=True)
        same = results["actor_pool"] == results["ray_data"]
        print(json.dumps({"records": records, "same_rows_counts_figures_files": same}), flush=True)
        if not same:
            raise SystemExit("the two mechanisms disagree")
    ray.shutdown()
    if args.json_out:
        args.json_out.write_text(json.dumps(reports, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
