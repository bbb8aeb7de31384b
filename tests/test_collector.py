"""The garbage collector's row-stream thresholds hold while a build runs, in its workers too, and only then."""

from __future__ import annotations

import gc

from cmedins.runner.collector import ROW_STREAM_THRESHOLDS, rows_collector
from tests.conftest import ROOT

CALLERS_OWN = (701, 11, 12)  # what a caller (a notebook, the test suite) had set before the build


def test_a_build_collects_at_row_stream_thresholds_and_gives_the_callers_back(tmp_path):
    from cmedins.sft.build import run_recipe

    seen: list[tuple[int, int, int]] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(gc.get_threshold())

    previous = gc.get_threshold()
    gc.set_threshold(*CALLERS_OWN)
    gc.callbacks.append(record)
    try:
        run_recipe(ROOT / "pipelines" / "sample.yaml", tmp_path / "sample", show_progress=False)
        after = gc.get_threshold()
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*previous)
    assert seen, "no collection ran during the build"
    assert set(seen) == {ROW_STREAM_THRESHOLDS}
    assert after == CALLERS_OWN


def test_thresholds_come_back_when_the_build_fails():
    previous = gc.get_threshold()
    gc.set_threshold(*CALLERS_OWN)
    try:
        try:
            with rows_collector():
                assert gc.get_threshold() == ROW_STREAM_THRESHOLDS
                raise ValueError("a bad row")
        except ValueError:
            pass
        assert gc.get_threshold() == CALLERS_OWN
    finally:
        gc.set_threshold(*previous)


def test_deidentification_workers_collect_at_row_stream_thresholds():
    from cmedins.deid.config import DeidConfig
    from cmedins.deid.pool import ParallelDeidentifier

    workers = ParallelDeidentifier(DeidConfig(workers=2))
    try:
        assert workers.pool is not None
        assert workers.pool.apply(gc.get_threshold) == ROW_STREAM_THRESHOLDS
    finally:
        workers.close()
