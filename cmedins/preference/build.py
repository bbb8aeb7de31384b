"""The SPF build: a recipe of preference sources and stages -> a DPO build folder.

Same layout and accounting as the SFT runner (cmedins.runner.build): data/<split>-*.parquet (DPORow schema),
preview.jsonl, stats.json (kind "dpo", with a `preference` key), manifest.json, quarantine/, README.md;
the arbitration queue is written beside them. It shares the SFT runner's set-up, source reading and stage
chaining; what differs is the row conversion (preference kinds only) and the tail: pairs are neither mixed
by task nor checked against the SFT contract.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from cmedins.contracts.arrow import DPO_SCHEMA
from cmedins.contracts.schema import DIMENSIONS, public_row
from cmedins.errors import CmedinsError, RowError
from cmedins.publish.card import write_card
from cmedins.publish.llamafactory import write_dataset_info
from cmedins.rowio.formats import Format
from cmedins.rowio.shards import SplitWriter, write_json, write_preview
from cmedins.runner.build import READ, open_build, read_sources, run_stages
from cmedins.runner.collector import rows_collector
from cmedins.runner.ledger import Ledger
from cmedins.runner.manifest import build_manifest
from cmedins.runner.recipe import Recipe, SourceConfig
from cmedins.runner.report import render_stats
from cmedins.runner.split import validation_indices
from cmedins.runner.stage import BuildContext

SPF_KINDS = ("annotation", "preference", "ranking")
DEID_STAGE = "spf_deid"
PREVIEW_ROWS = 20


@rows_collector()
def build_spf(recipe_path: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Run an SPF recipe; returns stats.json's content."""
    build = open_build(recipe_path, out_dir, plan=_plan, source_kinds=SPF_KINDS, build_kind="an SPF build")
    recipe, ctx, out_dir = build.recipe, build.ctx, build.out_dir
    ledger = ctx.ledger
    try:
        stages = build.stages
        source_stats: dict[str, dict] = {}
        stream = read_sources(recipe, ctx, source_stats, _convert)
        rows = [public_row(row) for row in run_stages(ledger, stream, stages)]
        splits = _write_splits(out_dir, rows, recipe)
        ledger.close()
        ledger.check()
        stats = _stats(recipe, ledger, ctx, source_stats, rows, splits)
        manifest = build_manifest(recipe, build.raw_recipe, build.recipe_sha, build.base, ctx, ledger)
        write_preview(out_dir / "preview.jsonl", rows[:PREVIEW_ROWS])
        write_json(out_dir / "stats.json", stats)
        write_json(out_dir / "manifest.json", manifest)
        write_card(out_dir)
        write_dataset_info(out_dir)  # LLaMA-Factory reads the build folder as is
        build.commit()
    finally:
        ledger.close()
        build.close()
    return stats


def _plan(recipe: Recipe) -> list[tuple[str, dict]]:
    stages = recipe.stage_list()
    names = [name for name, _ in stages]
    if not names or names[0] != DEID_STAGE:
        raise CmedinsError(f"recipe: an SPF recipe must start with the {DEID_STAGE} stage (prompts and responses "
                           "are published and must be de-identified first)")
    if recipe.sources_already_deidentified:
        raise CmedinsError(f"recipe field 'sources_already_deidentified': an SPF recipe always runs {DEID_STAGE}; "
                           "the key is for SFT recipes without a deid stage")
    if names[-1] != "dpo_rows":
        raise CmedinsError("recipe: an SPF recipe must end with the dpo_rows stage")
    return stages


def _convert(fmt: Format, source: SourceConfig, raw: dict, row_number: int) -> list[dict]:
    """Preference sources only: annotations, decided pairs, rankings."""
    row = fmt.adapter(raw)
    if row.get("kind") not in SPF_KINDS:
        raise RowError(f"format '{fmt.name}' gives {row.get('kind')} rows, not preference data", field="format")
    return [{**row, "source": row.get("source") or source.name, "_source": source.name}]


def _write_splits(out_dir: Path, rows: list[dict], recipe: Recipe) -> dict[str, int]:
    validation = validation_indices(list(range(len(rows))), recipe.split.validation, recipe.seed, "spf")
    parts = {"train": [r for i, r in enumerate(rows) if i not in validation],
             "validation": [r for i, r in enumerate(rows) if i in validation]}
    for split, part in parts.items():
        writer = SplitWriter(out_dir / "data", split, len(part), DPO_SCHEMA, recipe.split.shard_rows)
        for row in part:
            writer.write(row)
        writer.close()
    return {split: len(part) for split, part in parts.items()}


def preference_stats(rows: list[dict], stage_stats: dict[str, Any]) -> dict[str, Any]:
    """The `preference` key of stats.json: per dimension and distribution, agreement, arbitration."""
    deciding: dict[str, Counter] = {d: Counter() for d in (*DIMENSIONS, "none")}
    for row in rows:
        deciding[row["deciding_dimension"] or "none"][row["distribution"]] += 1
    resolve = stage_stats.get("preference_resolve", {})
    return {
        "pairs": len(rows),
        "distribution": dict(sorted(Counter(r["distribution"] for r in rows).items())),
        "deciding_dimension": {d: {"in": c["in"], "out": c["out"], "total": c["in"] + c["out"]}
                               for d, c in deciding.items()},
        "annotator_count": {str(k): v for k, v in sorted(Counter(r["annotator_count"] for r in rows).items())},
        "arbitrated": sum(r["arbitrated"] for r in rows),
        "by_source": dict(sorted(Counter(r["source"] for r in rows).items())),
        "agreement": resolve.get("agreement"),
        "arbitration": resolve.get("arbitration"),
        "outcomes": resolve.get("outcomes"),
        "annotators": resolve.get("annotators"),
        "min_annotators": resolve.get("min_annotators"),
        "held_back_below_min_annotators": resolve.get("held_back_below_min_annotators"),
        "adjacent_pairs": stage_stats.get("adjacent_pairs"),
        "rm_vote": stage_stats.get("rm_vote"),
    }


def _stats(recipe: Recipe, ledger: Ledger, ctx: BuildContext, source_stats: dict, rows: list[dict],
           splits: dict[str, int]) -> dict[str, Any]:
    figures = render_stats(ctx.reports)
    own = {key: value for key, value in figures.items()
           if key not in ("preference_resolve", "adjacent_pairs", "rm_vote")}
    return {
        **own,
        "kind": "dpo",
        "name": recipe.name,
        "seed": recipe.seed,
        "rows": ledger.totals(READ, len(rows)),
        "stages": ledger.as_dict(),
        "sources": source_stats,
        "splits": splits,
        "preference": preference_stats(rows, figures),
    }
