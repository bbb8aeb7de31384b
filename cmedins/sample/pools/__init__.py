"""The vocabulary and clinical pools of the sample generator, as YAML data files (read once, cached)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def load_pool(name: str) -> Any:
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)
