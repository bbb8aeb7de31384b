"""The Ray executor against the local runner: same rows, same ledger, byte-identical files.

A local Ray (`ray.init(num_cpus=2)`) starts inside the test run; skipped without the `[ray]` extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from cmedins.errors import CmedinsError
from cmedins.runner.executors import make_executor
from cmedins.runner.executors.ray_executor import RayExecutor, merge_figures
from cmedins.sft.build import run_recipe
from tests.conftest import ROOT

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _files(build: Path) -> dict[str, bytes]:
    """Every file of the build but its log and timings (no two builds share them)."""
    return {str(path.relative_to(build)): path.read_bytes() for path in sorted(build.rglob("*"))
            if path.is_file() and ".work" not in path.parts and path.name not in ("build.log", "timings.json")}


def _assert_same_build(local: Path, on_ray: Path) -> None:
    expected, got = _files(local), _files(on_ray)
    assert sorted(got) == sorted(expected)
    assert any(name.startswith("data/") and name.endswith(".parquet") for name in expected)
    for name in expected:
        assert got[name] == expected[name], name  # data shards, stats, manifest, quarantine, audit, reports
    for split in ("train", "validation"):
        ids = [pq.read_table(path, columns=["id"]).column("id").to_pylist() for path in
               (sorted((build / "data").glob(f"{split}-*.parquet")) for build in (local, on_ray))]
        assert ids[0] == ids[1] and ids[0]


def test_sample_build_on_ray_equals_the_local_build(local_ray, sample_build, tmp_path):
    """Small chunks (40 rows: the sample's 174 input rows in 5 chunks over 2 actors) exercise the merging."""
    on_ray = run_recipe(ROOT / "pipelines" / "sample.yaml", tmp_path / "ray", show_progress=False,
                        executor=RayExecutor(workers=2, chunk_rows=40)).out_dir
    _assert_same_build(sample_build, on_ray)


def test_a_generated_corpus_on_ray_equals_the_local_build(local_ray, tmp_path):
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records", "500",
                    "--dialogues", "200", "--general", "60", "--seed", "3"], check=True, capture_output=True)
    sources = [("records", "records.jsonl", "record"), ("records_text", "records_text.jsonl", "record_text"),
               ("chatmed", "chatmed.jsonl", "chatmed"), ("cmtmedqa", "cmtmedqa.json", "cmtmedqa"),
               ("general", "general_alpaca.json", "alpaca")]
    recipe = {"name": "ray-parity", "seed": 5, "output": "out",
              "sources": [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in sources],
              "stages": [{"deid": {"operator": "placeholder", "dates": "year"}}, {"tasks": {}}, {"dialogues": {}},
                         {"dedup": {}}, {"validate": {}}]}
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    local = run_recipe(recipe_path, tmp_path / "local", show_progress=False)
    on_ray = run_recipe(recipe_path, tmp_path / "ray", show_progress=False,
                        executor=RayExecutor(workers=2, chunk_rows=250))
    assert local.stats["rows"]["input"] >= 900 and local.stats["dedup"]["rows_in"] > 2500
    _assert_same_build(local.out_dir, on_ray.out_dir)


def test_figures_of_chunks_add_up_and_keep_the_stages_order():
    merged = merge_figures([
        {"config": {"operator": "placeholder"}, "rows": {"a": 2, "c": 1}, "by_count": {"x": 5, "w": 1}},
        {"config": {"operator": "placeholder"}, "rows": {"b": 1}, "by_count": {"w": 9}},
    ])
    assert merged == {"config": {"operator": "placeholder"}, "rows": {"a": 2, "b": 1, "c": 1},
                      "by_count": {"w": 10, "x": 5}}
    assert list(merged["rows"]) == ["a", "b", "c"] and list(merged["by_count"]) == ["w", "x"]
    with pytest.raises(CmedinsError, match="different settings"):
        merge_figures([{"config": "a"}, {"config": "b"}])


def test_executor_names_are_checked():
    assert make_executor("local") is None
    with pytest.raises(CmedinsError, match="unknown executor 'spark'"):
        make_executor("spark")
    with pytest.raises(CmedinsError, match="--address applies to --executor ray only"):
        make_executor("local", address="10.0.0.1:6379")
