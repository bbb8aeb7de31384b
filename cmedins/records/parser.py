"""Free-text medical record -> MedicalRecord fields.

`parse_record_text` splits a record at its section headings (see headings.py) and fills the clinical fields.
Rules, in the order they apply:
- Sections mapping to the same field are joined with a newline. A field fed by two or more different
  headings (入院诊断 + 出院诊断), or by a sub-heading (实验室检查, 婚育史), keeps each part's heading line as
  its label, so `auxiliary_exam` reads "（1）实验室检查\n血常规…".
- Text before the first heading (the preamble) and 一般项目 sections are mined for `姓名：…`-style identity
  fields, sex, age and department, and a title line such as "入院记录" is dropped. What is left of the
  preamble is narrative and goes to the front of `present_illness`; what is left of a 一般项目 section
  (occupation, residence) is not clinical content and is dropped.
- Without a 主诉 section, an admission sentence "主因/因…入院" in the general items gives the chief complaint,
  else a quoted one in the narrative (`主因“上腹痛3个月”来院`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from cmedins.contracts.schema import CLINICAL_FIELDS
from cmedins.records.headings import GENERAL, HEADINGS, Found, find_headings, trie_pattern

# Key-value identity lines of a record header: "姓名：张三  性别：男  年龄：45岁  科室：心内科".
_KEYS = {
    "姓名": "patient_name", "患者姓名": "patient_name", "身份证号": "id_number", "身份证号码": "id_number",
    "联系电话": "phone", "电话": "phone", "手机": "phone", "住址": "address", "地址": "address",
    "现住址": "address", "出生日期": "birth_date", "病案号": "record_number", "住院号": "record_number",
    "门诊号": "record_number", "病历号": "record_number", "入院日期": "admission_date",
    "入院时间": "admission_date", "医院": "hospital", "就诊医院": "hospital", "性别": "sex", "年龄": "age",
    "科室": "department", "科别": "department", "就诊科室": "department", "入院科室": "department",
}
_KEY_NAMES = trie_pattern(list(_KEYS))
# A value runs to the next key, a separator or the line end ("姓名：宋桂兰　性别：女", "住址：长安区 西兆通镇").
_KEY_VALUE = re.compile(
    rf"(?P<key>{_KEY_NAMES})[ \t\u3000]*[:：][ \t\u3000]*"
    rf"(?P<value>[^\n，,；;。]*?)(?=[ \t\u3000]*(?:[\n，,；;。]|$|(?:{_KEY_NAMES})[ \t\u3000]*[:：]))",
    re.MULTILINE,
)
# A title line, maybe after the hospital's name: "石家庄市中心医院  住院病历", "入院记录".
_TITLE = re.compile(r"^\s*(?:(?P<hospital>\S{2,30}?(?:医院|卫生院|保健院|诊所|医学中心))\s*)?\S{0,10}"
                    r"(?:记录|病历|小结|病案|病案首页)\s*$")
_LINE_PADDING = " \t\u3000，,；;"
_SEX = re.compile(r"(?<![妇男女])(男|女)(?=性|孩|童|婴|患|病|[，,、。\s；;]|\d)")
_AGE = re.compile(r"(\d{1,3})\s*(?:岁|周岁)")
_ADMISSION = (
    re.compile(r"(?:主因|因)(?P<complaint>[^。]{2,120}?)(?:于[^。]{0,40}?)?(?:收?入院|来院|就诊|来诊|住院)"),
    # Without 因: "下肢疼痛不适、间歇性跛行7天于2016-12-16 16：00入院".
    re.compile(r"(?:^|[。，,])\s*(?P<complaint>[^。，,]{2,80}?)于\s*\d{4}[^。]{0,30}?入院"),
)
_ADMITTED_AS = re.compile(r"(?:门诊|急诊)?以(?![来上下后前及])")
# A narrative that quotes its chief complaint: 主因“上腹部隐痛不适伴食欲减退三个月”来我院门诊就诊.
_QUOTED_COMPLAINT = re.compile(r"(?:主诉|主因|因)[:：]?\s*[“\"](?P<complaint>[^”\"\n]{2,80})[”\"]")


class _Part(NamedTuple):
    heading: str  # the heading as written, without surrounding whitespace ("（1）实验室检查", "主诉：")
    name: str
    inline: bool  # content starts on the heading's line
    text: str


@dataclass
class _Sections:
    preamble: str = ""
    general: list[str] = field(default_factory=list)
    parts: dict[str, list[_Part]] = field(default_factory=dict)


def _numbering_style(number: str | None) -> str | None:
    if not number:
        return None
    if number[0] in "（(":
        return "parenthesised"
    return "arabic" if number[0].isdigit() else "other"


def _top_level(headings: list[Found]) -> list[Found]:
    """Headings that open a section. A 病史特点 lists its own items as numbered headings ("2.查体：…",
    "3.辅助检查：…"); those stay inside it unless numbered like the 病史特点 heading itself (its siblings)."""
    kept: list[Found] = []
    summary_style: str | None = None
    inside_summary = False
    for heading in headings:
        style = _numbering_style(heading.number)
        if inside_summary and style is not None and style != summary_style and not heading.bracketed:
            continue
        kept.append(heading)
        inside_summary = HEADINGS[heading.name].field == "history_summary"
        summary_style = style
    return kept


_SUMMARIES = frozenset(name for name, heading in HEADINGS.items() if heading.field == "history_summary")


def split_sections(text: str) -> _Sections:
    """Cut `text` at its headings; keep each section's heading as written."""
    sections = _Sections()
    headings = find_headings(text)
    if not headings:
        sections.preamble = text.strip()
        return sections
    if not _SUMMARIES.isdisjoint([heading.name for heading in headings]):  # else every heading opens a section
        headings = _top_level(headings)
    sections.preamble = text[: headings[0].start].strip()
    ends = [heading.start for heading in headings[1:]]
    ends.append(len(text))
    parts = sections.parts
    for heading, end in zip(headings, ends, strict=True):
        body = text[heading.end:end]
        target = HEADINGS[heading.name].field
        if target == GENERAL:
            sections.general.append(body.strip())
            continue
        inline = bool(body) and body[0] != "\n"
        part = _Part(text[heading.start:heading.end].strip(), heading.name, inline, _tidy(body))
        parts.setdefault(target, []).append(part)
    return sections


