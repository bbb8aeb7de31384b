"""Typed stage reports (cmedins/runner/report.py): every stage's report on builds the runner made, read back from
the build folder by the same model; chunk reports merged as the Ray executor merges them; strictness."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from cmedins.contracts.reports import ReportMergeError, merge_all
from cmedins.dedup.stage import DecontaminateReport, DedupReport
from cmedins.deid.stage import DeidReport
from cmedins.errors import CmedinsError
from cmedins.preference.stage import AdjacentPairsReport, DpoRowsReport, ResolveShown, SpfDeidReport
from cmedins.publish.card import write_card
from cmedins.runner.build import read_sources, run_stages
from cmedins.runner.ledger import Ledger
from cmedins.runner.recipe import load_recipe
from cmedins.runner.registry import load_plugins
from cmedins.runner.report import ReportError
from cmedins.runner.stage import STAGES, BuildContext
from cmedins.sft.build import _convert
from cmedins.sft.stage import DialoguesReport, ValidateReport
from cmedins.tasks.stage import TasksReport
from tests.conftest import ROOT, copy_build


def _read(build):
    return (json.loads((build / "stats.json").read_text(encoding="utf-8")),
            json.loads((build / "manifest.json").read_text(encoding="utf-8")))


def _reports(build) -> dict:
    """Every stage's report as the build folder holds it, read by the stage's own model."""
    load_plugins()
    stats, manifest = _read(build)
    return {key: STAGES[key.partition("#")[0]].Report.from_build(key, stats, manifest)
            for key in stats["stages"] if key not in ("read", "mix")}


def test_every_sft_stage_reports_what_the_ledger_counted(sample_build):
    stats, manifest = _read(sample_build)
    ledger = stats["stages"]
    reports = _reports(sample_build)
    assert {key: type(report) for key, report in reports.items()} == {
        "deid": DeidReport, "tasks": TasksReport, "dialogues": DialoguesReport, "dedup": DedupReport,
        "decontaminate": DecontaminateReport, "validate": ValidateReport}
    deid = reports["deid"]
    assert deid.facts.rows == ledger["deid"]["out"] == sum(deid.rows.values())
    assert deid.facts.path == "deid" and deid.facts.residual.scanned_texts == deid.facts.texts > 0
    assert manifest["deid"] == deid.facts.model_dump(mode="json")
    tasks = reports["tasks"]
    assert tasks.records == deid.rows["record"]
    assert sum(tasks.rows.values()) == ledger["tasks"]["out"] - deid.rows["conversation"]
    assert sum(tasks.too_long.values()) == sum(n for reason, n in ledger["tasks"]["dropped"].items()
                                               if reason.startswith("too_long:"))
    assert manifest["tasks"] == tasks.facts.model_dump(mode="json") and tasks.facts.templates == "packaged"
    assert sum(reports["dialogues"].tasks.values()) == deid.rows["conversation"]
    dedup = reports["dedup"]
    assert (dedup.rows_in, dedup.rows_kept) == (ledger["dedup"]["in"], ledger["dedup"]["out"])
    assert (dedup.exact, dedup.near) == (ledger["dedup"]["dropped"].get("duplicate_exact", 0),
                                         ledger["dedup"]["dropped"].get("duplicate_near", 0))
    decontaminate = reports["decontaminate"]
    assert decontaminate.rows_checked == ledger["decontaminate"]["in"]
    assert {f"contaminated:{name}": n for name, n in decontaminate.dropped.items()} == ledger["decontaminate"]["dropped"]
    assert reports["validate"].rows == ledger["validate"]["out"] == manifest["validation"]["rows"]


def test_every_spf_stage_reports_what_the_ledger_counted(spf_sample_build):
    stats, manifest = _read(spf_sample_build)
    ledger = stats["stages"]
    reports = _reports(spf_sample_build)
    assert {key: type(report) for key, report in reports.items()} == {
        "spf_deid": SpfDeidReport, "spf_resolve": ResolveShown, "adjacent_pairs": AdjacentPairsReport,
        "dpo_rows": DpoRowsReport}
    deid = reports["spf_deid"]
    assert deid.facts.path == "spf_deid" and sum(deid.rows.values()) == ledger["spf_deid"]["out"] == deid.facts.rows
    resolve = reports["spf_resolve"]
    assert resolve.arbitration.applied > 0 and resolve.arbitration.arbitrate_on == "any"
    assert sum(resolve.outcomes.values()) == resolve.agreement["pairs"]
    assert reports["dpo_rows"].rows == ledger["dpo_rows"]["out"] == stats["preference"]["pairs"]


def _stage_reports(rows: list[dict], tmp_path, name: str) -> dict:
    """The deid -> tasks -> dialogues chain over `rows`, through the runner's own `run_stages` (as each Ray
    actor runs a chunk): every stage's report."""
    ledger = Ledger(tmp_path / name / "q", tmp_path / name / "p")
    ctx = BuildContext(seed=42, work_dir=tmp_path / name / ".work", ledger=ledger, recipe_dir=ROOT / "pipelines")
    ctx.work_dir.mkdir(parents=True)
    stages = [(key, STAGES[key](params, ctx)) for key, params in
              (("deid", {"dates": "year"}), ("tasks", {}), ("dialogues", {}))]
    list(run_stages(ledger, iter(rows), stages))
    ledger.close()
    return ctx.reports


