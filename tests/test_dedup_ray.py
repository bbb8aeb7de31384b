"""Dedup and decontamination on Ray tasks against the same stages run locally: the same rows removed, the same
figures, byte-identical build files. A local Ray (`ray.init(num_cpus=2)`) starts inside the test run; skipped
without the `[ray]` extra."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
import yaml

from cmedins.dedup import engine
from cmedins.dedup.engine import DedupIndex, DedupParams
from cmedins.sft.build import run_recipe
from tests.test_dedup_shards import _assert_same, _resolve, _synthetic_rows

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


def test_signing_and_shards_on_ray_tasks_equal_the_local_engine(local_ray, tmp_path, monkeypatch):
    """Signing batches, 4 map tasks (one shard file part each) and ~40 shard reduce tasks on 2 Ray workers."""
    from cmedins.runner.executors.ray_tasks import RayTaskMap

    monkeypatch.setattr(engine, "_BATCH", 256)  # many signing tasks
    monkeypatch.setattr(engine, "_PART_ROWS", 300)  # several map tasks, so several parts per shard
    rows = _synthetic_rows(random.Random(13), 400, 1200)
    params = DedupParams(source_priority=("clinic_b",))
    local = _resolve(DedupIndex, rows, tmp_path / "local", params, memory_budget=60_000)
    on_ray = _resolve(DedupIndex, rows, tmp_path / "ray", params, memory_budget=60_000, task_map=RayTaskMap(2))
    assert local.stats["lsh"]["shards"] > 20
    _assert_same(on_ray, local)
    assert on_ray.stats == local.stats  # candidate and verified pairs too: the shards hold the same records


def test_the_object_store_shuffle_removes_the_rows_the_file_shuffle_and_local_remove(local_ray, tmp_path,
                                                                                      monkeypatch):
    """Dedup's shards through Ray's object store (no task opens the work folder: only signing goes through a
    pipeline): ~12 map tasks of 100 rows, ~40 shards, fingerprints in blocks of 128 rows, near and exact passes
    of both scopes; the same rows removed and the same figures as the file shuffle on Ray and as local."""
    from cmedins.runner.executors import ray_shuffle, ray_tasks
    from cmedins.runner.executors.ray_tasks import RayTaskMap

    monkeypatch.setattr(ray_shuffle, "PART_ROWS", 100)
    monkeypatch.setattr(ray_shuffle, "BLOCK_RECORDS", 1)
    monkeypatch.setattr(ray_shuffle, "FINGERPRINT_BLOCK_ROWS", 128)
    rows = _synthetic_rows(random.Random(17), 400, 1200)
    params = DedupParams(source_priority=("clinic_b",))
    local = _resolve(DedupIndex, rows, tmp_path / "local", params, memory_budget=60_000)
    files = _resolve(DedupIndex, rows, tmp_path / "files", params, memory_budget=60_000, task_map=RayTaskMap(2))
    pipelines = []
    real_pipeline = ray_tasks.RayTaskMap.pipeline
    monkeypatch.setattr(ray_tasks.RayTaskMap, "pipeline",
                        lambda self, fn, context: pipelines.append(fn.__name__) or real_pipeline(self, fn, context))
    objects = _resolve(DedupIndex, rows, tmp_path / "objects", params, memory_budget=60_000,
                       task_map=RayTaskMap(2, shuffle="objects"))
    assert set(pipelines) == {"sign_batch"}
    assert local.stats["lsh"]["shards"] > 20 and local.stats["exact"] and local.stats["near"]
    _assert_same(objects, local)
    _assert_same(objects, files)
    assert objects.stats == local.stats == files.stats


def test_a_build_with_dedup_and_decontamination_on_ray_writes_the_local_files(local_ray, tmp_path, monkeypatch):
    from cmedins.runner.executors import ray_tasks
    from cmedins.runner.executors.ray_executor import RayExecutor
    from tests.test_ray_executor import _assert_same_build

    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records", "300",
                    "--dialogues", "150", "--general", "40", "--seed", "4"], check=True, capture_output=True)
    sources = [("records", "records.jsonl", "record"), ("chatmed", "chatmed.jsonl", "chatmed"),
               ("cmtmedqa", "cmtmedqa.json", "cmtmedqa"), ("general", "general_alpaca.json", "alpaca")]
    recipe = {"name": "ray-dedup", "seed": 2, "output": "out",
              "sources": [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in sources],
              "stages": [{"tasks": {}}, {"dialogues": {}}, {"dedup": {"memory_mb": 1}},
                         {"decontaminate": {"eval_sets": [{"name": "held_out", "path": str(corpus / "cmtmedqa.json"),
                                                           "format": "cmtmedqa"}]}},
                         {"validate": {}}],
              "sources_already_deidentified": True}  # the stages compared here come after deid
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    local = run_recipe(recipe_path, tmp_path / "local", show_progress=False)
    pipelines = []  # which batch functions went to Ray tasks
    real_pipeline = ray_tasks.RayTaskMap.pipeline
    monkeypatch.setattr(ray_tasks.RayTaskMap, "pipeline",
                        lambda self, fn, context: pipelines.append(fn.__name__) or real_pipeline(self, fn, context))
    on_ray = run_recipe(recipe_path, tmp_path / "ray", show_progress=False, executor=RayExecutor(workers=2))
    dedup = local.stats["dedup"]
    assert dedup["lsh"]["shards"] > 1 and dedup["exact"] + dedup["near"] > 50
    assert local.stats["decontaminate"]["dropped"]  # the eval set is one of the sources: its rows go
    _assert_same_build(local.out_dir, on_ray.out_dir)
    # signing; exact and near passes of two scopes (map, reduce); matching
    assert pipelines == ["sign_batch"] + ["write_part", "resolve_shard"] * 4 + ["match_batch"]
    pipelines.clear()
    objects = run_recipe(recipe_path, tmp_path / "objects", show_progress=False,
                         executor=RayExecutor(workers=2, shuffle="objects"))
    _assert_same_build(local.out_dir, objects.out_dir)
    assert pipelines == ["sign_batch", "match_batch"]  # the shards went through the object store
