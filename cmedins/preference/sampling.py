"""Prompts for annotation: seeded in-distribution samples from a built SFT dataset and out-of-distribution
prompts from a separate source (the paper: 10,000 + 5,000), with target and achieved counts.

In-distribution prompts come from a build whose manifest says de-identification ran; OOD prompts are
de-identified here. A prompt is an SFT row's messages without the final assistant turn.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

from cmedins.contracts.ids import content_id
from cmedins.contracts.reports import read_deid
from cmedins.deid.residual import residual_hits
from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.formats import FORMATS
from cmedins.rowio.readers import iter_rows, row_error

DEFAULT_IN, DEFAULT_OUT = 10_000, 5_000


def build_prompts(build_dir: Path) -> list[dict]:
    """Prompts of every row of a de-identified SFT build folder (data/*.parquet)."""
    manifest_path = build_dir / "manifest.json"
    if not manifest_path.is_file():
        raise CmedinsError(f"{build_dir}: no manifest.json (is this a cmedins build folder?)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CmedinsError(f"{manifest_path}: not valid JSON ({type(error).__name__})") from None
    if not isinstance(manifest, dict) or read_deid(manifest, manifest_path) is None:
        raise CmedinsError(f"{manifest_path}: de-identification did not run on this build (deid.ran is false); "
                           "sample prompts from a de-identified build")
    files = sorted((build_dir / "data").glob("*.parquet"))
    if not files:
        raise CmedinsError(f"{build_dir}: no data/*.parquet files")
    prompts = []
    for file in files:
        for number, row in iter_rows(file):
            messages = row.get("messages") or []
            if len(messages) >= 2 and messages[-1]["role"] == "assistant":
                for index, message in enumerate(messages[:-1]):  # the build says it ran: check, do not trust
                    hits = residual_hits(str(message.get("content") or ""))
                    if hits:
                        raise CmedinsError(f"{file}, row {number}, field 'messages.{index}.content': a {hits[0][0]} "
                                           "pattern is in this de-identified build; refusing to sample from it")
                prompts.append({"prompt": messages[:-1], "source": row.get("source") or build_dir.name})
    return prompts


def source_prompts(path: Path, fmt: str) -> Iterator[dict]:
    """Prompts from a prompt-format source (flames, cvalues, safetybench, zh_safety); bad rows raise."""
    if fmt not in FORMATS or FORMATS[fmt].kind != "prompt":
        known = ", ".join(sorted(name for name, f in FORMATS.items() if f.kind == "prompt"))
        raise CmedinsError(f"'{fmt}' is not a prompt source format (known: {known})")
    spec = FORMATS[fmt]
    rows = spec.read(path)
    for file, number, raw in rows:
        try:
            error = row_error(raw)
            if error is not None:
                raise error
            yield {**spec.adapter(raw), "_file": file, "_row": number}
        except RowError as error:
            raise error.at(file, number) from None


def sample(pool: list[dict], n: int, seed: int, label: str) -> list[dict]:
    """Up to n distinct prompts, seeded; the same pool and seed give the same sample in any input order."""
    unique = {content_id(p["prompt"]): p for p in pool}
    ordered = [dict(unique[key], prompt_id=key) for key in sorted(unique)]
    chosen = random.Random(f"{seed}:prompts:{label}").sample(ordered, min(n, len(ordered)))
    return sorted(chosen, key=lambda p: p["prompt_id"])


def sample_prompts(in_pool: list[dict], out_pool: list[dict], *, n_in: int = DEFAULT_IN, n_out: int = DEFAULT_OUT,
                   seed: int = 42) -> tuple[list[dict], dict]:
    """Rows {prompt_id, prompt, distribution, source} and a report of target / available / achieved."""
    inside = [dict(p, distribution="in") for p in sample(in_pool, n_in, seed, "in")]
    outside = [dict(p, distribution="out") for p in sample(out_pool, n_out, seed, "out")]
    seen = {p["prompt_id"] for p in inside}
    overlap = [p for p in outside if p["prompt_id"] in seen]  # an "OOD" prompt that is in the training set
    outside = [p for p in outside if p["prompt_id"] not in seen]
    report = {
        "seed": seed,
        "in": {"target": n_in, "available": len({content_id(p["prompt"]) for p in in_pool}), "achieved": len(inside)},
        "out": {"target": n_out, "available": len({content_id(p["prompt"]) for p in out_pool}),
                "achieved": len(outside), "dropped_in_training_set": len(overlap)},
    }
    rows = [{key: p[key] for key in ("prompt_id", "prompt", "distribution", "source")} for p in inside + outside]
    return rows, report
