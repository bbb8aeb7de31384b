"""The `dedup` and `decontaminate` stages. Both act on rows of kind "sft"; other rows pass through.

Recipe:
    - stage: dedup
      scope: [per_source, global]   # or one of them
      threshold: 0.7                # estimated Jaccard of character 5-gram sets
      n: 5
      num_perm: 128
      text: {record: query_answer, default: user}
      source_priority: [cmedins_records, cmtmedqa]   # optional, first criterion of the keep rule
      memory_mb: 256                # what one shard may take while it is resolved (sets the shard count)
    - stage: decontaminate
      eval_sets:
        - {name: cmtmedqa_test, path: ../shared/data/cmtmedqa/CMtMedQA_test.json, format: cmtmedqa}
      threshold: 0.5                # share of an eval item's 8-grams found in the row
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, deque
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from cmedins.contracts.reports import Count, Peak, Report, Tally
from cmedins.dedup import shards
from cmedins.dedup.decontam import EvalIndex, match_batch
from cmedins.dedup.engine import KEPT, REASONS, DedupIndex, DedupParams, ids_at
from cmedins.dedup.select import answer_chars, parse_selection, select_text
from cmedins.dedup.tasks import LOCAL, TaskMap
from cmedins.errors import CmedinsError
from cmedins.rowio.spool import KeptRows, SpoolWriter
from cmedins.runner.report import StageReport
from cmedins.runner.stage import Stage, StageParams, register_stage

_DECONTAM_BATCH = 1024


def _reports_dir(build_dir: Path) -> Path:
    path = build_dir / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


Text = Literal["user", "conversation", "query_answer"] | dict[str, Literal["user", "conversation", "query_answer"]]


class DedupStageParams(StageParams):
    scope: Literal["per_source", "global"] | list[Literal["per_source", "global"]] = ["per_source", "global"]
    threshold: float = Field(default=0.7, gt=0.0, lt=1.0)  # estimated Jaccard of character n-gram sets
    n: int = Field(default=5, ge=1, le=64)
    num_perm: int = Field(default=128, ge=16, le=1024)
    text: Text | None = None
    source_priority: list[str] = []
    t2s: bool = False
    memory_mb: int = Field(default=shards.DEFAULT_BUDGET >> 20, ge=1)  # one shard while it is resolved


class EvalSetSpec(StageParams):
    name: str = Field(min_length=1)
    path: str = Field(min_length=1)
    format: str = Field(min_length=1)


class DecontaminateParams(StageParams):
    eval_sets: list[EvalSetSpec] = Field(min_length=1)
    threshold: float = Field(default=0.5, gt=0.0, le=1.0)  # share of an eval item's n-grams found in the row
    n: int = Field(default=8, ge=1, le=64)
    min_chars: int = Field(default=12, ge=1)
    max_item_frequency: int = Field(default=50, ge=1)
    text: Text | None = None
    t2s: bool = False

    @field_validator("eval_sets")
    @classmethod
    def _unique_names(cls, specs: list[EvalSetSpec]) -> list[EvalSetSpec]:
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise ValueError("eval set names must be unique")
        return specs


class DedupSettings(Report):
    n: int
    num_perm: int
    threshold: float
    scopes: list[str]
    seed: int
    source_priority: list[str]
    t2s: bool


class LshFigures(Report):
    bands: int
    rows_per_band: int
    max_keys: Peak
    max_bucket: Peak
    candidate_pairs: Count
    verified_pairs: Count
    shards: Peak
    edges: Count  # verified edges the shards sent the driver
    shard_budget_mb: int


class ScopeFigures(Report):
    exact: Count
    near: Count
    clusters: Count


class DedupReport(StageReport):
    """stats.json `dedup`: the engine's figures (cmedins.dedup.engine)."""

    params: DedupSettings
    rows_in: Count
    candidates: Count
    empty_text: Count
    exact: Count
    near: Count
    clusters: Count
    rows_kept: Count
    scopes: dict[str, ScopeFigures]
    lsh: LshFigures


class EvalSetFacts(Report):
    path: str
    format: str
    rows: int
    unreadable_rows: int
    sha256: str


class DecontaminateSettings(Report):
    n: int
    threshold: float
    min_chars: int
    max_item_frequency: int


class DecontaminateReport(StageReport):
    """stats.json `decontaminate`; `eval_sets` is what `cmedins eval` checks a training build against."""

    rows_checked: Count
    dropped: Tally  # rows, by eval set
    eval_sets: dict[str, EvalSetFacts]
    eval_items_indexed: int
    eval_items_too_short: int
    boilerplate_shingles_ignored: int
    params: DecontaminateSettings


