"""The toolkit's own files outside its code: card templates (cards/) and recipes (pipelines/).

Their source of truth stays at the repository root, where the design puts them and users look for them; the
wheel carries them inside the package (setup.py maps `cards/` to `cmedins/cards/` and `pipelines/` to
`cmedins/pipelines/` at build time), so one lookup serves both: the packaged copy when installed from a
wheel, the repository's folder in a source checkout or editable install.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import cmedins

FOLDERS = ("cards", "pipelines")


def folder(name: str) -> Path:
    """`cards` or `pipelines`, wherever this installation keeps it."""
    if name not in FOLDERS:
        raise ValueError(f"unknown resource folder {name!r}")
    packaged = resources.files(cmedins) / name
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(cmedins.__file__).resolve().parent.parent / name


def is_packaged(path: Path) -> bool:
    """True for a file that lives inside the installed package (e.g. the default recipe of a wheel)."""
    return Path(path).resolve().is_relative_to(Path(cmedins.__file__).resolve().parent)
