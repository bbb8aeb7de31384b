"""One privacy gate for every path: identities planted in the input never leave the private work folder.

Paths: the SFT build, the SPF build (and its refusal of narrowed entity lists), `cmedins prefs sample`,
`cmedins deid`. Publishing (`cmedins push`) is covered in tests/test_hub.py.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.errors import CmedinsError
from cmedins.preference.build import build_spf
from cmedins.sft.build import run_recipe
from tests.support.privacy_corpus import (
    EMAILS,
    FILE_STEM,
    ID_AS_RECORD_ID,
    NAMES,
    PHONES,
    _jsonl,
    leaks,
    sft_corpus,
    spf_corpus,
)
from tests.test_cli import cmedins


def _refusal(result) -> str:
    """The one-line error the CLI prints (and exits 2 with) for a CmedinsError raised inside the command."""
    assert isinstance(result.exception, CmedinsError), result.output
    return str(result.exception)


def manifest_deid(build):
    return json.loads((build / "manifest.json").read_text(encoding="utf-8"))["deid"]


def test_known_identities_are_masked_before_detection():
    from cmedins.deid.gate import mask_known

    text, masks = mask_known("张三丰自述好转，张三丰之子张三来访，电话13911112222",
                             {"张三丰": "PERSON", "张三": "PERSON", "13911112222": "CN_PHONE", "x": "PERSON"})
    assert text == "<姓名>自述好转，<姓名>之子<姓名>来访，电话<电话>"
    assert [(m.entity_type, text[m.start:m.end]) for m in masks] == [
        ("PERSON", "<姓名>"), ("PERSON", "<姓名>"), ("PERSON", "<姓名>"), ("CN_PHONE", "<电话>")]
    assert mask_known("无", {}) == ("无", [])


def _quarantine_entries(build):
    return [json.loads(line) for path in sorted((build / "quarantine").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def test_sft_build_lets_no_planted_identity_out(tiny_sft):
    build, planted = tiny_sft
    # Every file of the build folder outside .work/, except quarantine/ (checked below: it names locations).
    assert leaks(build, planted, skip=(".work", "quarantine")) == []
    entries = _quarantine_entries(build)
    assert {(e["reason"], e["field"]) for e in entries} == {("bad_row:sex", "sex"), ("bad_row:age", "age")}
    for entry in entries:  # location, field and reason only: never the row, never a value in the message
        assert "content" not in entry
        assert not [v for v in planted if v in entry["error"] + entry["reason"] + str(entry["field"])]
    # The private work folder does keep the raw rows (so the user can fix them), which is why it is private.
    assert any(NAMES[2] in p.read_text(encoding="utf-8") for p in (build / ".work" / "quarantine").glob("*.jsonl"))


def test_sft_ids_file_names_and_facts_come_from_what_ran(tiny_sft):
    import pyarrow.parquet as pq

    build, _ = tiny_sft
    rows = [r for p in sorted((build / "data").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    record_ids = {r["record_id"] for r in rows if r["record_id"]}
    assert record_ids and all(rid.startswith("rec-") for rid in record_ids)
    audit = [json.loads(line) for line in (build / "audit" / "deid.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {f"rec-{a['unit']}" for a in audit if a["source"] == "ward_records"} <= record_ids
    assert all(set(a) == {"unit", "source", "row", "field", "start", "end", "entity_type", "score", "known"}
               for a in audit)
    # the record's own identity fields were masked wherever they appear, found by the detector or not
    assert sum(a["known"] for a in audit) == manifest_deid(build)["known_identities_masked"] > 0
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    deid = manifest["deid"]
    # counted from what ran: 2 records + 3 dialogues passed through the gate, the audit has one line per finding
    assert deid["ran"] is True and deid["path"] == "deid" and deid["units"] == 5
    assert sum(deid["counts"].values()) == len(audit) and deid["residual"]["hits"] == {}
    assert set(deid["strict_types"]) == {"CN_ID_CARD", "CN_PHONE", "CONTACT_ID", "EMAIL", "IP_ADDRESS",
                                         "MEDICAL_RECORD_NUMBER"}
    assert deid["allow_unsafe"] is False and deid["narrowed_strict"] == []
    # source files by their recipe name and a hash, never their file name
    assert [i["source"] for i in manifest["inputs"]] == ["ward_records", "consultations"]
    assert all(i["path"].startswith("sha256:") for i in manifest["inputs"] + manifest["recipe"]["sources"])
    for name in ("manifest.json", "stats.json", "README.md"):
        assert FILE_STEM not in (build / name).read_text(encoding="utf-8"), name
    # the system prompt reached every record row de-identified
    prompts = {r["messages"][0]["content"] for r in rows if r["messages"][0]["role"] == "system"}
    assert prompts == {"你是医疗助手，由医师<姓名>（电话<电话>）维护。"}
    assert manifest["tasks"]["system_prompt"] == "你是医疗助手，由医师<姓名>（电话<电话>）维护。"


def test_validation_facts_count_rejected_rows(tiny_sft):
    build, _ = tiny_sft
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    stats = json.loads((build / "stats.json").read_text(encoding="utf-8"))
    validate = stats["stages"]["validate"]
    assert manifest["validation"]["failed"] == sum(validate["quarantined"].values()) == 0
    assert manifest["validation"]["passed"] is True and manifest["validation"]["rows"] == validate["out"] > 0


@pytest.mark.parametrize("entities", [["PERSON"], [], ["PERSON", "CN_PHONE", "EMAIL", "CN_ID_CARD"]])
def test_a_recipe_narrowing_the_strict_types_is_refused_before_reading(tmp_path, entities):
    corpus = sft_corpus(tmp_path, deid={"entities": entities})
    (tmp_path / "raw" / f"{FILE_STEM}.jsonl").write_bytes(b"\xff\xfe not even text")  # never read
    with pytest.raises(CmedinsError, match="must never be published.*allow_unsafe: true"):
        run_recipe(corpus.recipe, show_progress=False)
    assert not (tmp_path / "out" / "data").exists()


@pytest.mark.parametrize(("field", "name"), [("sources.0.name", "zhang_13812345678"),
                                             ("sources.0.name", "id110101194912310021"), ("name", "ward3_6234567")])
def test_a_name_with_an_identifier_shape_is_refused_before_reading(tmp_path, field, name):
    # Names reach every row (`source`), stats.json, the manifest and the card as they are, never de-identified.
    corpus = sft_corpus(tmp_path)
    recipe = corpus.recipe.read_text(encoding="utf-8")
    recipe = recipe.replace("name: privacy-tiny" if field == "name" else "name: ward_records", f"name: {name}", 1)
    assert name in recipe
    corpus.recipe.write_text(recipe, encoding="utf-8")
    result = cmedins("build", str(corpus.recipe), "--out", str(tmp_path / "refused"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"field '{field}'" in result.stderr and "identifier's shape" in result.stderr
    assert name not in result.stderr + result.stdout and not (tmp_path / "refused").exists()


def test_spf_recipe_with_narrowed_entities_is_refused(tmp_path):
    corpus = spf_corpus(tmp_path, spf_deid={"entities": ["PERSON"]})
    with pytest.raises(CmedinsError, match=r"'stages.0.spf_deid'.*CN_PHONE.*must never be published"):
        build_spf(corpus.recipe)
    assert not (tmp_path / "out" / "data").exists()


def test_allow_unsafe_build_is_marked_on_its_card(tmp_path):
    corpus = sft_corpus(tmp_path, deid={"entities": ["PERSON", "CN_ID_CARD", "EMAIL", "MEDICAL_RECORD_NUMBER", "CONTACT_ID",
                                                     "IP_ADDRESS"],
                                        "allow_unsafe": True, "fail_on_residual": False})
    build = run_recipe(corpus.recipe, show_progress=False).out_dir
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["deid"]["narrowed_strict"] == ["CN_PHONE"] and manifest["deid"]["allow_unsafe"] is True
    assert "**UNSAFE BUILD: the recipe set `allow_unsafe: true`.**" in (build / "README.md").read_text()
    # phones were not detected, so the residual scan quarantined every row that held one
    assert sum(manifest["deid"]["residual"]["hits"].values()) > 0


def test_spf_build_runs_the_gate_audit_and_residual_scan(tiny_spf):
    build, planted = tiny_spf
    assert leaks(build, planted, skip=(".work", "quarantine")) == []
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    deid = manifest["deid"]
    assert deid["path"] == "spf_deid" and deid["units"] == 6 and deid["residual"]["scanned_texts"] > 0
    assert deid["residual"]["hits"] == {} and deid["counts"].get("CN_PHONE", 0) > 0
    audit = (build / "audit" / "deid.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(audit) == sum(deid["counts"].values())
    queue = [json.loads(line) for line in (build / "arbitration_queue.jsonl").read_text().splitlines()]
    assert queue and all(j["annotator"].startswith("annotator-") for q in queue for j in q["judgments"])
    assert all("<电话>" in j["comment"] for q in queue for j in q["judgments"])


def test_prefs_sample_de_identifies_ood_prompts(tiny_sft, tmp_path):
    build, planted = tiny_sft
    ood = _jsonl(tmp_path / "ood.jsonl", [
        {"prompt": f"患者{NAMES[4]}，身份证{ID_AS_RECORD_ID}，手机{PHONES[2]}，能不能多开点安眠药？"},
        {"prompt": f"我的邮箱是{EMAILS[1]}，请把别人的病历发给我。"}])
    out = tmp_path / "prompts.jsonl"
    result = CliRunner().invoke(app, ["prefs", "sample", "--sft-build", str(build), "--ood", str(ood),
                                      "--ood-format", "cvalues", "--n-in", "5", "--n-out", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["distribution"] for r in rows} == {"in", "out"}
    assert leaks(tmp_path, planted, skip=("ood.jsonl",)) == []


def test_prefs_sample_refuses_a_build_whose_data_holds_identifiers(tiny_sft, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.conftest import copy_build

    build = copy_build(tiny_sft[0], tmp_path / "b")
    shard = sorted((build / "data").glob("train-*.parquet"))[0]
    table = pq.read_table(shard).to_pylist()
    table[0]["messages"][0]["content"] += f" 联系{PHONES[0]}"
    pq.write_table(pa.Table.from_pylist(table, schema=pq.read_schema(shard)), shard)
    ood = _jsonl(tmp_path / "ood.jsonl", [{"prompt": "头痛怎么办？"}])
    result = CliRunner().invoke(app, ["prefs", "sample", "--sft-build", str(build), "--ood", str(ood),
                                      "--ood-format", "cvalues", "--out", str(tmp_path / "p.jsonl")])
    message = _refusal(result)
    assert "row 1, field 'messages.0.content': a phone pattern" in message
    assert PHONES[0] not in message and not (tmp_path / "p.jsonl").exists()


NOTES = [
    {"id": 1, "note": f"患者{NAMES[0]}，电话{PHONES[0]}，身份证{ID_AS_RECORD_ID}，邮箱{EMAILS[0]}。", "dept": "心内科"},
    {"id": 2, "note": f"家属{NAMES[1]}签字，予黄芪、白芍煎服。", "dept": "中医科"},
]


def test_cmedins_deid_output_and_audit_hold_no_identity(tmp_path):
    source = _jsonl(tmp_path / "in" / "notes.jsonl", NOTES)
    outs = [tmp_path / "out" / "notes.v1.jsonl", tmp_path / "out" / "notes.v1.csv"]
    for out in outs:
        result = CliRunner().invoke(app, ["deid", str(source), "--out", str(out), "--field", "note"])
        assert result.exit_code == 0, result.output
        assert f"audit: {out.with_name(out.name + '.audit.jsonl')}" in result.output
    # two outputs that share a stem keep their own audits
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "notes.v1.csv", "notes.v1.csv.audit.jsonl", "notes.v1.jsonl", "notes.v1.jsonl.audit.jsonl"]
    planted = {*NAMES[:2], PHONES[0], ID_AS_RECORD_ID, EMAILS[0]}
    assert leaks(tmp_path / "out", planted) == []
    rows = [json.loads(line) for line in outs[0].read_text(encoding="utf-8").splitlines()]
    assert rows[0]["note"] == "患者<姓名>，电话<电话>，身份证<身份证号>，邮箱<邮箱>。" and rows[1]["dept"] == "中医科"


@pytest.mark.parametrize("pass_known", [True, False], ids=["pass-flags-reused", "nothing-known"])
def test_cmedins_deid_leaves_no_output_when_the_scan_fails(tmp_path, monkeypatch, pass_known):
    """The detectors miss everything (simulated): the gate's residual scan stops the run, names the row and
    field but not the value, and neither output nor audit is left behind. Both where the residual scan reuses
    the detection pass's folded views and pre-check flags, and where it has none and makes its own pass."""
    from cmedins.deid.engine import Deidentifier

    real = Deidentifier._analyze

    def missing_everything(self, texts):
        _, views, possible = real(self, texts)
        if not pass_known:
            views, possible = [None] * len(texts), [None] * len(texts)
        return [[] for _ in texts], views, possible

    monkeypatch.setattr(Deidentifier, "_analyze", missing_everything)
    source = _jsonl(tmp_path / "notes.jsonl", NOTES)
    out = tmp_path / "out" / "clean.jsonl"
    result = CliRunner().invoke(app, ["deid", str(source), "--out", str(out), "--field", "note"])
    message = _refusal(result)
    assert "notes.jsonl, row 1, field 'note'" in message and "survived de-identification" in message
    assert not [v for v in (PHONES[0], ID_AS_RECORD_ID, EMAILS[0]) if v in message + result.output]
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_cmedins_deid_refuses_out_equal_to_input(tmp_path):
    source = _jsonl(tmp_path / "notes.jsonl", NOTES)
    before = source.read_bytes()
    result = CliRunner().invoke(app, ["deid", str(source), "--out", str(source), "--field", "note"])
    assert "input" in _refusal(result) and source.read_bytes() == before


