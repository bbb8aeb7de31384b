"""De-identification of Chinese clinical text: recall per entity type on synthetic notes with planted identities,
survival of medical terms, operators, the `deid` stage, and real record-like texts from ../shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cmedins.deid.stage  # noqa: F401  (registers the stage)
from cmedins.contracts.prc_id import id_check_digit
from cmedins.contracts.schema import IDENTITY_FIELDS
from cmedins.deid.config import DeidConfig
from cmedins.deid.recognizers import luhn_ok
from cmedins.errors import CmedinsError
from cmedins.runner.ledger import Ledger
from cmedins.runner.stage import STAGES, BuildContext
from tests.support.synthetic_notes import MEDICAL_TERMS, NoteFactory, recall_by_type, terms_kept


def masked(deid_engine, text: str) -> str:
    return deid_engine.deidentify(text)[0]


# --- recall and precision on synthetic notes ----------------------------------------------------------------
def test_recall_per_entity_type_and_medical_terms_kept(deid_engine):
    factory = NoteFactory(seed=11)
    notes = [factory.make() for _ in range(300)]
    results = deid_engine.deidentify_many([n.text for n in notes], [str(i) for i in range(len(notes))])
    recall = recall_by_type(notes, [findings for _, findings in results])
    for entity in ("CN_ID_CARD", "CN_PHONE", "EMAIL", "MEDICAL_RECORD_NUMBER", "BANK_CARD", "DATE_OF_BIRTH"):
        hit, total = recall[entity]
        assert total > 20 and hit == total, (entity, hit, total)
    hit, total = recall["PERSON"]
    assert hit / total >= 0.98, recall["PERSON"]
    for entity in ("CN_ADDRESS", "INSTITUTION", "DATE_TIME", "AGE_OVER_89", "PASSPORT", "LICENSE_PLATE"):
        hit, total = recall[entity]
        assert hit / total >= 0.97, (entity, hit, total)
    kept, planted = terms_kept(notes, [text for text, _ in results])
    assert kept == planted


@pytest.mark.parametrize("term", [*MEDICAL_TERMS, "帕金森病", "霍奇金淋巴瘤", "桥本甲状腺炎"])
def test_medical_terms_starting_with_a_surname_survive(deid_engine, term):
    text = f"患者3天前出现{term}，查体：BP 150/95mmHg，予{term}治疗，ICD-10 I10，阿司匹林100mg qd。"
    assert masked(deid_engine, text) == text


def test_clinical_numbers_and_relative_times_survive(deid_engine):
    text = ("3天前出现发热，体温39.2℃，1周前外院诊断高血压，WBC 12.5×10^9/L，Hb 98g/L，BP 150/93mmHg，"
            "P 101次/分，血糖7.8mmol/L，予甘露醇125ml q8h，ICD-10编码I10、G20.x00，术后第3天，病程2年余。")
    assert masked(deid_engine, text) == text


# --- single identifiers: exact expected output ------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("患者王建国，男，65岁。", "患者<姓名>，男，65岁。"),
    ("家属张某某代诉病史。", "家属<姓名>代诉病史。"),
    ("杨XX，女，63岁，因头痛入院。", "<姓名>，女，63岁，因头痛入院。"),
    ("主治医师：李娜  日期：2016-10-29", "主治医师：<姓名>  日期：<日期>"),
    ("身份证号110101199003071234。", "身份证号<身份证号>。"),
    ("手机138-1234-5678，座机(010)87654321，+86 139 1234 5678。", "手机<电话>，座机<电话>，<电话>。"),
    ("邮箱zhang.san@163.com。", "邮箱<邮箱>。"),
    ("住院号：ZY20161029，医保卡号 3301234567。", "住院号：<病案号>，医保卡号 <病案号>。"),
    ("出生日期：1950年3月5日，现年95岁。", "出生日期：<出生日期>，现年≥90岁。"),
    ("双滦区应营子村人，于2016年10月29日入院。", "<地址>人，于<日期>入院。"),
    ("曾于承德市中心医院行手术。", "曾于<机构>行手术。"),
    ("车牌京A12345，护照E12345678。", "车牌<车牌号>，护照<护照号>。"),
])
def test_identifiers_become_placeholders(deid_engine, text, expected):
    assert masked(deid_engine, text) == expected


def test_id_check_digit_and_wrong_check_digit_scores():
    assert id_check_digit("11010519491231002") == "X"  # the GB 11643 worked example
    assert luhn_ok("4539578763621486") and not luhn_ok("4539578763621487")


def test_id_with_wrong_check_digit_is_masked_at_lower_score(deid_engine):
    good = "11010519491231002X"
    bad = "110105194912310021"
    (f_good,), (f_bad,) = deid_engine.analyze_many([f"证件{good}", f"证件{bad}"])
    assert (f_good.entity_type, f_good.score) == ("CN_ID_CARD", 1.0)
    assert f_bad.entity_type == "CN_ID_CARD" and 0.5 <= f_bad.score < 1.0


def test_batched_analysis_equals_one_by_one(deid_engine):
    texts = [NoteFactory(seed=3).make().text for _ in range(5)] + ["", "患者李四", "2016年"]
    assert deid_engine.analyze_many(texts) == [deid_engine.analyze(t) for t in texts]


# --- operators ----------------------------------------------------------------------------------------------
def test_pseudonyms_are_consistent_within_a_scope_and_differ_across_scopes():
    from cmedins.deid.engine import Deidentifier

    pseudo = Deidentifier(DeidConfig(operator="pseudonym", dates="year"))
    (a1, a2), (b1,) = pseudo.deidentify_units([
        ("r1", ["患者王建国，电话13812345678，2016年10月29日入院。", "家属李娜签字，患者王建国出院。"]),
        ("r2", ["患者王建国入院。"]),
    ])
    name = a1.text[2:a1.text.index("，")]
    assert name != "王建国" and a2.text.endswith(f"患者{name}出院。") and "2016年入院" in a1.text
    assert "13812345678" not in a1.text and a1.residual == []  # surrogate phones are not residual hits
    assert b1.text != f"患者{name}入院。"
    again = pseudo.deidentify_units([("r1", ["患者王建国，电话13812345678，2016年10月29日入院。"])])[0][0]
    assert again.text == a1.text  # deterministic across runs


def test_dates_keep_leaves_dates_but_not_birth_dates():
    from cmedins.deid.engine import Deidentifier

    keep = Deidentifier(DeidConfig(dates="keep"))
    assert keep.deidentify("出生日期：1950-03-05，于2016-10-29入院。")[0] == "出生日期：<出生日期>，于2016-10-29入院。"


# --- the stage ----------------------------------------------------------------------------------------------
def make_ctx(tmp_path: Path) -> BuildContext:
    work = tmp_path / "build" / ".work"
    return BuildContext(seed=0, work_dir=work, ledger=Ledger(tmp_path / "build" / "quarantine", work / "private"))


def test_stage_deidentifies_records_and_conversations(tmp_path):
    ctx = make_ctx(tmp_path)
    stage = STAGES["deid"]({"operator": "placeholder", "dates": "year"}, ctx)
    record = {"kind": "record", "record_id": "r1", "source": "s", "age": 95, "_file": "a.jsonl", "_row": 1,
              "chief_complaint": "咳嗽3天", "present_illness": "患者王建国于2016年10月29日入院，电话13812345678。",
              "patient_name": "王建国", "id_number": "110101195001011234", "phone": "13812345678", "hospital": None}
    conversation = {"kind": "conversation", "id": "c1", "source": "s", "category": "dialogue", "_file": "b", "_row": 2,
                    "messages": [{"role": "user", "content": "我叫李娜，手机13912345678，头痛怎么办"},
                                 {"role": "assistant", "content": "建议测量血压，必要时服用阿司匹林。"}]}
    sft = {"kind": "sft", "id": "x"}
    bad = {"kind": "record", "record_id": "r2", "source": "s", "present_illness": 12, "_file": "a.jsonl", "_row": 3}
    out = list(stage.run(iter([record, conversation, sft, bad])))
    assert [row.get("id") for row in out] == [None, "c1", "x"]
    assert out[0]["record_id"].startswith("rec-") and "r1" not in out[0]["record_id"]  # never the source's id
    rec = out[0]
    assert rec["present_illness"] == "患者<姓名>于2016年入院，电话<电话>。" and rec["chief_complaint"] == "咳嗽3天"
    assert all(rec[name] is None for name in IDENTITY_FIELDS) and rec["age"] == 90
    assert rec["_file"] == "a.jsonl" and rec["_row"] == 1
    assert out[1]["messages"][0]["content"] == "我叫<姓名>，手机<电话>，头痛怎么办"
    assert out[1]["messages"][1] == conversation["messages"][1] and out[2] is sft
    report = ctx.reports["deid"]
    stats = report.stats_sections("deid")["deid"]  # as stats.json shows it
    assert stats["counts"] == {"CN_PHONE": 2, "DATE_TIME": 1, "PERSON": 2}
    assert report.identity_fields_cleared == {"id_number": 1, "patient_name": 1, "phone": 1}
    assert report.ages_capped == 1 and report.rows == {"conversation": 1, "passed_through": 1, "record": 1}
    facts = report.facts  # manifest.json `deid`
    assert facts.ran is True and facts.config == stats["config"] and facts.counts == stats["counts"]
    assert facts.units == 2 and facts.texts == 4 and facts.residual.hits == {} and facts.rows == 3
    assert ctx.ledger.stage("deid").quarantined == {"unprocessable_text": 1}
    ctx.ledger.close()
    public = (tmp_path / "build" / "quarantine" / "deid.jsonl").read_text(encoding="utf-8")
    assert "content" not in json.loads(public)  # private: the raw row stays in the work folder
    audit = [json.loads(line) for line in (tmp_path / "build" / "audit" / "deid.jsonl").read_text().splitlines()]
    assert {(a["row"], a["field"], a["entity_type"]) for a in audit} >= {
        (1, "present_illness", "PERSON"), (2, "messages[0].content", "CN_PHONE")}
    assert {a["unit"] for a in audit if a["row"] == 1} == {out[0]["record_id"][len("rec-"):]}
    assert "王建国" not in json.dumps(audit, ensure_ascii=False) and "13812345678" not in json.dumps(audit)


def test_stage_residual_scan_fails_the_build(tmp_path):
    ctx = make_ctx(tmp_path)
    # phones not detected (an explicitly unsafe recipe): the scan must catch them
    stage = STAGES["deid"]({"entities": ["PERSON"], "allow_unsafe": True}, ctx)
    row = {"kind": "conversation", "id": "c", "_file": "f.jsonl", "_row": 7,
           "messages": [{"role": "user", "content": "电话13812345678"}, {"role": "assistant", "content": "好"}]}
    with pytest.raises(CmedinsError, match=r"phone.*f\.jsonl, row 7, field 'messages\[0\]\.content'"):
        list(stage.run(iter([row])))
    quiet = STAGES["deid"]({"entities": ["PERSON"], "allow_unsafe": True, "fail_on_residual": False}, make_ctx(tmp_path / "q"))
    assert list(quiet.run(iter([row]))) == []
    assert quiet.ctx.ledger.stage("deid").quarantined == {"residual_identifier": 1}


def test_stage_rejects_bad_params(tmp_path):
    with pytest.raises(CmedinsError, match="operator: Input should be"):
        STAGES["deid"]({"operator": "hash"}, make_ctx(tmp_path))
    with pytest.raises(CmedinsError, match="unknown entity types"):
        STAGES["deid"]({"entities": ["SSN"]}, make_ctx(tmp_path))


# --- real record-like texts ---------------------------------------------------------------------------------
def real_texts(shared_data: Path) -> list[str]:
    texts = []
    for path in sorted((shared_data / "ccks2017_emr" / "data_origin").glob("*/*-1?.txtoriginal.txt")):
        texts.append(path.read_text(encoding="utf-8"))
    cases = json.loads((shared_data / "cmb" / "CMB-test-qa.json").read_text(encoding="utf-8"))
    texts += [case["description"] for case in cases[:20]]
    rows = json.loads((shared_data / "huatuo26m_test_zhongjing" / "huatuo26M_test.json").read_text(encoding="utf-8"))
    texts += [row["output"][0] for row in rows[:100]]
    return texts


def test_real_clinical_texts_go_through(deid_engine, shared_data):
    texts = real_texts(shared_data)
    results = deid_engine.deidentify_many(texts, [str(i) for i in range(len(texts))])
    assert len(results) == len(texts) > 150
    everything = "".join(text for text, _ in results)
    # Dates of admission in CCKS are masked; clinical content stays.
    assert "2016-10-29" not in everything and "<日期>" in everything
    for term in ("高血压", "BP", "mmHg", "白细胞", "阿莫西林"):
        assert everything.count(term) == "".join(texts).count(term), term
    found = sum(len(findings) for _, findings in results)
    chars = sum(len(t) for t in texts)
    assert found / chars < 0.01  # masking stays rare in clinical prose (about 1 finding per 300 chars)


def test_residual_scan_flags_addresses_but_not_pinned_package_versions():
    from cmedins.deid.residual import residual_hits

    code = '<script src="https://cdn.jsdelivr.net/npm/web3@1.3.0/dist/web3.min.js"></script>'
    assert residual_hits(code) == []
    assert [kind for kind, _, _ in residual_hits("联系邮箱 zhang.wei@hospital.com.cn 或 li@yy.org1")] == ["email", "email"]
