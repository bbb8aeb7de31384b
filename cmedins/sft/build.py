"""The SFT build (CMedINS): the runner's spine, then mix -> split -> build folder (shards, preview, stats,
manifest, card, LLaMA-Factory's dataset_info.json).

Stages are chained generators, so records stream; only the mix needs every row's group, and it gets it by
spooling the last stage's output to one table spool per group (cmedins.rowio.table_spool) in the private work
folder.
The mix itself holds one byte per spooled row (where the row goes), never the rows.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import ValidationError

import cmedins
from cmedins.contracts.arrow import SFT_SCHEMA
from cmedins.contracts.schema import NO_DEPARTMENT, Conversation, MedicalRecord
from cmedins.errors import CmedinsError, RowError
from cmedins.publish.card import write_card
from cmedins.publish.llamafactory import write_dataset_info
from cmedins.rowio.formats import Format
from cmedins.rowio.shards import SplitWriter, write_json, write_preview
from cmedins.rowio.table_spool import TableSpoolWriter, read_tables
from cmedins.runner import build_folder
from cmedins.runner.build import (
    LOG_FILE,
    READ,
    TIMINGS_FILE,
    BuildLog,
    log,
    open_build,
    resume_facts,
    run_resumable,
    timed,
)
from cmedins.runner.checkpoints import Checkpoints, chain_keys
from cmedins.runner.collector import rows_collector
from cmedins.runner.ledger import Ledger
from cmedins.runner.manifest import build_manifest
from cmedins.runner.progress import Progress
from cmedins.runner.recipe import Recipe, SourceConfig
from cmedins.runner.report import render_stats
from cmedins.runner.split import validation_indices
from cmedins.runner.stage import BuildContext
from cmedins.sft import mix as mixing

SFT_SOURCE_KINDS = ("record", "conversation")
GENERAL_FORMATS = {"alpaca", "sharegpt"}  # default category of conversations from these formats
PREVIEW_PER_GROUP = 10


@dataclass
class BuildResult:
    out_dir: Path
    stats: dict[str, Any]
    manifest: dict[str, Any]


# Said in build.log and on the terminal (cmedins.cli) when a recipe declares its sources de-identified.
NOT_DEIDENTIFIED_WARNING = ("the recipe declares sources_already_deidentified: true, so cmedins did not de-identify "
                            "this build; its card says so and `cmedins push` refuses it")

@rows_collector()
def run_recipe(recipe_path: Path, out_dir: Path | None = None, *, show_progress: bool = True,
               resume: bool = True, executor: Any = None) -> BuildResult:
    """Build a recipe. With `resume`, stages whose finished output an earlier run of the same plan on the same
    inputs left behind are skipped (cmedins.runner.checkpoints); `resume=False` (--fresh) discards such output.
    `executor`: None runs every stage here; else an object whose `run_stage(ledger, key, stage, rows, ctx)`
    returns what the stage yields here (cmedins.runner.executors: `ray`)."""
    build = open_build(recipe_path, out_dir, plan=_plan, source_kinds=SFT_SOURCE_KINDS, build_kind="an SFT build")
    recipe, ctx, out_dir = build.recipe, build.ctx, build.out_dir
    ledger = ctx.ledger
    logged = BuildLog(out_dir / LOG_FILE)
    timings: dict[str, dict[str, Any]] = {}
    try:
        log.info("build of %s (cmedins %s) into %s: %d source(s), stages %s", recipe_path, cmedins.__version__,
                 build.final_dir, len(recipe.sources), ", ".join(key for key, _ in build.stages))
        if "deid" not in (key for key, _ in build.stages):
            log.warning(NOT_DEIDENTIFIED_WARNING)
        with Progress(enabled=show_progress) as progress:
            source_stats: dict[str, dict[str, Any]] = {}
            checkpoints = Checkpoints(build_folder.state_dir(build.final_dir) / "checkpoints", resume=resume)
            keys = chain_keys(resume_facts(recipe, build.base), _plan(recipe))
            stream = run_resumable(build, checkpoints, keys, source_stats, progress, _convert, executor, timings)
            with timed(timings, "mix_and_write"):
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
        with timed(timings, "card"):
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


def _plan(recipe: Recipe) -> list[tuple[str, dict[str, Any]]]:
    """The recipe's stages, deid first, and a closing validate stage when the recipe has none. Without a deid
    stage the raw source text would be written into the build folder, outside the private work folder: only
    a recipe declaring its sources already de-identified may leave it out."""
    plan = recipe.stage_list()
    names = [name for name, _ in plan]
    if "deid" in names and names.index("deid") != 0:
        raise CmedinsError("recipe: the deid stage must come first (nothing may see identities before it)")
    if "deid" not in names and not recipe.sources_already_deidentified:
        raise CmedinsError("recipe: no deid stage, so raw source text would be written into the build; add "
                           "'- deid: {}' as the first stage, or set 'sources_already_deidentified: true' if the "
                           "sources were de-identified before cmedins (such a build cannot be pushed)")
    return plan + ([] if "validate" in names else [("validate", {})])


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


def _spool_by_group(rows: Iterator[dict], work_dir: Path, progress: Progress) -> tuple[dict[str, TableSpoolWriter], Counter]:
    """Write each row to its mix group's table spool; returns the (closed) spools and the rows per group."""
    spool_dir = work_dir / "spool"
    spool_dir.mkdir(parents=True, exist_ok=True)
    writers = {group: TableSpoolWriter(spool_dir / f"{group}.arrow", SFT_SCHEMA) for group in mixing.MIX_GROUPS}
    available: Counter = Counter({group: 0 for group in mixing.MIX_GROUPS})
    task = progress.add("processing")
    try:
        for row in rows:
            group = mixing.mix_group(row["task"])
            writers[group].write(row)  # the schema's keys only: the private ones are left out
            available[group] += 1
            progress.advance(task)
    finally:
        for writer in writers.values():
            writer.close()
        progress.done(task)
    return writers, available


