"""Source adapters: turn one row of a real corpus format into a record or conversation dict.

An adapter is a function `(row: dict) -> dict | list[dict]` registered under a format name. It returns
"record" or "conversation" dicts (see cmedins.runner.stage) without `id`/`source` bookkeeping, which the runner
adds, and raises RowError(field=...) for a bad row. A format that is not row-per-row (e.g. CCKS 2017,
four files per patient) registers a reader instead: `(path: Path) -> Iterator[tuple[str, int, dict]]`
yielding (file, row number, raw row) for an adapter to convert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cmedins.rowio.readers import iter_rows

RowAdapter = Callable[[dict], "dict | list[dict]"]
Reader = Callable[[Path], Iterator[tuple[str, int, dict]]]


@dataclass(frozen=True)
class Format:
    name: str
    kind: str  # "record" | "conversation" | "annotation" | "preference"
    adapter: RowAdapter
    reader: Reader | None = None  # None: rows come from cmedins.rowio.readers.iter_rows
    description: str = ""

    def read(self, path: Path) -> Iterator[tuple[str, int, dict]]:
        """(file, row number, raw row) of a source in this format, through its own reader if it has one."""
        if self.reader is not None:
            return self.reader(path)
        return ((str(path), number, row) for number, row in iter_rows(path))


FORMATS: dict[str, Format] = {}


def register_format(name: str, kind: str, *, reader: Reader | None = None, description: str = ""):
    """Decorator for an adapter function."""

    def wrap(adapter: RowAdapter) -> RowAdapter:
        existing = FORMATS.get(name)
        if existing is not None and (existing.adapter.__module__, existing.adapter.__qualname__) != (
                adapter.__module__, adapter.__qualname__):
            raise ValueError(f"source format '{name}' is registered twice ({existing.adapter.__module__}, "
                             f"{adapter.__module__})")
        FORMATS[name] = Format(name, kind, adapter, reader, description or (adapter.__doc__ or "").strip())
        return adapter

    return wrap
