"""Resume: each stage's finished output is kept beside the build and reused by a rerun.

A checkpoint is keyed by everything its rows depend on: the code (a hash of the package's files), the
recipe's sources, seed and location, the inputs' content hashes, and the stages up to it with their
parameters. A rerun of the same plan on the same inputs with the same code restarts after the last finished
stage; any change gives another key, so a stale checkpoint can never be used. A checkpoint holds the stage's
output rows, the runner's state at that point (ledger counts, stage figures and facts) and a copy of the
files the build had written by then (quarantine, audit, reports), each zstd-compressed under its own name.

The rows are a row spool (cmedins.rowio.spool: zstd-compressed pickled batches, 1/3 of one pickle per row on
real text, 1/15 on the synthetic corpus). A stage whose output already lies in a spool hands it over as
`KeptRows` (dedup: the checkpoint it read, or the spool it wrote, and which rows it kept), and the checkpoint
adopts that file (linked, or moved), with the keep flags beside it, instead of writing the rows again (on the
22k-record bench: 90k rows not written and read once more, and 134k not spooled by dedup, ~1.9 CPU-s). Only the latest finished checkpoint is kept: once a stage's one is
complete, every other goes (the earlier stages' of this plan, any other plan's), because resuming needs only
the last one, and keeping all of them cost 2.4x the input on real text (measured in the README's "Scale").
The price: a rerun that changes a stage before the last checkpointed one starts from the sources.

Checkpoints live in the toolkit's private folder beside the build (`<parent>/.<name>.cmedins/checkpoints/`),
never inside a published folder; they hold de-identified rows after the deid stage, and the private
quarantine's content like the build's own `.work/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import cmedins
from cmedins.rowio.spool import CODEC, KeptRows, write_spool

ROWS, STATE, FILES = "rows.pickle.zst", "state.pickle", "files"
KEEP = "keep.bool"  # beside an adopted spool: one byte per spooled row, whether it is one of the stage's rows
COPY_CHUNK = 1 << 20
SKIPPED_FILES = (".work/spool",)  # the mix spool is rebuilt after the last stage


@cache
def code_version() -> str:
    """sha256 over the package's own files (code, templates, lexicons): any edit invalidates checkpoints."""
    root = Path(cmedins.__file__).parent
    digest = hashlib.sha256(cmedins.__version__.encode())
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def chain_keys(base: dict[str, Any], stages: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """One key per stage: the base facts plus every stage up to and including it."""
    keys, digest = [], hashlib.sha256(json.dumps({"code": code_version(), **base}, sort_keys=True,
                                                 default=str).encode())
    for name, params in stages:
        digest.update(json.dumps([name, params], sort_keys=True, default=str).encode())
        keys.append(digest.copy().hexdigest()[:32])
    return keys


class Checkpoints:
    def __init__(self, root: Path, *, resume: bool):
        self.root = root
        if not resume and root.exists():
            shutil.rmtree(root)  # --fresh: nothing of an earlier run is reused

    def has(self, key: str) -> bool:
        return (self.root / key / STATE).is_file()

    def restore(self, key: str, build_dir: Path) -> dict[str, Any]:
        """Copy the checkpoint's files into the build folder; returns the runner state saved with it."""
        folder = self.root / key
        if (folder / FILES).is_dir():
            shutil.copytree(folder / FILES, build_dir, dirs_exist_ok=True, copy_function=_unpack)
        with (folder / STATE).open("rb") as handle:
            return pickle.load(handle)

    def rows(self, key: str) -> KeptRows:
        folder = self.root / key
        keep = np.fromfile(folder / KEEP, dtype=np.bool_) if (folder / KEEP).is_file() else None
        return KeptRows(folder / ROWS, keep, shared=True)

    def save(self, key: str, rows: Iterator[dict] | KeptRows, state: Callable[[], dict[str, Any]],
             build_dir: Path) -> None:
        """Run `rows` (a stage's output) to the end into a new checkpoint (or adopt its spool), then save
        `state()` and a copy of the build folder's files, and publish the checkpoint by one rename (a killed run
        leaves no half one)."""
        partial = self.root / f"{key}.partial"
        if partial.exists():
            shutil.rmtree(partial)
        partial.mkdir(parents=True)
        if isinstance(rows, KeptRows):
            if rows.shared:  # another checkpoint's file: linked, so that one stays whole until it is pruned
                _link(rows.path, partial / ROWS)
            else:
                os.replace(rows.path, partial / ROWS)  # the same file system: the build's private folder
            if rows.keep is not None:
                rows.keep.astype(np.bool_).tofile(partial / KEEP)
        else:
            write_spool(partial / ROWS, rows)
        snapshot = state()  # taken first: it flushes the ledger's open quarantine files
        shutil.copytree(build_dir, partial / FILES, ignore=_skip(build_dir), copy_function=_pack)
        with (partial / STATE).open("wb") as handle:
            pickle.dump(snapshot, handle, protocol=pickle.HIGHEST_PROTOCOL)
        final = self.root / key
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        self.prune([key])  # resume needs only the latest; the one this stage read from is no longer needed

    def prune(self, keys: list[str]) -> None:
        """Keep only the checkpoints named in `keys`: another plan's are of no further use."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if folder.name not in keys:
                shutil.rmtree(folder, ignore_errors=True)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copyfile(source, target)


def _pack(source: str, target: str) -> None:
    """Copy one of the build's files into a checkpoint zstd-compressed (audit and reports shrink ~5x: at 22k
    records they were larger than the checkpoint's rows)."""
    with open(source, "rb") as plain, pa.CompressedOutputStream(target, CODEC) as packed:
        shutil.copyfileobj(plain, packed, COPY_CHUNK)


def _unpack(source: str, target: str) -> None:
    with pa.CompressedInputStream(pa.OSFile(source), CODEC) as packed, open(target, "wb") as plain:
        shutil.copyfileobj(packed, plain, COPY_CHUNK)


def _skip(build_dir: Path):
    skipped = {(build_dir / name).resolve() for name in SKIPPED_FILES}

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if (Path(folder) / name).resolve() in skipped]

    return ignore
