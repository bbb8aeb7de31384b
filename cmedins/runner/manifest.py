"""manifest.json: what went in (hashes), how (recipe, versions, seed, git revision), and what ran."""

from __future__ import annotations

import hashlib
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import cmedins
from cmedins.contracts.reports import DeidNotRun, ValidationFacts
from cmedins.rowio.readers import file_sha256
from cmedins.runner.ledger import Ledger
from cmedins.runner.recipe import Recipe, resolve_path
from cmedins.runner.report import render_manifest, validating_report
from cmedins.runner.stage import BuildContext

# Recipe strings that may hold an identity (Han text, an @, a long digit run); plain ASCII settings such as
# `placeholder` or `package://sample/x.json` are left as written.
NEEDS_GATE = re.compile(r"[\u3400-\u9fff@]|\d{5,}")
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


def path_fingerprint(path: str) -> str:
    """A source's path as recorded for publication: hashed, since file names can hold identities
    (`张三_住院记录.json`); the user-given source name identifies the input instead."""
    return hashlib.sha256(path.encode("utf-8")).hexdigest()[:16]


def gated_text(text: str | None, where: str) -> str | None:
    """A recipe's free text (a source description) as it may be published: through the privacy gate."""
    if not isinstance(text, str) or not NEEDS_GATE.search(text):
        return text
    from cmedins.deid.gate import clean_free_texts

    return clean_free_texts([text], where=where)[0]


def _free_texts(value: Any, found: list[str]) -> None:
    if isinstance(value, str) and NEEDS_GATE.search(value):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _free_texts(item, found)
    elif isinstance(value, list):
        for item in value:
            _free_texts(item, found)


def _replaced(value: Any, clean: dict[str, str]) -> Any:
    if isinstance(value, str):
        return clean.get(value, value)
    if isinstance(value, dict):
        return {key: _replaced(item, clean) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, clean) for item in value]
    return value


def published_recipe(raw_recipe: dict) -> dict:
    """The recipe as the manifest (and so the card and the Hub) records it: source and output paths hashed, and
    every other free text in it (a system prompt, a description) through the privacy gate."""
    # The paths are never published as text, so they skip the gate: the output path's digit run alone started
    # the detector in builds with nothing to clean (~4% of a 22k-record build's CPU without deid).
    recipe = {key: value for key, value in raw_recipe.items() if key not in ("sources", "output")}
    texts: list[str] = []
    _free_texts(recipe, texts)
    for spec in raw_recipe.get("sources") or []:
        if isinstance(spec, dict):
            _free_texts({k: v for k, v in spec.items() if k != "path"}, texts)
    if texts:
        from cmedins.deid.gate import clean_free_texts

        unique = sorted(set(texts))
        recipe = _replaced(dict(raw_recipe), dict(zip(unique, clean_free_texts(unique, where="the recipe copy in "
                                                                                "manifest.json"), strict=True)))
    else:
        recipe = dict(raw_recipe)
    for key in ("sources",):
        if isinstance(recipe.get(key), list):
            recipe[key] = [{**s, "path": f"sha256:{path_fingerprint(str(s['path']))}"}
                           if isinstance(s, dict) and "path" in s else s for s in recipe[key]]
    if "output" in recipe:
        recipe["output"] = f"sha256:{path_fingerprint(str(recipe['output']))}"
    return recipe


def validation_facts(ctx: BuildContext, ledger: Ledger) -> ValidationFacts:
    """Counted from the ledger: rows the validating stage rejected. `passed` only when it ran, kept rows,
    and rejected none (the publish gate relies on this)."""
    ran = validating_report(ctx.reports)
    if ran is None:
        return ValidationFacts(ran=False, passed=False, rows=0, failed=0, errors=0)
    stage, report = ran
    rejected = dict(sorted(ledger.stage(stage).quarantined.items()))
    failed = sum(rejected.values())
    return ValidationFacts(ran=True, stage=stage, rows=report.rows, failed=failed, errors=failed,
                           failed_by_reason=rejected, passed=failed == 0 and report.rows > 0)


def data_files(build_dir: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every data shard: `cmedins push` recomputes them, so a replaced file is refused."""
    return {path.relative_to(build_dir).as_posix(): {"sha256": file_sha256(path), "bytes": path.stat().st_size}
            for path in sorted((build_dir / "data").glob("*.parquet"))}


def build_manifest(recipe: Recipe, raw_recipe: dict, recipe_sha: str, base: Path, ctx: BuildContext,
                   ledger: Ledger) -> dict[str, Any]:
    inputs = [{"source": s.name, "path": f"sha256:{path_fingerprint(s.path)}", "format": s.format,
               **input_fingerprint(resolve_path(s.path, base))} for s in recipe.sources]
    stage_facts = render_manifest(ctx.reports)
    deid = stage_facts.pop("deid", None) or DeidNotRun(
        ran=False, sources_already_deidentified=recipe.sources_already_deidentified).model_dump(mode="json")
    return {
        "name": recipe.name,
        "cmedins_version": cmedins.__version__,
        "recipe": published_recipe(raw_recipe),
        "recipe_sha256": recipe_sha,
        "inputs": inputs,
        "versions": package_versions(),
        "seed": recipe.seed,
        "git_revision": git_revision(),
        "stages": [name for name, _ in recipe.stage_list()],
        "deid": deid,
        "validation": validation_facts(ctx, ledger).model_dump(mode="json"),
        "data_files": data_files(ctx.build_dir),
        **stage_facts,
    }
