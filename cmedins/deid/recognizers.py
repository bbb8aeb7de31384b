"""presidio PatternRecognizers for Chinese identifiers (IDs, phones, numbers, dates, addresses, institutions).

Notes on the patterns:
- `\\b` does not separate CJK characters from digits, so digit runs are fenced with `(?<!\\d)` / `(?!\\d)`.
- presidio compiles with the `regex` module: `\\K` lets a label ("住院号：") anchor a value without becoming
  part of the masked span (much faster than a lookbehind tried at every position), and VERSION1 set
  difference (`[\\p{Han}--[...]]`) keeps name character classes cheap.
- Flags are case-sensitive on purpose (license plates and passports are upper case; "x" is not "X" there).
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

from cmedins.prc_id import id_check_digit

LANGUAGE = "zh"
FLAGS = regex.DOTALL | regex.MULTILINE | regex.VERSION1

# --- building blocks -----------------------------------------------------------------------------------
YEAR = r"(?:19|20)\d{2}"
MONTH = r"(?:0?[1-9]|1[0-2])"
DAY = r"(?:0?[1-9]|[12]\d|3[01])"
CN_DIGIT = "〇零一二三四五六七八九"
DATE_CN = rf"{YEAR}\s*年\s*{MONTH}\s*月\s*{DAY}\s*[日号]?(?!\d)"
DATE_SEP = rf"{YEAR}(?P<sep>[-/.])\s*{MONTH}(?P=sep)\s*{DAY}(?![\d.])"
DATE_HANZI = rf"[{CN_DIGIT}]{{4}}年[一二三四五六七八九十]{{1,2}}月(?:[一二三四五六七八九十]{{1,3}}[日号])?"
DATE_ANY = rf"(?:{DATE_CN}|{DATE_SEP}|{DATE_HANZI}|{YEAR}\s*年\s*{MONTH}\s*月|{YEAR}[-/]{MONTH}(?![-/.\d]))"
SEP = r"\s*[：:]?\s*"  # between a label and its value
# Characters that end a place or institution name to the left: verbs and particles that precede places.
STOP = "患者住现居于在自来是的为了及与并其至到从往入出诊治疗因伴查示经曾向赴回返由去要求好您你可以后或找"
NAME_CH = rf"[\p{{Han}}--[{STOP}]]"  # set difference: needs the regex module's VERSION1 flag
NAME_START = rf"(?<!{NAME_CH})"  # a place name starts at a boundary, never inside another word



def _labelled(labels: str, value: str) -> str:
    """The label anchors the match (fast literal scan); `\\K` drops it from the reported span."""
    return rf"(?:{labels}){SEP}\K{value}"


class ChecksumRecognizer(PatternRecognizer):
    """A PatternRecognizer whose matches are re-scored by a checksum: `valid_score` when it holds, otherwise
    `invalid_score` (0 drops the match). Patterns named `labelled*` keep their own score."""

    def __init__(self, *args, valid_score: float, invalid_score: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.valid_score = valid_score
        self.invalid_score = invalid_score

    def checksum_ok(self, digits: str) -> bool:
        raise NotImplementedError

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        results = []
        for result in super().analyze(text, entities, nlp_artifacts, regex_flags):
            if result.analysis_explanation.pattern_name.startswith("labelled"):
                results.append(result)
                continue
            digits = "".join(ch for ch in text[result.start:result.end] if ch.isalnum())
            result.score = self.valid_score if self.checksum_ok(digits) else self.invalid_score
            if result.score > 0:
                results.append(result)
        return results


class ChineseIdRecognizer(ChecksumRecognizer):
    """18-digit resident IDs (check digit verified; wrong check digits still masked at a lower score) and
    15-digit legacy IDs (no check digit)."""

    def __init__(self):
        birth = rf"{MONTH.replace('0?', '0')}{DAY.replace('0?', '0')}"
        super().__init__(
            supported_entity="CN_ID_CARD",
            name="ChineseIdRecognizer",
            supported_language=LANGUAGE,
            patterns=[
                Pattern("id18", rf"(?<![0-9A-Za-z])[1-9]\d{{5}}(?:18|19|20)\d{{2}}{birth}\d{{3}}[0-9Xx](?![0-9A-Za-z])", 0.6),
                Pattern("id15", rf"(?<![0-9A-Za-z])[1-9]\d{{7}}{birth}\d{{3}}(?![0-9A-Za-z])", 0.7),
                Pattern("labelled", _labelled(r"身份证号码|身份证号|身份证|公民身份号码|证件号码|证件号", r"[0-9Xx*]{15,18}(?![0-9A-Za-z])"), 0.95),
            ],
            global_regex_flags=FLAGS,
            valid_score=1.0,
            invalid_score=0.6,
        )

    def checksum_ok(self, digits: str) -> bool:
        if len(digits) == 15:
            return True  # legacy IDs carry no check digit
        return id_check_digit(digits[:17]) == digits[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class BankCardRecognizer(ChecksumRecognizer):
    """UnionPay / Visa / Mastercard numbers (Luhn-checked), or any digits after a card label."""

    def __init__(self):
        super().__init__(
            supported_entity="BANK_CARD",
            name="BankCardRecognizer",
            supported_language=LANGUAGE,
            patterns=[
                Pattern("card", r"(?<![\d-])(?:62|4\d|5[1-5])\d{2}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?![\d-])", 0.9),
                Pattern("labelled", _labelled(r"银行卡号|银行卡|卡号|银行账号|账号|帐号", r"\d(?:[ -]?\d){11,22}(?!\d)"), 0.95),
            ],
            global_regex_flags=FLAGS,
            valid_score=0.9,
            invalid_score=0.0,
        )

    def checksum_ok(self, digits: str) -> bool:
        return 16 <= len(digits) <= 19 and luhn_ok(digits)


def pattern_recognizers() -> list[PatternRecognizer]:
    """Every regex recognizer, one per entity type."""
    mobile = r"(?<![\d+])(?:(?:\+|00)86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)"
    landline = r"(?<![\d+])(?:(?:\+|00)86[- ]?)?(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[- ]?[2-9]\d{6,7}(?:[-转]\d{1,5})?(?!\d)"
    landline_intl = r"(?<![\d+])(?:\+|00)86[- ]?(?:10|2\d|[3-9]\d{2})[- ]?\d{3,4}[- ]?\d{4}(?!\d)"
    record_labels = (
        r"病案号|病历号|病案编号|住院号|住院编号|门诊号|门诊编号|急诊号|医保号|医保卡号|医保编号|社保号|社保卡号|"
        r"就诊卡号|就诊号|诊疗卡号|医疗卡号|健康卡号|登记号|档案号|患者ID|病人ID|ID号|影像号|检查号|放射号|病理号|"
        r"标本号|流水号|床位号|发票号"
    )
    plate = (r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·• -]?"
             r"(?=(?:[A-Z]*\d){3})[A-Z0-9]{5,6}(?![A-Za-z0-9])")
    passport = r"(?<![A-Za-z0-9])(?:[EGDSPHK]\d{8}|E[A-HJ-NP-Z]\d{7}|[CW]\d{8})(?![A-Za-z0-9])"
    dob_labels = r"出生日期|出生年月日|出生年月|出生于|出生|生日|生于|DOB|D\.O\.B\."
    top = rf"{NAME_CH}{{1,8}}?(?:特别行政区|自治区|自治州|省|市|州|盟)"  # a chain must start at this level
    admin = rf"{NAME_CH}{{1,8}}?(?:特别行政区|自治区|自治州|自治县|省|市|州|地区|盟|区|县|旗)"
    local = rf"{NAME_CH}{{1,10}}?(?:街道|镇|乡|村|屯|社区|小区|花园|公寓|大厦|新村|家园|苑)"
    street = rf"{NAME_CH}{{1,10}}?(?:大道|大街|街|路|巷|弄|胡同)"
    number = r"(?:[\d一二三四五六七八九十百零〇-]+(?:号院|号楼|号|栋|幢|楼|单元|室|层|组|排|户)(?:[\d-]+)?)+"
    place = rf"(?:{local}|{street})"
    address = (
        rf"{NAME_START}(?:(?:{admin}){{1,4}}{place}{{1,3}}(?:{number})?"
        rf"|{top}(?:{admin}){{1,3}}(?:{number})?"
        rf"|{place}{{1,3}}{number}"
        rf"|(?:{local}){{2,3}}(?:{number})?)"
    )
    address_labels = r"家庭住址|现住址|户籍地址|住址|地址|家住|现住|住在|居住于|居住在|现居"
    value = r"[^\s，。；;,、：:\n][^\s，。；;,、\n]{1,39}"
    # 家住农村, 居住在牧场, 住在城里: a kind of place, not an address.
    generic_place = (r"(?:农村|乡下|乡村|城里|城市|城镇|县城|市区|郊区|山区|牧区|牧场|草原|林区|矿区|高原|沿海|本地|当地|外地|"
                     r"老家|家里|家中|国外|海外|南方|北方|附近|楼上|楼下|宿舍|学校|单位|一起|一楼|顶楼|平房|楼房)"
                     r"(?:[\s，。；;,、！!？?）)]|$|里|中|的|地区|一带|附近)")
    generic = r"我|本|外|该|上级|当地|基层|附近|其他|其它|他|综合|专科|一家|多家|各级|某|市级|县级|省级|乡镇|私立|私人|个体|民营|公立|正规|三甲|二甲|一级|二级|三级|社区|地区|城市|城区|市区|郊区|山区|各|不同|大城市|小城市|县城"
    # The name must hold a place (承德市中心医院, 双滦区人民医院, 广西壮族自治区人民医院; not the generic 社区医院,
    # 各地区医院, 不同城市医院) or be a medical school's affiliate.
    institution = (
        rf"{NAME_START}(?!{generic})(?:{NAME_CH}{{1,8}}?(?:自治区|自治州|自治县|[省市县区州旗镇乡]){NAME_CH}{{0,10}}?"
        rf"|{NAME_CH}{{2,8}}?(?:医学院|医科大学|大学)(?:附属|第[一二三四五六七八九])?{NAME_CH}{{0,4}}?)"
        r"(?:医院|卫生院|卫生所|卫生室|诊所|门诊部|医务室|保健院|疾控中心|疾病预防控制中心|卫生服务中心|卫生服务站|"
        r"医学院|医科大学|急救中心|血站|体检中心)"
    )
    over89 = r"(?:9\d|1[0-4]\d)"
    return [
        PatternRecognizer("CN_PHONE", "ChinesePhoneRecognizer", LANGUAGE, [
            Pattern("mobile", mobile, 0.9),
            Pattern("landline", landline, 0.75),
            Pattern("landline_intl", landline_intl, 0.85),
            Pattern("labelled", _labelled(r"联系电话|电话号码|电话|手机号码|手机号|手机|联系方式|Tel|TEL|tel", r"\d(?:[ -]?\d){6,14}(?!\d)"), 0.9),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("EMAIL", "EmailRecognizer", LANGUAGE, [
            Pattern("email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", 1.0),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("MEDICAL_RECORD_NUMBER", "RecordNumberRecognizer", LANGUAGE, [
            Pattern("labelled", _labelled(record_labels, r"[A-Za-z0-9][A-Za-z0-9-]{2,24}(?![A-Za-z0-9])"), 0.95),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("LICENSE_PLATE", "LicensePlateRecognizer", LANGUAGE, [Pattern("plate", plate, 0.85)],
                          global_regex_flags=FLAGS),
        PatternRecognizer("PASSPORT", "PassportRecognizer", LANGUAGE, [
            Pattern("passport", passport, 0.6),
            Pattern("labelled", _labelled(r"护照号码|护照号|护照|通行证号码|通行证号|通行证", r"[A-Z0-9]{7,12}(?![A-Za-z0-9])"), 0.95),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("DATE_OF_BIRTH", "DateOfBirthRecognizer", LANGUAGE, [
            Pattern("labelled", _labelled(dob_labels, rf"(?:{DATE_ANY}|{YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d))"), 1.0),
            Pattern("born", rf"(?<!\d)(?:{DATE_ANY}|{YEAR}\s*年)(?=\s*(?:出生|生人|生[，,。；;\s）)]))", 1.0),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("DATE_TIME", "ChineseDateRecognizer", LANGUAGE, [
            Pattern("ymd_cn", rf"(?<!\d){DATE_CN}", 0.85),
            Pattern("ymd_sep", rf"(?<![\d.]){DATE_SEP}", 0.85),
            Pattern("ymd_hanzi", DATE_HANZI, 0.85),
            Pattern("ym", rf"(?<!\d){YEAR}\s*年\s*{MONTH}\s*月|(?<![\d.]){YEAR}[-/]{MONTH}(?![-/.\d])", 0.7),
            Pattern("md", rf"(?<![\d年]){MONTH}\s*月\s*{DAY}\s*[日号](?!\d)", 0.7),
            Pattern("yymd", rf"(?<!\d)\d{{2}}\s*年\s*{MONTH}\s*月\s*{DAY}\s*[日号]", 0.7),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("AGE_OVER_89", "AgeOver89Recognizer", LANGUAGE, [
            Pattern("age", rf"(?<![\d.]){over89}(?=\s*(?:周岁|岁))", 0.9),
            Pattern("age_hanzi", r"(?:九十[一二三四五六七八九]?|一百[零一二三四五六七八九十]{0,3})(?=周岁|岁)", 0.9),
            Pattern("labelled", _labelled(r"年龄", rf"{over89}(?![\d.])"), 0.9),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("CN_ADDRESS", "ChineseAddressRecognizer", LANGUAGE, [
            Pattern("address", address, 0.8),
            Pattern("village", rf"{NAME_START}{NAME_CH}{{2,8}}?(?:村|屯|庄|镇|乡)(?=人)", 0.7),
            Pattern("labelled", _labelled(address_labels, rf"(?!{generic_place}){value}"), 0.95),
        ], global_regex_flags=FLAGS),
        PatternRecognizer("INSTITUTION", "InstitutionRecognizer", LANGUAGE, [
            Pattern("institution", institution, 0.75),
        ], global_regex_flags=FLAGS),
        ChineseIdRecognizer(),
        BankCardRecognizer(),
    ]


__all__ = ["LANGUAGE", "RecognizerResult", "luhn_ok", "pattern_recognizers"]
