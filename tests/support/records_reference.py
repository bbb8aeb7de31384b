"""The free-text record parser and the record adapters as they were before issue 15's speed-up (main at
f621629): the reference the package's parser must equal, parse for parse and row for row.

A verbatim copy of cmedins/records/headings.py (heading table, HEADING_PATTERN, is_heading) and parser.py, and of
formats.py's `_text`, `structured_record` and `text_record` (with this module's parser), unregistered. The tests
(tests/test_records_reference.py) and bench/bench_records.py compare the package with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cmedins.contracts.schema import CLINICAL_FIELDS, IDENTITY_FIELDS, MedicalRecord
from cmedins.errors import RowError
from cmedins.rowio.readers import clean_text

GENERAL = "_general"  # 一般项目: mined for sex, age, identity and chief complaint, not a clinical section


@dataclass(frozen=True)
class Heading:
    field: str
    keep_label: bool = False  # a sub-heading: its label stays in the merged text


def _headings(field: str, *names: str, keep_label: bool = False) -> dict[str, Heading]:
    return {name: Heading(field, keep_label) for name in names}


HEADINGS: dict[str, Heading] = {
    # 一般项目 and group headings over several sections ("病史及体检" above 既往史…体格检查).
    **_headings(GENERAL, "一般项目", "一般资料", "基本信息", "患者信息", "病史及体检", "病史及体格检查"),
    **_headings("chief_complaint", "主诉"),
    # CMB-Clin puts the narrative under 现病史 as "（1）病史摘要": the same field.
    **_headings("present_illness", "现病史", "病史摘要", "简要病史"),
    **_headings("past_history", "既往史", "既往病史", "既往史、个人史及家族史", "既往史、个人史、家族史",
                "既往史、家族史、个人史", "既往史及个人史", "既往史、个人史", "既往及家族史", "既往史及家族史"),
    **_headings("past_history", "过敏史", "药物过敏史", keep_label=True),
    **_headings("personal_history", "个人史"),
    **_headings("personal_history", "婚育史", "月经史", "月经婚育史", "婚姻史", "生育史", keep_label=True),
    **_headings("family_history", "家族史"),
    **_headings("physical_exam", "体格检查", "查体", "入院查体", "体检", "入院体检", "入院时查体"),
    **_headings("specialist_exam", "专科检查", "专科情况", "专科体检", "专科查体"),
    **_headings("auxiliary_exam", "辅助检查", "入院前辅助检查", "检查结果", "辅助资料"),
    **_headings("auxiliary_exam", "实验室检查", "影像学检查", "化验检查", "检验结果", "特殊检查", keep_label=True),
    **_headings("history_summary", "病史特点", "病例特点", "病史小结"),
    **_headings("diagnosis", "诊断", "初步诊断", "入院诊断", "出院诊断", "临床诊断", "门诊诊断", "最后诊断",
                "修正诊断", "诊断依据", "鉴别诊断"),
    **_headings("treatment", "诊疗经过", "治疗经过", "治疗", "住院经过", "诊治经过", "治疗方案", "治疗计划",
                "诊疗计划", "治疗方式", "处理"),
    **_headings("discharge_status", "出院情况", "出院时情况", "出院状况"),
    **_headings("discharge_advice", "出院医嘱", "出院建议", "出院指导", "医嘱"),
}

_SPACE = r"[ \t\u3000]"
# Numbering before a heading: 一、 / 1. / 1、 / 3， / (2) / （二） / ①.
_NUMBER = r"(?:[一二三四五六七八九十]+[、.．]|\d{1,2}" + _SPACE + r"*[、.．)），,]?|[（(]" + _SPACE + \
    r"*[\d一二三四五六七八九十]{1,2}" + _SPACE + r"*[)）]|[①-⑳])"


def _name_pattern(name: str) -> str:
    # "主 诉" and "主　诉": spaced-out headings are common in printed records.
    return (_SPACE + "*").join(re.escape(char) for char in name)


_NAMES = "|".join(_name_pattern(name) for name in sorted(HEADINGS, key=len, reverse=True))
HEADING_PATTERN = re.compile(
    rf"(?:^|(?<=[。；;，,]))(?P<indent>{_SPACE}*)(?P<number>{_NUMBER})?{_SPACE}*"
    rf"(?:【(?P<bracketed>{_NAMES})】|\[(?P<squared>{_NAMES})\]|(?P<plain>{_NAMES})(?={_SPACE}*(?:[:：]|$)|{_SPACE}+\S))"
    rf"{_SPACE}*(?P<colon>[:：])?{_SPACE}*",
    re.MULTILINE,
)


def heading_name(match: re.Match) -> str:
    raw = match.group("bracketed") or match.group("squared") or match.group("plain")
    return re.sub(_SPACE, "", raw)


def is_heading(match: re.Match, text: str) -> bool:
    """A match at a line start is a heading (a bare name followed by text on its line only when numbered);
    mid-paragraph (after 。；，) only when numbered and followed by
    a colon, as in `…未排大便。4.查体：`, so that prose such as `，治疗：` is not split."""
    start = match.start()
    numbered, colon = bool(match.group("number")), bool(match.group("colon"))
    ends_line = match.end() == len(text) or text[match.end() - 1] == "\n" or text[match.end()] == "\n"
    if match.group("plain") and not colon and not ends_line and not numbered:
        return False  # "主诉 发热" is a heading only when numbered: "(2)主诉 发热3天"
    at_line_start = start == 0 or text[start - 1] == "\n"
    return at_line_start or (numbered and colon)


# Key-value identity lines of a record header: "姓名：张三  性别：男  年龄：45岁  科室：心内科".
_KEYS = {
    "姓名": "patient_name", "患者姓名": "patient_name", "身份证号": "id_number", "身份证号码": "id_number",
    "联系电话": "phone", "电话": "phone", "手机": "phone", "住址": "address", "地址": "address",
    "现住址": "address", "出生日期": "birth_date", "病案号": "record_number", "住院号": "record_number",
    "门诊号": "record_number", "病历号": "record_number", "入院日期": "admission_date",
    "入院时间": "admission_date", "医院": "hospital", "就诊医院": "hospital", "性别": "sex", "年龄": "age",
    "科室": "department", "科别": "department", "就诊科室": "department", "入院科室": "department",
}
_KEY_NAMES = "|".join(sorted(_KEYS, key=len, reverse=True))
# A value runs to the next key, a separator or the line end ("姓名：宋桂兰　性别：女", "住址：长安区 西兆通镇").
_KEY_VALUE = re.compile(
    rf"(?P<key>{_KEY_NAMES})[ \t\u3000]*[:：][ \t\u3000]*"
    rf"(?P<value>[^\n，,；;。]*?)(?=[ \t\u3000]*(?:{_KEY_NAMES})[ \t\u3000]*[:：]|[ \t\u3000]*[\n，,；;。]|[ \t\u3000]*$)",
    re.MULTILINE,
)
# A title line, maybe after the hospital's name: "石家庄市中心医院  住院病历", "入院记录".
_TITLE = re.compile(r"^\s*(?:(?P<hospital>\S{2,30}?(?:医院|卫生院|保健院|诊所|医学中心))\s*)?\S{0,10}"
                    r"(?:记录|病历|小结|病案|病案首页)\s*$")
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


@dataclass
class _Part:
    heading: str  # the heading as written, without surrounding whitespace ("（1）实验室检查", "主诉：")
    name: str
    inline: bool  # content starts on the heading's line
    text: str


@dataclass
class _Sections:
    preamble: str = ""
    general: list[str] = field(default_factory=list)
    parts: dict[str, list[_Part]] = field(default_factory=dict)


def _numbering_style(match: re.Match) -> str | None:
    number = match.group("number")
    if not number:
        return None
    if number[0] in "（(":
        return "parenthesised"
    return "arabic" if number[0].isdigit() else "other"


def _top_level(matches: list[re.Match]) -> list[re.Match]:
    """Headings that open a section. A 病史特点 lists its own items as numbered headings ("2.查体：…",
    "3.辅助检查：…"); those stay inside it unless numbered like the 病史特点 heading itself (its siblings)."""
    kept: list[re.Match] = []
    summary_style: str | None = None
    inside_summary = False
    for match in matches:
        style = _numbering_style(match)
        bracketed = bool(match.group("bracketed") or match.group("squared"))
        if inside_summary and style is not None and style != summary_style and not bracketed:
            continue
        kept.append(match)
        inside_summary = HEADINGS[heading_name(match)].field == "history_summary"
        summary_style = style
    return kept


def split_sections(text: str) -> _Sections:
    """Cut `text` at its headings; keep each section's heading as written."""
    sections = _Sections()
    matches = _top_level([m for m in HEADING_PATTERN.finditer(text) if is_heading(m, text)])
    sections.preamble = (text[: matches[0].start()] if matches else text).strip()
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end():end]
        name = heading_name(match)
        target = HEADINGS[name].field
        if target == GENERAL:
            sections.general.append(body.strip())
            continue
        inline = bool(body) and not body.startswith("\n")
        part = _Part(match.group(0).strip(), name, inline, _tidy(body))
        sections.parts.setdefault(target, []).append(part)
    return sections


