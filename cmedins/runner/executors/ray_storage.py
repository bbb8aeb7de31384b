"""On a Ray cluster of several machines, every node must see the build's sources and its work folder at the
same paths: reader actors open source files by path wherever Ray places them, and dedup's shard tasks read
the signature files and write shard files in the work folder by path (cmedins.runner.executors.ray_tasks).
A node that cannot would fail deep inside a task, or read a different file of the same name.

So before the sources are read and before dedup hands out its tasks, the driver asks every node with CPUs,
by one small task pinned to it, for a fingerprint of each path: the size and the sha256 of the first
64 KiB of each source, and of a marker file with a random token written into the work folder for the check.
A node that sees another fingerprint (or none) stops the build with one line naming the node and what it
could not see, never a value of the files. One machine is its own shared storage: nothing is asked.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from cmedins.errors import CmedinsError

HEAD_BYTES = 1 << 16
_PROBE_TIMEOUT_S = 120


def fingerprint(path: str) -> str | None:
    """size:sha256-of-the-first-64-KiB, or None when this machine cannot read `path`."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            return f"{os.fstat(handle.fileno()).st_size}:{hashlib.sha256(head).hexdigest()}"
    except OSError:
        return None


def _probe(paths: list[str]) -> list[str | None]:
    return [fingerprint(path) for path in paths]


def compute_nodes(ray: Any) -> list[dict]:
    """The alive nodes that can run tasks (a node without CPUs gets none of the build's)."""
    return [node for node in ray.nodes() if node.get("Alive") and node.get("Resources", {}).get("CPU", 0) > 0]


def require_same_files(ray: Any, files: dict[str, Path]) -> None:
    """Refuse (CmedinsError) unless every compute node sees each of `files` (what -> path) as the driver does."""
    nodes = compute_nodes(ray)
    if len(nodes) < 2:
        return
    check_nodes(ray, nodes, files, {what: fingerprint(str(path)) for what, path in files.items()})


def require_shared_folder(ray: Any, folder: Path, what: str) -> None:
    """Refuse unless every compute node sees `folder` (it must exist here) as the same folder."""
    if len(compute_nodes(ray)) < 2:
        return  # no marker to write on one machine
    marker = folder / f".cmedins-shared-{secrets.token_hex(8)}"
    marker.write_text(secrets.token_hex(16), encoding="ascii")
    try:
        require_same_files(ray, {what: marker})
    finally:
        marker.unlink(missing_ok=True)


def check_nodes(ray: Any, nodes: list[dict], files: dict[str, Path], expected: dict[str, str | None]) -> None:
    """One pinned probe per node; the first node that sees another fingerprint than `expected` is refused."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    whats = list(files)
    probe = ray.remote(num_cpus=0)(_probe)
    refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False))
            .remote([str(files[what]) for what in whats]) for node in nodes]
    for node, seen in zip(nodes, ray.get(refs, timeout=_PROBE_TIMEOUT_S), strict=True):
        for what, found in zip(whats, seen, strict=True):
            if found is None or found != expected[what]:
                state = "cannot read" if found is None else "sees a different file as"
                raise CmedinsError(f"--executor ray: node {node.get('NodeManagerAddress', node['NodeID'])} {state} "
                                   f"{what} at the path the driver uses; every node must mount the sources and the "
                                   "build folder at the same paths (README, 'On a Ray cluster')")
