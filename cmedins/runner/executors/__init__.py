"""Where a build's stages run: in this process (`local`, the default) or on a Ray cluster (`ray`).

The local executor is the runner itself (cmedins.runner.build.run_stages: chained generators in one process).
`ray` (cmedins.runner.executors.ray_executor, needs the `[ray]` extra) reads the sources in parts on Ray reader actors, runs
the row-local stages (de-identification, templating) on a pool of Ray actors over chunks of rows, and the rest on
the driver; the ledger, quarantine, audit,
stats and data files come out the same as a local build's.
"""

from __future__ import annotations

from cmedins.errors import CmedinsError

EXECUTORS = ("local", "ray")


def make_executor(name: str, *, address: str | None = None, workers: int | None = None, chunk_rows: int | None = None,
                  shuffle: str | None = None):
    """None for the local executor (the runner's own path), else the named executor. `shuffle` (Ray): how the
    build's files reach the nodes, "auto" (default), "files" (shared storage) or "objects" (Ray's object store)."""
    if name == "local":
        if address:
            raise CmedinsError("--address applies to --executor ray only")
        if shuffle:
            raise CmedinsError("--shuffle applies to --executor ray only")
        return None
    if name == "ray":
        from cmedins.runner.executors.ray_executor import RayExecutor

        return RayExecutor(address=address, workers=workers, chunk_rows=chunk_rows, shuffle=shuffle or "auto")
    raise CmedinsError(f"unknown executor '{name}' (known: {', '.join(EXECUTORS)})")
