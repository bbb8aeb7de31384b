"""Stable row ids: sha256 of normalised content, so the same content gets the same id in every build.

Normalisation here is whitespace only (runs collapse, ends trimmed). Width and punctuation variants are the
dedup stage's business (cmedins.dedup.normalise); doing NFKC here cost ~140 us per record-sized row, most of
a build's templating time at a million rows.

The id is the sha256 of `json.dumps(normalised parts, ensure_ascii=False, sort_keys=True, default=str)`: row
ids in published datasets, the dedup keep rule and the checkpoints rely on those bytes, so the faster paths
below write that same text themselves (with json's own string escaper) and hand anything unusual to
json.dumps. tests/test_ids.py holds them to the former code (tests/support/tasks_reference.py).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from json.encoder import encode_basestring as _json_string  # json.dumps' own escaper (C): '"' + escaped + '"'
from typing import Any


def normalise_for_id(text: str) -> str:
    return " ".join(text.split())


def content_id(*parts: object, length: int = 32) -> str:
    """Hex id over JSON-serialised, normalised parts (messages, task names, ...)."""
    try:
        payload = _encode(parts)
    except (_Unusual, TypeError):  # a type json.dumps writes its own way (or refuses): let it
        payload = json.dumps(_normalise(parts), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


def normal_chat_id(turns: Sequence[tuple[str, str]], *tags: str, length: int = 32) -> str:
    """content_id([{"role": role, "content": content}, ...], *tags) for (role, content) turns whose strings, like
    the tags, are already in normal form (normalise_for_id(s) == s): the same id without normalising again.
    The tasks stage normalises each record field once for the up to six rows that quote it."""
    messages = ", ".join(['{"content": ' + _json_string(content) + ', "role": ' + _json_string(role) + "}"
                          for role, content in turns])
    payload = "[[" + messages + "]" + "".join([", " + _json_string(tag) for tag in tags]) + "]"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:length]


class _Unusual(Exception):
    """A value the fast encoder leaves to json.dumps."""


def _encode(value: Any) -> str:
    """json.dumps(_normalise(value), ensure_ascii=False, sort_keys=True) for plain JSON values (str, list, tuple,
    dict with str keys, None, bool, int, finite float: exact types only), in one pass without copying."""
    kind = type(value)
    if kind is str:
        return _json_string(" ".join(value.split()))
    if kind is list or kind is tuple:
        return "[" + ", ".join([_json_string(" ".join(item.split())) if type(item) is str else _encode(item)
                                for item in value]) + "]"
    if kind is dict:
        # json sorts the (key, value) items; keys are unique, so that is the keys' order. A key that is not a
        # str makes _json_string raise TypeError: json.dumps writes (or refuses) it.
        return "{" + ", ".join([_json_string(key) + ": " + _encode(value[key]) for key in sorted(value)]) + "}"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and math.isfinite(value):
        return float.__repr__(value)
    raise _Unusual


def _normalise(value: Any) -> Any:
    if isinstance(value, str):
        return normalise_for_id(value)
    if isinstance(value, (list, tuple)):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value
