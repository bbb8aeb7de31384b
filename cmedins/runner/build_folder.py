"""The build folder's safety: the toolkit only ever replaces what it made, one build at a time, atomically.

- A finished build carries the marker file `.cmedins-build`; only a folder with it (or an empty folder) may be
  replaced. A `manifest.json` alone proves nothing (users keep manifests of their own).
- An output folder that is, holds or lies inside an input is refused before anything is touched.
- A build writes into `<parent>/.<name>.cmedins/partial/` and swaps it in by renames only when it succeeded:
  the previous build stays readable until then, and an interrupted build leaves it intact.
- `<parent>/.<name>.cmedins/lock` (an flock held for the build's lifetime, with the holder's pid in it) stops a
  second build into the same folder; the kernel drops the lock when its process dies, so a killed build never
  leaves a stale lock behind.
- `<parent>/.<name>.cmedins/checkpoints/` keeps finished stage outputs for resume (cmedins.runner.checkpoints).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from cmedins.errors import CmedinsError

MARKER = ".cmedins-build"
MARKER_TEXT = "A build folder written by cmedins; `cmedins build` may replace it.\n"


def state_dir(out_dir: Path) -> Path:
    """The toolkit's private folder beside a build folder (lock, partial build, checkpoints)."""
    out_dir = Path(os.path.abspath(out_dir))
    return out_dir.parent / f".{out_dir.name}.cmedins"


def is_build(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def _related(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_out_dir(out_dir: Path, inputs: Iterable[Path]) -> None:
    """Refuse an --out that would destroy what the toolkit did not make; touches nothing."""
    out = Path(os.path.realpath(out_dir))
    for source in inputs:
        real = Path(os.path.realpath(source))
        if out == real or out.is_relative_to(real):
            raise CmedinsError(f"{out_dir}: the output folder is or lies inside the input {source}; choose another --out")
        if real.is_relative_to(out):
            raise CmedinsError(f"{out_dir}: the output folder holds the input {source}; choose another --out")
    if out.exists() and not out.is_dir():
        raise CmedinsError(f"{out_dir}: --out is a file, not a folder; choose a folder for the build")
    if out.is_dir() and any(out.iterdir()) and not is_build(out):
        raise CmedinsError(f"{out_dir}: the folder is not empty and was not made by `cmedins build` (no {MARKER} "
                           "marker); choose another --out")


def check_not_input(out_file: Path, input_file: Path) -> None:
    """For the file commands (deid, dedup): writing onto the input would empty it before it is read."""
    if _related(Path(os.path.realpath(out_file)), Path(os.path.realpath(input_file))):
        raise CmedinsError(f"{out_file}: --out is the input file; choose another path")
    if Path(out_file).is_dir():
        raise CmedinsError(f"{out_file}: --out is a folder; give a file path")


class BuildLock:
    """An exclusive, non-blocking flock on `<state>/lock`; the holder's pid is written into it for messages."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.path = state_dir(out_dir) / "lock"
        self._fd: int | None = None

    def acquire(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise CmedinsError(f"{self.out_dir}: another build (pid {holder}) is writing this folder; wait for it "
                               "or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def start_partial(out_dir: Path) -> Path:
    """A fresh, empty partial build folder (a leftover from an interrupted build is discarded). Call with
    the lock held. A build killed between the two renames of `commit` is put back first."""
    previous, out = state_dir(out_dir) / "previous", Path(os.path.abspath(out_dir))
    if not out.exists() and is_build(previous):
        os.replace(previous, out)
    partial = state_dir(out_dir) / "partial"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    return partial


def commit(partial: Path, out_dir: Path) -> None:
    """Mark the finished partial build and swap it in place of `out_dir` (renames within one parent)."""
    (partial / MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    out_dir = Path(os.path.abspath(out_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    old = state_dir(out_dir) / "previous"
    if old.exists():
        shutil.rmtree(old)
    if out_dir.exists():
        if any(out_dir.iterdir()) and not is_build(out_dir):  # appeared since the check: never replace it
            raise CmedinsError(f"{out_dir}: a folder not made by cmedins appeared during the build; the new build "
                               f"is kept in {partial}")
        os.replace(out_dir, old)
    os.replace(partial, out_dir)
    shutil.rmtree(old, ignore_errors=True)
