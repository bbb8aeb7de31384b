"""The recipe runner: sources -> stages -> mix -> split -> build folder.

Stages are chained generators, so records stream; only the mix needs every row's group, and it gets it by
spooling the pipeline's output to one JSONL file per group in the private work folder.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import cmedins
from cmedins import build_folder
from cmedins import mix as mixing
from cmedins.checkpoints import Checkpoints, chain_keys
from cmedins.config import Recipe, SourceConfig, load_recipe, resolve_path
from cmedins.core_stages import public_row
from cmedins.errors import CmedinsError, RowError
from cmedins.io import row_error
from cmedins.ledger import Ledger, StageCounts
from cmedins.manifest import build_manifest, gated_text, input_fingerprint
from cmedins.output import SFT_SCHEMA, SplitWriter, write_json, write_preview
from cmedins.progress import Progress
from cmedins.publish.card import write_card
from cmedins.publish.llamafactory import write_dataset_info
from cmedins.schema import NO_DEPARTMENT, Conversation, MedicalRecord
from cmedins.sources import FORMATS, Format
from cmedins.stage import STAGES, BuildContext, Stage, StageParamsError, check_kinds

SFT_SOURCE_KINDS = ("record", "conversation")
GENERAL_FORMATS = {"alpaca", "sharegpt"}  # default category of conversations from these formats
READ = "read"
LOG_FILE = "build.log"  # in the build folder; an interrupted build's stays in <parent>/.<name>.cmedins/partial/
TIMINGS_FILE = "timings.json"  # wall time and rows/s per stage: apart from stats.json, which is reproducible
log = logging.getLogger("cmedins.build")
WORK_DIR = ".work"
PREVIEW_PER_GROUP = 10


@dataclass
class BuildResult:
    out_dir: Path
    stats: dict[str, Any]
    manifest: dict[str, Any]


def run_recipe(recipe_path: Path, out_dir: Path | None = None, *, show_progress: bool = True,
               resume: bool = True, executor: Any = None) -> BuildResult:
    """Build a recipe. With `resume`, stages whose finished output an earlier run of the same plan on the same
    inputs left behind are skipped (cmedins.checkpoints); `resume=False` (--fresh) discards such output.
    `executor`: None runs every stage here; else an object whose `run_stage(ledger, key, stage, rows, ctx)`
    returns what the stage yields here (cmedins.executors: `ray`)."""
    build = open_build(recipe_path, out_dir, plan=_plan)
    recipe, ctx, out_dir = build.recipe, build.ctx, build.out_dir
    ledger = ctx.ledger
    logged = _BuildLog(out_dir / LOG_FILE)
    timings: dict[str, dict[str, Any]] = {}
    try:
        log.info("build of %s (cmedins %s) into %s: %d source(s), stages %s", recipe_path, cmedins.__version__,
                 build.final_dir, len(recipe.sources), ", ".join(key for key, _ in build.stages))
        with Progress(enabled=show_progress) as progress:
            source_stats: dict[str, dict[str, Any]] = {}
            checkpoints = Checkpoints(build_folder.state_dir(build.final_dir) / "checkpoints", resume=resume)
            keys = chain_keys(_resume_facts(recipe, build.base), _plan(recipe))
            stream = _run_resumable(build, checkpoints, keys, source_stats, progress, executor, timings)
            with _timed(timings, "mix_and_write"):
                spool, available = _spool_by_group(stream, ctx.work_dir, progress)
                selection = _mix_and_split(recipe, available, ledger)
                splits, preview, kept = _write_splits(out_dir, spool, selection, recipe.split.shard_rows, progress)
        ledger.close()
        ledger.check()
        stats = _stats(recipe, ledger, ctx, source_stats, selection, splits, kept)
        manifest = build_manifest(recipe, build.raw_recipe, build.recipe_sha, build.base, ctx, ledger)
        write_preview(out_dir / "preview.jsonl", preview)
        write_json(out_dir / "stats.json", stats)
        write_json(out_dir / "manifest.json", manifest)
        with _timed(timings, "card"):
            write_card(out_dir)
        write_dataset_info(out_dir)  # LLaMA-Factory reads the build folder as is
        shutil.rmtree(ctx.work_dir / "spool", ignore_errors=True)
        write_json(out_dir / TIMINGS_FILE, timings)
        rows = stats["rows"]
        log.info("built %s: %d rows kept (input %d, created %d, dropped %d, quarantined %d)", build.final_dir,
                 rows["kept"], rows["input"], rows["created"], rows["dropped"], rows["quarantined"])
        logged.close()
        build.commit()
        checkpoints.prune(keys)
    except BaseException as error:
        log.error("build failed: %s (the previous build, if any, is untouched; this one's files stay in %s)",
                  error if isinstance(error, CmedinsError) else type(error).__name__, out_dir)
        raise
    finally:
        logged.close()
        ledger.close()
        build.close()
    return BuildResult(build.final_dir, stats, manifest)


class _BuildLog:
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
def _timed(timings: dict[str, dict[str, Any]], step: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    timings[step] = {"seconds": round(time.perf_counter() - started, 3)}


def _stage_timing(counts: StageCounts, seconds: float) -> dict[str, Any]:
    return {"seconds": round(seconds, 3), "rows_in": counts.rows_in, "rows_out": counts.rows_out,
            "rows_per_second": round(counts.rows_in / seconds, 1) if seconds > 0 else None}


def _resume_facts(recipe: Recipe, base: Path) -> dict[str, Any]:
    """What every stage's output depends on besides the stages themselves (see cmedins.checkpoints)."""
    return {"sources": [source.model_dump() for source in recipe.sources], "seed": recipe.seed, "base": str(base),
            "inputs": [input_fingerprint(path) if path.exists() else None for path in plan_inputs(recipe, base)]}


