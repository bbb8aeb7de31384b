"""Label Studio done properly: a real server on loopback (slow), two annotators with overlap 2 working from their
own labeling streams, export in JSON and JSON-MIN, pairs built with both annotators, the expert's arbitration
project feeding the decisions; and (fast) the recorded export of such a run, JSON-MIN included.

The server comes from its own venv (`make tool-venvs` -> .venvs/labelstudio); without it the live test skips,
except under CI (CMEDINS_REQUIRE_TOOLS=1), where it fails. The recorded exports in tests/data/preference/ were
written by this test against Label Studio 1.23.2 (set CMEDINS_RECORD_STUDIO=1 to record them again).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.errors import CmedinsError
from cmedins.preference.labelstudio import load_tasks, read_export
from cmedins.preference.privacy import annotator_id
from cmedins.preference.studio import arbitration_config, project_settings
from cmedins.rowio.readers import iter_rows
from tests.conftest import ROOT

DATA = Path(__file__).parent / "data" / "preference"
RECORDED = {"JSON": DATA / "label_studio_1.23.2_export.json", "JSON_MIN": DATA / "label_studio_1.23.2_export_min.json"}
TOOLS = Path(os.environ.get("CMEDINS_TOOL_VENVS", ROOT / ".venvs"))
LS_VENV = TOOLS / "labelstudio"
SAMPLE = ROOT / "cmedins" / "sample" / "data" / "annotations.jsonl"
PAIR_IDS = ("spf-001", "spf-002", "spf-007", "spf-009")  # spf-002: the two disagree on safety (B / tie)
DIMS = ("safety", "professionalism", "fluency")


def sample_judgments() -> dict[str, list[dict]]:
    """pair_id -> the embedded sample's two judgments of it (sorted by annotator): the first and second
    Label Studio annotator of the test give these."""
    out: dict[str, dict[str, dict]] = {}
    for _, row in iter_rows(SAMPLE):
        out.setdefault(row["pair_id"], {})[row["annotator"]] = row
    return {pair_id: [group[name] for name in sorted(group)] for pair_id, group in out.items()}


def test_project_settings_give_overlap_and_hide_others_work():
    settings = project_settings(3)
    assert settings["maximum_annotations"] == 3 and settings["overlap_cohort_percentage"] == 100
    assert settings["show_annotation_history"] is False and settings["show_collab_predictions"] is False
    with pytest.raises(CmedinsError):
        project_settings(0)
    assert all(f'name="{d}"' in arbitration_config() for d in ("safety", "professionalism", "fluency"))


def test_recorded_json_and_json_min_exports_give_the_same_judgments():
    rows = {kind: sorted((r["pair_id"], r["annotator"], r["safety"], r["professionalism"], r["fluency"])
                         for _, _, r in read_export(path)) for kind, path in RECORDED.items()}
    assert rows["JSON"] == rows["JSON_MIN"] and len(rows["JSON"]) == 2 * len(PAIR_IDS)
    assert {annotator for _, annotator, *_ in rows["JSON"]} == {"ls-user-2", "ls-user-3"}
    expected = sample_judgments()
    by_user = {"ls-user-2": 0, "ls-user-3": 1}
    for pair_id, user, *labels in rows["JSON"]:
        assert labels == [expected[pair_id][by_user[user]][d] for d in DIMS]


def test_json_min_imports_through_the_cli(tmp_path):
    out = tmp_path / "judgments.jsonl"
    result = CliRunner().invoke(app, ["prefs", "import", str(RECORDED["JSON_MIN"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{2 * len(PAIR_IDS)} judgments" in result.output


def test_an_export_without_annotations_is_refused_loudly(tmp_path):
    empty = tmp_path / "empty.json"
    tasks = [{"id": 1, "data": {"pair_id": "p"}, "annotations": []}]
    empty.write_text(json.dumps(tasks), encoding="utf-8")
    with pytest.raises(CmedinsError, match="no submitted annotation in 1 task"):
        load_tasks(empty)
    csv_like = tmp_path / "rows.json"
    csv_like.write_text(json.dumps([{"safety": "A"}]), encoding="utf-8")
    with pytest.raises(CmedinsError, match="item 1: neither a task"):
        load_tasks(csv_like)


# --- the live server ---

def _annotate_stream(url: str, token: str, project: int, judge) -> list[int]:
    """Work through the annotator's own labeling stream (GET /api/projects/N/next) until it is empty."""
    import httpx
    from label_studio_sdk import LabelStudio

    client, done = LabelStudio(base_url=url, api_key=token), []
    while True:
        response = httpx.get(f"{url}/api/projects/{project}/next", headers={"Authorization": f"Token {token}"})
        if response.status_code == 404:
            return done
        response.raise_for_status()
        task = response.json()
        labels = judge(task["data"])
        result = [{"from_name": d, "to_name": "dialogue", "type": "choices", "value": {"choices": [labels[d]]}}
                  for d in labels]
        client.annotations.create(task["id"], result=result)
        done.append(task["data"]["pair_id"])


