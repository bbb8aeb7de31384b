"""The SPF build: a recipe of preference sources and stages -> a DPO build folder.

Same layout and accounting as the SFT runner (cmedins.pipeline): data/<split>-*.parquet (DPORow schema),
preview.jsonl, stats.json (kind "dpo", with a `preference` key), manifest.json, quarantine/, README.md;
the arbitration queue is written beside them. The SFT runner's reading step only knows records and
conversations and its tail (mix by task, SFT validation) does not apply to pairs, hence this runner.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cmedins import mix as mixing
from cmedins.config import Recipe, load_recipe, resolve_path
from cmedins.core_stages import public_row
from cmedins.errors import CmedinsError, RowError
from cmedins.io import iter_rows, row_error
from cmedins.ledger import Ledger
from cmedins.manifest import build_manifest
from cmedins.output import DPO_SCHEMA, SplitWriter, write_json, write_preview
from cmedins.publish.card import write_card
from cmedins.schema import DIMENSIONS
from cmedins.sources import FORMATS
from cmedins.stage import STAGES, BuildContext

READ = "read"
WORK_DIR = ".work"
SPF_KINDS = ("annotation", "preference", "ranking")
DEID_STAGE = "spf_deid"
PREVIEW_ROWS = 20


def build_spf(recipe_path: Path, out_dir: Path | None = None) -> dict[str, Any]:
    """Run an SPF recipe; returns stats.json's content."""
    from cmedins.registry import load_plugins

    load_plugins()
    recipe_path = Path(recipe_path)
    recipe, raw_recipe, recipe_sha = load_recipe(recipe_path)
    base = recipe_path.resolve().parent
    out_dir = Path(out_dir) if out_dir is not None else resolve_path(recipe.output, base)
    stages = _plan(recipe)
    _prepare(out_dir)
    ledger = Ledger(out_dir / "quarantine", out_dir / WORK_DIR / "quarantine")
    ctx = BuildContext(seed=recipe.seed, work_dir=out_dir / WORK_DIR, ledger=ledger, recipe_dir=base)
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        source_stats: dict[str, dict] = {}
        stream = _counted(ledger, READ, _read_sources(recipe, ctx, source_stats), out=True)
        for name, params in stages:
            stage = STAGES[name](params, ctx)
            stream = _counted(ledger, name, stage.run(_counted(ledger, name, stream, out=False)), out=True)
        rows = [public_row(row) for row in stream]
        splits = _write_splits(out_dir, rows, recipe)
        ledger.close()
        ledger.check()
        stats = _stats(recipe, ledger, ctx, source_stats, rows, splits)
        manifest = build_manifest(recipe, raw_recipe, recipe_sha, base, ctx, ledger)
        write_preview(out_dir / "preview.jsonl", rows[:PREVIEW_ROWS])
        write_json(out_dir / "stats.json", stats)
        write_json(out_dir / "manifest.json", manifest)
        write_card(out_dir)
    finally:
        ledger.close()
    return stats


def _plan(recipe: Recipe) -> list[tuple[str, dict]]:
    stages = recipe.stage_list()
    names = [name for name, _ in stages]
    if not names or names[0] != DEID_STAGE:
        raise CmedinsError(f"recipe: an SPF recipe must start with the {DEID_STAGE} stage (prompts and responses "
                           "are published and must be de-identified first)")
    for name in names:
        if name not in STAGES:
            raise CmedinsError(f"recipe: unknown stage '{name}' (known: {', '.join(sorted(STAGES))})")
    if names[-1] != "dpo_rows":
        raise CmedinsError("recipe: an SPF recipe must end with the dpo_rows stage")
    return stages


def _prepare(out_dir: Path) -> None:
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / "manifest.json").exists() and not (out_dir / WORK_DIR).exists():
            raise CmedinsError(f"{out_dir}: output folder is not empty and is not a cmedins build; choose another --out")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)


def _counted(ledger: Ledger, key: str, rows: Iterator[dict], *, out: bool) -> Iterator[dict]:
    counts = ledger.stage(key)
    for row in rows:
        if out:
            counts.rows_out += 1
        else:
            counts.rows_in += 1
        yield row


def _read_sources(recipe: Recipe, ctx: BuildContext, source_stats: dict) -> Iterator[dict]:
    counts = ctx.ledger.stage(READ)
    for source in recipe.sources:
        if source.format not in FORMATS:
            raise CmedinsError(f"source '{source.name}': unknown format '{source.format}' (known: "
                               f"{', '.join(sorted(FORMATS))})")
        fmt = FORMATS[source.format]
        path = resolve_path(source.path, ctx.recipe_dir)
        if not path.exists():
            raise CmedinsError(f"source '{source.name}': {path} not found")
        figures = source_stats[source.name] = {"format": source.format, "path": source.path,
                                               "license": source.license, "rows_read": 0, "quarantined": 0}
        rows = fmt.reader(path) if fmt.reader else ((str(path), n, row) for n, row in iter_rows(path))
        for number, (file, row_number, raw) in enumerate(rows, start=1):
            if source.limit and number > source.limit:
                break
            counts.rows_in += 1
            figures["rows_read"] += 1
            location = {"_file": _display(Path(file), ctx.recipe_dir), "_row": row_number}
            try:
                error = row_error(raw)
                if error is not None:
                    raise error
                row = fmt.adapter(raw)
                if row.get("kind") not in SPF_KINDS:
                    raise RowError(f"format '{fmt.name}' gives {row.get('kind')} rows, not preference data",
                                   field="format")
            except RowError as error:
                figures["quarantined"] += 1
                reason = f"bad_row:{error.field}" if error.field else "bad_row"
                ctx.quarantine(READ, reason, {**location, "raw": raw}, error.message, field=error.field, private=True)
                continue
            yield {**row, "source": row.get("source") or source.name, "_source": source.name, **location}


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.parent))
    except ValueError:
        return path.name


def _write_splits(out_dir: Path, rows: list[dict], recipe: Recipe) -> dict[str, int]:
    validation = mixing.validation_indices(list(range(len(rows))), recipe.split.validation, recipe.seed, "spf")
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
        "adjacent_pairs": stage_stats.get("adjacent_pairs"),
        "rm_vote": stage_stats.get("rm_vote"),
    }


def _stats(recipe: Recipe, ledger: Ledger, ctx: BuildContext, source_stats: dict, rows: list[dict],
           splits: dict[str, int]) -> dict[str, Any]:
    own = {key: value for key, value in ctx.stats.items()
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
        "preference": preference_stats(rows, ctx.stats),
    }
