"""The stage protocol (after datatrove's steps): a small class with one verb, `run`, over a row stream.

A stage receives dict rows and yields dict rows. It reports every row it does not pass on:
`ctx.drop(self.name, reason)` or `ctx.quarantine(...)`, and `ctx.created(self.name, n)` when one input
becomes several outputs. The runner counts `in` and `out` around `run`, so stages never count those.
Its own figures go into its typed report (`Report`, cmedins.runner.report), handed over once by `self.report(...)`.

Row kinds flowing through a build (key `kind`):
- "record": a MedicalRecord dict (cmedins.contracts.schema), before the `tasks` stage;
- "conversation": a Conversation dict (dialogue or general instruction), before the `tasks` stage;
- "sft": an SFTRow dict plus `kind`, after `tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from cmedins.errors import CmedinsError
from cmedins.runner.ledger import Ledger
from cmedins.runner.report import NoReport, StageReport


@dataclass
class BuildContext:
    """What a stage may use: the seed, a private work folder, the ledger, and where its report goes."""

    seed: int
    work_dir: Path
    ledger: Ledger
    recipe_dir: Path = Path(".")
    reports: dict[str, StageReport] = field(default_factory=dict)  # stage key -> its report (stats, manifest)

    @property
    def build_dir(self) -> Path:
        """The build folder (the work folder lives inside it, as `.work`): where reports and audits go."""
        return self.work_dir.parent

    def drop(self, stage: str, reason: str, n: int = 1) -> None:
        self.ledger.drop(stage, reason, n)

    def created(self, stage: str, n: int) -> None:
        self.ledger.created(stage, n)

    def quarantine(self, stage: str, reason: str, row: dict | None, error: str, *, field: str | None = None,
                   private: bool = False) -> None:
        self.ledger.quarantine(stage, reason, file=(row or {}).get("_file"), row=(row or {}).get("_row"),
                               field=field, error=error, content=row, private=private)

    def resolve(self, path: str | Path) -> Path:
        """Paths in a recipe are relative to the recipe file; `package://sample/...` is the embedded sample."""
        from cmedins.runner.recipe import resolve_path

        return resolve_path(str(path), self.recipe_dir)


class StageParams(BaseModel):
    """Base of every stage's parameter model: unknown keys are refused and YAML values keep their type
    (strict: `n: five` or `t2s: "yes"` is an error, never coerced)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoParams(StageParams):
    """A stage without parameters: any key is refused."""


class StageParamsError(CmedinsError):
    """A stage's parameters fail its model; `field` is the parameter's path inside the stage."""

    def __init__(self, field: str | None, message: str):
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}" if field else message)

    @classmethod
    def from_validation(cls, error: ValidationError, model: type[BaseModel]) -> StageParamsError:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        if first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
            allowed = ", ".join(model.model_fields) or "none"
            return cls(field, f"unknown parameter (allowed: {allowed})")
        return cls(field, first["msg"])  # pydantic's msg never quotes the value


class Stage:
    """Base class. A subclass sets `name`, its parameter model `Params`, its report model `Report`, the row
    kinds it acts on (`takes`, others pass through untouched) and the kind changes it makes (`makes`), and
    implements `run`.
    The parameters are checked here against `Params` for every stage alike; `self.config` is the typed
    model and `self.params` its plain dict (defaults filled in).

    `only = True` marks a stage every row must reach as one of `takes` (an end-of-pipeline check): the plan
    is refused when another kind could reach it.

    `checkpointed = False` marks a stage that is cheap to run again and passes rows on one by one: it has no
    checkpoint of its own (cmedins.runner.checkpoints). Locally it joins the stage before it: that stage's rows
    stream through it, and the checkpoint that stage would have had follows this one instead, so the rows are
    not written and read back once more (and the next stage reads a checkpoint).

    A checkpointed stage whose output already lies in a row spool may also implement
    `run_to_spool(rows, spooled) -> KeptRows` (cmedins.rowio.spool; `run` then yields from it): run locally,
    the runner passes `spooled`, the checkpoint `rows` come from (or None), and the checkpoint adopts the
    spool instead of writing the rows again (dedup)."""

    name: ClassVar[str] = "stage"
    Params: ClassVar[type[BaseModel]] = NoParams
    Report: ClassVar[type[StageReport]] = NoReport
    takes: ClassVar[frozenset[str]] = frozenset()
    makes: ClassVar[dict[str, str]] = {}
    only: ClassVar[bool] = False
    checkpointed: ClassVar[bool] = True

    def __init__(self, params: dict[str, Any], ctx: BuildContext):
        if not isinstance(params, dict):
            raise StageParamsError(None, "parameters must be a mapping")
        try:
            self.config = self.Params.model_validate(params)
        except ValidationError as error:
            raise StageParamsError.from_validation(error, self.Params) from None
        self.params = self.config.model_dump()
        self.ctx = ctx

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        raise NotImplementedError

    def report(self, report: StageReport) -> None:
        """Hand the stage's figures to the runner (under the stage's key); only its declared `Report`."""
        if type(report) is not self.Report:
            raise TypeError(f"stage {self.name} reports a {type(report).__name__}, not its {self.Report.__name__}")
        self.ctx.reports[self.name] = report

    @classmethod
    def kinds_after(cls, kinds: frozenset[str]) -> frozenset[str]:
        """The row kinds leaving the stage when `kinds` enter it."""
        return frozenset(cls.makes.get(kind, kind) for kind in kinds)


def check_kinds(stages: list[tuple[str, type[Stage]]], kinds: dict[str, set[str]], where: str) -> None:
    """Follow the row kinds (kind -> the sources giving it) through the planned stages; refuse a stage placed
    before the stage that makes the kind it acts on, and an `only` stage that other kinds would reach.
    `stages` are (recipe key, stage class); `where` prefixes messages."""
    current = {kind: set(origins) for kind, origins in kinds.items()}
    for position, (key, cls) in enumerate(stages):
        if cls.takes:
            wrong = sorted(kind for kind in current if kind not in cls.takes)
            if cls.only and wrong:
                origins = ", ".join(sorted(current[wrong[0]]))
                raise CmedinsError(f"{where} '{key}': the {cls.name} stage takes {_kinds(cls.takes)} rows, but "
                                   f"{wrong[0]} rows reach it (from {origins}); move it after the stage that "
                                   f"turns them into {_kinds(cls.takes)} rows")
            made_later = {made for _, later in stages[position + 1:] for made in later.makes.values()}
            if not any(kind in cls.takes for kind in current) and made_later & cls.takes:
                # An order mistake (dedup before dialogues would compare nothing); a stage whose kind no
                # source gives and no stage makes is merely idle (one SPF recipe shape for every source mix).
                arriving = _kinds(current) or "no"
                raise CmedinsError(f"{where} '{key}': the {cls.name} stage acts on {_kinds(cls.takes)} rows, but "
                                   f"only {arriving} rows reach it; move it after the stage that makes them")
        after: dict[str, set[str]] = {}
        for kind, origins in current.items():
            after.setdefault(cls.makes.get(kind, kind), set()).update(origins)
        current = after


def _kinds(kinds) -> str:
    return "/".join(sorted(kinds))


STAGES: dict[str, type[Stage]] = {}


def register_stage(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make a stage available to recipes under `cls.name`; a name is registered once."""
    existing = STAGES.get(cls.name)
    if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
        raise ValueError(f"stage name '{cls.name}' is registered twice ({existing.__module__}, {cls.__module__})")
    STAGES[cls.name] = cls
    return cls


StageFactory = Callable[[dict[str, Any], BuildContext], Stage]
