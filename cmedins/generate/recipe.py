"""Eval recipes (pipelines/eval_*.yaml): the eval set, generation settings and judge settings in one file.

```yaml
name: huatuo26m_test
eval_set: {name: huatuo26m_test, path: ../../shared/data/huatuo26m_test_zhongjing/huatuo26M_test.json,
           format: huatuo26m}
limit: null                     # first N questions; null = all
generation: {temperature: 0.7, top_p: 0.9, max_new_tokens: 512, seed: 42}
judge: {prompt: spf_pairwise_v1, order_rule: tie, temperature: 0, max_tokens: 512, seed: 42,
        bootstrap: 1000, confidence: 0.95}
```
The eval set's `name` is the one the training build's `decontaminate` stage must have used. Paths are relative
to the recipe (package:// points into the embedded sample); `--eval-path` on the command line overrides it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from cmedins.errors import CmedinsError
from cmedins.runner.recipe import resolve_path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvalSetSpec(_Strict):
    name: str
    path: str
    format: str


class GenerationSpec(_Strict):
    temperature: float = 0.7
    top_p: float = 0.9
    max_new_tokens: int = 512
    seed: int = 42


class JudgeSpec(_Strict):
    prompt: str = "spf_pairwise_v1"
    order_rule: Literal["tie", "both"] = "tie"
    temperature: float = 0.0
    max_tokens: int = 512
    seed: int = 42
    bootstrap: int = 1000
    confidence: float = 0.95


class EvalRecipe(_Strict):
    name: str
    description: str | None = None
    eval_set: EvalSetSpec
    limit: int | None = None
    generation: GenerationSpec = GenerationSpec()
    judge: JudgeSpec = JudgeSpec()
    base_dir: Path = Path(".")

    def eval_path(self, override: Path | None = None) -> Path:
        return override if override is not None else resolve_path(self.eval_set.path, self.base_dir)


def load_eval_recipe(path: Path) -> EvalRecipe:
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CmedinsError(f"{path}: not a readable eval recipe ({type(error).__name__})") from None
    if not isinstance(raw, dict):
        raise CmedinsError(f"{path}: an eval recipe is a YAML mapping")
    try:
        return EvalRecipe.model_validate({**raw, "base_dir": Path(path).resolve().parent})
    except ValidationError as error:
        first = error.errors()[0]
        raise CmedinsError(f"{path}: field '{'.'.join(map(str, first['loc']))}': {first['msg']}") from None
