"""Progress on long work: rich bars on a terminal; off a terminal (CI, nohup, a pipe) plain lines on stderr
with the count, the total when known, the rate and an ETA, at most one line per task every `interval`
seconds plus a closing line. Every closing line also goes to the build log (logger `cmedins.build`)."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

log = logging.getLogger("cmedins.build")
BATCH = 2000  # rich's per-call overhead would dominate a million-row stream


@dataclass
class _Task:
    description: str
    total: int | None
    started: float = field(default_factory=time.monotonic)
    count: int = 0
    pending: int = 0
    last_line: float = field(default_factory=time.monotonic)


def rate_line(description: str, count: int, seconds: float, total: int | None = None, *, done: bool = False) -> str:
    rate = count / seconds if seconds > 0 else 0.0
    parts = [f"{description}: {count:,}" + (f" of {total:,} rows ({count / total:.0%})" if total else " rows")]
    parts.append(f"{rate:,.0f} rows/s")
    if done:
        parts.append(f"done in {seconds:.1f} s")
    elif total and rate > 0:
        parts.append(f"ETA {max(0.0, (total - count) / rate):.0f} s")
    return ", ".join(parts)


class Progress:
    def __init__(self, enabled: bool = True, *, interval: float = 10.0, stream=None):
        console = Console(stderr=True)
        self._live = enabled and console.is_terminal
        self._plain = enabled and not console.is_terminal
        self._stream = stream
        self._interval = interval
        self._rich = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                  disable=not self._live, transient=True)
        self._tasks: dict[int, _Task] = {}

    def __enter__(self) -> Progress:
        self._rich.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._rich.__exit__(*exc)

    def add(self, description: str, total: int | None = None) -> int:
        task = self._rich.add_task(description, total=total)
        self._tasks[task] = _Task(description, total)
        return task

    def advance(self, task: int, rows: int = 1) -> None:
        state = self._tasks[task]
        state.count += rows
        state.pending += rows
        if state.pending >= BATCH:
            self._rich.advance(task, state.pending)
            state.pending = 0
            now = time.monotonic()
            if self._plain and now - state.last_line >= self._interval:
                state.last_line = now
                self._print(rate_line(state.description, state.count, now - state.started, state.total))

    def done(self, task: int) -> None:
        state = self._tasks.pop(task)
        self._rich.advance(task, state.pending)
        self._rich.update(task, visible=False)
        line = rate_line(state.description, state.count, time.monotonic() - state.started, state.total, done=True)
        log.info(line)
        if self._plain:
            self._print(line)

    def _print(self, line: str) -> None:
        print(line, file=self._stream or sys.stderr, flush=True)
