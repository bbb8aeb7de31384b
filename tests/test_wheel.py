"""Installed from a wheel (not editable), the toolkit has its card templates, recipes and embedded sample:
build the wheel, install it into a clean venv and build the sample there, from an empty folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import cmedins
from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "setup.py", "README.md", "cmedins", "cards", "pipelines")


def _run(*args, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv holding only the cmedins wheel; its dependencies come from the running environment through a
    .pth line (no network, no second copy of torch), never its source tree."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy: building in the checkout would leave build/ and egg-info behind
    source.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if (ROOT / name).is_dir() else {}))
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp / "dist", source)
    [wheel] = (tmp / "dist").glob("cmedins-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q", wheel)
    purelib = Path(_run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                   .stdout.strip())
    (purelib / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv


def _clean_env() -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "HF_HUB_OFFLINE": "1"}


def test_the_wheel_carries_templates_recipes_and_sample(installed):
    code = ("import cmedins, importlib.resources as r; p = r.files(cmedins); "
            "print(cmedins.__file__); print(sorted(x.name for x in (p / 'cards').iterdir())); "
            "print(sorted(x.name for x in (p / 'pipelines').iterdir())); "
            "print((p / 'sample' / 'data' / 'records.jsonl').is_file())")
    lines = _run(installed / "bin" / "python", "-c", code, cwd=installed, env=_clean_env()).stdout.splitlines()
    assert str(installed) in lines[0] and str(ROOT) not in lines[0]  # the wheel's copy, not the checkout
    assert lines[1] == str(sorted(p.name for p in (ROOT / "cards").iterdir()))
    assert lines[2] == str(sorted(p.name for p in (ROOT / "pipelines").iterdir()))
    assert lines[3] == "True"
    version = _run(installed / "bin" / "cmedins", "--version", env=_clean_env()).stdout.strip()
    assert version == f"cmedins {cmedins.__version__}"


def test_the_installed_cli_builds_the_sample_from_an_empty_folder(installed, tmp_path):
    _run(installed / "bin" / "cmedins", "build", "-q", cwd=tmp_path, env=_clean_env())
    build = tmp_path / "build" / "sample"  # the packaged recipe builds into the working folder
    stats = json.loads((build / "stats.json").read_text(encoding="utf-8"))
    golden = json.loads((ROOT / "tests" / "golden" / "sample_build.json").read_text(encoding="utf-8"))
    assert stats["rows"] == golden["rows"]
    card = (build / "README.md").read_text(encoding="utf-8")
    assert card.startswith("---\n") and "plots/tasks.png" in card
    assert not (Path(sysconfig.get_paths()["purelib"]) / "build").exists()
