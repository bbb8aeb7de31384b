"""What `cmedins push` checks before anything leaves the machine: it verifies the build instead of trusting its
manifest.

1. The published set is fixed: data shards, README.md, plots/*.png, stats.json, manifest.json. It is copied
   into a staging folder first, and the copy is what is checked and uploaded (a file changed after the check
   cannot slip through).
2. Integrity: each data shard's sha256 must equal what the build recorded (`manifest.data_files`); a
   replaced, added or missing shard is refused.
3. Facts, read by the models the runner wrote them from (cmedins.contracts.reports; every stage's report
   by its own model, cmedins.runner.report): a missing or malformed section refuses. They must agree: de-identification ran as the first stage (manifest stages and
   stats.json's per-stage ledger both show it), every strict identifier type was active, `allow_unsafe` is off,
   the gate scanned at least one text per row it passed; validation ran and rejected no row (stats.json's
   ledger counts, not the manifest's `passed` flag).
4. Re-scan: every text of every file in the set (Parquet string values, card, stats, manifest, PNG text
   chunks) goes through the residual scanner; any hit refuses, naming the file and where, never the value.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import ValidationError

from cmedins.contracts.reports import DeidFacts, ManifestFacts, StatsFacts, first_error
from cmedins.deid.config import STRICT_ENTITIES
from cmedins.deid.gate import scan
from cmedins.errors import CmedinsError, PublishRefused
from cmedins.rowio.readers import file_sha256

DEID_STAGES = ("deid", "spf_deid")
RUNNER_STEPS = ("read", "mix")  # ledger entries the runner itself makes (not stages with a report)


@dataclass(frozen=True)
class PublishedSet:
    root: Path  # the staging folder holding exactly the files to upload
    files: list[str]  # paths relative to root


def published_files(build_dir: Path) -> list[str]:
    """The files of a build that may be published (relative paths, sorted)."""
    files = [p.relative_to(build_dir).as_posix() for p in sorted((build_dir / "data").glob("*.parquet"))]
    files += [p.relative_to(build_dir).as_posix() for p in sorted((build_dir / "plots").glob("*.png"))]
    files += [name for name in ("README.md", "stats.json", "manifest.json") if (build_dir / name).is_file()]
    return sorted(files)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise PublishRefused(f"{path}: missing or not valid JSON; refusing to publish") from None
    if not isinstance(data, dict):
        raise PublishRefused(f"{path}: not a JSON object; refusing to publish")
    return data


def read_facts(root: Path, manifest: dict[str, Any], stats: dict[str, Any]) -> tuple[ManifestFacts, StatsFacts]:
    """manifest.json and stats.json read by the models the runner wrote them from: a missing or malformed
    section refuses, naming the file and field."""
    facts = []
    for name, model, data in (("manifest.json", ManifestFacts, manifest), ("stats.json", StatsFacts, stats)):
        try:
            facts.append(model.model_validate(data))
        except ValidationError as error:
            field, message = first_error(error)
            raise PublishRefused(f"{root / name}: field '{field}': {message}; refusing to publish") from None
    return facts[0], facts[1]


def check_facts(root: Path, manifest: ManifestFacts, stats: StatsFacts) -> None:
    """Refuse unless the manifest and the runner's own ledger (stats.json) agree that the build is safe."""
    where = root / "manifest.json"
    deid = manifest.deid
    if not isinstance(deid, DeidFacts):
        declared = (" (the recipe only declared its sources already de-identified)"
                    if deid.sources_already_deidentified else "")
        raise PublishRefused(f"{where}: de-identification did not run (deid.ran is not true){declared}; "
                             "refusing to publish")
    stages, ledger, stage = manifest.stages, stats.stages, deid.path
    if stage not in DEID_STAGES or not stages or stages[0] != stage or stage not in ledger:
        raise PublishRefused(f"{where}: the recorded stages do not show a de-identification stage that ran first "
                             "(deid facts disagree with the build's stage list and stats.json); refusing to publish")
    if deid.allow_unsafe or deid.narrowed_strict:
        raise PublishRefused(f"{where}: this build was made with allow_unsafe (strict identifier types not "
                             "detected); refusing to publish")
    missing = sorted(STRICT_ENTITIES - set(deid.entities))
    if missing:
        raise PublishRefused(f"{where}: de-identification did not detect {', '.join(missing)}; refusing to publish")
    passed_on = ledger[stage].rows_out
    if passed_on and deid.units == 0:
        raise PublishRefused(f"{where}: the de-identification stage passed {passed_on} rows but scanned none; "
                             "refusing to publish")
    validation = manifest.validation
    check = validation.stage or ("dpo_rows" if stats.kind == "dpo" else "validate")
    if check not in ledger or not validation.ran:
        raise PublishRefused(f"{where}: validation did not run; refusing to publish")
    rejected = sum(ledger[check].quarantined.values())
    if rejected or not validation.passed or validation.failed:
        raise PublishRefused(f"{where}: validation did not pass ({rejected} rows failed the "
                             f"{check} stage per stats.json); refusing to publish")
    if not ledger[check].rows_out:
        raise PublishRefused(f"{where}: validation passed no rows; refusing to publish")


