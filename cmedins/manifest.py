"""manifest.json: what went in (hashes), how (recipe, versions, seed, git revision), and what ran."""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import cmedins
from cmedins.config import Recipe, resolve_path
from cmedins.io import file_sha256
from cmedins.ledger import Ledger
from cmedins.stage import BuildContext

PACKAGES = ("cmedins", "datasets", "pyarrow", "pandas", "pydantic", "presidio-analyzer", "presidio-anonymizer",
            "datasketch", "jieba", "huggingface-hub")


def input_fingerprint(path: Path) -> dict[str, Any]:
    """sha256 and size of a file, or of a folder (over its files' relative paths and hashes, sorted)."""
    if path.is_file():
        return {"sha256": file_sha256(path), "bytes": path.stat().st_size}
    digest, size = hashlib.sha256(), 0
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path).as_posix()}\0{file_sha256(file)}\n".encode())
        size += file.stat().st_size
    return {"sha256": digest.hexdigest(), "bytes": size}


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_revision() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(cmedins.__file__).parent, text=True,
                                capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def build_manifest(recipe: Recipe, raw_recipe: dict, recipe_sha: str, base: Path, ctx: BuildContext,
                   ledger: Ledger) -> dict[str, Any]:
    inputs = [{"source": s.name, "path": s.path, "format": s.format, **input_fingerprint(resolve_path(s.path, base))}
              for s in recipe.sources]
    validate = ledger.as_dict().get("validate", {})
    stage_facts = {key: value for key, value in ctx.manifest.items() if key not in ("deid", "validate")}
    return {
        "name": recipe.name,
        "cmedins_version": cmedins.__version__,
        "recipe": raw_recipe,
        "recipe_sha256": recipe_sha,
        "inputs": inputs,
        "versions": package_versions(),
        "seed": recipe.seed,
        "git_revision": git_revision(),
        "stages": [name for name, _ in recipe.stage_list()],
        "deid": ctx.manifest.get("deid", {"ran": False}),
        "validation": {
            "passed": "validate" in ctx.manifest,
            "rows": ctx.manifest.get("validate", {}).get("rows", 0),
            "errors": sum(validate.get("quarantined", {}).values()),
        },
        **stage_facts,
    }
