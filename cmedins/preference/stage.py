"""Recipe stages of the SPF build. Row kinds: "annotation" (one annotator's judgment of a pair),
"ranking" (responses best first), "preference" (a decided pair: prompt, chosen, rejected), "dpo".

Order in pipelines/spf.yaml: spf_deid -> spf_resolve -> adjacent_pairs -> rm_vote -> dpo_rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from cmedins.contracts.reports import Count, DeidFacts, Report, Tally, first_error
from cmedins.contracts.schema import DIMENSIONS
from cmedins.deid.config import DeidConfig
from cmedins.errors import CmedinsError, RowError
from cmedins.preference.agreement import agreement_report
from cmedins.preference.crossannotation import ARBITRATE_ON, decide_pair, load_decisions, queue_entry
from cmedins.preference.dpo import dpo_row
from cmedins.preference.judgments import group_by_pair
from cmedins.preference.privacy import PreferenceRedactor
from cmedins.preference.ranked import PairingRule, adjacent_pairs
from cmedins.preference.rm_vote import VoteConfig, mean_margin, select
from cmedins.runner.recipe import resolve_path
from cmedins.runner.report import CheckReport, ReportError, StageReport
from cmedins.runner.stage import Stage, StageParams, register_stage

QUEUE_FILE = "arbitration_queue.jsonl"
TEXT_KINDS = ("annotation", "preference", "ranking", "prompt")


class ResolveParams(StageParams):
    decisions: str | None = None  # expert decisions file
    arbitrate_on: Literal[ARBITRATE_ON] = "any"
    queue: str | None = None  # where the arbitration queue goes (default: the build folder)
    min_annotators: int = Field(default=1, ge=1)  # pairs judged by fewer annotators are held back


class AdjacentPairsParams(StageParams):
    ties: Literal["drop", "next_lower"] = "drop"  # how equal scores of a scored list are handled
    min_margin: float = Field(default=0.0, ge=0.0)  # a kept pair's score margin is at least this


class RmVoteParams(StageParams):
    models: list[str] = Field(min_length=1)  # score column names
    flip_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_fraction: float = Field(default=0.1, ge=0.0, le=1.0)
    clear_margin: float = Field(default=0.0, ge=0.0)  # a judge-score margin above it is never flipped
    sources: list[str] = []  # recipe source names it applies to; empty: every preference row


class DpoRowsParams(StageParams):
    distribution: dict[str, Literal["in", "out"]] = {}  # recipe source name -> in | out


class SpfDeidReport(StageReport):
    """stats.json `deid` of an SPF build; its `facts` (the privacy gate's) are manifest.json `deid`."""

    section = "deid"
    manifest_section = "deid"
    mirrored = ("counts", "residual", "chars")

    rows: Tally  # rows passed on, by kind
    facts: DeidFacts


class ArbitrationFacts(Report):
    arbitrate_on: str
    disputed: Count
    applied: Count
    pending: Count
    unused_decisions: list[str]
    queue: str | None


class ResolveShown(StageReport):
    """What stats.json `preference` shows of the spf_resolve report (cmedins.preference.build)."""

    agreement: dict[str, Any]  # cmedins.preference.agreement.agreement_report
    outcomes: Tally
    arbitration: ArbitrationFacts


class SpfResolveReport(ResolveShown):
    """The spf_resolve stage's figures: stats.json `preference.agreement` / `outcomes` / `arbitration`."""

    section = "preference_resolve"

    annotators: Count
    min_annotators: int
    held_back_below_min_annotators: Count

    @classmethod
    def from_build(cls, key: str, stats: dict[str, Any], manifest: dict[str, Any]) -> StageReport:
        preference = stats.get("preference")
        if not isinstance(preference, dict):
            raise ReportError(f"stats.json: field 'preference' is missing or not an object (the {key} stage's report)")
        try:
            return ResolveShown.model_validate({name: preference.get(name) for name in ResolveShown.model_fields})
        except ValidationError as error:
            field, message = first_error(error)
            raise ReportError(f"stats.json: field 'preference.{field}': {message} (the {key} stage's report)") from None


class AdjacentPairsReport(StageReport):
    """stats.json `preference.adjacent_pairs`."""

    within = "preference"

    pairs: Count
    ties: str
    min_margin: float
    candidate_pairs: Count
    dropped_pairs: Tally


class RmVoteReport(StageReport):
    """stats.json `preference.rm_vote`."""

    within = "preference"

    models: list[str]
    pairs: Count
    flipped: Count
    flip_protected: Count
    dropped: Count
    flip_fraction: float
    drop_fraction: float
    clear_margin: float


class DpoRowsReport(CheckReport):
    """Rows that passed the DPO contract; manifest.json `validation` counts the rejected ones from the ledger."""


@register_stage
class SpfDeidStage(Stage):
    """De-identify every prompt, response, comment and free source value of preference rows through the
    privacy gate (params: the deid area's DeidConfig); annotators become pseudonymous ids. Same gate as the
    SFT `deid` stage: residual scan, audit (<build>/audit/deid.jsonl), facts for the manifest."""

    name = "spf_deid"
    Report = SpfDeidReport
    Params = DeidConfig
    takes = frozenset(TEXT_KINDS)

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        self.redactor = PreferenceRedactor(params, label=self.name, audit_path=ctx.build_dir / "audit" / "deid.jsonl")

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        passed: Counter = Counter()
        try:
            for row, result in self.redactor.rows(rows):
                if result.hits:
                    field, kind = result.hits[0]
                    self.ctx.quarantine(self.name, "residual_identifier", row, f"{kind} survived", field=field,
                                        private=True)
                    continue
                passed[str(row.get("kind"))] += 1
                yield row
        finally:
            self.redactor.close()
        facts = DeidFacts.model_validate({**self.redactor.gate.facts(), "rows": sum(passed.values())})
        self.report(SpfDeidReport(rows=dict(sorted(passed.items())), facts=facts))


@register_stage
class SpfResolveStage(Stage):
    """Annotations -> decided pairs: cross-annotation majority, expert decisions, SPF priority.

    Params: `decisions` (expert decisions file, optional), `arbitrate_on` ("any" | "deciding"),
    `queue` (where to write the arbitration queue; default the build folder's arbitration_queue.jsonl),
    `min_annotators` (default 1): pairs judged by fewer annotators are held back (dropped as
    `below_min_annotators`, counted), so a pair cannot enter the DPO set on one person's word when the recipe
    asks for cross-annotation.
    """

    name = "spf_resolve"
    Report = SpfResolveReport
    Params = ResolveParams
    takes = frozenset({"annotation"})
    makes = {"annotation": "preference"}

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        self.arbitrate_on = self.config.arbitrate_on
        self.min_annotators = self.config.min_annotators

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        annotations = []
        for row in rows:
            if row.get("kind") == "annotation":
                annotations.append(row)
            else:
                yield row
        decisions = (load_decisions(resolve_path(self.params["decisions"], self.ctx.recipe_dir))
                     if self.params.get("decisions") else {})
        pairs, repeats, conflicts = group_by_pair(annotations)
        for row in conflicts:
            self.ctx.quarantine(self.name, "conflicting_pair_content", row, "same pair_id as an earlier "
                                "annotation but a different prompt or responses", field="pair_id")
        if repeats:
            self.ctx.drop(self.name, "superseded_by_later_judgment", len(repeats))
        outcomes: Counter = Counter()
        disputed = applied = held_back = 0
        queue = []
        for pair_id, group in pairs.items():
            if len(group) < self.min_annotators:
                held_back += 1
                self.ctx.drop(self.name, "below_min_annotators", len(group))
                continue
            try:
                pair = decide_pair(group, decision=decisions.get(pair_id), arbitrate_on=self.arbitrate_on)
            except RowError as error:
                raise CmedinsError(str(error)) from None  # a bad expert decision stops the build
            outcomes[pair.status] += 1
            disputed += bool(pair.disputed)
            applied += pair.arbitrated
            if len(group) > 1:  # n judgments become one pair
                self.ctx.drop(self.name, "merged_cross_annotation", len(group) - 1)
            if pair.status == "awaiting_arbitration":
                queue.append(queue_entry(pair))
                self.ctx.drop(self.name, "awaiting_arbitration")
                continue
            if pair.status == "all_tie":
                self.ctx.drop(self.name, "all_tie")
                continue
            yield self._pair_row(pair)
        queue_path = self._write_queue(queue)
        self.report(SpfResolveReport(
            agreement=agreement_report(list(pairs.values()), DIMENSIONS),
            outcomes=dict(sorted(outcomes.items())),
            arbitration=ArbitrationFacts(
                arbitrate_on=self.arbitrate_on, disputed=disputed, applied=applied, pending=len(queue),
                unused_decisions=sorted(set(decisions) - set(pairs)),
                queue=str(queue_path.name) if queue_path else None),
            annotators=len({a["annotator"] for group in pairs.values() for a in group}),
            min_annotators=self.min_annotators,
            held_back_below_min_annotators=held_back,
        ))

    def _pair_row(self, pair) -> dict:
        first = pair.annotations[0]
        a, b = first["response_a"], first["response_b"]
        chosen, rejected = (a, b) if pair.winner == "A" else (b, a)
        return {
            "kind": "preference", "pair_id": pair.pair_id, "prompt": first["prompt"], "chosen": chosen,
            "rejected": rejected, "deciding_dimension": pair.deciding_dimension,
            "distribution": first["distribution"], "source": first["source"], "_source": first.get("_source"),
            "annotator_count": len(pair.annotations), "agreement": pair.agreement, "arbitrated": pair.arbitrated,
            "decided_by": "annotation",
            "_file": first.get("_file"), "_row": first.get("_row"),
        }

    def _write_queue(self, queue: list[dict]) -> Path | None:
        default = self.ctx.build_dir / QUEUE_FILE
        path = resolve_path(self.params["queue"], self.ctx.recipe_dir) if self.params.get("queue") else default
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for entry in queue:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return path


@register_stage
class AdjacentPairsStage(Stage):
    """Ranked responses (best first) or scored responses -> preference pairs (ChiMed-GPT adjacent pairs).

    Params (scored lists): `ties` (drop | next_lower, default drop: how equal scores are handled) and
    `min_margin` (default 0: a kept pair's score margin is at least this). Candidate pairs that are not
    kept are counted by reason in stats.json (`adjacent_pairs.dropped_pairs`).
    """

    name = "adjacent_pairs"
    Report = AdjacentPairsReport
    Params = AdjacentPairsParams
    takes = frozenset({"ranking"})
    makes = {"ranking": "preference"}

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        try:
            self.rule = PairingRule(self.config.ties, self.config.min_margin)
        except (TypeError, ValueError) as error:
            raise CmedinsError(f"stage '{self.name}': {error}") from None

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        made = 0
        dropped_pairs: Counter = Counter()
        for row in rows:
            if row.get("kind") != "ranking":
                yield row
                continue
            pairs, dropped = adjacent_pairs(row, self.rule)
            dropped_pairs.update(dropped)
            if not pairs:
                self.ctx.drop(self.name, "no_pair_kept" if dropped else "fewer_than_two_distinct_responses")
                continue
            self.ctx.created(self.name, len(pairs) - 1)
            made += len(pairs)
            yield from pairs
        self.report(AdjacentPairsReport(pairs=made, ties=self.rule.ties, min_margin=self.rule.min_margin,
                                        candidate_pairs=made + sum(dropped_pairs.values()),
                                        dropped_pairs=dict(sorted(dropped_pairs.items()))))


@register_stage
class RmVoteStage(Stage):
    """SF-Med selection by reward-model vote over preference rows that carry score columns.

    Params: `models` (score column names), `drop_fraction` (0.1), `flip_fraction` (0: no flips),
    `clear_margin` (0: a pair whose judge-score margin exceeds it is never flipped; annotator-decided pairs
    never are), `sources` (recipe source names to apply it to; default every preference row).
    """

    name = "rm_vote"
    Report = RmVoteReport
    Params = RmVoteParams
    takes = frozenset({"preference"})

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        try:
            self.config = VoteConfig(tuple(params.get("models") or ()), params.get("flip_fraction", 0.0),
                                     params.get("drop_fraction", 0.1), params.get("clear_margin", 0.0))
        except ValueError as error:
            raise CmedinsError(f"stage '{self.name}': {error}") from None
        self.sources = set(params.get("sources") or ())

    def _applies(self, row: dict) -> bool:
        return row.get("kind") == "preference" and (not self.sources or row.get("_source") in self.sources)

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        voted = []
        for row in rows:
            if not self._applies(row):
                yield row
                continue
            try:
                mean_margin(row, self.config)
            except RowError as error:
                self.ctx.quarantine(self.name, "missing_rm_score", row, error.message, field=error.field)
                continue
            voted.append(row)
        kept, dropped, flips = select(voted, self.config)
        if dropped:
            self.ctx.drop(self.name, "rm_vote_strongest_margin", len(dropped))
        self.report(RmVoteReport(models=list(self.config.models), pairs=len(voted), **flips,
                                 dropped=len(dropped), flip_fraction=self.config.flip_fraction,
                                 drop_fraction=self.config.drop_fraction, clear_margin=self.config.clear_margin))
        yield from kept


@register_stage
class DpoRowsStage(Stage):
    """Preference rows -> validated DPO rows; duplicates (same id) and identical responses are dropped.

    Params: `distribution` {recipe source name: in | out} for sources whose rows do not say (decided pairs,
    rankings); default "in".
    """

    name = "dpo_rows"
    Report = DpoRowsReport
    Params = DpoRowsParams
    takes = frozenset({"preference"})
    makes = {"preference": "dpo"}
    only = True

    def __init__(self, params, ctx):
        super().__init__(params, ctx)
        self.distribution = self.config.distribution

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        seen: set[str] = set()
        checked = 0
        for row in rows:
            if row.get("kind") != "preference":
                self.ctx.quarantine(self.name, f"unresolved_{row.get('kind')}", row, f"a {row.get('kind')} row "
                                    "reached the end (is spf_resolve / adjacent_pairs missing?)", field="kind")
                continue
            if row["chosen"].strip() == row["rejected"].strip():
                self.ctx.drop(self.name, "identical_responses")
                continue
            distribution = row.get("distribution") or self.distribution.get(row.get("_source"), "in")
            try:
                out = dpo_row(row, distribution)
            except RowError as error:
                self.ctx.quarantine(self.name, f"invalid:{error.field}", row, error.message, field=error.field)
                continue
            if out["id"] in seen:
                self.ctx.drop(self.name, "duplicate_pair")
                continue
            seen.add(out["id"])
            checked += 1
            yield {"kind": "dpo", **out, "_file": row.get("_file"), "_row": row.get("_row")}
        self.report(DpoRowsReport(rows=checked))
