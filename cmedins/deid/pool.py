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
    import_presidio()
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


def import_presidio() -> None:
    """Import presidio without torch and transformers behind it, in any process: they are marked absent for the
    import only (those not imported yet), then unmarked, so a later `import torch` here works (the test suite
    builds in-process, then trains). 4.3 -> 0.8 CPU-s. What stays: presidio's own flags say "no transformers"
    (its NLP engines and NER recognizers, which cmedins never uses), and thinc (spacy's, a hard dependency of
    presidio's nlp_engine package, so not skippable) records `has_torch = False` for this process, which only
    thinc's own PyTorch wrappers read. A thread importing torch meanwhile would fail: builds import it in none."""
    if "presidio_analyzer" in sys.modules:
        return
    marked = [name for name in _UNUSED_IN_WORKERS if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None
    try:
        import presidio_analyzer  # noqa: F401
        import presidio_anonymizer  # noqa: F401
    finally:
        for name in marked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def _init_worker(config_json: str) -> None:
    from cmedins.runner.collector import collect_for_rows

    collect_for_rows()
    without_model_packages()
    global _worker_engine
    _worker_engine = shared_engine(config_json)
    _worker_engine.prepare()


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
