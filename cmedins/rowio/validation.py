"""Contract checks over whole files or build folders (`cmedins validate`) and JSON Schema export."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from cmedins.contracts.schema import MODELS
from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.readers import iter_rows, row_error

IGNORED_KEYS = ("kind", "_file", "_row")


@dataclass
class Report:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted((path / "data").glob("*.parquet")) if (path / "data").is_dir() else []
        if not files:
            raise CmedinsError(f"{path}: no data/*.parquet files (is this a build folder?)")
        return files
    if not path.exists():
        raise CmedinsError(f"{path}: not found")
    return [path]


def validate_path(path: Path, kind: str) -> Report:
    if kind not in MODELS:
        raise CmedinsError(f"unknown kind '{kind}' (expected one of {', '.join(MODELS)})")
    model = MODELS[kind]
    report = Report()
    for file in _files(Path(path)):
        for number, row in iter_rows(file):
            report.rows += 1
            error = row_error(row)
            if error is None:
                try:
                    model.model_validate({k: v for k, v in row.items() if k not in IGNORED_KEYS})
                    continue
                except ValidationError as failure:
                    error = RowError.from_validation(failure)
            report.errors.append(error.at(str(file), number))
    return report


def json_schemas() -> dict[str, dict]:
    return {kind: model.model_json_schema() for kind, model in MODELS.items()}


def write_json_schemas(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, schema in json_schemas().items():
        path = out_dir / f"{kind}.schema.json"
        path.write_text(json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        paths.append(path)
    return paths
