"""The Ray executor against the local runner: same rows, same ledger, byte-identical files.

A local Ray (`ray.init(num_cpus=2)`) starts inside the test run; skipped without the `[ray]` extra.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cmedins.errors import CmedinsError
from cmedins.rowio.formats import FORMATS
from cmedins.rowio.parts import plan_parts
from cmedins.runner.build import read_sources
from cmedins.runner.executors import make_executor
from cmedins.runner.executors.ray_executor import RayExecutor
from cmedins.runner.ledger import Ledger
from cmedins.runner.recipe import load_recipe
from cmedins.runner.registry import load_plugins
from cmedins.runner.stage import BuildContext
from cmedins.sft.build import _convert, run_recipe
from tests.conftest import ROOT
from tests.support.messy_sources import messy_jsonl

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow


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
    """Small chunks (40 rows: the sample's 174 input rows in 5 chunks over 2 actors) exercise the merging;
    3 KB parts cut the sample's JSON Lines sources into 7-23 ranges each, read by Ray tasks (its quarantined
    rows among them)."""
    on_ray = run_recipe(ROOT / "pipelines" / "sample.yaml", tmp_path / "ray", show_progress=False,
                        executor=RayExecutor(workers=2, chunk_rows=40, part_bytes=3000)).out_dir
    _assert_same_build(sample_build, on_ray)
    assert (on_ray / "quarantine" / "read.jsonl").read_text(encoding="utf-8").count("\n") == 4


def test_sources_read_on_ray_equal_the_serial_read(local_ray, tmp_path):
    """Rows, row numbers, ledger counts, limits and both quarantines (public and private) of a messy JSON
    Lines file (blank lines, bad JSON, several objects on a line, CRLF) cut into ~40 ranges, a Parquet file of
    16 row groups, a CSV and a GB18030 file, read on Ray and serially."""
    messy = messy_jsonl(tmp_path / "messy.jsonl")
    gbk = messy_jsonl(tmp_path / "gbk.jsonl", "gb18030")
    table = pa.table({"query": [f"问题 {n}" if n % 50 else "" for n in range(1000)],
                      "response": [f"答 {n}" for n in range(1000)]})
    pq.write_table(table, tmp_path / "qa.parquet", row_group_size=64)
    (tmp_path / "qa.csv").write_text('query,response\n"多行\n问题",答\n,空问题\n问,答\n', encoding="utf-8")
    recipe = {"name": "read-parity", "seed": 1, "output": "out", "sources": [
        {"name": "messy", "path": str(messy), "format": "chatmed"},
        {"name": "limited", "path": str(messy), "format": "chatmed", "limit": 150},
        {"name": "gbk", "path": str(gbk), "format": "chatmed"},
        {"name": "qa", "path": str(tmp_path / "qa.parquet"), "format": "chatmed"},
        {"name": "csv", "path": str(tmp_path / "qa.csv"), "format": "chatmed"}], "stages": [{"validate": {}}]}
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe, allow_unicode=True), encoding="utf-8")

    def read(folder: str, reader) -> tuple[list[dict], dict, dict, dict[str, bytes]]:
        load_plugins()
        recipe_obj, _, _ = load_recipe(recipe_path)
        ledger = Ledger(tmp_path / folder / "quarantine", tmp_path / folder / "private")
        ctx = BuildContext(seed=1, work_dir=tmp_path / folder / "work", ledger=ledger, recipe_dir=tmp_path)
        figures: dict = {}
        rows = list(read_sources(recipe_obj, ctx, figures, _convert, reader=reader))
        ledger.close()
        files = {str(path.relative_to(tmp_path / folder)): path.read_bytes()
                 for path in sorted((tmp_path / folder).rglob("*")) if path.is_file()}
        return rows, dict(ledger.stages), figures, files

    serial = read("serial", None)
    on_ray = read("ray", RayExecutor(workers=2, part_bytes=1000).read_sources)
    assert on_ray == serial
    rows, counts, figures, files = serial
    assert figures["limited"]["rows_read"] == 150 and figures["qa"]["quarantined"] == 20
    assert figures["messy"]["quarantined"] >= 10 and figures["gbk"]["rows_out"] == figures["messy"]["rows_out"]
    assert counts["read"].rows_in == sum(f["rows_read"] for f in figures.values()) > 1500
    assert {"quarantine/read.jsonl", "private/read.jsonl"} <= set(files)
    assert [row["_row"] for row in rows if row["source"] == "qa"][:3] == [2, 3, 4]  # row 1 is quarantined


def test_a_generated_corpus_on_ray_equals_the_local_build(local_ray, tmp_path):
    """2,000 records (the issue's 20k corpus, scaled down to keep the test short; bench/bench_build.py runs
    the full size): its JSON Lines sources read in 256 KB ranges, the row-local stages in 500-row chunks."""
    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, "-m", "cmedins.cli", "sample", "--out", str(corpus), "--records", "2000",
                    "--dialogues", "400", "--general", "100", "--seed", "3"], check=True, capture_output=True)
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
                        executor=RayExecutor(workers=2, chunk_rows=500, part_bytes=256 << 10))
    assert local.stats["rows"]["input"] >= 2800 and local.stats["dedup"]["rows_in"] > 10000
    assert len(plan_parts(FORMATS["record"], corpus / "records.jsonl", 256 << 10)) > 4
    _assert_same_build(local.out_dir, on_ray.out_dir)


def test_executor_names_are_checked():
    assert make_executor("local") is None
    with pytest.raises(CmedinsError, match="unknown executor 'spark'"):
        make_executor("spark")
    with pytest.raises(CmedinsError, match="--address applies to --executor ray only"):
        make_executor("local", address="10.0.0.1:6379")


@pytest.mark.parametrize("stage_name", ["tasks", "dialogues"])
def test_a_row_local_stage_given_no_rows_reports_on_ray_as_it_does_locally(local_ray, tmp_path, stage_name):
    """Only a stage that gets no rows at all is run once over an empty chunk on Ray: its report and ledger entry
    must still equal a local run's."""
    from cmedins.runner.build import run_stages
    from cmedins.runner.stage import STAGES

    load_plugins()
    outcomes = []
    for folder, executor in (("local", None), ("ray", RayExecutor(workers=1))):
        ledger = Ledger(tmp_path / folder / "quarantine", tmp_path / folder / "private")
        ctx = BuildContext(seed=1, work_dir=tmp_path / folder / "work", ledger=ledger, recipe_dir=tmp_path)
        stage = STAGES[stage_name]({}, ctx)
        rows = (list(run_stages(ledger, iter([]), [(stage_name, stage)])) if executor is None
                else list(executor.run_stage(ledger, stage_name, stage, iter([]), ctx)))
        outcomes.append((rows, ledger.stage(stage_name).rows_in, ledger.stage(stage_name).rows_out,
                         {key: report.model_dump() for key, report in ctx.reports.items()}))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == [] and outcomes[0][3]  # the stage did report, over no rows


def test_an_actor_running_cmedins_stages_de_identifies_without_torch(local_ray, tmp_path):
    # presidio's import pulls in torch and transformers when installed (~2.3 CPU-s and ~0.3 GB per actor); the
    # build's own stages use no model, so an actor running only them marks both absent first.
    from cmedins.deid.stage import DeidStage
    from cmedins.runner.executors.ray_executor import _StageWorker

    actor = ray.remote(num_cpus=1)(_StageWorker).remote([("deid", DeidStage, {})], 0, str(tmp_path))
    try:
        out = actor.run_rows.remote([{"id": "r1", "source": "s", "kind": "record",
                                      "present_illness": "患者王建国，男，45岁，手机13812345678，咳嗽3天。"}])
        result = ray.get(out)
        imported = ray.get(actor.__ray_call__.remote(
            lambda self: [m for m in ("torch", "transformers") if sys.modules.get(m) is not None]))
    finally:
        ray.kill(actor)
    assert imported == []
    assert result["rows"][0]["present_illness"] == "患者<姓名>，男，45岁，手机<电话>，咳嗽3天。"