def check_reports(root: Path, manifest: dict[str, Any], stats: dict[str, Any]) -> None:
    """Every stage in the ledger has its report in the build folder, and it reads back by that stage's own
    report model (cmedins.runner.report): a missing, malformed or inconsistent one refuses."""
    from cmedins.runner.registry import load_plugins
    from cmedins.runner.report import ReportError
    from cmedins.runner.stage import STAGES

    load_plugins()
    for key in stats["stages"]:
        name = key.partition("#")[0]
        if name in RUNNER_STEPS:
            continue
        if name not in STAGES:
            raise PublishRefused(f"{root / 'stats.json'}: field 'stages.{key}': not a stage of this cmedins "
                                 "installation, so its report cannot be checked; refusing to publish")
        try:
            STAGES[name].Report.from_build(key, stats, manifest)
        except ReportError as error:
            raise PublishRefused(f"{root / error.file}: {error.message}; refusing to publish") from None


def check_integrity(root: Path, manifest: dict[str, Any], shown: Path) -> None:
    """Recompute each data shard's sha256 (in `root`) against the manifest; `shown` names the build in errors."""
    recorded = manifest.get("data_files")
    if not isinstance(recorded, dict) or not recorded:
        raise PublishRefused(f"{shown / 'manifest.json'}: records no data file hashes; rebuild with this version "
                             "of cmedins; refusing to publish")
    present = {p.relative_to(root).as_posix() for p in (root / "data").glob("*.parquet")}
    for name in sorted(present | set(recorded)):
        if name not in recorded:
            raise PublishRefused(f"{shown / name}: not written by the build (no recorded hash); refusing to publish")
        if name not in present:
            raise PublishRefused(f"{shown / name}: recorded by the build but missing; refusing to publish")
        if file_sha256(root / name) != (recorded[name] or {}).get("sha256"):
            raise PublishRefused(f"{shown / name}: changed since the build (sha256 differs from the manifest); "
                                 "refusing to publish")


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def png_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(chunk keyword, text) of a PNG's tEXt/zTXt/iTXt chunks: text a plot carries besides its pixels."""
    data = path.read_bytes()
    offset = 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        offset += 12 + length
        if kind == b"tEXt":
            key, _, text = body.partition(b"\0")
            yield key.decode("latin-1"), text.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            yield key.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, text = rest.partition(b"\0")  # translated keyword
            yield key.decode("latin-1"), (zlib.decompress(text) if compressed else text).decode("utf-8", "replace")


def rescan(root: Path, files: list[str]) -> None:
    """Residual-scan every text of the files about to be published; the first hit refuses (file and where)."""
    for name in files:
        path = root / name
        if name.endswith(".parquet"):
            parquet = pq.ParquetFile(path)
            number = 0
            for batch in parquet.iter_batches(batch_size=4096):
                for row in batch.to_pylist():
                    number += 1
                    for field, text in _strings(row, ""):
                        hits = scan(text)
                        if hits:
                            raise PublishRefused(f"{name}, row {number}, field '{field}': a {hits[0][0]} pattern "
                                                 "is in a file about to be published; refusing to publish")
        elif name.endswith(".png"):
            for key, text in png_texts(path):
                hits = scan(text)
                if hits:
                    raise PublishRefused(f"{name}, text chunk '{key}': a {hits[0][0]} pattern; refusing to publish")
        else:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise PublishRefused(f"{name}: not UTF-8 text; refusing to publish") from None
            for line_number, line in enumerate(text.splitlines(), start=1):
                hits = scan(line)
                if hits:
                    raise PublishRefused(f"{name}, line {line_number}: a {hits[0][0]} pattern is in a file about "
                                         "to be published; refusing to publish")


def stage_published_set(build_dir: Path, staging: Path) -> PublishedSet:
    """Copy the publishable files of a build into `staging` and verify the copy (raises PublishRefused)."""
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise CmedinsError(f"{build_dir}: no such build folder")
    if not (build_dir / "README.md").is_file():
        raise PublishRefused(f"{build_dir / 'README.md'}: no dataset card; run `cmedins card {build_dir}` first")
    files = published_files(build_dir)
    for name in files:
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build_dir / name, target)
    manifest, stats = _load(staging / "manifest.json"), _load(staging / "stats.json")
    check_facts(build_dir, *read_facts(build_dir, manifest, stats))
    check_reports(build_dir, manifest, stats)
    check_integrity(staging, manifest, build_dir)
    rescan(staging, files)
    return PublishedSet(staging, files)
