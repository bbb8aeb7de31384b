"""One way a stage reports its figures: a typed report per stage (`Stage.Report`), kept by the runner under the
stage's key (`BuildContext.reports`), rendered into stats.json and manifest.json, and read back from them by
the same model (`read_report`, used by `cmedins push`).

A report's fields are its stats.json section (`figures`), except:
- `facts`: a field holding a report of what ran (settings, versions, the privacy gate's counts) goes to
  manifest.json under `manifest_section` (default: the stage's key);
- `mirrored`: names of `facts` fields repeated in the stats.json section (stats.json readers see them too);
- `lifted`: fields that are top-level stats.json sections of their own (dialogues' `trimmed_turns`);
- `flat`: the one field whose value is the whole section (dialogues: rows per task).
Merging (the Ray executor's chunks) follows each field's rule (cmedins.contracts.reports).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationError

from cmedins.contracts.reports import Count, Report, ValidationFacts
from cmedins.errors import CmedinsError


class ReportError(CmedinsError):
    """A report in a build folder is missing or does not match its model (names the file and field)."""

    def __init__(self, message: str):
        self.file, _, self.message = message.partition(": ")
        super().__init__(message)


class StageReport(Report):
    """Base of every stage's report (see the module doc for how it is laid out in the build folder)."""

    section: ClassVar[str | None] = None  # stats.json key instead of the stage's name (tasks -> templating)
    manifest_section: ClassVar[str | None] = None  # manifest.json key of `facts` instead of the stage's key
    mirrored: ClassVar[tuple[str, ...]] = ()
    lifted: ClassVar[tuple[str, ...]] = ()
    flat: ClassVar[str | None] = None
    within: ClassVar[str | None] = None  # the stats.json section a build's tail nests this one in (SPF: preference)
    validates: ClassVar[bool] = False  # the closing contract check: manifest.json `validation` counts its rows

    @classmethod
    def section_name(cls, key: str) -> str:
        """`tasks#2` -> `templating#2`: a repeated stage keeps its own section."""
        name, _, repeat = key.partition("#")
        return (cls.section or name) + (f"#{repeat}" if repeat else "")

    @classmethod
    def facts_name(cls, key: str) -> str:
        return cls.manifest_section or key

    @classmethod
    def lifted_name(cls, name: str, key: str) -> str:
        _, _, repeat = key.partition("#")
        return name + (f"#{repeat}" if repeat else "")

    def stats_sections(self, key: str) -> dict[str, Any]:
        data = self.model_dump(mode="json", by_alias=True)
        facts = data.pop("facts", None)
        lifted = {self.lifted_name(name, key): data.pop(name) for name in self.lifted}
        section = data[self.flat] if self.flat else {**data, **{name: facts[name] for name in self.mirrored}}
        return {self.section_name(key): section, **lifted}

    def manifest_sections(self, key: str) -> dict[str, Any]:
        facts = getattr(self, "facts", None)
        return {} if facts is None else {self.facts_name(key): facts.model_dump(mode="json")}

    @classmethod
    def from_build(cls, key: str, stats: dict[str, Any], manifest: dict[str, Any]) -> StageReport:
        """The report as a build folder holds it; raises ReportError naming the file and field when a section
        is missing, does not fit the model, or differs from what the model renders (a tampered copy)."""
        section = cls.section_name(key)
        container = stats.get(cls.within) if cls.within else stats
        if not isinstance(container, dict) or not isinstance(container.get(section), dict):
            field = f"{cls.within}.{section}" if cls.within else section
            raise ReportError(f"stats.json: field '{field}' is missing or not an object (the {key} stage's report)")
        value = container[section]
        data: dict[str, Any] = {cls.flat: value} if cls.flat else {
            name: item for name, item in value.items() if name not in cls.mirrored}
        for name in cls.lifted:
            if cls.lifted_name(name, key) not in stats:
                raise ReportError(f"stats.json: field '{cls.lifted_name(name, key)}' is missing (the {key} stage's "
                                  "report)")
            data[name] = stats[cls.lifted_name(name, key)]
        if "facts" in cls.model_fields:
            where = cls.facts_name(key)
            if not isinstance(manifest.get(where), dict):
                raise ReportError(f"manifest.json: field '{where}' is missing or not an object (the {key} stage's "
                                  "report)")
            data["facts"] = manifest[where]
        try:
            report = cls.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            loc = [str(part) for part in first["loc"]]
            if loc and loc[0] == "facts":
                file, field = "manifest.json", ".".join([cls.facts_name(key), *loc[1:]])
            elif loc and loc[0] in cls.lifted:
                file, field = "stats.json", ".".join([cls.lifted_name(loc[0], key), *loc[1:]])
            else:
                file, field = "stats.json", ".".join([*([cls.within] if cls.within else []), section,
                                                      *(loc[1:] if cls.flat else loc)])
            raise ReportError(f"{file}: field '{field}': {first['msg']} (the {key} stage's report)") from None
        rendered = report.stats_sections(key)
        for name, expected in rendered.items():
            if (container if name == section else stats).get(name) != expected:
                field = _first_difference(expected, (container if name == section else stats).get(name), name)
                raise ReportError(f"stats.json: field '{field}' disagrees with the stage's facts in manifest.json "
                                  f"(the {key} stage's report)")
        return report


def _first_difference(expected: Any, actual: Any, path: str) -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for name in sorted(set(expected) | set(actual)):
            if expected.get(name) != actual.get(name):
                return _first_difference(expected.get(name), actual.get(name), f"{path}.{name}")
    return path


class NoReport(StageReport):
    """A stage with no figures of its own (its rows are counted by the ledger)."""

    def stats_sections(self, key: str) -> dict[str, Any]:
        return {}

    @classmethod
    def from_build(cls, key: str, stats: dict[str, Any], manifest: dict[str, Any]) -> StageReport:
        return cls()


class CheckReport(StageReport):
    """The closing contract check's report (SFT `validate`, SPF `dpo_rows`): the rows that passed. It is
    rendered as manifest.json `validation` (with the rejected rows counted from the ledger), not in stats.json."""

    validates = True

    rows: Count

    def stats_sections(self, key: str) -> dict[str, Any]:
        return {}

    @classmethod
    def from_build(cls, key: str, stats: dict[str, Any], manifest: dict[str, Any]) -> StageReport:
        try:
            facts = ValidationFacts.model_validate(manifest.get("validation"))
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(["validation", *map(str, first["loc"])])
            raise ReportError(f"manifest.json: field '{field}': {first['msg']} (the {key} stage's report)") from None
        return cls(rows=facts.rows)


def render_stats(reports: dict[str, StageReport]) -> dict[str, Any]:
    """stats.json's stage sections, from every stage's report (in run order)."""
    return _render(reports, "stats_sections", "stats.json")


def render_manifest(reports: dict[str, StageReport]) -> dict[str, Any]:
    """manifest.json's stage facts, from every stage's report."""
    return _render(reports, "manifest_sections", "manifest.json")


def _render(reports: dict[str, StageReport], method: str, file: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, report in reports.items():
        for name, value in getattr(report, method)(key).items():
            if name in out:
                raise CmedinsError(f"{file}: two stages report the section '{name}'")
            out[name] = value
    return out


def validating_report(reports: dict[str, StageReport]) -> tuple[str, StageReport] | None:
    """The closing contract check's key and report, if it ran."""
    return next(((key, report) for key, report in reports.items() if type(report).validates), None)
