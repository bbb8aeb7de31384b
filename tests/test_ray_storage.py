"""On a Ray cluster of several nodes, every node must see the sources and the work folder at the same paths:
checked by a probe pinned to each node before anything is read. A two-node cluster runs here on one machine
(ray.cluster_utils.Cluster), so both nodes share this disk; a node that sees another file is simulated by a
fingerprint the driver took before the file changed. Skipped without the `[ray]` extra."""

from __future__ import annotations

import pytest

from cmedins.errors import CmedinsError

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_nodes():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
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
