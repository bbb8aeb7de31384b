"""Chinese names in English frames and labelled names that end a text, planted into real clinical paragraphs
(CCKS 2017, CMB-Clin, ChatMed-Consult from ../shared/data): leaks per frame.

    .venv/bin/python bench/bench_deid_english.py

A planted name leaks when it, or its given name, is still in the de-identified text; "not as expected" counts
the frames whose text is not exactly the frame with <姓名> in the name's place (over-masking shows there too).
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmedins.deid.engine import Deidentifier  # noqa: E402
from tests.support.plant_identities import host_texts, insert_sentence, person  # noqa: E402

DATA = ROOT.parent / "shared" / "data"

FRAMES = {  # (frame, at_end)
  "en_name_colon": "Name: {v}", "en_patient_name_upper": "PATIENT NAME: {v}", "en_pt_name": "Pt name: {v}",
  "en_attending_in_charge": "Physician in charge: {v}", "en_dear": "Dear {v},", "en_from": "From: {v}",
  "en_to": "To: {v}", "en_co": "c/o {v}", "en_assistant": "Surgeon: {v}; Assistant: {v1}",
  "en_next_of_kin": "Next of kin: {v} (wife)", "en_signature_fw": "Signature：{v}", "en_ward_nurse": "Ward nurse {v} reported",
  "en_sentence_patient": "The patient {v} was admitted", "en_seen_by": "seen by Dr. {v} today", "en_mr": "Mr {v}",
  "en_sex_line": "{v}, M, 56", "en_sex_word": "{v} female 45 yrs", "en_hi": "Hi {v}, your results are ready",
  "en_paren": "{v} (patient)", "en_reported": "Reported by：{v}", "en_family": "Family: {v} (son)",
  "end_sign_cn": "医师签名：{v}", "end_recorder_cn": "记录者：{v}", "end_patient_cn": "患者：{v}", "end_name_cn": "姓名：{v}",
}
# Export and markup frames, as HIS exports, JSON, XML (HL7 CDA), tables and forms write a name field.
FRAMES.update({
  "x_json": '{{"姓名": "{v}", "性别": "女"}}', "x_dict_en": "{{'name': '{v}', 'age': 45}}", "x_query": "姓名={v}&性别=女",
  "x_equals": "姓名 = {v}", "x_md_table": "| 姓名 | {v} |", "x_pipe_row": "{v}|女|45岁", "x_square": "[姓名]{v}",
  "x_xml_cn": "<姓名>{v}</姓名>", "x_xml_en": "<name>{v}</name>", "x_label_huanzheming": "患者名：{v}",
  "x_label_luru": "录入：{v}", "x_label_caozuoyuan": "操作员：{v}", "x_label_tanhua": "谈话对象：{v}",
  # written before any rule for them, measured once first
  "xb_pinyin_key": '"hzxm":"{v}"', "xb_yaml": "patient_name: {v}", "xb_dicom": "<PatientName>{v}</PatientName>",
  "xb_camel": "PatientName={v}", "xb_csv": "姓名,{v},性别,女", "xb_json_role": '{{"医生": "{v}"}}',
  "xb_json_contact": '"联系人":"{v}"', "xb_lenticular": "【患者】{v}", "xb_tortoise": "〔姓名〕{v}",
  "xb_fw_pipe": "姓名｜{v}", "xb_json_tight": '"name":"{v}"', "xb_escaped_json": '\\"姓名\\":\\"{v}\\"',
  "xb_arrow": "name => {v}",
})
# Lists, signatures, greetings and informants (probed on a synthetic line first, then planted here).
FRAMES.update({
  "m_space_list": "参加讨论人员：{v} {v1}", "m_en_list": "Attendees: {v}, {v1} and {v2}", "m_double_space": "会诊医师：{v}  {v1}",
  "m_dash_signature": "——{v}\n2023年1月2日", "m_greeting": "{v}你好，你的检查结果出来了", "m_id_paren": "{v}（身份证号略）",
  "m_en_dash_label": "Patient's name - {v}", "m_name_wei": "患者姓名为{v}", "m_informant": "据{v}介绍",
})
AT_END = {k for k in FRAMES if k.startswith("end_")} | {"en_name_colon", "en_signature_fw", "en_mr", "en_reported"}

def main() -> None:
    rng = random.Random(7)
    hosts = host_texts(DATA)
    rng.shuffle(hosts)
    items = []
    for n, (_source, host) in enumerate(hosts[:3000]):
        frame = list(FRAMES)[n % len(FRAMES)]
        v, v1, v2 = person(rng), person(rng), person(rng)
        planted = FRAMES[frame].format(v=v, v1=v1, v2=v2)
        # an end-of-text frame closes the host; the others are a sentence inside it
        text = host.rstrip() + "\n" + planted if frame in AT_END else insert_sentence(host, planted + "。")
        values = [v] + ([v1] if "{v1}" in FRAMES[frame] else []) + ([v2] if "{v2}" in FRAMES[frame] else [])
        items.append((frame, text, values))
    d = Deidentifier()
    outs = d.deidentify_many([t for _, t, _ in items], [""] * len(items))
    leaks, total, strict = Counter(), Counter(), Counter()
    for (frame, _text, values), (out, _) in zip(items, outs, strict=True):
        for v in values:
            total[frame] += 1
            # a leak: the whole value, or its given name (>= 2 chars), still in the output
            leaks[frame] += (v in out) or (len(v) >= 3 and v[1:] in out)
        strict[frame] += FRAMES[frame].format(v="<姓名>", v1="<姓名>", v2="<姓名>") not in out
    for f in FRAMES:  # (leaked, total, not as expected) per frame, then per frame set
        print(f"{f:28s} {leaks[f]:3d} / {total[f]}  not-as-expected {strict[f]}")
    for prefix, label in (("en_", "English"), ("end_", "end of text"), ("x_", "export"), ("xb_", "export, blind"), ("m_", "lists, signatures, greetings")):
        keys = [k for k in FRAMES if k.startswith(prefix)]
        print(f"{label}: {sum(leaks[k] for k in keys)} of {sum(total[k] for k in keys)} leaked")
    print("ALL", sum(leaks.values()), "/", sum(total.values()), "not-as-expected", sum(strict.values()))

if __name__ == "__main__":
    main()
