"""What a build reports about itself, typed: the base of every stage's report, and the build-folder facts that
the card and `cmedins push` read (the manifest's `deid` and `validation` sections, stats.json's ledger).

A report is a strict pydantic model (unknown fields refused, values never coerced) whose fields say how two
reports of the same stage over different rows combine (the Ray executor runs a stage over chunks):
    Count / Tally   counts: numbers add, tallies add key by key (nested tallies too)
    Peak            a maximum over the rows seen (the largest bucket)
    anything else   a setting: both reports must hold the same value
A field holding a report merges by that report's own rules. The same models read the files back
(`cmedins push` validates manifest.json and stats.json against them), so what the runner wrote and what the
gate checks cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cmedins.errors import CmedinsError


class _Rule:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"merge rule {self.name}"


SUM, PEAK = _Rule("sum"), _Rule("peak")

Count = Annotated[int, Field(ge=0), SUM]
Tally = Annotated[dict[str, int], SUM]  # counts by key (by reason, by task ...)
NestedTally = Annotated[dict[str, dict[str, int]], SUM]  # e.g. task -> reason -> count
Peak = Annotated[int, Field(ge=0), PEAK]

R = TypeVar("R", bound="Report")


class ReportMergeError(CmedinsError):
    """Two reports of one stage disagree on a setting (chunks of one stage ran with different settings)."""


class Report(BaseModel):
    """Base of every report: strict, unknown fields refused; `merge` combines two of the same kind."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)

    def merge(self: R, other: R) -> R:
        """This report and `other` (the same stage over other rows) as one: counts add, settings must agree."""
        if type(other) is not type(self):
            raise ReportMergeError(f"cannot merge a {type(other).__name__} into a {type(self).__name__}")
        values = {}
        for name, info in type(self).model_fields.items():
            rule = next((item for item in info.metadata if isinstance(item, _Rule)), None)
            values[name] = _combine(getattr(self, name), getattr(other, name), rule, f"{type(self).__name__}.{name}")
        return type(self).model_validate(values)


def _combine(a: Any, b: Any, rule: _Rule | None, where: str) -> Any:
    if isinstance(a, Report) and isinstance(b, Report):
        return a.merge(b)
    if rule is SUM:
        if isinstance(a, dict) and isinstance(b, dict):
            keys = list(dict.fromkeys([*a, *b]))
            merged = {key: _combine(a[key], b[key], SUM, f"{where}.{key}") if key in a and key in b
                      else (a[key] if key in a else b[key]) for key in keys}
            return dict(sorted(merged.items()))
        if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
            return a + b
        raise ReportMergeError(f"{where}: a count that is neither a number nor a tally")
    if rule is PEAK:
        return max(a, b)
    if a != b:
        raise ReportMergeError(f"{where}: the two reports hold different settings")
    return a


def merge_all(reports: list[R]) -> R:
    """Several reports of one stage (chunks in input order) as one."""
    merged = reports[0]
    for report in reports[1:]:
        merged = merged.merge(report)
    return merged


# --- the facts the card and the publish gate read ------------------------------------------------------------


class ResidualFacts(Report):
    """The privacy gate's residual scan over the texts it returned."""

    scanned_texts: Count
    hits: Tally
    units_with_hits: Count
    fail_on_residual: bool


class DeidFacts(Report):
    """manifest.json `deid`: what de-identification really ran and counted (written by the privacy gate)."""

    ran: Literal[True]
    path: str  # the stage that ran it (deid | spf_deid)
    entities: list[str]
    strict_types: list[str]
    narrowed_strict: list[str]
    allow_unsafe: bool
    config: dict[str, Any]  # the stage's de-identification settings (cmedins.deid.config.DeidConfig)
    units: Count
    texts: Count
    chars: Count
    counts: Tally  # entities replaced, by type
    known_identities_masked: Count
    residual: ResidualFacts
    audit: str | None
    rows: Count = 0  # rows the stage passed on


class DeidNotRun(Report):
    """manifest.json `deid` of a build without a de-identification stage (its recipe declared
    `sources_already_deidentified: true`; the toolkit neither de-identified nor checked its rows)."""

    ran: Literal[False]
    sources_already_deidentified: bool = False


class DeidSection(Report):
    """manifest.json's `deid` alone (what the card reads): the facts of a run, or that none ran."""

    deid: DeidFacts | DeidNotRun = Field(discriminator="ran")


def read_deid(manifest: dict[str, Any], manifest_path: Any) -> DeidFacts | None:
    """manifest.json `deid`, read by the model the runner wrote it from; None when de-identification did not
    run. A malformed or tampered section is a one-line error naming the file and field, never its value."""
    section = read_deid_section(manifest, manifest_path)
    return section if isinstance(section, DeidFacts) else None


def read_deid_section(manifest: dict[str, Any], manifest_path: Any) -> DeidFacts | DeidNotRun:
    """manifest.json `deid` as written: the facts of a run, or that none ran (and why)."""
    try:
        section = DeidSection.model_validate({"deid": manifest.get("deid", {"ran": False})})
    except ValidationError as error:
        field, message = first_error(error)
        raise CmedinsError(f"{manifest_path}: field '{field}': {message}") from None
    return section.deid


class ValidationFacts(Report):
    """manifest.json `validation`, counted from the ledger: `passed` only when the validating stage ran, kept
    rows and rejected none."""

    ran: bool
    stage: str | None = None
    rows: Count
    failed: Count
    errors: Count
    failed_by_reason: Tally = {}
    passed: bool


class StageLedger(Report):
    """One stage's entry in stats.json `stages`: in + created = out + dropped + quarantined."""

    model_config = ConfigDict(populate_by_name=True)

    rows_in: Count = Field(alias="in")
    rows_out: Count = Field(alias="out")
    created: Count
    dropped: Tally
    quarantined: Tally


class RowTotals(Report):
    """stats.json `rows`: the whole build's accounting."""

    input: Count
    created: Count
    kept: Count
    dropped: Count
    quarantined: Count
    balanced: Literal[True]


class FileHash(Report):
    sha256: str
    bytes: Count


class ManifestFacts(Report):
    """The parts of manifest.json the publish gate relies on (other keys: provenance, read as written)."""

    model_config = ConfigDict(extra="allow")

    name: str
    stages: list[str]
    deid: DeidFacts | DeidNotRun = Field(discriminator="ran")
    validation: ValidationFacts
    data_files: dict[str, FileHash]


class StatsFacts(Report):
    """The parts of stats.json the publish gate relies on: the runner's ledger and totals."""

    model_config = ConfigDict(extra="allow")

    kind: Literal["sft", "dpo"]
    rows: RowTotals
    stages: dict[str, StageLedger]


def first_error(error: ValidationError) -> tuple[str, str]:
    """(field path, message) of a validation error's first problem; pydantic's message never quotes the value.
    The tag pydantic inserts for a discriminated union (`deid.1.residual`) is left out of the path."""
    first = error.errors()[0]
    loc = list(first["loc"])
    if len(loc) > 1 and loc[0] == "deid" and isinstance(loc[1], int):
        del loc[1]
    return ".".join(str(part) for part in loc), first["msg"]
