"""The generic runner: a recipe checked as a whole plan -> sources read and counted -> stages chained (resumable
per stage, local or on an executor) -> a partial build folder that `OpenBuild.commit()` swaps in.

The SFT build (cmedins.sft.build) and the SPF build (cmedins.preference.build) are tails on this spine.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.formats import FORMATS, Format
from cmedins.rowio.readers import row_error
from cmedins.rowio.spool import KeptRows
from cmedins.runner import build_folder
from cmedins.runner.checkpoints import Checkpoints
from cmedins.runner.ledger import Ledger, StageCounts
from cmedins.runner.manifest import gated_text, input_fingerprint
from cmedins.runner.progress import Progress
from cmedins.runner.recipe import Recipe, SourceConfig, load_recipe, resolve_path
from cmedins.runner.stage import STAGES, BuildContext, Stage, StageParamsError, check_kinds

READ = "read"
LOG_FILE = "build.log"  # in the build folder; an interrupted build's stays in <parent>/.<name>.cmedins/partial/
TIMINGS_FILE = "timings.json"  # wall time and rows/s per stage: apart from stats.json, which is reproducible
log = logging.getLogger("cmedins.build")
WORK_DIR = ".work"


class BuildLog:
    """Attach a file handler for one build's log to the `cmedins.build` logger (removed by close())."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handler: logging.Handler | None = logging.FileHandler(path, encoding="utf-8")
        self.handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(self.handler)
        self._level = log.level
        log.setLevel(logging.INFO)

    def close(self) -> None:
        if self.handler is not None:
            log.removeHandler(self.handler)
            self.handler.close()
            self.handler = None
            log.setLevel(self._level)


