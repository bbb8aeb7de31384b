"""Sources read in parallel on Ray: each source cut into parts (cmedins.rowio.parts: JSON Lines byte ranges at
line boundaries, Parquet row groups, any other file whole), every part read and converted on a Ray reader actor,
the results taken back in source and part order.

Two rounds: first a cheap call per JSON Lines range counts its lines and the encoding evidence (so every range
knows its first line number and its file's encoding before it is decoded), then one call per part reads and
converts its rows. The calls run on a small pool of reader actors (as many as the workers), which go when the
last source is read. At most `window` reads are in flight, so the object store holds a bounded share of
the input. The driver (cmedins.runner.build.read_sources) still counts every row, applies limits and
quarantines, in order: the ledger, quarantine and rows equal a local build's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cmedins.errors import CmedinsError, RowError
from cmedins.rowio.formats import FORMATS, Format
from cmedins.rowio.parts import LINES, Part, number_parts, part_evidence, plan_parts, read_part
from cmedins.runner.recipe import SourceConfig

DEFAULT_PART_BYTES = 4 << 20


def read_on_ray(ray: Any, jobs: list[tuple[SourceConfig, Format, Path]], convert: Callable, *, readers: int,
                window: int, part_bytes: int = DEFAULT_PART_BYTES, on_driver_node: bool = False) -> list[Iterator[tuple]]:
    """One iterator per source of (file, row number, raw row or None, rows or RowError), as
    cmedins.runner.build.read_serially gives them. `on_driver_node`: the reader actors all run on this
    process's node (the other nodes need not see the sources), else Ray spreads them over the cluster."""
    planned = [(number, part) for number, (_, fmt, path) in enumerate(jobs)
               for part in plan_parts(fmt, path, part_bytes)]
    parts = [part for _, part in planned]
    # A pool of reader actors, not one task per part: each Ray worker process pays ~1-2 CPU-s to start and
    # import the formats, so a fixed `readers` of them serve every part, and go when the reading is done.
    # No CPU reserved: the stage actors reading these rows hold the cluster's CPUs while the reads run (a
    # reader waiting for a CPU they hold would wait forever); `window` bounds the work in flight instead.
    placement: Any = "SPREAD"
    if on_driver_node:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        placement = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    pool = [ray.remote(num_cpus=0, scheduling_strategy=placement)(_Reader).remote() for _ in range(max(1, readers))]
    lines = [index for index, part in enumerate(parts) if part.layout == LINES]
    found = dict(zip(lines, ray.get([pool[n % len(pool)].evidence.remote(parts[index])
                                     for n, index in enumerate(lines)]), strict=True))
    for result in found.values():
        if isinstance(result, str):
            _release(ray, pool)
            raise CmedinsError(result)
    parts = number_parts(parts, found)

    def submit(index: int) -> Any:
        source, fmt, _ = jobs[planned[index][0]]
        return pool[index % len(pool)].read.remote(fmt.name, source, parts[index], convert)

    window_ = _Window(submit, [number for number, _ in planned], window, ray, lambda: _release(ray, pool))
    return [window_.stream(number, [index for index, (source, _) in enumerate(planned) if source == number])
            for number in range(len(jobs))]


def _release(ray: Any, pool: list) -> None:
    for handle in pool:
        ray.kill(handle)


class _Window:
    """Read tasks submitted in part order, at most `size` in flight, results taken back in that order. A
    source whose stream is closed early (its limit reached) has its remaining parts skipped."""

    def __init__(self, submit: Callable[[int], Any], sources: list[int], size: int, ray: Any,
                 done: Callable[[], None]):
        self._submit, self._sources, self._size, self._ray, self._done = submit, sources, max(1, size), ray, done
        self._todo = deque(range(len(sources)))
        self._streams_left = len(set(sources))
        self._flight: deque = deque()
        self._stopped: set[int] = set()

    def stream(self, source: int, indices: list[int]) -> Iterator[tuple]:
        try:
            for index in indices:
                yield from self._take(index)
        finally:
            self._stopped.add(source)
            self._streams_left -= 1
            if self._streams_left == 0:
                self._done()

    def _take(self, index: int) -> list[tuple]:
        self._fill()
        while self._flight[0][0] != index:  # parts of a stopped source, submitted before it stopped: dropped
            self._flight.popleft()
            self._fill()
        _, ref = self._flight.popleft()
        self._fill()  # keep the window full while this part is taken apart
        result = self._ray.get(ref)
        if isinstance(result, str):
            raise CmedinsError(result)
        return [(file, number, raw, RowError(outcome[0], field=outcome[1]) if isinstance(outcome, tuple) else outcome)
                for file, number, raw, outcome in result]

    def _fill(self) -> None:
        while self._todo and len(self._flight) < self._size:
            index = self._todo.popleft()
            if self._sources[index] not in self._stopped:
                self._flight.append((index, self._submit(index)))


class _Reader:
    """A Ray actor reading parts: the encoding evidence of a range, then the rows of a part."""

    def __init__(self) -> None:
        from cmedins.runner.registry import load_plugins

        load_plugins()  # the source formats of every area

    def evidence(self, part: Part) -> Any:
        try:
            return part_evidence(part)
        except CmedinsError as error:
            return str(error)

    def read(self, format_name: str, source: SourceConfig, part: Part, convert: Callable) -> list[tuple] | str:
        """One part's rows, each converted; a bad row as (message, field) with its raw row (for the private
        quarantine), a good one without it. A file-level error comes back as its one-line message."""
        return _read(FORMATS[format_name], source, part, convert)


def _read(fmt: Format, source: SourceConfig, part: Part, convert: Callable) -> list[tuple] | str:
    from cmedins.runner.build import convert_row

    out = []
    try:
        for file, number, raw in read_part(fmt, part):
            outcome = convert_row(fmt, source, raw, number, convert)
            if isinstance(outcome, RowError):  # an exception does not pickle with its field: send the facts
                out.append((file, number, raw, (outcome.message, outcome.field)))
            else:
                out.append((file, number, None, outcome))
    except CmedinsError as error:
        return str(error)
    return out
