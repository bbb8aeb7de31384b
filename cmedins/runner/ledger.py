"""Row accounting: every row a stage receives leaves it kept, dropped with a reason, or quarantined.

Per stage the ledger holds `in`, `out`, `created` (rows a stage made from one input, e.g. six tasks from a
record), `dropped` and `quarantined` by reason. The invariant, checked after the run:
    in + created == out + sum(dropped) + sum(quarantined)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmedins.errors import ConservationError


@dataclass
class StageCounts:
    rows_in: int = 0
    rows_out: int = 0
    created: int = 0
    dropped: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)

    def balance(self) -> int:
        """Zero when no row was lost or invented."""
        return self.rows_in + self.created - self.rows_out - sum(self.dropped.values()) - sum(
            self.quarantined.values()
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "in": self.rows_in,
            "out": self.rows_out,
            "created": self.created,
            "dropped": dict(sorted(self.dropped.items())),
            "quarantined": dict(sorted(self.quarantined.items())),
        }


def redact_message(message: str) -> str:
    """A quarantine message names location, field and reason; should a value slip into one anyway, every
    identifier-shaped string in it is replaced by its kind (the residual scanner's patterns)."""
    from cmedins.deid.residual import residual_hits

    out, last = [], 0
    for kind, start, end in residual_hits(message):
        if start >= last:  # overlapping hits: the first one masks the span
            out += [message[last:start], f"<{kind}>"]
            last = end
        elif end > last:
            last = end
    return "".join(out) + message[last:]


class Ledger:
    """Counts per stage, plus quarantine files. Raw (pre-de-identification) row content is written only to
    the private work folder; the build folder's quarantine gets location, field and reason only (messages
    never quote a value; `redact_message` masks any identifier that would)."""

    def __init__(self, quarantine_dir: Path, private_dir: Path):
        self.stages: dict[str, StageCounts] = {}
        self.quarantine_dir = quarantine_dir
        self.private_dir = private_dir
        self._files: dict[Path, Any] = {}

    def stage(self, name: str) -> StageCounts:
        return self.stages.setdefault(name, StageCounts())

    def drop(self, stage: str, reason: str, n: int = 1) -> None:
        self.stage(stage).dropped[reason] += n

    def created(self, stage: str, n: int) -> None:
        self.stage(stage).created += n

    def quarantine(
        self,
        stage: str,
        reason: str,
        *,
        file: str | None,
        row: int | None,
        field: str | None,
        error: str,
        content: dict | None,
        private: bool,
    ) -> None:
        """Record a bad row. `private=True` (before de-identification) keeps its content out of the build."""
        self.stage(stage).quarantined[reason] += 1
        entry = {"stage": stage, "reason": reason, "file": file, "row": row, "field": field,
                 "error": redact_message(error)}
        self._write(self.quarantine_dir / f"{stage}.jsonl", entry if private else {**entry, "content": content})
        if private and content is not None:
            self._write(self.private_dir / f"{stage}.jsonl", {**entry, "content": content})

    def _write(self, path: Path, entry: dict) -> None:
        handle = self._files.get(path)
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = self._files[path] = path.open("w", encoding="utf-8")
        handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def flush(self) -> None:
        """Push buffered quarantine entries to disk (a resume checkpoint copies the files)."""
        for handle in self._files.values():
            handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def check(self) -> None:
        """Fail loudly if any stage lost or invented rows."""
        broken = {name: counts.balance() for name, counts in self.stages.items() if counts.balance() != 0}
        if broken:
            detail = ", ".join(f"{name} (off by {diff})" for name, diff in broken.items())
            raise ConservationError(f"row counts do not add up in stage(s): {detail}")

    def as_dict(self) -> dict[str, Any]:
        return {name: counts.as_dict() for name, counts in self.stages.items()}

    def totals(self, input_stage: str, kept: int) -> dict[str, Any]:
        """Whole-build figures; fails unless input + created == kept + dropped + quarantined."""
        stages = self.stages.values()
        totals = {
            "input": self.stage(input_stage).rows_in,
            "created": sum(s.created for s in stages),
            "kept": kept,
            "dropped": sum(sum(s.dropped.values()) for s in stages),
            "quarantined": sum(sum(s.quarantined.values()) for s in stages),
        }
        if totals["input"] + totals["created"] != kept + totals["dropped"] + totals["quarantined"]:
            raise ConservationError(f"row counts do not add up: {totals}")
        return {**totals, "balanced": True}
