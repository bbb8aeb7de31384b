"""Slot filling for the case templates: `{slot}` takes one value per record, sampled on first use.

A `Slots` object is the mapping handed to `str.format_map`; a slot's value may hold slots itself, which are
filled from the same mapping, so one record says the same thing everywhere it mentions a slot.
"""

from __future__ import annotations

import random
from typing import Any


class SlotError(KeyError):
    pass


class Slots(dict):
    def __init__(self, rng: random.Random, *specs: dict[str, Any], **fixed: Any):
        super().__init__({key: str(value) for key, value in fixed.items()})
        self._rng = rng
        self._specs = specs  # looked up in order: the case's own slots first, then the common ones

    def fill(self, template: str) -> str:
        return template.format_map(self)

    def __missing__(self, key: str) -> str:
        for specs in self._specs:
            if key in specs:
                value = self._sample(specs[key])
                self[key] = value
                return value
        raise SlotError(f"template slot {{{key}}} has no values")

    def _sample(self, spec: Any) -> str:
        if isinstance(spec, dict) and "range" in spec:
            low, high = spec["range"]
            digits = spec.get("digits")
            if digits is None:
                return str(self._rng.randint(int(low), int(high)))
            return f"{self._rng.uniform(low, high):.{digits}f}"
        value = str(self._rng.choice(spec)) if isinstance(spec, list) else str(spec)
        return self.fill(value) if "{" in value else value