DROPPED, TRAIN, VALIDATION = 0, 1, 2  # where a spooled row goes (one byte per row)


@dataclass
class Selection:
    available: dict[str, int]
    selected: dict[str, int]  # rows kept per group
    routes: dict[str, np.ndarray]  # per group, one of DROPPED / TRAIN / VALIDATION per spooled row


def _mix_and_split(recipe: Recipe, available: dict[str, int], ledger: Ledger) -> Selection:
    available = dict(available)
    targets = mixing.target_counts(available, recipe.mix.ratios)
    counts = ledger.stage("mix")
    selected, routes = {}, {}
    for group in mixing.MIX_GROUPS:
        counts.rows_in += available[group]
        route = np.full(available[group], DROPPED, dtype=np.int8)
        chosen = (np.arange(available[group]) if targets[group] >= available[group]
                  else np.asarray(mixing.choose(available[group], targets[group], recipe.seed, group), dtype=np.int64))
        route[chosen] = TRAIN
        # validation_indices samples by position; drawing from range(len) gives the positions it would pick.
        held_out = validation_indices(range(len(chosen)), recipe.split.validation, recipe.seed, group)  # type: ignore[arg-type]
        route[chosen[np.fromiter(held_out, dtype=np.int64, count=len(held_out))]] = VALIDATION
        selected[group], routes[group] = len(chosen), route
        counts.rows_out += len(chosen)
        if available[group] > len(chosen):
            counts.dropped[f"mix_downsampled:{group}"] += available[group] - len(chosen)
    return Selection(available, selected, routes)


def _write_splits(out_dir: Path, spool: dict[str, TableSpoolWriter], selection: Selection, shard_rows: int,
                  progress: Progress) -> tuple[dict[str, int], list[dict], dict[str, Counter]]:
    """Stream the spool once, routing selected rows to train/validation shards batch by batch. Returns split
    sizes, the preview rows, and (task, department, source) facts of kept rows for stats."""
    n_validation = sum(int(np.count_nonzero(route == VALIDATION)) for route in selection.routes.values())
    n_train = sum(selection.selected.values()) - n_validation
    writers = {"train": SplitWriter(out_dir / "data", "train", n_train, SFT_SCHEMA, shard_rows),
               "validation": SplitWriter(out_dir / "data", "validation", n_validation, SFT_SCHEMA, shard_rows)}
    preview: list[dict] = []
    kept = {"task": Counter(), "department": Counter(), "source": Counter()}
    task = progress.add("writing", total=n_train + n_validation)
    for group in mixing.MIX_GROUPS:
        route = selection.routes[group]
        shown = np.flatnonzero(route == TRAIN)[:PREVIEW_PER_GROUP]  # the group's first train rows
        start = 0
        for batch in read_tables(spool[group].path):
            routes = route[start : start + len(batch)]
            for split, where in (("train", TRAIN), ("validation", VALIDATION)):
                writers[split].write_table(batch.filter(pa.array(routes == where)))
            chosen = batch.filter(pa.array(routes != DROPPED))
            for column in ("task", "department", "source"):
                kept[column].update(chosen.column(column).to_pylist())
            for position in shown[(shown >= start) & (shown < start + len(batch))].tolist():
                preview.append(spool[group].rebuild(batch.slice(position - start, 1).to_pylist()[0], position))
            progress.advance(task, len(chosen))
            start += len(batch)
    # Dialogue and general rows often carry no department: say so, rather than "unknown".
    departments = kept["department"]
    for missing in (None, ""):
        if missing in departments:
            departments[NO_DEPARTMENT] += departments.pop(missing)
    for writer in writers.values():
        writer.close()
    progress.done(task)
    return {split: writer.written for split, writer in writers.items()}, preview, kept


def _stats(recipe: Recipe, ledger: Ledger, ctx: BuildContext, source_stats: dict, selection: Selection,
           splits: dict[str, int], kept: dict[str, Counter]) -> dict[str, Any]:
    selected = dict(selection.selected)
    stage_figures = render_stats(ctx.reports)  # `templating`: the tasks stage's (stats.json `tasks`: kept rows)
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