def _tidy(text: str) -> str:
    # Indentation of wrapped lines is layout, not content.
    lines = [line.strip() for line in text.strip().split("\n")]
    return "\n".join(line for line in lines if line)


def _join_parts(parts: list[_Part]) -> str | None:
    filled = [part for part in parts if part.text]
    if not filled:
        return None
    labelled = len({part.name for part in filled}) > 1
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
    for match in _KEY_VALUE.finditer(text):
        key, value = _KEYS[match.group("key")], match.group("value").strip()
        if value and key not in found:
            found[key] = value
    rest = _KEY_VALUE.sub("", text)
    lines = []
    for line in rest.split("\n"):
        line = line.strip(" \t\u3000，,；;")
        title = _TITLE.match(line)
        if title and title.group("hospital"):
            found.setdefault("hospital", title.group("hospital"))
        if line and not title:
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



RECORD_FIELDS = tuple(MedicalRecord.model_fields)
# Column name -> field: field names, their Chinese headings and heading variants, identity headings.
COLUMNS: dict[str, str] = {
    **{name: name for name in RECORD_FIELDS if name != "source"},
    **{heading: name for heading, h in HEADINGS.items() if (name := h.field) != GENERAL},
    **{heading: name for name, heading in CLINICAL_FIELDS.items()},
    **{heading: name for name, heading in IDENTITY_FIELDS.items()},
    "id": "record_id", "病历号": "record_number", "住院号": "record_number", "性别": "sex", "年龄": "age",
    "科室": "department", "就诊科室": "department", "科别": "department",
}
_SEXES = {"男": "男", "女": "女", "男性": "男", "女性": "女", "m": "男", "f": "女", "male": "男", "female": "女"}


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):  # None or NaN from CSV/Parquet
        return None
    if isinstance(value, (dict, list, bool)):  # never turned into text (numbers are: ages, record numbers)
        raise RowError(f"holds a {type(value).__name__}, not text or a number")
    text = clean_text(str(value)).strip()
    return text or None


