"""Evaluation sets stay out of training data: refuse a training build not decontaminated against the eval set.

A build's stats.json records, per eval set its `decontaminate` stage indexed, the file's format, row count and
(since it records it) sha256. The eval set asked for must be among them: by sha256 where recorded, else by
format, file name and row count (older builds); anything else is refused with the names that were checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from cmedins.contracts.reports import first_error
from cmedins.errors import CmedinsError
from cmedins.runner.manifest import input_fingerprint


class CheckedEvalSet(BaseModel):
    """One eval set as stats.json records it (cmedins.dedup.stage.EvalSetFacts; older builds lack sha256 and
    unreadable_rows). Read typed: an edited or damaged stats.json is a clear error, not a traceback."""

    model_config = ConfigDict(extra="ignore", strict=True)
    path: str | None = None
    format: str | None = None
    rows: int = 0
    unreadable_rows: int = 0
    sha256: str | None = None


_CHECKED = TypeAdapter(dict[str, CheckedEvalSet])


def _checked_eval_sets(build: Path, stats: object) -> dict[str, CheckedEvalSet]:
    section = stats.get("decontaminate") if isinstance(stats, dict) else None
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise CmedinsError(f"{build}/stats.json: field 'decontaminate' is not an object")
    try:
        return _CHECKED.validate_python(section.get("eval_sets") or {})
    except ValidationError as error:
        field, message = first_error(error)
        where = ".".join(part for part in ("decontaminate.eval_sets", field) if part)
        raise CmedinsError(f"{build}/stats.json: field '{where}': {message}") from None


def check_training_build(build: Path, *, eval_name: str, eval_path: Path, eval_format: str) -> dict:
    """Facts of the match for the report; CmedinsError when the build was not decontaminated against it."""
    stats_path = Path(build) / "stats.json"
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        raise CmedinsError(f"{build}: not a build folder (no readable stats.json)") from None
    checked = _checked_eval_sets(build, stats)
    if not checked:
        raise CmedinsError(f"{build}: refused: this training build has no decontaminate stage, so eval set "
                           f"'{eval_name}' may be in its training data")
    sha = input_fingerprint(Path(eval_path))["sha256"]
    for name, facts in sorted(checked.items()):
        if facts.sha256:
            if facts.sha256 == sha:
                return {"build": str(build), "decontaminated_as": name, "matched_by": "sha256"}
        elif (facts.format == eval_format and Path(str(facts.path)).name == Path(eval_path).name
              and facts.rows + facts.unreadable_rows == _row_count(eval_path, eval_format)):
            return {"build": str(build), "decontaminated_as": name, "matched_by": "format, file name and rows"}
    raise CmedinsError(f"{build}: refused: not decontaminated against eval set '{eval_name}' ({Path(eval_path).name}); "
                       f"its decontaminate stage checked {', '.join(sorted(checked))}")


def _row_count(path: Path, fmt: str) -> int:
    from cmedins.rowio.formats import FORMATS
    from cmedins.runner.registry import load_plugins

    load_plugins()
    return sum(1 for _ in FORMATS[fmt].read(Path(path))) if fmt in FORMATS else -1