def _tidy(text: str) -> str:
    # Indentation of wrapped lines is layout, not content.
    text = text.strip()
    if "\n" not in text:  # one line, the usual section: already stripped
        return text
    lines = [line.strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def _join_parts(parts: list[_Part]) -> str | None:
    filled = [part for part in parts if part.text]
    if not filled:
        return None
    labelled = len(filled) > 1 and len({part.name for part in filled}) > 1
    chunks = []
    for part in filled:
        if HEADINGS[part.name].keep_label:  # as written, numbering included: its siblings are in the text
            chunks.append(part.heading + ("" if part.inline else "\n") + part.text)
        elif labelled and part.name != CLINICAL_FIELDS.get(HEADINGS[part.name].field):
            chunks.append(f"{part.name}：{part.text}")  # the field's own heading needs no label
        else:
            chunks.append(part.text)
    return "\n".join(chunks)


def header_fields(text: str) -> tuple[dict, str]:
    """Identity/demographic key-values of a header, and the text without them."""
    found: dict = {}
    if not text:
        return found, ""
    # The text without the key-values: the gaps between the matches (what _KEY_VALUE.sub("", text) returns).
    kept, position = [], 0
    for match in _KEY_VALUE.finditer(text):
        key, value = _KEYS[match.group("key")], match.group("value").strip()
        if value and key not in found:
            found[key] = value
        kept.append(text[position:match.start()])
        position = match.end()
    rest = "".join(kept) + text[position:] if kept else text
    lines = []
    for line in rest.split("\n"):
        line = line.strip(_LINE_PADDING)
        if not line:
            continue
        title = _TITLE.match(line)
        if title and title.group("hospital"):
            found.setdefault("hospital", title.group("hospital"))
        if not title:
            lines.append(line)
    return found, "\n".join(lines)


def demographics(text: str) -> dict:
    """Sex and age from a narrative opening ("病人，男，49岁", "女性，88岁"); only its first 80 characters
    are read, so a relative's sex or age later in the text is not taken for the patient's."""
    head = text[:80]
    found: dict = {}
    if sex := _SEX.search(head):
        found["sex"] = sex.group(1)
    if (age := _AGE.search(head)) and int(age.group(1)) <= 130:
        found["age"] = int(age.group(1))
    return found


def admission_complaint(text: str) -> str | None:
    """The chief complaint of an admission sentence: "主因右髋部摔伤后疼痛5小时于2016-10-29入院"."""
    for pattern in _ADMISSION:
        if match := pattern.search(text):
            # "主因发热2天门诊以疱疹性口腔炎于…收入院": what follows 以 is the admission diagnosis, not the complaint.
            return _ADMITTED_AS.split(match.group("complaint"))[0].strip(" ，,") or None
    return None


def _clean_header(found: dict) -> dict:
    record: dict = {}
    for key, value in found.items():
        if key == "sex":
            sex = _SEX.search(value + "，")
            if sex:
                record["sex"] = sex.group(1)
        elif key == "age":
            age = _AGE.search(value) or re.match(r"\s*(\d{1,3})\s*$", value)
            if age and int(age.group(1)) <= 130:
                record["age"] = int(age.group(1))
        else:
            record[key] = value
    return record


def parse_record_text(text: str) -> dict:
    """Fields of a MedicalRecord (those found; absent fields are left out) from one free-text record."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    sections = split_sections(text)
    record: dict = {}
    for target, parts in sections.parts.items():
        value = _join_parts(parts)
        if value:
            record[target] = value
    found, preamble = header_fields(sections.preamble)
    general_text = "\n".join(sections.general)
    general_found, _ = header_fields(general_text)
    header = _clean_header({**general_found, **found})
    for key, value in header.items():
        record.setdefault(key, value)
    if preamble:
        record["present_illness"] = "\n".join(p for p in (preamble, record.get("present_illness")) if p)
    for source in (general_text, preamble, record.get("present_illness", "")):
        for key, value in demographics(source).items():
            record.setdefault(key, value)
    if "chief_complaint" not in record:
        complaint = admission_complaint(general_text) if general_text else None
        quoted = _QUOTED_COMPLAINT.search(record.get("present_illness", ""))
        complaint = complaint or (quoted.group("complaint").strip() if quoted else None)
        if complaint:
            record["chief_complaint"] = complaint
    return record


__all__ = ["parse_record_text", "split_sections", "header_fields", "demographics", "admission_complaint"]
