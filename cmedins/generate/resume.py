"""An append-only JSONL output that a rerun continues: rows already written are skipped by key.

Each row is written and flushed as soon as it exists, so an interrupted run loses at most the row being
written; a torn last line (no newline, or not JSON) is cut off on reopening. Rows with an `error` (a request
that failed after its retries) are not done: a rerun tries them again, and the newest row for a key wins.
A sidecar `<file>.meta.json` holds the settings of the run; a rerun with other settings is refused, since its
rows would mix two experiments in one file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cmedins.errors import CmedinsError


class ResumableJsonl:
    def __init__(self, path: Path, key: Sequence[str], meta: dict[str, Any]):
        self.path, self.key = Path(path), tuple(key)
        self.rows: dict[tuple, dict] = {}
        self._check_meta(meta)
        self._load()

    def _check_meta(self, meta: dict[str, Any]) -> None:
        meta_path = self.path.with_name(self.path.name + ".meta.json")
        meta = json.loads(json.dumps(meta, ensure_ascii=False, default=str))  # compare as it is stored
        if meta_path.exists() and self.path.exists():
            old = json.loads(meta_path.read_text(encoding="utf-8"))
            changed = sorted(k for k in set(old) | set(meta) if old.get(k) != meta.get(k))
            if changed:
                raise CmedinsError(f"{self.path}: written with other settings ({', '.join(changed)}); "
                                   "use another output file or delete this one")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break  # torn last line: the run stopped while writing it
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                break
            self.rows[self.key_of(row)] = row
            good += len(line)
        if good < len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(good)

    def key_of(self, row: dict) -> tuple:
        return tuple(row.get(field) for field in self.key)

    def done(self, key: tuple) -> bool:
        row = self.rows.get(key)
        return row is not None and not row.get("error")

    def append(self, row: dict) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            handle.flush()
        self.rows[self.key_of(row)] = row
