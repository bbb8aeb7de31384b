"""Identifiers found by their LABEL (record / inpatient / outpatient numbers, insurance cards, messaging accounts,
passports, dates of birth), written as bilingual records and exports write the label: English labels (MRN: ...,
Hospital No.: ..., DOB: ...) and export frames (JSON, escaped JSON, query strings, Markdown and | rows, [..], XML
tags, CSV, pinyin column names of HIS tables such as zyh 住院号), planted into real clinical paragraphs (CCKS 2017,
CMB-Clin, ChatMed-Consult from ../shared/data): leaks per frame.

    .venv/bin/python bench/bench_deid_labels.py [--per-frame 40] [--seed 7]

A planted value leaks when it is still in the de-identified text (default settings; a date of birth also with
`dates: keep`, under which it must still go). "residual" counts the planted values the residual scan flags in the
planted text before de-identification (its own recall, independent of the detectors), and "res|leak" the leaked
values it flags in the output. "not-as-expected": the frame is not in the output with the type's placeholder in
the value's place. Frames named xb_ were written before any rule for them and are printed as a set of their own.
No value is ever printed.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cmedins.deid.config import DeidConfig  # noqa: E402
from cmedins.deid.engine import Deidentifier  # noqa: E402
from cmedins.deid.residual import residual_hits  # noqa: E402
from tests.support.plant_identities import host_texts, insert_sentence  # noqa: E402

DATA = ROOT.parent / "shared" / "data"

# frame -> (text, kind of value); kinds: mrn (digits), zy (letters + digits), mz, ins, wx, qq, passport, dob, id
FRAMES = {
  # English labels
  "en_mrn": ("MRN: {v}", "mrn"), "en_hospital_no": ("Hospital No.: {v}", "zy"),
  "en_inpatient": ("Inpatient No. {v}", "mrn"), "en_case": ("Case No.: {v}", "zy"),
  "en_patient_id": ("Patient ID: {v}", "zy"), "en_admission": ("Admission No.: {v}", "mrn"),
  "en_outpatient": ("Outpatient No.: {v}", "mz"), "en_record_number": ("Medical Record Number: {v}", "mrn"),
  "en_dob": ("DOB: {v}", "dob"), "en_date_of_birth": ("Date of Birth: {v}", "dob"),
  "en_passport": ("Passport No.: {v}", "passport"), "en_wechat": ("WeChat ID: {v}", "wx"),
  "en_insurance": ("Insurance No.: {v}", "ins"), "en_qq": ("QQ: {v}", "qq"),
  # export frames
  "x_json": ('{{"住院号": "{v}", "性别": "女"}}', "zy"), "x_pinyin_zyh": ('"zyh":"{v}"', "mrn"),
  "x_query": ("住院号={v}&科室=内科", "mrn"), "x_md_table": ("| 住院号 | {v} |", "mrn"),
  "x_square": ("[住院号]{v}", "mrn"), "x_xml_cn": ("<住院号>{v}</住院号>", "mrn"),
  "x_xml_en": ("<MRN>{v}</MRN>", "mrn"), "x_csv": ("住院号,{v},性别,女", "mrn"),
  "x_escaped_json": ('\\"住院号\\":\\"{v}\\"', "mrn"), "x_json_wechat": ('{{"微信": "{v}"}}', "wx"),
  "x_json_dob": ('{{"出生日期": "{v}"}}', "dob"), "x_json_insurance": ('{{"医保卡号": "{v}"}}', "ins"),
  "x_pinyin_mzh": ('"mzh":"{v}"', "mz"), "x_pinyin_blh": ("blh={v}&", "mrn"),
  "x_json_passport": ('{{"护照号": "{v}"}}', "passport"),
  # written before any rule for them, measured first
  "xb_pinyin_bah": ('"bah": "{v}"', "mrn"), "xb_pinyin_jzkh": ("jzkh={v}", "mrn"),
  "xb_pinyin_ybkh": ('"ybkh":"{v}"', "ins"), "xb_pinyin_csrq": ('"csrq":"{v}"', "dob"),
  "xb_pinyin_sfzh": ('"sfzh":"{v}"', "id"), "xb_yaml": ("inpatient_no: {v}", "mrn"),
  "xb_camel": ("PatientId={v}", "zy"), "xb_mrn_hash": ("MRN# {v}", "mrn"), "xb_hosp": ("Hosp. No: {v}", "mrn"),
  "xb_registration": ("Registration No.: {v}", "mrn"), "xb_wechat_plain": ("Wechat: {v}", "wx"),
  "xb_dob_dots": ("D.O.B: {v}", "dob"), "xb_birth_date": ("Birth date: {v}", "dob"),
  "xb_passport_number": ("Passport number: {v}", "passport"), "xb_social_security": ("Social Security No.: {v}", "ins"),
  "xb_tortoise": ("〔住院号〕{v}", "mrn"), "xb_lenticular": ("【病案号】{v}", "mrn"), "xb_fw_pipe": ("住院号｜{v}", "mrn"),
  "xb_json_qq": ('"QQ号":"{v}"', "qq"), "xb_tab": ("住院号\t{v}", "mrn"), "xb_mzh_spaced": ("mzh = {v}", "mz"),
  "xb_tsv_en": ("MRN\t{v}", "mrn"), "xb_dict_en": ("{{'mrn': '{v}'}}", "mrn"),
  "xb_html": ("<td>住院号</td><td>{v}</td>", "mrn"),
}
PLACEHOLDER = {"mrn": "<病案号>", "zy": "<病案号>", "mz": "<病案号>", "ins": "<病案号>", "wx": "<联系账号>",
               "qq": "<联系账号>", "passport": "<护照号>", "dob": "<出生日期>", "id": "<身份证号>"}


def value(rng: random.Random, kind: str) -> str:
    digits = string.digits
    if kind == "mrn":  # 6-10 digits, never a mobile's 1[3-9] start
        return rng.choice("2345678") + "".join(rng.choices(digits, k=rng.randint(5, 9)))
    if kind == "zy":
        return rng.choice(["ZY", "BA", "IP", "P"]) + str(rng.randint(2015, 2025)) + "".join(rng.choices(digits, k=6))
    if kind == "mz":
        return rng.choice(["MZ", "OP", ""]) + str(rng.randint(2015, 2025)) + "".join(rng.choices(digits, k=rng.randint(5, 7)))
    if kind == "ins":
        return rng.choice([rng.choice("ABCDHKMY") + "".join(rng.choices(digits, k=8)),
                           "".join(rng.choices(digits, k=10)), "YB" + "".join(rng.choices(digits, k=12))])
    if kind == "wx":
        return rng.choice(["wxid_" + "".join(rng.choices(string.ascii_lowercase + digits, k=14)),
                           rng.choice(["li", "wang", "zhang", "chen"]) + rng.choice(["_", "", "-"])
                           + rng.choice(["hua", "fang", "wei", "min"]) + str(rng.randint(1970, 2005))])
    if kind == "qq":
        return str(rng.randint(10_000_000, 2_999_999_999))
    if kind == "passport":
        return rng.choice(["E" + "".join(rng.choices(digits, k=8)),
                           "E" + rng.choice("ABCDEFGH") + "".join(rng.choices(digits, k=7)),
                           "".join(rng.choices(digits, k=9)),  # a foreign passport: 9 digits
                           rng.choice("KGP") + "".join(rng.choices(digits, k=8))])
    if kind == "dob":
        y, m, d = rng.randint(1935, 2015), rng.randint(1, 12), rng.randint(1, 28)
        months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}{m:02d}{d:02d}", f"{y}.{m:02d}.{d:02d}",
                           f"{d:02d}/{m:02d}/{y}", f"{months[m - 1]} {d}, {y}", f"{y}年{m}月{d}日"])
    if kind == "id":
        from cmedins.contracts.prc_id import id_check_digit

        body = f"{rng.choice(['110101', '310104', '440305'])}{rng.randint(1950, 2010)}{rng.randint(1, 12):02d}" \
               f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        return body + id_check_digit(body)
    raise ValueError(kind)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-frame", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    hosts = host_texts(DATA)
    rng.shuffle(hosts)
    items = []
    for n, (_source, host) in enumerate(hosts[:args.per_frame * len(FRAMES)]):
        frame = list(FRAMES)[n % len(FRAMES)]
        template, kind = FRAMES[frame]
        v = value(rng, kind)
        planted = template.format(v=v)
        text = insert_sentence(host, planted + "。")
        items.append((frame, text, v, text.index(planted) + planted.index(v)))
    texts = [t for _, t, _, _ in items]
    outs = Deidentifier().deidentify_many(texts, [""] * len(items))
    kept = Deidentifier(DeidConfig(dates="keep")).deidentify_many(texts, [""] * len(items))
    leaks, total, strict, residual, res_leak, keep_leak = (Counter() for _ in range(6))
    for (frame, text, v, at), (out, _), (out_keep, _) in zip(items, outs, kept, strict=True):
        template, kind = FRAMES[frame]
        total[frame] += 1
        leaked = v in out
        leaks[frame] += leaked
        keep_leak[frame] += kind == "dob" and v in out_keep
        strict[frame] += template.format(v=PLACEHOLDER[kind]) not in out
        residual[frame] += any(lo < at + len(v) and at < hi for _, lo, hi in residual_hits(text))
        if leaked:
            pos = out.index(v)
            res_leak[frame] += any(lo < pos + len(v) and pos < hi for _, lo, hi in residual_hits(out))
    print(f"{'frame':24s} leaked  res|leak  residual  keep-dates  not-as-expected")
    for f in FRAMES:
        dob = FRAMES[f][1] == "dob"
        print(f"{f:24s} {leaks[f]:3d}/{total[f]:<4d} {res_leak[f]:3d}/{leaks[f]:<4d} {residual[f]:3d}/{total[f]:<4d} "
              f"{(str(keep_leak[f]) + '/' + str(total[f])) if dob else '-':>9s}  {strict[f]}")
    non_dob = [f for f in FRAMES if FRAMES[f][1] not in ("dob",)]
    for prefix, label in (("en_", "English labels"), ("x_", "export"), ("xb_", "blind")):
        keys = [k for k in FRAMES if k.startswith(prefix)]
        resid = [k for k in keys if k in non_dob]  # the residual scan reads no dates
        print(f"{label}: {sum(leaks[k] for k in keys)} of {sum(total[k] for k in keys)} leaked; "
              f"dates kept: {sum(keep_leak[k] for k in keys)} DOB leaked; "
              f"residual sees {sum(residual[k] for k in resid)} of {sum(total[k] for k in resid)} (non-date); "
              f"not as expected {sum(strict[k] for k in keys)}")
    print("ALL", sum(leaks.values()), "/", sum(total.values()))


if __name__ == "__main__":
    main()