@contextmanager
def timed(timings: dict[str, dict[str, Any]], step: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[step] = {"seconds": round(time.perf_counter() - started, 3)}


def _stage_timing(counts: StageCounts, seconds: float) -> dict[str, Any]:
    return {"seconds": round(seconds, 3), "rows_in": counts.rows_in, "rows_out": counts.rows_out,
            "rows_per_second": round(counts.rows_in / seconds, 1) if seconds > 0 else None}


def resume_facts(recipe: Recipe, base: Path) -> dict[str, Any]:
    """What every stage's output depends on besides the stages themselves (see cmedins.runner.checkpoints)."""
    return {"sources": [source.model_dump() for source in recipe.sources], "seed": recipe.seed, "base": str(base),
            "inputs": [input_fingerprint(path) if path.exists() else None for path in plan_inputs(recipe, base)]}


def run_resumable(build: OpenBuild, checkpoints: Checkpoints, keys: list[str], source_stats: dict,
                  progress: Progress, convert: Convert, executor: Any = None,
                   timings: dict[str, dict[str, Any]] | None = None) -> Iterator[dict]:
    """The stages in order, each run to the end into a checkpoint before the next starts (locally, a stage that
    is not `checkpointed` shares the checkpoint of the stage before it); a run restarts after the last stage
    whose checkpoint exists. The last stage streams on (into the mix spool). Wall time and rows/s per stage go
    to `timings` (the first stage's include reading the sources)."""
    ctx, ledger, stages = build.ctx, build.ctx.ledger, build.stages
    timings = {} if timings is None else timings
    start = next((position + 1 for position in reversed(range(len(stages) - 1)) if checkpoints.has(keys[position])), 0)
    if start:
        state = checkpoints.restore(keys[start - 1], build.out_dir)
        ledger.stages.update(state["ledger"])
        source_stats.update(state["sources"])
        ctx.reports.update(state["reports"])
        rows: Iterator[dict] = checkpoints.rows(keys[start - 1])
        for key, _ in stages[:start]:
            timings[key] = {"resumed": True}
        log.info("resuming after stage %s (checkpoint %s): %s reused", stages[start - 1][0], keys[start - 1],
                 ", ".join(key for key, _ in stages[:start]))
    else:
        rows = read_sources(build.recipe, ctx, source_stats, convert, progress,
                            getattr(executor, "read_sources", None))

    def state() -> dict[str, Any]:
        ledger.flush()
        return {"ledger": dict(ledger.stages), "sources": source_stats, "reports": dict(ctx.reports)}

    last, pending = len(stages) - 1, False  # pending: a checkpointed stage ran since the last checkpoint
    for position in range(start, len(stages)):
        key, stage = stages[position]
        counts = ledger.stage(key)
        pending = pending or stage.checkpointed
        # Locally, a stage that is not `checkpointed` joins the checkpoint of the stage before it: their rows
        # stream on through it and one checkpoint follows both (so a stage that comes next reads a checkpoint).
        # On Ray every stage but the last is checkpointed: the actor pool of one stage would hold the CPUs the
        # next stage's tasks wait for.
        saves = position < last and (executor is not None or pending and (
            position + 1 == last or stages[position + 1][1].checkpointed))
        if saves and executor is None and hasattr(stage, "run_to_spool"):
            # The stage's output already lies in a spool (its own, or its input's checkpoint): adopted, not
            # written again.
            started = time.perf_counter()
            kept = stage.run_to_spool(_counted_in(counts, rows), rows if isinstance(rows, KeptRows) else None)
            counts.rows_out += kept.rows
            checkpoints.save(keys[position], kept, state, build.out_dir)
            _record_stage(timings, key, counts, started)
            rows, pending = checkpoints.rows(keys[position]), False
            continue
        out = (_counted_out(counts, stage.run(_counted_in(counts, rows))) if executor is None
               else executor.run_stage(ledger, key, stage, rows, ctx))
        finished = partial(_record_stage, timings, key, counts, time.perf_counter())
        if not saves:  # streams on: into the next stage, or the last one into the mix spool (timed until its
            # last row is taken, so its seconds overlap the next stage's)
            if position == last:
                return _timed_stream(out, finished)
            rows = _timed_stream(out, finished)
            continue
        checkpoints.save(keys[position], out, state, build.out_dir)
        finished()
        rows, pending = checkpoints.rows(keys[position]), False
    return rows


def _record_stage(timings: dict, key: str, counts: StageCounts, started: float) -> None:
    timings[key] = _stage_timing(counts, time.perf_counter() - started)
    figures = timings[key]
    log.info("stage %s: %d rows in, %d out, %.2f s (%s rows/s)", key, figures["rows_in"], figures["rows_out"],
             figures["seconds"], figures["rows_per_second"])


def _timed_stream(rows: Iterator[dict], finished: Callable[[], None]) -> Iterator[dict]:
    yield from rows
    finished()


Plan = Callable[[Recipe], list[tuple[str, dict[str, Any]]]]


@dataclass
class OpenBuild:
    """A checked plan and an empty partial build folder with its ledger, stage context and lock (shared by
    the SFT and SPF runners). Write into `out_dir`; `commit()` swaps it in as `final_dir`; `close()` always."""

    recipe: Recipe
    raw_recipe: dict[str, Any]
    recipe_sha: str
    base: Path
    out_dir: Path
    final_dir: Path
    ctx: BuildContext
    stages: list[tuple[str, Stage]]
    lock: build_folder.BuildLock

    def commit(self) -> None:
        build_folder.commit(self.out_dir, self.final_dir)

    def close(self) -> None:
        self.lock.release()


def open_build(recipe_path: Path, out_dir: Path | None, plan: Plan | None, source_kinds: tuple[str, ...],
               build_kind: str) -> OpenBuild:
    """Check the whole plan (recipe, stages and their parameters, the output folder against every input)
    before anything is read or touched; then take the folder's lock and start an empty partial build."""
    from cmedins.runner.registry import load_plugins

    load_plugins()
    recipe_path = Path(recipe_path)
    recipe, raw_recipe, recipe_sha = load_recipe(recipe_path)
    base = recipe_path.resolve().parent
    final_dir = Path(out_dir) if out_dir is not None else resolve_path(recipe.output, base)
    partial = build_folder.state_dir(final_dir) / "partial"
    ledger = Ledger(partial / "quarantine", partial / WORK_DIR / "quarantine")
    ctx = BuildContext(seed=recipe.seed, work_dir=partial / WORK_DIR, ledger=ledger, recipe_dir=base)
    check_source_kinds(recipe, source_kinds, build_kind)
    stages = make_stages(plan(recipe), ctx, recipe) if plan is not None else []
    build_folder.check_out_dir(final_dir, plan_inputs(recipe, base))
    lock = build_folder.BuildLock(final_dir).acquire()
    try:
        build_folder.start_partial(final_dir)
        ctx.work_dir.mkdir(parents=True, exist_ok=True)
    except BaseException:
        lock.release()
        raise
    return OpenBuild(recipe, raw_recipe, recipe_sha, base, partial, final_dir, ctx, stages, lock)


def plan_inputs(recipe: Recipe, base: Path) -> list[Path]:
    """Every path the recipe reads: sources, and the paths named in stage parameters (eval sets, templates,
    expert decisions), so that no output folder can be, hold or lie inside one of them."""
    paths = [resolve_path(source.path, base) for source in recipe.sources]
    for _, params in recipe.stage_list():
        for spec in params.get("eval_sets") or []:
            if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                paths.append(resolve_path(spec["path"], base))
        for key in ("templates", "decisions"):
            if isinstance(params.get(key), str):
                paths.append(resolve_path(params[key], base))
    return paths


def source_format(source: SourceConfig, number: int | None = None) -> Format:
    if source.format not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        where = f"recipe field 'sources.{number}.format'" if number is not None else f"source '{source.name}'"
        raise CmedinsError(f"{where}: unknown format '{source.format}' (known: {known})")
    return FORMATS[source.format]


# (format, source entry, raw row, row number) -> the rows it becomes; raises RowError for a bad row.
Convert = Callable[[Format, SourceConfig, dict, int], list[dict]]
# One physical row read: (file, row number, raw row or None, the rows it becomes or why it is bad). The raw row
# may be None when the row converted (it is only kept, privately, for a bad row).
ReadRow = tuple[str, int, "dict | None", "list[dict] | RowError"]
# How the sources are read: (every source with its format and path, convert) -> one iterator per source, in
# order. `read_serially` here; the Ray executor reads parts of them in parallel with the same result.
SourceReader = Callable[[list[tuple[SourceConfig, Format, Path]], Convert], list[Iterator[ReadRow]]]


def convert_row(fmt: Format, source: SourceConfig, raw: dict, row_number: int, convert: Convert) -> list[dict] | RowError:
    """The rows one raw row becomes, or the RowError that quarantines it."""
    try:
        error = row_error(raw)
        if error is not None:
            return error
        return convert(fmt, source, raw, row_number)
    except RowError as error:
        return error


def read_serially(jobs: list[tuple[SourceConfig, Format, Path]], convert: Convert) -> list[Iterator[ReadRow]]:
    """The local reader: each source in this process, row after row, as it is needed."""

    def read(source: SourceConfig, fmt: Format, path: Path) -> Iterator[ReadRow]:
        for file, row_number, raw in fmt.read(path):
            yield file, row_number, raw, convert_row(fmt, source, raw, row_number, convert)

    return [read(*job) for job in jobs]


def read_sources(recipe: Recipe, ctx: BuildContext, source_stats: dict, convert: Convert,
                 progress: Progress | None = None, reader: SourceReader | None = None) -> Iterator[dict]:
    """Every raw row is counted in the `read` stage; bad ones are quarantined privately (not de-identified).
    Rows leave with their location (`_file`, `_row`). `reader` (default `read_serially`) only reads and
    converts; counting, limits and quarantine happen here, in source order, whoever read the rows."""
    progress = progress or Progress(enabled=False)
    counts = ctx.ledger.stage(READ)
    displayed: dict[str, str] = {}
    jobs = []
    for source in recipe.sources:
        path = resolve_path(source.path, ctx.recipe_dir)
        if not path.exists():
            raise CmedinsError(f"source '{source.name}': {path} not found")
        jobs.append((source, source_format(source), path))
    streams = (reader or read_serially)(jobs, convert)
    for (source, _, _), rows in zip(jobs, streams, strict=True):
        figures = source_stats[source.name] = {
            "format": source.format, "license": source.license,
            "description": gated_text(source.description, f"source '{source.name}' description"), "rows_read": 0, "rows_out": 0, "quarantined": 0,
        }
        task = progress.add(f"reading {source.name}")
        for number, (file, row_number, raw, outcome) in enumerate(rows, start=1):
            if source.limit and number > source.limit:
                break
            counts.rows_in += 1
            figures["rows_read"] += 1
            progress.advance(task)
            shown = displayed.get(file)
            if shown is None:  # resolving a path costs ~60 us: once per file, not once per row
                shown = displayed[file] = _display_path(file, ctx.recipe_dir)
            location = {"_file": shown, "_row": row_number}
            if isinstance(outcome, RowError):
                figures["quarantined"] += 1
                reason = f"bad_row:{outcome.field}" if outcome.field else "bad_row"
                ctx.quarantine(READ, reason, {**location, "raw": raw}, outcome.message, field=outcome.field,
                               private=True)
                continue
            counts.created += len(outcome) - 1
            counts.rows_out += len(outcome)
            figures["rows_out"] += len(outcome)
            for row in outcome:
                yield {**row, **location}
        if hasattr(rows, "close"):
            rows.close()  # a source cut short by its limit: stop its reader
        progress.done(task)


def _display_path(file: str, base: Path) -> str:
    path = Path(file)
    try:
        return str(path.resolve().relative_to(base.parent))
    except ValueError:
        return path.name if "site-packages" in str(path) else str(path)


def make_stages(plan: list[tuple[str, dict[str, Any]]], ctx: BuildContext,
                recipe: Recipe | None = None) -> list[tuple[str, Stage]]:
    """Instantiate the planned stages, checking each one's parameters against its model; a stage named
    twice gets its own ledger key (`dedup#2`). Errors name the recipe key (`stages.3.dedup.n`)."""
    keys = _recipe_keys(plan, recipe)
    stages, seen = [], Counter()
    for (name, params), where in zip(plan, keys, strict=True):
        if name not in STAGES:
            raise CmedinsError(f"recipe field '{where}': unknown stage '{name}' (known: {', '.join(sorted(STAGES))})")
        seen[name] += 1
        key = name if seen[name] == 1 else f"{name}#{seen[name]}"
        try:
            stage = STAGES[name](params if params is not None else {}, ctx)
        except StageParamsError as error:
            field = f"{where}.{error.field}" if error.field else where
            raise CmedinsError(f"recipe field '{field}': {error.message}") from None
        except CmedinsError as error:
            raise CmedinsError(f"recipe field '{where}': {error}") from None
        stage.name = key  # ledger and stats entries of a repeated stage stay apart
        stages.append((key, stage))
    if recipe is not None:
        kinds: dict[str, set[str]] = {}
        for source in recipe.sources:
            kinds.setdefault(source_format(source).kind, set()).add(f"source '{source.name}'")
        check_kinds([(where, type(stage)) for where, (_, stage) in zip(keys, stages, strict=True)], kinds,
                    "recipe field")
    return stages


def _recipe_keys(plan: list[tuple[str, dict[str, Any]]], recipe: Recipe | None) -> list[str]:
    """`stages.<i>.<name>` for the stages the recipe lists, in plan order; stages the runner adds say so."""
    listed = [name for name, _ in recipe.stage_list()] if recipe is not None else [name for name, _ in plan]
    keys, position = [], 0
    for name, _ in plan:
        if position < len(listed) and listed[position] == name:
            keys.append(f"stages.{position}.{name}")
            position += 1
        else:
            keys.append(f"{name} (added by the runner)")
    return keys


def check_source_kinds(recipe: Recipe, accepted: tuple[str, ...], build: str) -> None:
    """A source whose format gives rows this kind of build cannot use is refused before any row is read."""
    for number, source in enumerate(recipe.sources):
        fmt = source_format(source, number)
        if fmt.kind not in accepted:
            raise CmedinsError(f"recipe field 'sources.{number}.format': format '{source.format}' gives {fmt.kind} "
                               f"rows; {build} reads {'/'.join(accepted)} formats")


def run_stages(ledger: Ledger, rows: Iterator[dict], stages: list[tuple[str, Stage]]) -> Iterator[dict]:
    """Chain the stages lazily, counting every row into and out of each."""
    for key, stage in stages:
        rows = _counted_out(ledger.stage(key), stage.run(_counted_in(ledger.stage(key), rows)))
    return rows


def _counted_in(counts: StageCounts, rows: Iterator[dict]) -> Iterator[dict]:
    for row in rows:
        counts.rows_in += 1
        yield row


def _counted_out(counts: StageCounts, rows: Iterator[dict]) -> Iterator[dict]:
    for row in rows:
        counts.rows_out += 1
        yield row