@pytest.fixture(scope="module")
def sample_rows(tmp_path_factory) -> list[dict]:
    """The embedded sample's source rows, read and converted by the runner."""
    load_plugins()
    recipe, _, _ = load_recipe(ROOT / "pipelines" / "sample.yaml")
    folder = tmp_path_factory.mktemp("read")
    ctx = BuildContext(seed=42, work_dir=folder / ".work", ledger=Ledger(folder / "q", folder / "p"),
                       recipe_dir=ROOT / "pipelines")
    return list(read_sources(recipe, ctx, {}, _convert))


def test_two_chunk_reports_merge_into_the_report_of_one_run(sample_rows, tmp_path):
    whole = _stage_reports(sample_rows, tmp_path, "whole")
    # Every other row: both chunks hold records and conversations (the sample lists records first).
    first, second = (_stage_reports(sample_rows[::2], tmp_path, "first"),
                     _stage_reports(sample_rows[1::2], tmp_path, "second"))
    assert set(whole) == set(first) == set(second) == {"deid", "tasks", "dialogues"}
    for key in whole:
        assert first[key] != whole[key]  # each chunk saw part of the rows
        assert first[key].merge(second[key]) == whole[key], key
        assert merge_all([first[key], second[key]]) == whole[key]
    assert whole["deid"].facts.counts["PERSON"] == (first["deid"].facts.counts["PERSON"]
                                                    + second["deid"].facts.counts["PERSON"]) > 0


def test_reports_with_different_settings_do_not_merge(sample_rows, tmp_path):
    reports = _stage_reports(sample_rows[:20], tmp_path, "a")
    deid = reports["deid"]
    other = deid.model_copy(update={"facts": deid.facts.model_copy(update={"allow_unsafe": True})})
    with pytest.raises(ReportMergeError, match=r"DeidFacts\.allow_unsafe: the two reports hold different settings"):
        deid.merge(other)
    tasks = reports["tasks"]
    narrowed = tasks.model_copy(update={"facts": tasks.facts.model_copy(update={"max_query_chars": 10})})
    with pytest.raises(ReportMergeError, match="max_query_chars"):
        tasks.merge(narrowed)
    with pytest.raises(ReportMergeError, match="cannot merge"):
        deid.merge(tasks)


def test_a_report_is_strict(sample_rows, tmp_path):
    tasks = _stage_reports(sample_rows[:20], tmp_path, "b")["tasks"]
    figures = tasks.model_dump()
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        TasksReport.model_validate({**figures, "colour": "red"})
    with pytest.raises(ValidationError, match="valid integer"):
        TasksReport.model_validate({**figures, "records": "80"})  # never coerced
    stage = STAGES["tasks"]({}, BuildContext(seed=1, work_dir=tmp_path, ledger=Ledger(tmp_path, tmp_path)))
    with pytest.raises(TypeError, match="not its TasksReport"):
        stage.report(DialoguesReport(tasks={}, trimmed_turns={}))


def test_a_tampered_section_is_named_by_file_and_field(sample_build):
    stats, manifest = _read(sample_build)
    load_plugins()

    def refused(key, stats, manifest) -> str:
        with pytest.raises(ReportError) as caught:
            STAGES[key.partition("#")[0]].Report.from_build(key, stats, manifest)
        return str(caught.value)

    assert refused("tasks", {**stats, "templating": {**stats["templating"], "records": "80"}}, manifest).startswith(
        "stats.json: field 'templating.records': Input should be a valid integer")
    counts = {**stats["deid"]["counts"], "PERSON": 0}
    assert refused("deid", {**stats, "deid": {**stats["deid"], "counts": counts}}, manifest).startswith(
        "stats.json: field 'deid.counts.PERSON' disagrees with the stage's facts in manifest.json")
    residual = {k: v for k, v in manifest["deid"]["residual"].items() if k != "hits"}
    assert refused("deid", stats, {**manifest, "deid": {**manifest["deid"], "residual": residual}}).startswith(
        "manifest.json: field 'deid.residual.hits': Field required")
    assert refused("dialogues", {k: v for k, v in stats.items() if k != "trimmed_turns"}, manifest).startswith(
        "stats.json: field 'trimmed_turns' is missing")
    assert refused("dedup", {k: v for k, v in stats.items() if k != "dedup"}, manifest).startswith(
        "stats.json: field 'dedup' is missing")


def test_the_card_reads_the_privacy_facts_by_their_model(sample_build, tmp_path):
    build = copy_build(sample_build, tmp_path / "build")
    _, manifest = _read(build)
    facts = manifest["deid"]
    card = (build / "README.md").read_text(encoding="utf-8")
    assert f"{facts['residual']['scanned_texts']:,} texts scanned, 0 hits" in card
    assert f"Entities replaced, by type ({sum(facts['counts'].values()):,} in all)" in card
    facts["residual"]["scanned_texts"] = "many"
    (build / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CmedinsError) as caught:
        write_card(build)
    assert str(caught.value) == (f"{build / 'manifest.json'}: field 'deid.residual.scanned_texts': Input should be a "
                                 "valid integer")
