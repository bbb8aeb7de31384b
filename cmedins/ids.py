"""Stable row ids: sha256 of normalised content, so the same content gets the same id in every build."""

from __future__ import annotations

import hashlib
import json
import unicodedata


def normalise_for_id(text: str) -> str:
    # NFKC folds full-width/half-width variants; whitespace runs collapse so re-wrapped copies share an id.
    return " ".join(unicodedata.normalize("NFKC", text).split())


def content_id(*parts: object, length: int = 32) -> str:
    """Hex id over JSON-serialised, normalised parts (messages, task names, ...)."""
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(normalise_for_id(payload).encode("utf-8")).hexdigest()[:length]
