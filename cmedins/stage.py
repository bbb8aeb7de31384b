"""The stage protocol (after datatrove's steps): a small class with one verb, `run`, over a row stream.

A stage receives dict rows and yields dict rows. It reports every row it does not pass on:
`ctx.drop(self.name, reason)` or `ctx.quarantine(...)`, and `ctx.created(self.name, n)` when one input
becomes several outputs. The runner counts `in` and `out` around `run`, so stages never count those.

Row kinds flowing through a build (key `kind`):
- "record": a MedicalRecord dict (cmedins.schema), before the `tasks` stage;
- "conversation": a Conversation dict (dialogue or general instruction), before the `tasks` stage;
- "sft": an SFTRow dict plus `kind`, after `tasks`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cmedins.errors import CmedinsError
from cmedins.ledger import Ledger


@dataclass
class BuildContext:
    """What a stage may use: the seed, a private work folder, the ledger, and a place for its stats."""

    seed: int
    work_dir: Path
    ledger: Ledger
    recipe_dir: Path = Path(".")
    stats: dict[str, Any] = field(default_factory=dict)  # stage name -> its own figures (stats.json)
    manifest: dict[str, Any] = field(default_factory=dict)  # stage name -> facts for manifest.json

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
        from cmedins.config import resolve_path

        return resolve_path(str(path), self.recipe_dir)


class Stage:
    """Base class. Subclasses set `name` and `allowed_params`, check their values in __init__ and implement
    `run`. A recipe naming a parameter the stage does not know is refused here, for every stage alike."""

    name: ClassVar[str] = "stage"
    allowed_params: ClassVar[frozenset[str] | None] = None  # None: the stage checks its parameters itself

    def __init__(self, params: dict[str, Any], ctx: BuildContext):
        if self.allowed_params is not None:
            unknown = sorted(set(params) - self.allowed_params)
            if unknown:
                raise CmedinsError(f"stage '{self.name}': unknown parameter(s) {', '.join(unknown)} "
                                   f"(allowed: {', '.join(sorted(self.allowed_params)) or 'none'})")
        self.params = params
        self.ctx = ctx

    def run(self, rows: Iterator[dict]) -> Iterator[dict]:
        raise NotImplementedError


STAGES: dict[str, type[Stage]] = {}


def register_stage(cls: type[Stage]) -> type[Stage]:
    """Class decorator: make a stage available to recipes under `cls.name`."""
    STAGES[cls.name] = cls
    return cls


StageFactory = Callable[[dict[str, Any], BuildContext], Stage]