def _run_resumable(build: OpenBuild, checkpoints: Checkpoints, keys: list[str], source_stats: dict,
                   progress: Progress, executor: Any = None,
                   timings: dict[str, dict[str, Any]] | None = None) -> Iterator[dict]:
    """The stages in order, each run to the end into a checkpoint before the next starts; a run restarts after
    the last stage whose checkpoint exists. The last stage streams on (into the mix spool). Wall time and
    rows/s per stage go to `timings` (the first stage's include reading the sources)."""
    ctx, ledger, stages = build.ctx, build.ctx.ledger, build.stages
    timings = {} if timings is None else timings
    start = next((position + 1 for position in reversed(range(len(stages) - 1)) if checkpoints.has(keys[position])), 0)
    if start:
        state = checkpoints.restore(keys[start - 1], build.out_dir)
        ledger.stages.update(state["ledger"])
        source_stats.update(state["sources"])
        ctx.stats.update(state["stats"])
        ctx.manifest.update(state["manifest"])
        rows: Iterator[dict] = checkpoints.rows(keys[start - 1])
        for key, _ in stages[:start]:
            timings[key] = {"resumed": True}
        log.info("resuming after stage %s (checkpoint %s): %s reused", stages[start - 1][0], keys[start - 1],
                 ", ".join(key for key, _ in stages[:start]))
    else:
        rows = read_sources(build.recipe, ctx, source_stats, _convert, progress)

    def state() -> dict[str, Any]:
        ledger.flush()
        return {"ledger": dict(ledger.stages), "sources": source_stats, "stats": ctx.stats, "manifest": ctx.manifest}

    for position in range(start, len(stages)):
        key, stage = stages[position]
        out = (_counted_out(ledger.stage(key), stage.run(_counted_in(ledger.stage(key), rows))) if executor is None
               else executor.run_stage(ledger, key, stage, rows, ctx))
        started = time.perf_counter()
        if position == len(stages) - 1:
            return _timed_stream(out, lambda key=key, started=started: _record_stage(timings, key, ledger.stage(key), started))
        checkpoints.save(keys[position], out, state, build.out_dir)
        _record_stage(timings, key, ledger.stage(key), started)
        rows = checkpoints.rows(keys[position])
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


def open_build(recipe_path: Path, out_dir: Path | None, plan: Plan | None = None,
               source_kinds: tuple[str, ...] = SFT_SOURCE_KINDS, build_kind: str = "an SFT build") -> OpenBuild:
    """Check the whole plan (recipe, stages and their parameters, the output folder against every input)
    before anything is read or touched; then take the folder's lock and start an empty partial build."""
    from cmedins.registry import load_plugins

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


def _format(source: SourceConfig, number: int | None = None) -> Format:
    if source.format not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        where = f"recipe field 'sources.{number}.format'" if number is not None else f"source '{source.name}'"
        raise CmedinsError(f"{where}: unknown format '{source.format}' (known: {known})")
    return FORMATS[source.format]