@register_stage
class DedupStage(Stage):
    """Drop exact (`duplicate_exact`) and near (`duplicate_near`) duplicates; see cmedins.dedup.engine."""

    name = "dedup"
    Params = DedupStageParams
    Report = DedupReport
    takes = frozenset({"sft"})
    task_map: TaskMap = LOCAL  # an executor may hand its own (the Ray executor: signing and shards on workers)
    tasks_share_files = True  # the shard tasks read signatures and write shards in the work folder by path

    def __init__(self, params: dict[str, Any], ctx):
        super().__init__(params, ctx)
        config, scope = self.config, self.config.scope
        self.dedup_params = DedupParams(
            n=config.n, num_perm=config.num_perm, threshold=config.threshold,
            scopes=tuple([scope] if isinstance(scope, str) else scope), seed=ctx.seed,
            t2s=config.t2s, source_priority=tuple(config.source_priority),
        )
        self.selection = parse_selection(config.text, stage=self.name)

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        kept = self.run_to_spool(rows)
        yield from kept
        kept.path.unlink(missing_ok=True)

    def run_to_spool(self, rows: Iterator[dict], spooled: KeptRows | None = None) -> KeptRows:
        """The stage's work: its output is the spool of its input where no duplicate was removed. The keep rule
        needs every candidate, so rows are spooled to disk (unless `rows` are those of `spooled`, a checkpoint's)
        and resolved; the spool is read back by whoever takes the output (a checkpoint adopts it:
        cmedins.runner.checkpoints), not here."""
        work = self.ctx.work_dir / self.name
        index = DedupIndex(self.dedup_params, work, task_map=self.task_map,
                           memory_budget=self.config.memory_mb << 20)
        spool_path = work / "rows.spool.zst"  # compact (rowio.spool): ~1/15 of one pickle per row
        # The report names a removed row by its id and source as the ids file and the index's groups hold them;
        # the few rows whose values those would not give back exactly (not a str, a line break) are kept aside.
        odd: dict[int, tuple[Any, Any]] = {}
        with contextlib.nullcontext() if spooled is not None else SpoolWriter(spool_path) as spool:
            for position, row in enumerate(rows):
                if spool is not None:
                    spool.write(row)
                if row.get("kind") == "sft":
                    row_id, source = row.get("id"), row.get("source")
                    if type(row_id) is not str or type(source) is not str or "\n" in row_id:
                        odd[position] = (row_id, source)
                    selection = self.selection.get(row.get("task"), self.selection["default"])
                    index.add(select_text(row, selection), group=str(source), task=str(row.get("task")),
                              answer_chars=answer_chars(row), row_id=str(row.get("id", "")))
                else:
                    index.add(None, group="", answer_chars=0, row_id=str(row.get("id", "")))
        result = index.resolve()
        removed = np.flatnonzero(result.status != KEPT)
        ids = ids_at(index.ids_path, set(removed.tolist()) | set(result.kept[removed].tolist()))
        for status in dict.fromkeys(result.status[removed].tolist()):  # the reasons in the order rows met them
            self.ctx.drop(self.name, REASONS[status], int(np.count_nonzero(result.status[removed] == status)))
        scopes = self.dedup_params.scopes
        with (_reports_dir(self.ctx.build_dir) / "dedup_clusters.jsonl").open("w", encoding="utf-8") as report:
            for position in removed.tolist():
                kept = int(result.kept[position])
                removed_id, removed_source = odd.get(position) or (ids[position],
                                                                   result.groups[int(result.group_of[position])])
                report.write(json.dumps({
                    "removed_id": removed_id, "kept_id": ids[kept], "reason": REASONS[int(result.status[position])],
                    "similarity": round(float(result.similarity[position]), 4),
                    "scope": scopes[int(result.scope[position])],
                    "removed_source": removed_source, "kept_source": result.groups[int(result.group_of[kept])],
                }, ensure_ascii=False) + "\n")
        for path in (index.signatures_path, index.fingerprints_path, index.ids_path):
            path.unlink(missing_ok=True)
        self.report(DedupReport.model_validate(result.stats))
        if spooled is not None:
            return spooled.within(result.status == KEPT)
        return KeptRows(spool_path, result.status == KEPT)


