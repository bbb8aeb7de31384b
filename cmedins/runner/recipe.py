"""Recipes: YAML files in pipelines/ naming sources, stages with parameters, mix ratios, seed and output.

Paths are relative to the recipe file; `package://sample/x.jsonl` points into the embedded sample corpus
(cmedins/sample/data/), so the default recipe works from any working directory.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from cmedins.errors import CmedinsError

PACKAGE_SCHEME = "package://"
MIX_GROUPS = ("cmedins", "dialogue_single", "dialogue_multi", "general")


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _no_identifier(name: str) -> str:
    """A recipe or source name is written into every row (`source`), stats, manifest and card, never
    de-identified: one that holds an identifier's shape (zhang_13812345678, a 7+ digit run) is refused."""
    from cmedins.deid.residual import residual_hits

    if re.search(r"\d{7}", name) or residual_hits(name):
        raise ValueError("holds an identifier's shape (a phone, ID or record number: 7 or more digits): names are "
                         "published as they are, so choose one that names the data, not a person")
    return name


# Names are written as they are into the build (a row's `source`, stats.json, the card): ASCII, no identifier.
PlainName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$"), AfterValidator(_no_identifier)]


class SourceConfig(_Config):
    name: PlainName
    path: str
    format: str
    category: Literal["dialogue", "general"] | None = None  # conversations only; default from the format
    license: str = "unknown"
    description: str = ""
    limit: int | None = Field(default=None, ge=1)  # read at most this many rows (quick trials)


class MixConfig(_Config):
    """Ratios among the named groups; groups not named are kept in full. The paper mixes single- and
    multi-turn dialogues 1:1 and keeps all CMedINS instructions."""

    ratios: dict[str, float] = Field(default_factory=lambda: {"dialogue_single": 1.0, "dialogue_multi": 1.0})

    @field_validator("ratios")
    @classmethod
    def _known_groups(cls, ratios: dict[str, float]) -> dict[str, float]:
        for group, weight in ratios.items():
            if group not in MIX_GROUPS:
                raise ValueError(f"unknown mix group '{group}' (expected one of {', '.join(MIX_GROUPS)})")
            if weight < 0:
                raise ValueError(f"mix ratio of '{group}' is negative")
        return ratios


class SplitConfig(_Config):
    validation: float = Field(default=0.1, ge=0.0, lt=1.0)
    shard_rows: int = Field(default=200_000, ge=1000)  # rows per Parquet shard


class Recipe(_Config):
    name: PlainName
    description: str = ""
    seed: int = 42
    output: str = "build/out"
    sources: list[SourceConfig] = Field(min_length=1)
    stages: list[dict[str, dict[str, Any] | None]] = Field(default_factory=list)
    mix: MixConfig = Field(default_factory=MixConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    card: dict[str, Any] = Field(default_factory=dict)  # card/publishing options (license, gated, pretty_name)
    # An SFT recipe without a `deid` stage is refused (its raw text would reach the build folder) unless it
    # declares this: the sources were de-identified before cmedins read them. The build records it, its card
    # says the toolkit did not de-identify it, and `push` refuses it. Strict: a privacy opt-out is a YAML `true`.
    sources_already_deidentified: StrictBool = False

    @field_validator("stages")
    @classmethod
    def _one_key_each(cls, stages: list[dict]) -> list[dict]:
        for number, stage in enumerate(stages, start=1):
            if len(stage) != 1:
                raise ValueError(f"stage {number} must be a mapping with exactly one stage name")
        return stages

    @model_validator(mode="after")
    def _unique_sources(self) -> Recipe:
        names = [source.name for source in self.sources]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique: {', '.join(duplicates)}")
        return self

    def stage_list(self) -> list[tuple[str, dict[str, Any]]]:
        return [(name, params or {}) for stage in self.stages for name, params in stage.items()]


def load_recipe(path: Path) -> tuple[Recipe, dict[str, Any], str]:
    """Parse and validate a recipe; returns (recipe, raw mapping, sha256 of the file)."""
    path = Path(path)
    if not path.is_file():
        raise CmedinsError(f"{path}: recipe not found")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CmedinsError(f"{path}: a recipe must be UTF-8 text (invalid byte at offset {error.start}); "
                           "save it as UTF-8") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CmedinsError(f"{path}: invalid YAML{_yaml_where(error)}") from None
    if not isinstance(raw, dict):
        raise CmedinsError(f"{path}: a recipe is a YAML mapping")
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CmedinsError(f"{path}: field '{where}': {first['msg']}") from None
    return recipe, raw, hashlib.sha256(data).hexdigest()


def resolve_path(value: str, base_dir: Path) -> Path:
    if value.startswith(PACKAGE_SCHEME):
        return Path(__file__).parent.parent / value[len(PACKAGE_SCHEME):].replace("sample/", "sample/data/", 1)
    path = Path(value).expanduser()
    # normpath folds "pipelines/../build" so messages and the manifest show the path a user would type.
    return path if path.is_absolute() else Path(os.path.normpath(base_dir / path))


def _yaml_where(error: yaml.YAMLError) -> str:
    """Where and what, on one line: PyYAML's own message spans several lines and quotes the recipe's text."""
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
    problem = getattr(error, "problem", None)
    return f"{where}: {' '.join(str(problem).split())}" if problem else where