# (format, source entry, raw row, row number) -> the rows it becomes; raises RowError for a bad row.
Convert = Callable[[Format, SourceConfig, dict, int], list[dict]]


def read_sources(recipe: Recipe, ctx: BuildContext, source_stats: dict, convert: Convert,
                 progress: Progress | None = None) -> Iterator[dict]:
    """Every raw row is counted in the `read` stage; bad ones are quarantined privately (not de-identified).
    Rows leave with their location (`_file`, `_row`)."""
    progress = progress or Progress(enabled=False)
    counts = ctx.ledger.stage(READ)
    for source in recipe.sources:
        fmt = _format(source)
        path = resolve_path(source.path, ctx.recipe_dir)
        if not path.exists():
            raise CmedinsError(f"source '{source.name}': {path} not found")
        rows = fmt.read(path)
        figures = source_stats[source.name] = {
            "format": source.format, "license": source.license,
            "description": gated_text(source.description, f"source '{source.name}' description"), "rows_read": 0, "rows_out": 0, "quarantined": 0,
        }
        task = progress.add(f"reading {source.name}")
        for number, (file, row_number, raw) in enumerate(rows, start=1):
            if source.limit and number > source.limit:
                break
            counts.rows_in += 1
            figures["rows_read"] += 1
            progress.advance(task)
            location = {"_file": _display_path(file, ctx.recipe_dir), "_row": row_number}
            try:
                error = row_error(raw)
                if error is not None:
                    raise error
                converted = convert(fmt, source, raw, row_number)
            except RowError as error:
                figures["quarantined"] += 1
                reason = f"bad_row:{error.field}" if error.field else "bad_row"
                ctx.quarantine(READ, reason, {**location, "raw": raw}, error.message, field=error.field,
                               private=True)
                continue
            counts.created += len(converted) - 1
            counts.rows_out += len(converted)
            figures["rows_out"] += len(converted)
            for row in converted:
                yield {**row, **location}
        progress.done(task)


def _display_path(file: str, base: Path) -> str:
    path = Path(file)
    try:
        return str(path.resolve().relative_to(base.parent))
    except ValueError:
        return path.name if "site-packages" in str(path) else str(path)


def _convert(fmt: Format, source: SourceConfig, raw: dict, row_number: int) -> list[dict]:
    """Records and conversations, with their ids and category, checked against their contracts."""
    produced = fmt.adapter(raw)
    produced = produced if isinstance(produced, list) else [produced]
    out = []
    for index, row in enumerate(produced):
        suffix = f"-{index}" if len(produced) > 1 else ""
        row = {**row, "source": source.name}
        if row.get("kind") == "record":
            row.setdefault("record_id", None)
            row["record_id"] = row["record_id"] or f"{source.name}:{row_number}{suffix}"
            model: type = MedicalRecord
        elif row.get("kind") == "conversation":
            row["id"] = f"{source.name}:{row_number}{suffix}"
            row["category"] = source.category or ("general" if source.format in GENERAL_FORMATS else "dialogue")
            model = Conversation
        else:
            raise RowError(f"adapter '{fmt.name}' produced a row of unknown kind {row.get('kind')!r}", field="kind")
        try:
            model.model_validate({key: value for key, value in row.items() if key != "kind"})
        except ValidationError as failure:
            raise RowError.from_validation(failure) from None
        out.append(row)
    return out


def _plan(recipe: Recipe) -> list[tuple[str, dict[str, Any]]]:
    """The recipe's stages, deid first if present, and a closing validate stage when the recipe has none."""
    plan = recipe.stage_list()
    names = [name for name, _ in plan]
    if "deid" in names and names.index("deid") != 0:
        raise CmedinsError("recipe: the deid stage must come first (nothing may see identities before it)")
    return plan + ([] if "validate" in names else [("validate", {})])


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
            kinds.setdefault(_format(source).kind, set()).add(f"source '{source.name}'")
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
        fmt = _format(source, number)
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