@register_stage
class DecontaminateStage(Stage):
    """Drop rows that contain an evaluation item (`contaminated:<eval set>`); see cmedins.dedup.decontam."""

    name = "decontaminate"
    Params = DecontaminateParams
    Report = DecontaminateReport
    takes = frozenset({"sft"})
    task_map: TaskMap = LOCAL  # an executor may hand its own (the Ray executor: batches matched on workers)

    def __init__(self, params: dict[str, Any], ctx):
        super().__init__(params, ctx)
        config = self.config
        self.eval_sets = [spec.model_dump() for spec in config.eval_sets]
        self.index = EvalIndex(n=config.n, threshold=config.threshold, min_chars=config.min_chars,
                               max_item_frequency=config.max_item_frequency, t2s=config.t2s)
        self.selection = parse_selection(config.text, stage=self.name, default={"default": "conversation"})

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        loaded = {spec["name"]: load_eval_set(self.index, spec, self.ctx.resolve(spec["path"]))
                  for spec in self.eval_sets}
        self.index.build()
        dropped: Counter = Counter()
        checked = 0
        # Batches of rows (any kind, in order) are matched through the task map: here one at a time, on Ray on
        # the workers (the index is sent once), a few batches in flight; rows come back in input order.
        pipe = self.task_map.pipeline(match_batch, self.index)
        waiting: deque[list[dict]] = deque()
        with (_reports_dir(self.ctx.build_dir) / "contamination.jsonl").open("w", encoding="utf-8") as report:
            def emit(results: list[list]) -> Iterator[dict]:
                for found in results:
                    yield from self._emit(waiting.popleft(), found, report, dropped)

            for batch in iter(lambda: list(islice(rows, _DECONTAM_BATCH)), []):
                sft = [row for row in batch if row.get("kind") == "sft"]
                checked += len(sft)
                waiting.append(batch)
                yield from emit(pipe.put([select_text(row, self.selection.get(row.get("task"), self.selection["default"]))
                                          for row in sft]))
            yield from emit(pipe.close())
        self.report(DecontaminateReport.model_validate({
            "rows_checked": checked, "dropped": dict(sorted(dropped.items())),
            "eval_sets": loaded, "eval_items_indexed": len(self.index.items),
            "eval_items_too_short": self.index.skipped_short, "boilerplate_shingles_ignored": self.index.dropped_shingles,
            "params": {"n": self.index.n, "threshold": self.index.threshold, "min_chars": self.index.min_chars,
                       "max_item_frequency": self.index.max_item_frequency},
        }))

    def _emit(self, batch: list[dict], found: list, report, dropped: Counter) -> Iterator[dict]:
        """The batch's rows in order, but its sft rows that contain an eval item (dropped and reported)."""
        matches = iter(found)
        for row in batch:
            contamination = next(matches) if row.get("kind") == "sft" else None
            if contamination is None:
                yield row
                continue
            self.ctx.drop(self.name, f"contaminated:{contamination.eval_set}")
            dropped[contamination.eval_set] += 1
            report.write(json.dumps({"id": row.get("id"), "source": row.get("source"),
                                     "eval_set": contamination.eval_set, "eval_item": contamination.item,
                                     "overlap": contamination.overlap}, ensure_ascii=False) + "\n")


def load_eval_set(index: EvalIndex, spec: dict[str, str], path: Path) -> dict[str, Any]:
    """Add every user turn of an eval set (read with its source format's adapter) to the index."""
    from cmedins.errors import RowError
    from cmedins.rowio.formats import FORMATS
    from cmedins.rowio.readers import row_error
    from cmedins.runner.manifest import input_fingerprint
    from cmedins.runner.registry import load_plugins

    load_plugins()
    fmt = FORMATS.get(spec["format"])
    if fmt is None:
        raise CmedinsError(f"decontaminate: eval set '{spec['name']}' has unknown format '{spec['format']}' "
                           f"(known: {', '.join(sorted(FORMATS))})")
    raw = fmt.read(path)
    rows = unreadable = 0
    for file, number, row in raw:
        try:
            error = row_error(row)
            if error:
                raise error
            converted = fmt.adapter(row)
        except RowError:
            unreadable += 1  # an eval row we cannot read cannot leak either; counted in stats
            continue
        rows += 1
        for conversation in converted if isinstance(converted, list) else [converted]:
            user_turns = [m["content"] for m in conversation.get("messages", []) if m.get("role") == "user"]
            for turn, text in enumerate(user_turns, start=1):
                where = f"{Path(file).name} row {number}" + (f" turn {turn}" if len(user_turns) > 1 else "")
                index.add(spec["name"], where, text)
    # sha256: `cmedins eval` checks a training build against the exact eval file it is asked to use.
    return {"path": str(spec["path"]), "format": spec["format"], "rows": rows, "unreadable_rows": unreadable,
            "sha256": input_fingerprint(path)["sha256"]}
