"""Plug-in discovery: every `cmedins.<area>` package registers its source formats on import, and its
stages in `cmedins.<area>.stage`. Importing them all (sorted) makes recipes see every format and stage."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import cmedins

_loaded = False


def load_plugins() -> None:
    global _loaded
    if _loaded:
        return
    for info in sorted(pkgutil.iter_modules(cmedins.__path__), key=lambda m: m.name):
        if not info.ispkg:
            continue
        importlib.import_module(f"cmedins.{info.name}")
        if importlib.util.find_spec(f"cmedins.{info.name}.stage") is not None:
            importlib.import_module(f"cmedins.{info.name}.stage")
    _loaded = True