def _sex(value: object) -> str:
    sex = _SEXES.get(str(value).strip().casefold())
    if sex is None:
        raise RowError("is not 男/女 (or male/female, M/F)", field="sex")  # never quote a value: it may be a name
    return sex


def _age(value: object) -> int:
    match = re.fullmatch(r"\s*(\d{1,3})(?:\.0+)?\s*(?:岁|周岁)?\s*", str(value))
    if match is None or int(match.group(1)) > 130:
        raise RowError("is not a whole number of years from 0 to 130", field="age")  # a value may be a phone
    return int(match.group(1))


def _record(fields: dict) -> dict:
    """A record dict from parsed fields; refuses one with no clinical content at all."""
    if not any(fields.get(name) for name in CLINICAL_FIELDS):
        raise RowError("has no clinical section (主诉, 现病史, 诊断, …)", field="text")
    return {"kind": "record", **{key: value for key, value in fields.items() if value is not None}}


def structured_record(row: dict) -> dict:
    """Structured rows whose columns are MedicalRecord field names or their Chinese headings (主诉, 现病史,
    姓名, 身份证号 …); columns that are neither are ignored. Two columns for one field (入院诊断, 出院诊断) are
    joined, each labelled with its column name."""
    parts: dict[str, list[tuple[str, str]]] = {}
    for column, value in row.items():
        name = COLUMNS.get(str(column).strip())
        text = _text(value)
        if name is None or text is None or name == "kind":
            continue
        parts.setdefault(name, []).append((str(column).strip(), text))
    fields: dict = {}
    for name, values in parts.items():
        fields[name] = values[0][1] if len(values) == 1 else "\n".join(f"{column}：{text}" for column, text in values)
    if "sex" in fields:
        fields["sex"] = _sex(fields["sex"])
    if "age" in fields:
        fields["age"] = _age(fields["age"])
    return _record(fields)


def text_record(row: dict) -> dict:
    """One free-text record in `text`, split at its section headings; optional `department`, `record_id`
    (or `id`), `sex`, `age` columns override what the text says."""
    text = _text(row.get("text"))
    if text is None:
        raise RowError("is missing or empty", field="text")
    fields = parse_record_text(text)
    for column in ("department", "科室", "record_id", "id"):
        if value := _text(row.get(column)):
            fields[COLUMNS[column]] = value
    if value := _text(row.get("sex")):
        fields["sex"] = _sex(value)
    if value := _text(row.get("age")):
        fields["age"] = _age(value)
    return _record(fields)


