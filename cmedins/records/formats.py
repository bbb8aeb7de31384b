"""Record source formats: structured rows, free-text records, CMB-Clin cases and CCKS 2017 EMR sections.

Each adapter returns a MedicalRecord-shaped dict with `kind: "record"` (the runner adds `record_id` when
missing, as `<source>:<row>`, and `source`) and raises RowError(field=...) for a row it cannot use.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from cmedins.contracts.schema import CLINICAL_FIELDS, IDENTITY_FIELDS, MedicalRecord
from cmedins.errors import CmedinsError, RowError
from cmedins.records.headings import GENERAL, HEADINGS
from cmedins.records.parser import admission_complaint, demographics, parse_record_text
from cmedins.rowio.formats import register_format
from cmedins.rowio.readers import clean_text

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
    if type(value) is str:  # the usual cell: skips the checks below
        return clean_text(value).strip() or None
    if value is None or (isinstance(value, float) and value != value):  # None or NaN from CSV/Parquet
        return None
    _refuse_containers(value)
    text = clean_text(str(value)).strip()
    return text or None


def _refuse_containers(value: object) -> None:
    if isinstance(value, (dict, list, bool)):  # never turned into text (numbers are: ages, record numbers)
        raise RowError(f"holds a {type(value).__name__}, not text or a number")


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


@register_format("record", "record")
def structured_record(row: dict) -> dict:
    """Structured rows whose columns are MedicalRecord field names or their Chinese headings (主诉, 现病史,
    姓名, 身份证号 …); columns that are neither are ignored. Two columns for one field (入院诊断, 出院诊断) are
    joined, each labelled with its column name."""
    parts: dict[str, list[tuple[str, str]]] = {}
    for column, value in row.items():
        heading = column.strip() if type(column) is str else str(column).strip()
        name = COLUMNS.get(heading)
        if name is None or name == "kind":
            if type(value) is not str:
                _refuse_containers(value)  # an ignored column is still refused for holding a dict or list
            continue
        text = _text(value)
        if text is None:
            continue
        if name in parts:
            parts[name].append((heading, text))
        else:
            parts[name] = [(heading, text)]
    fields: dict = {}
    for name, values in parts.items():
        fields[name] = values[0][1] if len(values) == 1 else "\n".join(f"{column}：{text}" for column, text in values)
    if "sex" in fields:
        fields["sex"] = _sex(fields["sex"])
    if "age" in fields:
        fields["age"] = _age(fields["age"])
    return _record(fields)


@register_format("record_text", "record")
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


# CMB-Clin questions about this patient's diagnosis or treatment (choice questions and generic knowledge
# questions are left out; 鉴别诊断-only questions are not a diagnosis).
_CHOICE = re.compile(r"\n\s*A\s*[.．、]")
_DIAGNOSIS_QUESTION = re.compile(r"(?:病人|患者|本例|该|此|本病例|本案例|资料|初步).*?诊断")
_TREATMENT_QUESTION = re.compile(r"治疗|处理|临床决策")
_NOT_TREATMENT = re.compile(r"并发症|预防|指征|心肌保护|停搏液")


def _qa_answers(pairs: list, wanted: re.Pattern, unwanted: re.Pattern | None = None) -> list[str]:
    answers = []
    for pair in pairs:
        question, answer = _text(pair.get("question")), _text(pair.get("answer"))
        if not question or not answer or _CHOICE.search(question):
            continue
        if wanted.search(question.replace("鉴别诊断", "")) and not (unwanted and unwanted.search(question)):
            answers.append("\n".join(line.strip() for line in answer.split("\n") if line.strip()))
    return answers


# CMB-Clin cases come from surgery textbook chapters ("胆道疾病 案例分析-胆囊结石"); the chapter names the
# surgical department that treats the case. Chapters not listed (外科休克, 烧伤…咬伤) span several.
CMB_CHAPTER_DEPARTMENTS = {
    "食管疾病": "心胸外科", "原发性纵隔肿瘤": "心胸外科", "胸壁、胸膜疾病": "心胸外科", "心脏疾病": "心胸外科",
    "肺部疾病": "心胸外科", "胸主动脉疾病": "心胸外科", "结、直肠与肛管疾病": "普通外科", "颈部疾病": "普通外科",
    "腹部损伤": "普通外科", "胆道疾病": "普通外科", "脾疾病": "普通外科", "小肠疾病": "普通外科",
    "胰腺疾病": "普通外科", "胃十二指肠疾病": "普通外科", "肝疾病": "普通外科", "急性化脓性腹膜炎": "普通外科",
    "急腹症的诊断与鉴别诊断": "普通外科", "乳房疾病": "普通外科", "泌尿、男生殖系统肿瘤": "泌尿外科",
    "颈、腰椎退行性疾病": "骨科", "下肢骨、关节损伤": "骨科", "颅脑损伤": "神经外科",
}


def cmb_department(title: str | None) -> str | None:
    chapter = (title or "").split("案例分析")[0].strip()
    return CMB_CHAPTER_DEPARTMENTS.get(chapter)


@register_format("cmb_clin", "record")
def cmb_clin(row: dict) -> dict:
    """CMB-Clin case: `description` parsed into sections. Its QA pairs supply the answers the case text
    lacks: the first question on this patient's diagnosis gives `diagnosis` (the answer carries the
    reasoning, 诊断依据), and the treatment questions' answers, joined, give `treatment` (over a 治疗经过
    in the description, since they answer what the treatment task asks). The department comes from the
    textbook chapter in `title` (CMB_CHAPTER_DEPARTMENTS)."""
    description = _text(row.get("description"))
    if description is None:
        raise RowError("is missing or empty", field="description")
    fields = parse_record_text(description)
    pairs = row.get("QA_pairs") or []
    if not isinstance(pairs, list) or not all(isinstance(pair, dict) for pair in pairs):
        raise RowError("must be a list of {question, answer} objects", field="QA_pairs")
    if diagnoses := _qa_answers(pairs, _DIAGNOSIS_QUESTION):
        fields["diagnosis"] = diagnoses[0]
    # A question on both ("诊断与治疗原则") answers the diagnosis only: the treatment query shows the diagnosis.
    treatments = [a for a in _qa_answers(pairs, _TREATMENT_QUESTION, _NOT_TREATMENT) if a != fields.get("diagnosis")]
    if treatments:
        fields["treatment"] = "\n".join(treatments)
    fields.setdefault("department", cmb_department(_text(row.get("title"))))
    return _record(fields)


CCKS_SECTIONS = ("一般项目", "病史特点", "诊疗经过", "出院情况")
_CCKS_FILE = re.compile(r"^(?P<section>.+)-(?P<index>\d+)\.txtoriginal\.txt$")


def read_ccks2017(path: Path) -> Iterator[tuple[str, int, dict]]:
    """CCKS 2017 EMR: four folders of `<section>-<n>.txtoriginal.txt` files; the same n is the same
    patient. Yields one raw row per patient, {section: text}, numbered by n."""
    root = path / "data_origin" if (path / "data_origin").is_dir() else path
    if not root.is_dir():
        raise CmedinsError(f"{path}: the ccks2017 format reads a folder (data_origin/ with {', '.join(CCKS_SECTIONS)})")
    files: dict[int, dict[str, Path]] = {}
    for section in CCKS_SECTIONS:
        folder = root / section
        if not folder.is_dir():
            raise CmedinsError(f"{root}: missing the CCKS 2017 section folder '{section}'")
        for file in folder.iterdir():
            match = _CCKS_FILE.match(file.name)
            if match and match.group("section") == section:
                files.setdefault(int(match.group("index")), {})[section] = file
    from cmedins.rowio.readers import error_row

    for index in sorted(files):
        try:
            raw = {section: _strip_html_residue(files[index][section].read_text(encoding="utf-8-sig"))
                   if section in files[index] else None for section in CCKS_SECTIONS}
        except UnicodeDecodeError as error:  # this patient's row is quarantined; the others are read
            raw = error_row(f"a section file is not valid UTF-8 text (byte {error.start + 1})")
        yield str(root), index, raw


# 52 CCKS files begin with a mangled HTML entity (";nbsp;", "&nbsp;") left from the EMR export.
_HTML_SPACE = re.compile(r"[&;]?nbsp;")


def _strip_html_residue(text: str) -> str:
    return _HTML_SPACE.sub(" ", text)


# The admission diagnosis inside a CCKS 病史特点: "…门诊以左侧粗隆间骨折收入院". Words such as 以来/以上/以前
# are not this 以 (but 以前列腺增生症 is), and a candidate holding 患者/检查/治疗 … is a sentence, not a diagnosis.
_ADMISSION_DIAGNOSIS = re.compile(
    r"(?<![可所予加难])以(?!来|上|下|后|前(?!列)|及|便|外|内|为|致|免)[：:“\"]?(?P<dx>[^；;]{2,120}?)[”\"]?"
    r"(?P<verb>收入|收住|收治|介绍入|住入|入住|急诊入院|入院)")
_NOT_DIAGNOSIS = re.compile(r"为主|患者|入院|就诊|治疗|来我院|自行|给予|诊断|检查|查体")


def _verdict(text: str) -> str:
    # "腔隙性脑梗死成立" -> "腔隙性脑梗死"
    return re.sub(r"(?:诊断)?(?:成立|明确)$", "", text.strip(" ：:，,。")).strip(" ，,。")


def admission_diagnosis(text: str) -> tuple[str | None, str]:
    """(the admission diagnosis, the text without it): the diagnosis moves to its own field so that the
    diagnosis task's query does not state its answer."""
    for match in _ADMISSION_DIAGNOSIS.finditer(text):
        if not _NOT_DIAGNOSIS.search(match.group("dx")):
            diagnosis = _verdict(match.group("dx"))
            return diagnosis, text[: match.start()] + match.group("verb") + text[match.end():]
    return None, text