@pytest.mark.slow
def test_label_studio_round_trip_with_two_annotators_and_arbitration(tmp_path, monkeypatch):
    if not (LS_VENV / "bin" / "label-studio").exists():
        if os.environ.get("CMEDINS_REQUIRE_TOOLS"):
            pytest.fail(f"{LS_VENV} missing: CI must create it (make tool-venvs)")
        pytest.skip(f"Label Studio venv absent ({LS_VENV}); create it with `make tool-venvs`")
    from label_studio_sdk import LabelStudio

    from tests.support.labelstudio_server import ADMIN_TOKEN, LabelStudioServer

    expected = sample_judgments()
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({k: expected[p][0][k] for k in (
        "pair_id", "prompt", "response_a", "response_b", "distribution", "source")}, ensure_ascii=False) + "\n"
        for p in PAIR_IDS), encoding="utf-8")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ADMIN_TOKEN)
    cli = CliRunner()
    with LabelStudioServer(LS_VENV, tmp_path / "ls") as server:
        assert server.bound_addresses() == [f"127.0.0.1:{server.port}"]
        url = server.url
        result = cli.invoke(app, ["prefs", "studio", "push", str(pairs), "--url", url, "--overlap", "2"])
        assert result.exit_code == 0, result.output
        project = int(result.output.split()[1].rstrip(":"))
        admin = LabelStudio(base_url=url, api_key=ADMIN_TOKEN)
        settings = admin.projects.get(project)
        assert (settings.maximum_annotations, settings.show_annotation_history) == (2, False)
        for name in ("ann01", "ann02"):
            admin.users.create(username=name, email=f"{name}@example.org")
        tokens = server.tokens()
        streams = {}
        for index, name in enumerate(("ann01", "ann02")):
            uid, token = tokens[f"{name}@example.org"]
            streams[name] = _annotate_stream(url, token, project, lambda data, index=index: {
                d: expected[data["pair_id"]][index][d] for d in DIMS})
        # overlap 2: both annotators were handed every task
        assert sorted(streams["ann01"]) == sorted(streams["ann02"]) == sorted(PAIR_IDS)

        exports = {}
        for kind in ("JSON", "JSON_MIN"):
            exports[kind] = tmp_path / f"export_{kind}.json"
            result = cli.invoke(app, ["prefs", "studio", "pull", "--url", url, "--project", str(project), "--out",
                                      str(exports[kind]), "--export-type", kind, "--judgments",
                                      str(tmp_path / f"judgments_{kind}.jsonl")])
            assert result.exit_code == 0, result.output
        if os.environ.get("CMEDINS_RECORD_STUDIO"):
            for kind, path in exports.items():
                RECORDED[kind].write_bytes(path.read_bytes())
        judged = [sorted((r["pair_id"], r["annotator"], r["safety"]) for _, r in iter_rows(
            tmp_path / f"judgments_{kind}.jsonl")) for kind in ("JSON", "JSON_MIN")]
        assert judged[0] == judged[1]
        # Label Studio's user ids pass the privacy gate on import: stable pseudonyms, one per annotator
        annotators = {annotator_id(f"ls-user-{tokens[f'{n}@example.org'][0]}") for n in ("ann01", "ann02")}
        assert {a for _, a, _ in judged[0]} == annotators

        # The SPF build from the export: every pair by both annotators; the disputed one goes to the expert.
        recipe = tmp_path / "spf.yaml"
        recipe.write_text(f"""
name: studio
sources:
  - {{name: studio, format: label_studio, path: {exports['JSON']}}}
stages:
  - spf_deid: {{}}
  - spf_resolve: {{min_annotators: 2, queue: {tmp_path / 'queue.jsonl'}, DECISIONS}}
  - dpo_rows: {{}}
split: {{validation: 0.0}}
""", encoding="utf-8")
        text = recipe.read_text(encoding="utf-8")
        recipe.write_text(text.replace(", DECISIONS", ""), encoding="utf-8")
        result = cli.invoke(app, ["prefs", "build", str(recipe), "--out", str(tmp_path / "build1")])
        assert result.exit_code == 0, result.output
        stats = json.loads((tmp_path / "build1" / "stats.json").read_text(encoding="utf-8"))
        assert stats["preference"]["annotator_count"] == {"2": stats["preference"]["pairs"]}
        queue = [row for _, row in iter_rows(tmp_path / "queue.jsonl")]
        assert [(q["pair_id"], q["disputed"]) for q in queue] == [("spf-002", ["safety"])]
        assert {j["annotator"] for j in queue[0]["judgments"]} == annotators

        # The expert's arbitration project; its export becomes the decisions file.
        result = cli.invoke(app, ["prefs", "studio", "arbitrate", str(tmp_path / "queue.jsonl"), "--url", url])
        assert result.exit_code == 0, result.output
        arbitration = int(result.output.split()[2].rstrip(":"))
        admin.users.create(username="expert", email="expert@example.org")
        uid, token = server.tokens()["expert@example.org"]
        ruled = _annotate_stream(url, token, arbitration, lambda data: {"safety": "B"})
        assert ruled == ["spf-002"]
        decisions = tmp_path / "decisions.jsonl"
        result = cli.invoke(app, ["prefs", "studio", "decisions", "--url", url, "--project", str(arbitration),
                                  "--out", str(decisions)])
        assert result.exit_code == 0, result.output
    assert [row for _, row in iter_rows(decisions)] == [{"pair_id": "spf-002", "arbitrator": f"ls-user-{uid}",
                                                          "safety": "B"}]
    recipe.write_text(text.replace(", DECISIONS", f", decisions: {decisions}"), encoding="utf-8")
    result = cli.invoke(app, ["prefs", "build", str(recipe), "--out", str(tmp_path / "build2")])
    assert result.exit_code == 0, result.output
    rows = [row for _, row in iter_rows(tmp_path / "build2" / "data" / "train-00000-of-00001.parquet")]
    settled = [r for r in rows if r["arbitrated"]]
    assert len(settled) == 1 and settled[0]["deciding_dimension"] == "safety" and settled[0]["annotator_count"] == 2


