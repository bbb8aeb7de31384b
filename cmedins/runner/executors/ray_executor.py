"""The Ray executor: sources read by Ray tasks, row-local stages on a pool of Ray actors, every other stage on
the driver.

The sources are read in parts (JSON Lines byte ranges, Parquet row groups, other files whole) by a pool of Ray reader actors,
taken back in order (cmedins.runner.executors.ray_sources); the driver counts and quarantines every row as
the local reader does (cmedins.runner.build.read_sources).

The runner runs a plan stage by stage (each to the end, into a checkpoint). A stage in ROW_LOCAL (its output
for a row depends on that row alone: deid, tasks, dialogues) runs on Ray: the driver cuts the stage's input
into chunks of `chunk_rows` rows; each chunk goes to one of `workers` Ray actors, which runs the same stage
class with the same parameters through the runner's own `run_stages`, in a private scratch folder, and sends
back the rows out, its ledger counts, its figures and every file it wrote (quarantine, audit). An actor lives
for the whole stage, so it imports presidio/jieba once; at most 2 chunks per actor are in flight, so memory
stays bounded, and results are taken back in input order. The driver adds the counts into the build's ledger,
merges the chunks' reports by the stage's own report model (`Report.merge`: counts add, settings must agree),
appends the files in chunk order and yields the rows. Other stages run on the driver exactly as in a local build; those with batch
functions of their own (dedup: signing, shard map and reduce; decontaminate: matching) run them as Ray tasks
(ray_tasks.py).

So rows, their order, the ledger, quarantine, audit, stats and manifest equal a local build's, and the data
files are byte-identical (tests/test_ray_executor.py).

Storage (`shuffle`, `--shuffle`): "files" expects every node to see the sources and the work folder at the
same paths (checked on a cluster of several nodes; a node that does not stops the build), readers spread
over the cluster and dedup's shards go through shard files in the work folder. "objects" expects no shared
storage: the reader actors run on the driver's node and dedup's shards go through Ray's object store
(ray_shuffle.py), so nothing off the driver's node opens a build file. "auto" (the default) is "files" on one
node, and on several asks the nodes (ray_storage): readers spread when every node sees the sources, else
stay on the driver's node; dedup uses shard files when every node sees the work folder, else the object store.

Rows (and the raw rows the reader and the de-identification stage quarantine) travel through Ray's object
store between the driver, the reading tasks and the actors: on a cluster, keep all nodes inside the private
network the data may be in.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from cmedins.contracts.reports import ReportMergeError, merge_all
from cmedins.errors import CmedinsError
from cmedins.runner.executors.ray_sources import DEFAULT_PART_BYTES, read_on_ray
from cmedins.runner.executors.ray_storage import compute_nodes, files_problem, folder_problem
from cmedins.runner.executors.ray_tasks import SHUFFLES, attach_task_map, init_ray
from cmedins.runner.ledger import Ledger, StageCounts
from cmedins.runner.report import StageReport
from cmedins.runner.stage import BuildContext, Stage

# Stages whose output for a row depends on that row alone (and the seed): safe to run on any chunk.
ROW_LOCAL = frozenset({"deid", "tasks", "dialogues"})
DEFAULT_CHUNK_ROWS = 2000
_IN_FLIGHT_PER_WORKER = 2
# Where an actor's files go on the driver: the ledger's public and private quarantine folders, the build folder.
_ROOTS = ("quarantine", "private", "build")


class RayExecutor:
    def __init__(self, *, address: str | None = None, workers: int | None = None, chunk_rows: int | None = None,
                 part_bytes: int | None = None, shuffle: str = "auto"):
        if workers is not None and workers < 1:
            raise CmedinsError(f"--workers must be at least 1, got {workers}")
        if shuffle not in ("auto", *SHUFFLES):
            raise CmedinsError(f"--shuffle must be one of auto, {', '.join(SHUFFLES)}; got '{shuffle}'")
        self.shuffle = shuffle
        self.address = address
        self.workers = workers
        self.chunk_rows = chunk_rows or DEFAULT_CHUNK_ROWS
        self.part_bytes = part_bytes or DEFAULT_PART_BYTES

    def read_sources(self, jobs: list, convert: Callable) -> list[Iterator[tuple]]:
        """The sources read by parts on `workers` (default: the cluster's CPUs) reader actors
        (cmedins.runner.executors.ray_sources), twice as many parts in flight."""
        ray = self._ray()
        # Reader actors open the files where they run: spread over the cluster only if every node sees them.
        on_driver_node = self.shuffle == "objects"
        if self.shuffle != "objects":
            problem = files_problem(ray, {f"source '{source.name}'": path for source, _, path in jobs})
            if problem and self.shuffle == "files":
                raise CmedinsError(problem)
            on_driver_node = problem is not None
        workers = self._workers(ray)
        return read_on_ray(ray, jobs, convert, readers=workers, window=_IN_FLIGHT_PER_WORKER * workers,
                           part_bytes=self.part_bytes, on_driver_node=on_driver_node)

    def _ray(self):
        return init_ray(self.address)

    def _workers(self, ray) -> int:
        return self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def run_stage(self, ledger: Ledger, key: str, stage: Stage, rows: Iterator[dict],
                  ctx: BuildContext) -> Iterator[dict]:
        """What `stage` yields from `rows`, counted into `ledger` under `key`: on the actor pool for a row-local
        stage, else here, exactly as the local runner does."""
        from cmedins.runner.build import run_stages

        if type(stage).name not in ROW_LOCAL:
            # A stage with batch functions of its own (dedup, decontaminate) runs them as Ray tasks (ray_tasks)
            shuffle = self._shuffle_for(ctx) if getattr(stage, "tasks_share_files", False) else "files"
            attach_task_map(stage, self.address, self.workers, shuffle)
            return run_stages(ledger, rows, [(key, stage)])
        ledger.stage(key)
        return self._on_actors(ledger, rows, [(key, stage)], ctx)

    def _shuffle_for(self, ctx: BuildContext) -> str:
        """How the shards of a stage whose tasks would share the work folder move: "files" when every node sees
        it (refused under --shuffle files when one does not), else "objects"."""
        if self.shuffle == "objects":
            return "objects"
        ray = self._ray()
        if len(compute_nodes(ray)) < 2:
            return "files"  # one machine is its own shared storage
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
        problem = folder_problem(ray, ctx.work_dir, "the build's work folder")
        if problem and self.shuffle == "files":
            raise CmedinsError(problem)
        return "objects" if problem else "files"

    def _on_actors(self, ledger: Ledger, rows: Iterator[dict], stages: list[tuple[str, Stage]],
                   ctx: BuildContext) -> Iterator[dict]:
        ray = self._ray()
        workers = self._workers(ray)
        specs = [(key, type(stage), stage.params) for key, stage in stages]
        actor = ray.remote(num_cpus=1)(_StageWorker)
        pool = [actor.remote(specs, ctx.seed, str(ctx.recipe_dir)) for _ in range(workers)]
        roots = {"quarantine": ledger.quarantine_dir, "private": ledger.private_dir, "build": ctx.build_dir}
        merged = _Merged()
        pending: deque = deque()
        chunks = iter(lambda: list(islice(rows, self.chunk_rows)), [])
        sent = 0
        try:
            for chunk in chunks:
                pending.append(pool[sent % workers].run.remote(pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL)))
                sent += 1
                if len(pending) >= _IN_FLIGHT_PER_WORKER * workers:
                    yield from merged.absorb(ray.get(pending.popleft()), ledger, roots)
            if not sent:  # no rows at all: the stages' empty figures and files, as a local build has them
                yield from merged.absorb(ray.get(pool[0].run.remote(pickle.dumps([]))), ledger, roots)
            while pending:
                yield from merged.absorb(ray.get(pending.popleft()), ledger, roots)
        finally:
            for handle in pool:  # they hold a CPU each: free them for the next stage
                ray.kill(handle)
        ctx.reports.update(merged.reports)


class _StageWorker:
    """A Ray actor: runs its stage(s) over one chunk of rows at a time in a scratch folder."""

    def __init__(self, specs: list[tuple[str, type[Stage], dict[str, Any]]], seed: int, recipe_dir: str):
        from cmedins.deid.pool import run_in_this_process, without_model_packages
        from cmedins.runner.collector import collect_for_rows
        from cmedins.runner.registry import load_plugins

        collect_for_rows()
        if all(cls.__module__.startswith("cmedins.") for _, cls, _ in specs):
            without_model_packages()  # cmedins' build stages use no model: presidio's import then skips torch
        load_plugins()
        run_in_this_process()  # the actor is one process on one CPU: no pool of its own (recipe `workers`)
        self.specs, self.seed, self.recipe_dir = specs, seed, Path(recipe_dir)

    def run(self, payload: bytes) -> bytes:
        return pickle.dumps(self.run_rows(pickle.loads(payload)), protocol=pickle.HIGHEST_PROTOCOL)

    def run_rows(self, rows: list[dict]) -> dict[str, Any]:
        """The stages over `rows`: the rows out, ledger counts, figures and every file written (or an error)."""
        from cmedins.runner.build import run_stages

        try:
            with tempfile.TemporaryDirectory(prefix="cmedins-ray-") as scratch:
                roots = {name: Path(scratch) / name for name in _ROOTS}
                ledger = Ledger(roots["quarantine"], roots["private"])
                ctx = BuildContext(seed=self.seed, work_dir=roots["build"] / ".work", ledger=ledger,
                                   recipe_dir=self.recipe_dir)
                ctx.work_dir.mkdir(parents=True)
                stages = []
                for key, cls, params in self.specs:
                    stage = cls(params, ctx)  # fresh per chunk: a stage's figures cover the rows it saw
                    stage.name = key
                    stages.append((key, stage))
                out = list(run_stages(ledger, iter(rows), stages))
                ledger.close()
                files = {(name, str(path.relative_to(root))): path.read_bytes()
                         for name, root in roots.items() for path in sorted(root.rglob("*")) if path.is_file()}
                return {"rows": out, "counts": ledger.stages, "reports": ctx.reports, "files": files}
        except CmedinsError as error:
            return {"error": str(error)}


class _Merged:
    """What the chunks add up to on the driver: ledger counts, stage reports, files appended in order."""

    def __init__(self) -> None:
        self._reports: dict[str, list[StageReport]] = {}
        self._written: set[Path] = set()

    def absorb(self, payload: bytes | dict, ledger: Ledger, roots: dict[str, Path]) -> list[dict]:
        result = pickle.loads(payload) if isinstance(payload, bytes) else payload
        if "error" in result:
            raise CmedinsError(result["error"])
        for key, counts in result["counts"].items():
            _add_counts(ledger.stage(key), counts)
        for key, report in result["reports"].items():
            self._reports.setdefault(key, []).append(report)
        for (root, relative), content in result["files"].items():
            path = roots[root] / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("ab" if path in self._written else "wb") as handle:
                handle.write(content)
            self._written.add(path)
        return result["rows"]

    @property
    def reports(self) -> dict[str, StageReport]:
        """Each stage's chunk reports as one, by its report model's merge (counts add, settings agree)."""
        try:
            return {key: merge_all(parts) for key, parts in self._reports.items()}
        except ReportMergeError as error:
            raise CmedinsError(f"ray executor: the chunks of one stage reported differently: {error}") from None


def _add_counts(into: StageCounts, counts: StageCounts) -> None:
    into.rows_in += counts.rows_in
    into.rows_out += counts.rows_out
    into.created += counts.created
    into.dropped.update(counts.dropped)
    into.quarantined.update(counts.quarantined)
