"""De-identification on a pool of worker processes, results in input order (`ParallelDeidentifier`).

Apart from the engine (cmedins.deid.engine) so that the process that hands out the work does not import it:
presidio's import (with transformers and torch behind it) took ~5 CPU seconds in the build's main process,
which never detects anything itself when workers do. Each worker builds one engine, once.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from cmedins.deid.config import DeidConfig

if TYPE_CHECKING:
    from cmedins.deid.engine import Deidentifier
    from cmedins.deid.results import TextResult, Unit

_worker_engine: Deidentifier | None = None
# True in a process that is itself one of an executor's workers (a Ray actor, cmedins.runner.executors):
# de-identification runs in it, whatever `workers` says, instead of on a pool of processes of its own.
_one_process_only = False


def run_in_this_process() -> None:
    """Make every ParallelDeidentifier of this process detect in it (called by a Ray stage actor)."""
    global _one_process_only
    _one_process_only = True


@lru_cache(maxsize=4)
def shared_engine(config_json: str) -> Deidentifier:
    """One engine per configuration and process: building one costs ~0.5 CPU-s after the first (compiling the
    recognizers and the Hyperscan database), and a Ray actor makes a stage, and so a gate, per chunk of rows."""
    from cmedins.deid.engine import Deidentifier

    return Deidentifier(DeidConfig.model_validate_json(config_json))


# The engine runs presidio's pattern recognizers only, never an NLP model (nothing is downloaded), but
# presidio's package import pulls in transformers and torch when they are installed: ~2.3 CPU-s a worker.
# presidio treats both as optional, so a worker (a fresh spawned process) marks them absent before it.
_UNUSED_IN_WORKERS = ("torch", "transformers")


def without_model_packages() -> None:
    """Mark torch and transformers absent in this process (unless already imported): a process that only
    de-identifies (a pool worker, a Ray actor running cmedins' own stages) then skips their import."""
    for name in _UNUSED_IN_WORKERS:
        sys.modules.setdefault(name, None)  # None: `import name` raises ImportError


def _init_worker(config_json: str) -> None:
    without_model_packages()
    global _worker_engine
    _worker_engine = shared_engine(config_json)


def _run_in_worker(units: list[Unit]) -> list[list[TextResult]]:
    return _worker_engine.deidentify_units(units)


class ParallelDeidentifier:
    """`deidentify_units` over a pool of `config.workers` processes (in process when workers == 1).
    Chunks come back in order, so the output order is the input order. 2 x workers chunks are kept in
    flight: while the caller works on one result (reads and converts rows, writes the last ones), the
    workers go on with the next, and the main process and the workers no longer take turns. Bounded, so
    memory stays bounded (imap would read the whole input ahead from its feeder thread)."""

    def __init__(self, config: DeidConfig):
        self.config = config
        self.pool = None
        self.engine = None
        if config.workers > 1 and not _one_process_only:
            import multiprocessing

            self.pool = multiprocessing.get_context("spawn").Pool(
                config.workers, initializer=_init_worker, initargs=(config.model_dump_json(),))
        else:
            self.engine = shared_engine(config.model_dump_json())

    def map_chunks(self, chunks: Iterable[list[Unit]]) -> Iterator[list[list[TextResult]]]:
        """chunks: iterable of unit lists; yields one result list per chunk, in order."""
        if self.pool is None:
            for units in chunks:
                yield self.engine.deidentify_units(units)
            return
        in_flight: deque = deque()
        for units in chunks:
            in_flight.append(self.pool.apply_async(_run_in_worker, (units,)))
            if len(in_flight) >= 2 * self.config.workers:
                yield in_flight.popleft().get()
        while in_flight:
            yield in_flight.popleft().get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