_STATED_DIAGNOSIS = re.compile(r"(?:诊断为|明确诊断|诊断)[：:]?(?P<dx>[^。；;，,]{2,60})")


def stated_diagnosis(text: str) -> str | None:
    """The diagnosis a course of treatment states: "…故诊断为：急性支气管炎。给予…"."""
    match = _STATED_DIAGNOSIS.search(text)
    dx = _verdict(match.group("dx")) if match else None
    return dx if dx and not _NOT_DIAGNOSIS.search(dx) and not dx.startswith(("后", "明确")) else None


@register_format("ccks2017", "record", reader=read_ccks2017)
def ccks2017(row: dict) -> dict:
    """CCKS 2017 inpatient record joined from its four sections: 一般项目 gives sex, age and the chief
    complaint ("主因…入院"); 病史特点 is split at its numbered headings (4.查体：, 5.辅助检查：) into the
    present illness, physical and auxiliary examinations, and its admission diagnosis ("以…收入院") becomes
    `diagnosis` (else the one 诊疗经过 states, "诊断为：…"); 诊疗经过 is the treatment and 出院情况 the
    discharge status. CCKS has no department and no discharge advice."""
    texts = {section: _text(row.get(section)) for section in CCKS_SECTIONS}
    if not any(texts.values()):
        raise RowError("all four sections are empty", field="病史特点")
    fields: dict = {}
    if general := texts["一般项目"]:
        fields.update(demographics(general))
        if complaint := admission_complaint(general):
            fields["chief_complaint"] = complaint
    if summary := texts["病史特点"]:
        parsed = parse_record_text(summary)
        # The whole file is the 病史特点 section: a heading of its own does not make it a summary of the rest.
        if headed := parsed.pop("history_summary", None):
            parsed["present_illness"] = "\n".join(p for p in (headed, parsed.get("present_illness")) if p)
        if parsed.get("present_illness"):
            diagnosis, parsed["present_illness"] = admission_diagnosis(parsed["present_illness"])
            if diagnosis:
                parsed.setdefault("diagnosis", diagnosis)
        for key, value in parsed.items():
            fields.setdefault(key, value)
    if texts["诊疗经过"] and "diagnosis" not in fields and (diagnosis := stated_diagnosis(texts["诊疗经过"])):
        fields["diagnosis"] = diagnosis
    fields["treatment"] = texts["诊疗经过"]
    fields["discharge_status"] = texts["出院情况"]
    return _record(fields)
