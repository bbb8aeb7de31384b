"""Python's cyclic garbage collector tuned for streams of rows (`rows_collector`, `collect_for_rows`).

A build allocates millions of small acyclic objects (row dicts, their strings and lists) and keeps many of them
alive for a while (spool batches, dedup's per-row facts). With the default first threshold of 700 allocations
the collector runs ~10,000 times per 66k-record build, 71 of them over the whole heap, and finds next to
nothing: 5.7-5.9 CPU-s of the synthetic 66k no-deid build's 81-83, measured with `gc.callbacks`; with these
thresholds 314 collections, 2 full, 0.45-0.46 CPU-s, and the build 72.0 / 70.9 CPU-s against 82.6 / 80.8
(alternating runs, the same data files). Cycles are still collected, only later: a row stream makes few of them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# (first, second, third) generation thresholds while rows stream; the last two are CPython's defaults.
ROW_STREAM_THRESHOLDS = (10_000, 10, 10)


@contextmanager
def rows_collector() -> Iterator[None]:
    """The row-stream thresholds for the duration of a build in this process, the previous ones after (the
    test suite, a notebook or a caller's own tuning get theirs back)."""
    previous = gc.get_threshold()
    gc.set_threshold(*ROW_STREAM_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def collect_for_rows() -> None:
    """The row-stream thresholds for the rest of this process: a worker that exists only to run stages (a
    de-identification pool worker, a Ray stage actor)."""
    gc.set_threshold(*ROW_STREAM_THRESHOLDS)