def test_arbitration_export_is_read_directly_as_decisions(tmp_path):
    # The arbitration project's JSON export, in the shape Label Studio 1.23 writes (see the recorded exports).
    export = [{"id": 7, "data": {"pair_id": "p5", "judgments": "ls-user-2: safety=A", "disputed": "safety"},
               "annotations": [{"id": 9, "completed_by": 4, "was_cancelled": False, "result": [
                   {"from_name": "safety", "to_name": "dialogue", "type": "choices", "value": {"choices": ["A"]}},
                   {"from_name": "comment", "to_name": "dialogue", "type": "textarea",
                    "value": {"text": ["延误就医风险"]}}]}]}]
    path = tmp_path / "arbitration.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    from cmedins.preference.crossannotation import load_decisions

    decisions = load_decisions(path)
    assert {k: v for k, v in decisions["p5"].items() if not k.startswith("_")} == {
        "pair_id": "p5", "arbitrator": "ls-user-4", "safety": "A", "comment": "延误就医风险"}


def test_studio_push_sends_tasks_through_the_privacy_gate(tmp_path, monkeypatch):
    """The tasks leave for the annotators' server: a phone, ID and name in a pair never reach it."""
    import types

    sent: list[dict] = []
    fake = types.SimpleNamespace(projects=types.SimpleNamespace(
        create=lambda **kwargs: types.SimpleNamespace(id=7),
        import_tasks=lambda project_id, request: sent.extend(request)))
    monkeypatch.setattr("cmedins.preference.studio.client", lambda url, key: fake)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({
        "pair_id": "p1", "prompt": "患者王建国，男，56岁，电话13912345678，身份证110105194912310021，咳嗽三天。",
        "response_a": "建议就诊，可拨打010-65123456预约。", "response_b": "多喝水，注意休息。"},
        ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["prefs", "studio", "push", str(pairs), "--url", "http://127.0.0.1:9",
                                      "--api-key", "k"])
    assert result.exit_code == 0, result.output
    text = json.dumps(sent, ensure_ascii=False)
    assert len(sent) == 1 and "咳嗽三天" in text
    for value in ("王建国", "13912345678", "110105194912310021", "65123456"):
        assert value not in text
