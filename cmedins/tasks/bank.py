"""The template bank: instruction phrasings per task, kept as versioned YAML in cmedins/tasks/templates/.

A template id names the task, the 1-based position and the file's version: `diagnosis/03@v1`. Choosing a
template is a seeded draw from a per-record RNG (derived from the build seed and the record id), so a
record gets the same phrasings whatever the row order and whichever other records are in the build.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from cmedins.contracts.schema import RECORD_TASKS
from cmedins.errors import CmedinsError

MIN_TEMPLATES = 10  # instruction diversity: the paper and SF-Med both stress it


@dataclass(frozen=True)
class TaskTemplates:
    task: str
    version: int
    description_zh: str
    description_en: str
    templates: tuple[str, ...]
    answer: str | None = None  # triage: answer format over {department} and {chief_complaint}
    answer_without_complaint: str | None = None

    def template_id(self, index: int) -> str:
        return f"{self.task}/{index + 1:02d}@v{self.version}"


Bank = dict[str, TaskTemplates]


def _parse(data: object, where: str) -> TaskTemplates:
    if not isinstance(data, dict):
        raise CmedinsError(f"{where}: expected a mapping with task, version, description, templates")
    task = data.get("task")
    if task not in RECORD_TASKS:
        raise CmedinsError(f"{where}: task {task!r} is not one of {', '.join(RECORD_TASKS)}")
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise CmedinsError(f"{where}: version must be a positive whole number")
    templates = data.get("templates")
    if not isinstance(templates, list) or not all(isinstance(t, str) and t.strip() for t in templates):
        raise CmedinsError(f"{where}: templates must be a list of non-empty strings")
    templates = [t.strip() for t in templates]
    if len(set(templates)) != len(templates):
        raise CmedinsError(f"{where}: templates repeat a phrasing")
    if len(templates) < MIN_TEMPLATES:
        raise CmedinsError(f"{where}: {len(templates)} templates; at least {MIN_TEMPLATES} are needed per task")
    description = data.get("description") or {}
    if not isinstance(description, dict) or not description.get("zh") or not description.get("en"):
        raise CmedinsError(f"{where}: description needs zh and en lines")
    answer = data.get("answer")
    if task == "triage" and not (isinstance(answer, str) and "{department}" in answer):
        raise CmedinsError(f"{where}: triage needs an `answer` format containing {{department}}")
    return TaskTemplates(task, version, description["zh"], description["en"], tuple(templates), answer,
                         data.get("answer_without_complaint") or None)


def load_bank(folder: Path | None = None) -> Bank:
    """Every task's templates, from `folder` (a recipe's own bank) or the packaged one."""
    if folder is not None:
        if not Path(folder).is_dir():
            raise CmedinsError(f"{folder}: template folder not found")
        files = {path.name: path.read_text(encoding="utf-8") for path in Path(folder).glob("*.yaml")}
        where = str(folder)
    else:
        package = resources.files("cmedins.tasks") / "templates"
        files = {entry.name: entry.read_text(encoding="utf-8") for entry in package.iterdir()
                 if entry.name.endswith(".yaml")}
        where = "cmedins/tasks/templates"
    bank: Bank = {}
    for name in sorted(files):
        try:
            data = yaml.safe_load(files[name])
        except yaml.YAMLError as error:
            raise CmedinsError(f"{where}/{name}: not valid YAML ({error})") from None
        templates = _parse(data, f"{where}/{name}")
        if templates.task in bank:
            raise CmedinsError(f"{where}/{name}: a second file for task {templates.task}")
        bank[templates.task] = templates
    missing = [task for task in RECORD_TASKS if task not in bank]
    if missing:
        raise CmedinsError(f"{where}: no templates for task(s) {', '.join(missing)}")
    return bank


def record_rng(seed: int, record_id: str) -> random.Random:
    """An RNG that depends only on the build seed and the record (not on row order or other records)."""
    digest = hashlib.sha256(f"{seed}\x00{record_id}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def choose_templates(bank: Bank, seed: int, record_id: str) -> dict[str, int]:
    """One template index per task for this record; every task draws, so a task's choice does not depend on
    which other tasks the record has fields for."""
    rng = record_rng(seed, record_id)
    return {task: rng.randrange(len(bank[task].templates)) for task in RECORD_TASKS}
