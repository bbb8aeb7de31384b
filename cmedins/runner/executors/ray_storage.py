"""On a Ray cluster of several machines, do all nodes see the build's sources and its work folder at the same
paths? Reader actors open source files by path wherever Ray places them, and dedup's file shuffle has its
shard tasks read the signature files and write shard files in the work folder by path
(cmedins.runner.executors.ray_tasks). A node that cannot would fail deep inside a task, or read a different
file of the same name.

So the driver asks every node with CPUs, by one small task pinned to it, for a fingerprint of each path: the
size and the sha256 of the first 64 KiB of each source, and of a marker file with a random token written into
the work folder for the check. The executor decides what a missing view means (ray_executor, `--shuffle`):
under `files` a node that sees another fingerprint (or none) stops the build with one line naming the node
and what it could not see, never a value of the files; under `auto` the sources are then read on the driver's
node and dedup shuffles through the object store. One machine is its own shared storage: nothing is asked.
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
    problem = files_problem(ray, files)
    if problem:
        raise CmedinsError(problem)


def require_shared_folder(ray: Any, folder: Path, what: str) -> None:
    """Refuse unless every compute node sees `folder` (it must exist here) as the same folder."""
    problem = folder_problem(ray, folder, what)
    if problem:
        raise CmedinsError(problem)


def files_problem(ray: Any, files: dict[str, Path]) -> str | None:
    """None when every compute node sees each of `files` as the driver does (or there is one node), else the
    one-line refusal naming the first node that does not."""
    nodes = compute_nodes(ray)
    if len(nodes) < 2:
        return None
    return nodes_problem(ray, nodes, files, {what: fingerprint(str(path)) for what, path in files.items()})


def folder_problem(ray: Any, folder: Path, what: str) -> str | None:
    """files_problem for a folder (it must exist here): a marker with a random token, written and removed."""
    if len(compute_nodes(ray)) < 2:
        return None  # no marker to write on one machine
    marker = folder / f".cmedins-shared-{secrets.token_hex(8)}"
    marker.write_text(secrets.token_hex(16), encoding="ascii")
    try:
        return files_problem(ray, {what: marker})
    finally:
        marker.unlink(missing_ok=True)


def check_nodes(ray: Any, nodes: list[dict], files: dict[str, Path], expected: dict[str, str | None]) -> None:
    """One pinned probe per node; the first node that sees another fingerprint than `expected` is refused."""
    problem = nodes_problem(ray, nodes, files, expected)
    if problem:
        raise CmedinsError(problem)


def nodes_problem(ray: Any, nodes: list[dict], files: dict[str, Path],
                  expected: dict[str, str | None]) -> str | None:
    """One pinned probe per node: None when all see `expected`, else the line naming the first that does not."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    whats = list(files)
    probe = ray.remote(num_cpus=0)(_probe)
    refs = [probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False))
            .remote([str(files[what]) for what in whats]) for node in nodes]
    for node, seen in zip(nodes, ray.get(refs, timeout=_PROBE_TIMEOUT_S), strict=True):
        for what, found in zip(whats, seen, strict=True):
            if found is None or found != expected[what]:
                state = "cannot read" if found is None else "sees a different file as"
                return (f"--executor ray: node {node.get('NodeManagerAddress', node['NodeID'])} {state} {what} at "
                        "the path the driver uses; with --shuffle files every node must mount the sources and the "
                        "build folder at the same paths (README, 'On a Ray cluster')")
    return None
