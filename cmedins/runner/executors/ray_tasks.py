"""Ray tasks for stages that map a function over batches: the `task_map` a stage declares (dedup: signing
batches, shard map and reduce tasks; decontaminate: matching batches) is replaced, on the Ray executor, by a
`RayTaskMap` that runs each call as a Ray task.

Separate from the actor pool of the row-local stages (ray_executor._on_actors): those stream a stage's rows
through long-lived actors; here the stage itself stays on the driver and only hands out its batch functions
(cmedins.dedup.tasks has the interface and the local twin). Results come back in submission order, with at
most `2 x workers` calls in flight, so the driver holds a bounded number of batches. A call's `context` is put
into the object store once per pipeline and shared by its calls (the eval index, the shard job).

Dedup's shards move one of two ways (`shuffle`): "files", shard files and the signature memory map in the
build's work folder, which the tasks read and write by path (on one machine the local disk; on a multi-node
cluster, storage every node mounts), or "objects", through Ray's object store, where no task opens the work
folder (ray_shuffle.py). The executor picks one (ray_executor.RayExecutor, `--shuffle`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from cmedins.errors import CmedinsError

_IN_FLIGHT_PER_WORKER = 2
SHUFFLES = ("files", "objects")


def attach_task_map(stage: Any, address: str | None, workers: int | None, shuffle: str = "files") -> None:
    """Give `stage` a Ray task map if it declares one (a `task_map` attribute); leave any other stage alone."""
    if not hasattr(stage, "task_map"):
        return
    ray = init_ray(address)
    stage.task_map = RayTaskMap(workers or max(1, int(ray.cluster_resources().get("CPU", 1))), shuffle=shuffle)


def import_ray():
    try:
        import ray
    except ImportError:
        raise CmedinsError("--executor ray needs Ray: pip install 'cmedins[ray]'") from None
    return ray


def init_ray(address: str | None):
    """Ray, started (or joined, at `address`) as the executor starts it, unless this process already has."""
    ray = import_ray()
    if not ray.is_initialized():
        # log_to_driver off: worker start-up chatter would mix into the build's own output;
        # a checkout named by PYTHONPATH (a development tree) must win in the workers too
        path = os.environ.get("PYTHONPATH")
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": path}} if path else None)
    return ray


class RayTaskMap:
    """cmedins.dedup.tasks.TaskMap on Ray tasks (one CPU each); `shuffle`: how dedup's shards move ("files" or
    "objects", see the module's docstring)."""

    def __init__(self, workers: int, shuffle: str = "files"):
        if shuffle not in SHUFFLES:
            raise CmedinsError(f"unknown shuffle '{shuffle}' (known: {', '.join(SHUFFLES)})")
        self.workers = workers
        self.shuffle = shuffle

    def pipeline(self, fn: Callable[[Any, Any], Any], context: Any) -> _RayPipe:
        return _RayPipe(fn, context, _IN_FLIGHT_PER_WORKER * self.workers)

    def shuffle_shards(self, job: Any, items: list) -> Iterator[Any]:
        """cmedins.dedup.shards.shuffle through the object store (called when `shuffle` is "objects")."""
        import ray

        from cmedins.runner.executors.ray_shuffle import shuffle_through_objects

        return shuffle_through_objects(ray, job, items, self.workers, _IN_FLIGHT_PER_WORKER * self.workers)


class _RayPipe:
    def __init__(self, fn: Callable[[Any, Any], Any], context: Any, in_flight: int):
        import ray

        self._ray, self._fn, self._in_flight = ray, fn, in_flight
        self._context = ray.put(context)
        self._pending: deque = deque()

    def put(self, item: Any) -> list[Any]:
        self._pending.append(_remote_call().remote(self._fn, self._context, item))
        done = []
        while len(self._pending) >= self._in_flight:
            done.append(self._ray.get(self._pending.popleft()))
        return done

    def close(self) -> list[Any]:
        done = [self._ray.get(ref) for ref in self._pending]
        self._pending.clear()
        return done


def _call(fn: Callable[[Any, Any], Any], context: Any, item: Any) -> Any:
    return fn(context, item)


@lru_cache(maxsize=1)
def _remote_call():
    import ray

    return ray.remote(num_cpus=1)(_call)
