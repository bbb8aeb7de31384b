"""Progress on long work (rich), silent when disabled or when stderr is not a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class Progress:
    def __init__(self, enabled: bool = True):
        console = Console(stderr=True)
        self._rich = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                                  disable=not (enabled and console.is_terminal), transient=True)
        self._pending: dict[int, int] = {}

    def __enter__(self) -> Progress:
        self._rich.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._rich.__exit__(*exc)

    def add(self, description: str) -> int:
        task = self._rich.add_task(description, total=None)
        self._pending[task] = 0
        return task

    def advance(self, task: int) -> None:
        # Batch updates: rich's per-call overhead would dominate a million-row stream.
        self._pending[task] += 1
        if self._pending[task] >= 2000:
            self._rich.advance(task, self._pending[task])
            self._pending[task] = 0

    def done(self, task: int) -> None:
        self._rich.advance(task, self._pending.pop(task, 0))
        self._rich.update(task, visible=False)
