"""Shared fixtures. Real public data lives in ../shared/data beside the clone; tests using it skip without it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

# No network in tests: datasets/huggingface_hub must not phone home for local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_UPDATE_DOWNLOAD_COUNTS", "0")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# A private datasets cache per test run: builds rewritten at a reused path must never load stale data.
_CACHE = tempfile.mkdtemp(prefix="cmedins-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ["HF_DATASETS_CACHE"] = _CACHE
# Compiled Hyperscan databases (cmedins/deid/prefilter.py) go to the same private folder, not the user's ~/.cache:
# a test run writes nothing outside its temporary folders (subprocesses and workers inherit it).
os.environ["CMEDINS_CACHE_DIR"] = os.path.join(_CACHE, "cmedins")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skips the test when it is absent (a user's fresh clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> Path:
    """The embedded sample built by the default recipe, as `make build` does (built once per session)."""
    from cmedins.sft.build import run_recipe

    out = tmp_path_factory.mktemp("builds") / "sample"
    run_recipe(ROOT / "pipelines" / "sample.yaml", out, show_progress=False)
    return out


@pytest.fixture(scope="session")
def spf_sample_build(tmp_path_factory) -> Path:
    """The SPF preference set of the embedded sample, as `make spf` builds it."""
    from cmedins.preference.build import build_spf

    out = tmp_path_factory.mktemp("builds") / "spf-sample"
    build_spf(ROOT / "pipelines" / "spf.yaml", out)
    return out


@pytest.fixture(scope="session")
def deid_engine():
    """One de-identification engine for the whole run (presidio set-up costs seconds)."""
    from cmedins.deid.config import DeidConfig
    from cmedins.deid.engine import Deidentifier

    return Deidentifier(DeidConfig())


@pytest.fixture(scope="session")
def tiny_sft(tmp_path_factory):
    """A tiny SFT build made by the runner from a corpus with planted identities (tests/support/privacy_corpus.py):
    (build folder, planted values). Tests that change it work on a copy (`copy_build`)."""
    from cmedins.sft.build import run_recipe
    from tests.support.privacy_corpus import sft_corpus

    corpus = sft_corpus(tmp_path_factory.mktemp("tiny-sft"))
    return run_recipe(corpus.recipe, show_progress=False).out_dir, corpus.planted


@pytest.fixture(scope="session")
def tiny_spf(tmp_path_factory):
    """A tiny SPF build made by the runner from planted annotations: (build folder, planted values)."""
    from cmedins.preference.build import build_spf
    from tests.support.privacy_corpus import spf_corpus

    folder = tmp_path_factory.mktemp("tiny-spf")
    corpus = spf_corpus(folder)
    build_spf(corpus.recipe)
    return folder / "out", corpus.planted


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for one test module (the Ray tests import ray with importorskip first)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def copy_build(build: Path, target: Path) -> Path:
    """A private copy of a session build for a test that changes it."""
    shutil.copytree(build, target, ignore=shutil.ignore_patterns(".work", ".lock"))
    return target