def _spool_by_group(rows: Iterator[dict], work_dir: Path, progress: Progress) -> tuple[dict[str, Path], Counter]:
    """Write each row to its mix group's JSONL spool; returns the spools and the rows per group."""
    spool_dir = work_dir / "spool"
    spool_dir.mkdir(parents=True, exist_ok=True)
    paths = {group: spool_dir / f"{group}.jsonl" for group in mixing.MIX_GROUPS}
    handles = {group: path.open("w", encoding="utf-8") for group, path in paths.items()}
    available: Counter = Counter({group: 0 for group in mixing.MIX_GROUPS})
    task = progress.add("processing")
    try:
        for row in rows:
            group = mixing.mix_group(row["task"])
            handles[group].write(json.dumps(public_row(row), ensure_ascii=False) + "\n")
            available[group] += 1
            progress.advance(task)
    finally:
        for handle in handles.values():
            handle.close()
        progress.done(task)
    return paths, available


@dataclass
class Selection:
    available: dict[str, int]
    selected: dict[str, list[int]]
    validation: dict[str, set[int]]


def _mix_and_split(recipe: Recipe, available: dict[str, int], ledger: Ledger) -> Selection:
    available = dict(available)
    targets = mixing.target_counts(available, recipe.mix.ratios)
    counts = ledger.stage("mix")
    selected, validation = {}, {}
    for group in mixing.MIX_GROUPS:
        counts.rows_in += available[group]
        selected[group] = mixing.choose(available[group], targets[group], recipe.seed, group)
        counts.rows_out += len(selected[group])
        if available[group] > len(selected[group]):
            counts.dropped[f"mix_downsampled:{group}"] += available[group] - len(selected[group])
        validation[group] = mixing.validation_indices(selected[group], recipe.split.validation, recipe.seed, group)
    return Selection(available, selected, validation)


def _write_splits(out_dir: Path, spool: dict[str, Path], selection: Selection, shard_rows: int,
                  progress: Progress) -> tuple[dict[str, int], list[dict], dict[str, Counter]]:
    """Stream the spool once, routing selected rows to train/validation shards. Returns split sizes, the
    preview rows, and (task, department, source) facts of kept rows for stats."""
    n_validation = sum(len(v) for v in selection.validation.values())
    n_train = sum(len(s) for s in selection.selected.values()) - n_validation
    writers = {"train": SplitWriter(out_dir / "data", "train", n_train, SFT_SCHEMA, shard_rows),
               "validation": SplitWriter(out_dir / "data", "validation", n_validation, SFT_SCHEMA, shard_rows)}
    preview: list[dict] = []
    kept = {"task": Counter(), "department": Counter(), "source": Counter()}
    task = progress.add("writing", total=n_train + n_validation)
    for group in mixing.MIX_GROUPS:
        wanted = set(selection.selected[group])
        shown = 0
        with spool[group].open(encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                if index not in wanted:
                    continue
                row = json.loads(line)
                split = "validation" if index in selection.validation[group] else "train"
                writers[split].write(row)
                kept["task"][row["task"]] += 1
                # Dialogue and general rows often carry no department: say so, rather than "unknown".
                kept["department"][row.get("department") or NO_DEPARTMENT] += 1
                kept["source"][row["source"]] += 1
                if shown < PREVIEW_PER_GROUP and split == "train":
                    preview.append(row)
                    shown += 1
                progress.advance(task)
    for writer in writers.values():
        writer.close()
    progress.done(task)
    return {split: writer.written for split, writer in writers.items()}, preview, kept


def _stats(recipe: Recipe, ledger: Ledger, ctx: BuildContext, source_stats: dict, selection: Selection,
           splits: dict[str, int], kept: dict[str, Counter]) -> dict[str, Any]:
    selected = {group: len(rows) for group, rows in selection.selected.items()}
    stage_figures = dict(ctx.stats)
    # `tasks` in stats.json is the kept rows per task; the tasks stage's own figures move to `templating`.
    if "tasks" in stage_figures:
        stage_figures["templating"] = stage_figures.pop("tasks")
    return {
        **stage_figures,
        "kind": "sft",
        "name": recipe.name,
        "seed": recipe.seed,
        "rows": ledger.totals(READ, sum(splits.values())),
        "stages": ledger.as_dict(),
        "sources": source_stats,
        "splits": splits,
        "tasks": dict(sorted(kept["task"].items())),
        "departments": dict(sorted(kept["department"].items(), key=lambda item: (-item[1], item[0]))),
        "kept_by_source": dict(sorted(kept["source"].items())),
        "mix": {"ratios": recipe.mix.ratios, "available": selection.available, "selected": selected,
                "achieved": mixing.achieved(selected),
                "missing_groups": sorted(g for g, w in recipe.mix.ratios.items() if w > 0 and not selection.available[g])},
    }


