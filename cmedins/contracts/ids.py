"""Stable row ids: sha256 of normalised content, so the same content gets the same id in every build.

Normalisation here is whitespace only (runs collapse, ends trimmed). Width and punctuation variants are the
dedup stage's business (cmedins.dedup.normalise); doing NFKC here cost ~140 us per record-sized row, most of
a build's templating time at a million rows.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def normalise_for_id(text: str) -> str:
    return " ".join(text.split())


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return normalise_for_id(value)
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value


def content_id(*parts: object, length: int = 32) -> str:
    """Hex id over JSON-serialised, normalised parts (messages, task names, ...)."""
    payload = json.dumps(_normalise(parts), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]
