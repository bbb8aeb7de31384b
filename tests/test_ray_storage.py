"""On a Ray cluster of several nodes: does every node see the sources and the work folder at the same paths?
Checked by a probe pinned to each node before anything is read. A two-node cluster runs here on one machine
(ray.cluster_utils.Cluster), so both nodes share this disk; a node that sees another file is simulated by a
fingerprint the driver took before the file changed, and a node that cannot see a folder by a second node
whose Python processes cannot open anything under it (a sitecustomize on that node's PYTHONPATH). Skipped
without the `[ray]` extra."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from cmedins.errors import CmedinsError

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


_BLIND = """
import builtins, io, os

_hidden = os.environ["CMEDINS_TEST_HIDDEN"]
_open = io.open


def _open_unless_hidden(file, *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and os.fsdecode(os.fspath(file)).startswith(_hidden):
        raise FileNotFoundError(2, "not mounted on this node", file)
    return _open(file, *args, **kwargs)


builtins.open = io.open = _open_unless_hidden
"""


@pytest.fixture(scope="module")
def hidden(tmp_path_factory):
    """A folder the cluster's second node cannot open anything in."""
    return tmp_path_factory.mktemp("hidden")


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory, hidden):
    from ray.cluster_utils import Cluster

    site = tmp_path_factory.mktemp("blind-site")
    (site / "sitecustomize.py").write_text(_BLIND, encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1, env_vars={"PYTHONPATH": path, "CMEDINS_TEST_HIDDEN": str(hidden)})
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    yield ray
    ray.shutdown()
    cluster.shutdown()


def test_every_node_is_asked_and_the_same_files_pass(two_nodes, tmp_path):
    from cmedins.runner.executors import ray_storage

    source = tmp_path / "records.jsonl"
    source.write_text('{"text": "主诉：头痛3天。"}\n' * 5000, encoding="utf-8")
    nodes = ray_storage.compute_nodes(two_nodes)
    assert len(nodes) == 2
    ray_storage.require_same_files(two_nodes, {"source 'records'": source})
    ray_storage.require_shared_folder(two_nodes, tmp_path, "the build's work folder")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["records.jsonl"]  # the marker went


def test_a_node_that_sees_another_file_or_none_stops_the_build_naming_it(two_nodes, tmp_path):
    from cmedins.runner.executors import ray_storage

    source = tmp_path / "records.jsonl"
    source.write_text('{"text": "患者张伟，电话13812345678"}\n', encoding="utf-8")
    before = {"source 'records'": ray_storage.fingerprint(str(source))}
    source.write_text('{"text": "患者李娜，电话13912345678"}\n', encoding="utf-8")  # as a node with its own copy
    nodes = ray_storage.compute_nodes(two_nodes)
    with pytest.raises(CmedinsError) as changed:
        ray_storage.check_nodes(two_nodes, nodes, {"source 'records'": source}, before)
    message = str(changed.value)
    assert "sees a different file as source 'records'" in message and nodes[0]["NodeManagerAddress"] in message
    assert "13812345678" not in message and "李娜" not in message and "\n" not in message

    missing = tmp_path / "gone.jsonl"
    with pytest.raises(CmedinsError, match="cannot read source 'gone'"):
        ray_storage.check_nodes(two_nodes, nodes, {"source 'gone'": missing}, {"source 'gone'": "0:x"})


def test_without_shared_storage_auto_builds_what_local_builds_and_files_refuses(two_nodes, hidden, monkeypatch):
    """The sources and the build folder are where the second node cannot see them: under `auto` the readers
    stay on the driver's node and dedup's shards go through the object store (the row-local stages and the
    signing still run on both nodes), and the build equals the local one; under `files` it stops at once."""
    from cmedins.runner.executors import ray_tasks
    from cmedins.runner.executors.ray_executor import RayExecutor
    from cmedins.sft.build import run_recipe
    from tests.test_ray_executor import _assert_same_build

    corpus = hidden / "corpus"
    subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records", "150",
                    "--dialogues", "60", "--general", "20", "--seed", "6"], check=True, capture_output=True)
    sources = [("records", "records.jsonl", "record"), ("chatmed", "chatmed.jsonl", "chatmed"),
               ("general", "general_alpaca.json", "alpaca")]
    recipe = {"name": "no-shared-storage", "seed": 3, "output": "out",
              "sources": [{"name": n, "path": str(corpus / f), "format": fmt} for n, f, fmt in sources],
              "stages": [{"tasks": {}}, {"dialogues": {}}, {"dedup": {"memory_mb": 1}}, {"validate": {}}],
              "sources_already_deidentified": True}
    recipe_path = hidden / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")
    local = run_recipe(recipe_path, hidden / "local", show_progress=False)
    assert local.stats["dedup"]["exact"] + local.stats["dedup"]["near"] > 0

    with pytest.raises(CmedinsError) as refused:
        run_recipe(recipe_path, hidden / "files", show_progress=False, executor=RayExecutor(workers=2, shuffle="files"))
    assert "cannot read source" in str(refused.value) and "\n" not in str(refused.value)

    pipelines = []
    real_pipeline = ray_tasks.RayTaskMap.pipeline
    monkeypatch.setattr(ray_tasks.RayTaskMap, "pipeline",
                        lambda self, fn, context: pipelines.append(fn.__name__) or real_pipeline(self, fn, context))
    auto = run_recipe(recipe_path, hidden / "auto", show_progress=False, executor=RayExecutor(workers=2))
    _assert_same_build(local.out_dir, auto.out_dir)
    assert pipelines == ["sign_batch"]  # dedup's shards through the object store, not the work folder
