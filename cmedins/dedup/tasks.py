"""Where dedup's and decontamination's batch functions run: here, one after another (`LocalTaskMap`), or on
an executor's workers (the Ray executor hands a stage its `RayTaskMap`, cmedins.runner.executors.ray_tasks).

Both have one interface: `pipeline(fn, context)` gives a pipe; `pipe.put(item)` submits `fn(context, item)`
and returns the results finished so far, in submission order; `pipe.close()` returns the rest. `fn` is a
module-level function (it travels by name), `context` is what every call shares (sent once), `item` one batch.
Locally a result comes back at once, so memory holds one batch; on Ray at most a few batches per worker are
in flight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol


class Pipe(Protocol):
    def put(self, item: Any) -> list[Any]: ...

    def close(self) -> list[Any]: ...


class TaskMap(Protocol):
    workers: int

    def pipeline(self, fn: Callable[[Any, Any], Any], context: Any) -> Pipe: ...


class _LocalPipe:
    def __init__(self, fn: Callable[[Any, Any], Any], context: Any):
        self.fn, self.context = fn, context

    def put(self, item: Any) -> list[Any]:
        return [self.fn(self.context, item)]

    def close(self) -> list[Any]:
        return []


class LocalTaskMap:
    """Runs each call in this process, when it is put."""

    workers = 1

    def pipeline(self, fn: Callable[[Any, Any], Any], context: Any) -> _LocalPipe:
        return _LocalPipe(fn, context)


LOCAL = LocalTaskMap()


def map_ordered(task_map: TaskMap, fn: Callable[[Any, Any], Any], context: Any, items: Iterable[Any]) -> Iterator[Any]:
    """fn(context, item) for every item, in order, through `task_map`."""
    pipe = task_map.pipeline(fn, context)
    for item in items:
        yield from pipe.put(item)
    yield from pipe.close()