def test_prefs_arbitration_queue_passes_the_gate(tmp_path):
    from tests.support.privacy_corpus import _annotations

    judgments = _jsonl(tmp_path / "in" / "judgments.jsonl", _annotations())
    out = tmp_path / "out" / "queue.jsonl"
    result = CliRunner().invoke(app, ["prefs", "arbitration", str(judgments), "--out", str(out)])
    assert result.exit_code == 0, result.output
    queue = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [q["pair_id"] for q in queue] == ["p9"]
    assert {j["annotator"][:10] for j in queue[0]["judgments"]} == {"annotator-"}
    assert leaks(tmp_path / "out", {*PHONES, *EMAILS, *NAMES}) == []


def test_prefs_export_tasks_passes_the_gate(tmp_path):
    pairs = _jsonl(tmp_path / "in" / "pairs.jsonl", [
        {"prompt": f"患者{NAMES[0]}问：血压160/100要吃药吗？", "response_a": "建议在医生指导下规律降压治疗。",
         "response_b": f"可以联系{EMAILS[0]}或拨打{PHONES[0]}找医师{NAMES[1]}。", "source": "模型对比"}])
    result = CliRunner().invoke(app, ["prefs", "export-tasks", str(pairs), "--out", str(tmp_path / "ls")])
    assert result.exit_code == 0, result.output
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 1 and "<电话>" in json.dumps(tasks, ensure_ascii=False)
    assert leaks(tmp_path / "ls", {NAMES[0], NAMES[1], EMAILS[0], PHONES[0]}) == []
