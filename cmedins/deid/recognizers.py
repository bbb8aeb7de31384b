"""presidio PatternRecognizers for Chinese identifiers (IDs, phones, numbers, dates, addresses, institutions).

Notes on the patterns:
- `\\b` does not separate CJK characters from digits, so digit runs are fenced with `(?<!\\d)` / `(?!\\d)`.
- presidio compiles with the `regex` module: `\\K` lets a label ("住院号：") anchor a value without becoming
  part of the masked span (much faster than a lookbehind tried at every position), and VERSION1 set
  difference (`[\\p{Han}--[...]]`) keeps name character classes cheap.
- Flags are case-sensitive on purpose (license plates and passports are upper case; "x" is not "X" there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

from cmedins.contracts.prc_id import id_check_digit
from cmedins.deid import email_words, ip_shapes, label_shapes
from cmedins.deid.lexicon import WELL_KNOWN_HOSPITALS

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
# Between a label and its value: 住院号为X, 病案号：X, 门诊号: X, 病历号X, 电话是X, 住院号（X）.
SEP = r"\s*(?:为|是|系)?\s*[：:（(]?\s*(?:No\.?|NO\.?|no\.?|[#＃])?\s*"
# Between the items of a list after a label (病案号：A、B; 影像号：A，B及C): every item is that type too.
LIST_SEP = r"\s*(?:[、,，;；]|和|及|与|或)\s*"
ITEM_SPLIT = regex.compile(LIST_SEP)
# Characters that end a place or institution name to the left: verbs and particles that precede places.
# 址 ends the labels 住址/地址/户籍地址: an address starting at it masked the label's 址 (住<地址>).
STOP = "患者住址现居于在自来是的为了及与并其至到从往入出诊治疗因伴查示经曾向赴回返由去要求好您你可以后或找"
NAME_CH = rf"[\p{{Han}}--[{STOP}]]"  # set difference: needs the regex module's VERSION1 flag
# After a level suffix (区, 县 ...) the name goes on to its facility word: 回 may sit there (龟山区回龙诊所; before
# one it is the verb of 回当地医院).
NAME_TAIL_CH = rf"[\p{{Han}}--[{STOP.replace('回', '')}]]"
NAME_START = rf"(?<!{NAME_CH})"  # a place name starts at a boundary, never inside another word
# Provinces and major cities as written inside hospital names (no 省/市 suffix there).
PLACES = ("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|"
          "云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|南京|广州|深圳|武汉|成都|西安|杭州|沈阳|长沙|郑州|"
          "济南|青岛|大连|哈尔滨|长春|昆明|南昌|福州|厦门|合肥|太原|石家庄|兰州|贵阳|南宁|海口|呼和浩特|乌鲁木齐|银川|西宁|"
          "拉萨|苏州|无锡|宁波|温州|徐州|常州|南通|扬州|烟台|潍坊|唐山|保定|承德|洛阳|宜昌|襄阳|珠海|佛山|东莞|汕头|桂林|"
          "柳州|遵义|绵阳|泉州|中国|解放军")
KINDS = (r"中医|西医|中西医|儿童|妇幼|妇产|妇女|肿瘤|精神|传染|结核|口腔|牙科|眼科|耳鼻|骨科|胸科|男科|妇科|儿科|皮肤|"
         r"肛肠|康复|整形|美容|专科|的|各|有些|很多|一些|大|小|好")



def _one_script(number: str) -> str:
    """A number pattern whose digits are of one script: ASCII digits first, then any script's (`\\d` as written,
    Arabic-Indic ١٣٨... too). The `regex` module's `\\d` is Unicode, so `13812345678٣` read as 12 digits: the
    labelled phone swallowed the ٣, the bare mobile found nothing. In the ASCII form another script's digit ends
    the number, as any non-digit does; a number mixing scripts still matches the form as written."""
    ascii_only = number.replace(r"[\d+]", "[0-9+]").replace(r"\d", "[0-9]")
    return rf"(?:{ascii_only}|{number})"


def _labelled(labels: str, value: str, many: bool = False, sep: str = SEP) -> str:
    """The label anchors the match (fast literal scan); `\\K` drops it from the reported span. With `many`, a
    list of values after one label is matched whole (each item is that type): numbers only, since an address
    or a date is followed by ordinary prose after a comma. `sep`: what may stand between label and value
    (label_shapes.FRAMED_SEP: the quotes, brackets, =, | and tags of exports too)."""
    items = rf"(?:{LIST_SEP}{value})*" if many else ""
    return rf"(?:{labels}){sep}\K{value}{items}"


# A span while matching: (pattern name, start, end, score). Tuples, not presidio RecognizerResults: on real text
# presidio's per-match explanation objects, timers and debug logging cost more than the matching itself.
Span = tuple[str, int, int, float]
Hit = tuple[str, int, int, float]  # (entity type, start, end, score): what the engine collects
Regions = Sequence[Sequence[tuple[int, int]]]  # per pattern of a recognizer: the [start, end) parts to scan


def remove_duplicates(items: list, kind: Callable = lambda item: None) -> list:
    """presidio's `EntityRecognizer.remove_duplicates` on (label, start, end, score) tuples: of equal results
    (same kind, span and score) the first stays; zero scores go, and so does any result that one of the same
    kind contains with an equal or higher score; the rest in presidio's order (score first). `kind` is the
    entity type for the engine's hits; within one recognizer every span is of its one type."""
    if len(items) < 2:  # nothing to compare: only a zero score goes
        return [item for item in items if item[3] != 0]
    first: dict = {}
    for item in items:
        first.setdefault((kind(item), item[1], item[2], item[3]), item)
    ordered = sorted(first.values(), key=lambda item: (kind(item) or "", item[1], item[1] - item[2], -item[3]))
    kept: list = []
    for _, same_kind in groupby(ordered, key=kind):
        active: list = []
        for item in same_kind:
            if item[3] == 0:
                continue
            active = [other for other in active if other[2] >= item[1]]
            if not any(other[1] <= item[1] and item[2] <= other[2] and item[3] <= other[3] for other in active):
                kept.append(item)
                active.append(item)
    return sorted(kept, key=lambda item: (-item[3], item[1], item[1] - item[2]))


class AnchoredPattern(Pattern):
    """A pattern every match of which starts at most `reach` characters before a word its lookahead demands (a
    level word for an address, a facility word for an institution): the `anchor`. With `word_start` the pattern
    begins with NAME_START, so a start right after a name character is skipped before the regex is asked.
    presidio sees an ordinary Pattern; the compiled recognizer tries only those starts (anchored_spans)."""

    def __init__(self, name: str, pattern: str, score: float, *, anchor: str, reach: int, word_start: bool = False,
                 run: str | None = None):
        super().__init__(name, pattern, score)
        self.anchor = anchor
        self.reach = reach
        self.word_start = word_start
        self.run = run  # a class every character between a match's start and its anchor is in (its lookahead's)


STOP_CHARS = frozenset(STOP)


def anchored_spans(pattern: regex.Pattern, anchor: regex.Pattern, reach: int, word_start: bool,
                   text: str, lo: int = 0, hi: int | None = None, run: regex.Pattern | None = None,
                   ) -> list[tuple[int, int]]:
    """The non-empty spans of `pattern.finditer(text, lo, hi)`, found by trying `pattern.match` only at the starts
    that can match: within `reach` characters before an anchor occurrence, or inside one (the anchor scan does not
    report occurrences overlapping the one it found: 地区 hides 区). Matches are taken left to right without
    overlap, as finditer takes them, so the spans are the same (tests/test_deid_fast.py checks it on real text).
    With `run` (a reverse match of the class every character between a match's start and its anchor is in), the
    starts go back only as far as that class does: an occurrence hidden inside a found one lies after its start,
    so the characters before the found one are in the class too."""
    out: list[tuple[int, int]] = []
    hi = len(text) if hi is None else hi
    following = lo  # the first start not tried yet
    for hit in anchor.finditer(text, lo, hi):
        first = hit.start() - reach if run is None else run.match(text, max(lo, hit.start() - reach), hit.start()).start()
        start = max(following, first)
        while start < hit.end():
            before = text[start - 1] if start else ""
            if word_start and "\u4e00" <= before <= "\u9fef" and before not in STOP_CHARS:
                start += 1  # NAME_START fails: a name character (basic Han block, not a stop) precedes
                continue
            match = pattern.match(text, start, hi)
            if match is not None and match.end() > start:
                out.append(match.span())
                start = match.end()
            else:
                start += 1
        following = max(following, start)
    return out


class CompiledRecognizer(PatternRecognizer):
    """A presidio PatternRecognizer (same patterns, flags and scores; `analyze` returns RecognizerResults for
    presidio's AnalyzerEngine) whose patterns are compiled once and matched by a plain loop. The engine calls
    `hits(text)` directly: tuples, no per-match objects. Subclasses refine the spans (`refine`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.compiled = [(p.name, regex.compile(p.regex, flags=self.global_regex_flags), p.score,
                          self._window(p) if isinstance(p, AnchoredPattern) else None)
                         for p in self.patterns]

    def _window(self, p: AnchoredPattern) -> tuple:
        run = None if p.run is None else regex.compile(f"(?r){p.run}*", flags=self.global_regex_flags)
        return regex.compile(p.anchor, flags=self.global_regex_flags), p.reach, p.word_start, run

    def matches(self, text: str, anchored: bool = True, regions: Regions | None = None) -> list[Span]:
        """Every pattern's non-empty matches (anchored patterns tried only near their anchors unless told not to).
        With `regions` (per pattern, the parts of a joined batch it may match in: cmedins.deid.prefilter), each
        pattern is scanned there only; no match crosses the batch separator, so the spans are the same."""
        out: list[Span] = []
        for index, (name, pattern, score, window) in enumerate(self.compiled):
            for lo, hi in [(0, len(text))] if regions is None else regions[index]:
                if window is not None and anchored:
                    anchor, reach, word_start, run = window
                    out += [(name, start, end, score)
                            for start, end in anchored_spans(pattern, anchor, reach, word_start, text, lo, hi, run)]
                else:
                    out += [(name, *m.span(), score) for m in pattern.finditer(text, lo, hi) if m.end() > m.start()]
        return out

    def spans(self, text: str, regions: Regions | None = None) -> list[Span]:
        """Every pattern's matches, deduplicated as presidio's PatternRecognizer does before any refinement."""
        return remove_duplicates(self.matches(text, regions=regions))

    def refine(self, text: str, spans: list[Span]) -> list[Span]:
        return spans

    def hits(self, text: str, regions: Regions | None = None) -> list[Hit]:
        if regions is not None and not any(regions):
            return []
        entity = self.supported_entities[0]
        return [(entity, start, end, score) for _, start, end, score in self.refine(text, self.spans(text, regions))
                if score > 0]

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        return [RecognizerResult(entity, start, end, score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
            for entity, start, end, score in self.hits(text)]


class ListRecognizer(CompiledRecognizer):
    """A recognizer whose labelled list matches (病案号：A、B及C) come back as one finding per item, so
    each item gets its own placeholder and the list separators stay."""

    def refine(self, text: str, spans: list[Span]) -> list[Span]:
        out = []
        for name, lo, hi, score in spans:
            if not name.startswith("labelled"):
                out.append((name, lo, hi, score))
                continue
            start = lo
            for sep in ITEM_SPLIT.finditer(text, lo, hi):
                out.append((name, start, sep.start(), score))
                start = sep.end()
            out.append((name, start, hi, score))
        return out


class HintedRecognizer(CompiledRecognizer):
    """A recognizer that runs only on texts holding its `hint` (a cheap literal-led search): its patterns
    start with a character class tried at every position, and the hint is rare in real text."""

    def __init__(self, *args, hint: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.hint = regex.compile(hint)

    def spans(self, text: str, regions: Regions | None = None) -> list[Span]:
        return super().spans(text, regions) if self.hint.search(text) else []


class ChecksumRecognizer(ListRecognizer):
    """A recognizer whose matches are re-scored by a checksum: `valid_score` when it holds, otherwise
    `invalid_score` (0 drops the match). Patterns named `labelled*` keep their own score."""

    def __init__(self, *args, valid_score: float, invalid_score: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.valid_score = valid_score
        self.invalid_score = invalid_score

    def checksum_ok(self, digits: str) -> bool:
        raise NotImplementedError

    def refine(self, text: str, spans: list[Span]) -> list[Span]:
        out = []
        for name, lo, hi, score in super().refine(text, spans):
            if not name.startswith("labelled"):
                digits = "".join(ch for ch in text[lo:hi] if ch.isalnum())
                score = self.valid_score if self.checksum_ok(digits) else self.invalid_score
            if score > 0:
                out.append((name, lo, hi, score))
        return out


class IpAddressRecognizer(CompiledRecognizer):
    """IPv4 (a port or prefix length kept with it) and IPv6 addresses, full or `::` compressed; versions, section
    numbers, small dotted quads without an IP label and addresses of no one (loopback, 0.0.0.0, masks) are not
    (cmedins.deid.ip_shapes, the residual scan's judge too)."""

    def __init__(self):
        super().__init__(
            supported_entity="IP_ADDRESS",
            name="IpAddressRecognizer",
            supported_language=LANGUAGE,
            patterns=[Pattern("ip", ip_shapes.IP, 0.95)],  # over an address label's value (IP地址 1.2.3.4)
            global_regex_flags=FLAGS,
        )

    def refine(self, text: str, spans: list[Span]) -> list[Span]:
        return [span for span in spans if ip_shapes.ip_ok(text, span[1], span[2])]


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
                # 18 characters with single separators anywhere (110101 19800101 1234, 1101-0119-...): the
                # checksum step reads the digits; a valid birth date is required, the check digit is not.
                Pattern("id18_separated", r"(?<![0-9A-Za-z.])[1-9](?:[- ]?\d){16}[- ]?[0-9Xx](?![0-9A-Za-z])", 0.6),
                Pattern("labelled", _labelled(r"身份证号码|身份证号|身份证|公民身份号码|身份号码|证件号码|证件号",
                                              r"[0-9Xx*](?:[- ]?[0-9Xx*]){14,17}(?![0-9A-Za-z])", many=True), 0.95),
            ],
            global_regex_flags=FLAGS,
            valid_score=1.0,
            invalid_score=0.6,
        )

    def checksum_ok(self, digits: str) -> bool:
        if len(digits) == 15:
            return True  # legacy IDs carry no check digit
        return id_check_digit(digits[:17]) == digits[17].upper()

    def refine(self, text: str, spans: list[Span]) -> list[Span]:
        """Separated 18-character runs count only with a real birth date in them (a list of numbers is not
        an ID)."""
        return [span for span in super().refine(text, spans) if span[0] != "id18_separated"
                or birth_date_ok("".join(ch for ch in text[span[1]:span[2]] if ch.isalnum())[6:14])]


def birth_date_ok(yyyymmdd: str) -> bool:
    from datetime import date

    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return born.year >= 1880


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


# Messaging accounts identify a person as surely as a phone: 微信号：wxid_ab12cd, QQ: 123456789, 钉钉号 ...
CONTACT_LABELS = label_shapes.CONTACT_LABEL  # 微信号, QQ, WeChat ID ... (shared with the residual scan)
# Bracketed only: a bare ` at ` is English prose (`look at google.com`), not an address.
OBFUSCATED_AT = r"(?:[(\[（【]\s?(?:at|AT|艾特)\s?[)\]）】])"
OBFUSCATED_DOT = r"(?:[(\[（【]\s?(?:dot|DOT|点)\s?[)\]）】])"


def pattern_recognizers() -> list[CompiledRecognizer]:
    """Every regex recognizer (one per entity type, plus a hinted one for e-mail written to dodge scrapers)."""
    # Phones on the folded view (full-width digits and ＋－． are ASCII there): +86 / 0086 / (+86) prefixes,
    # groups 3-4-4, 4-3-4 or 3-8 split by one space, or by a dash, dot or slash with a space either side or not
    # (138 - 1234 - 5678); landlines with the area code bare or in brackets, the local number whole or split,
    # an extension after 转 / - / 分机.
    country = r"(?:(?:\+|00)\s?86\s?[- .]?|[(（]\s?\+?86\s?[)）]\s?)"
    gsep = r"(?: ?[-./] ?| )"
    # ... and the first three digits in brackets, as an area code is written: (138)1234 5678
    mobile = (rf"(?<![\d+]){country}?(?:1[3-9]\d(?:\d{{8}}|{gsep}\d{{4}}{gsep}?\d{{4}}|\d{{4}}{gsep}\d{{4}}"
              rf"|\d{gsep}\d{{3}}{gsep}\d{{4}}|{gsep}\d{{8}})|[(（]1[3-9]\d[)）] ?(?:\d{{8}}|\d{{4}}{gsep}\d{{4}}))(?!\d)")
    local = rf"[2-9](?:\d{{6,7}}|\d{{3}}{gsep}\d{{3,4}}|\d{{2}}{gsep}\d{{4}})"
    extension = r"(?:\s?(?:转|分机|ext\.?|-)\s?\d{1,5})?"
    # a dash with a space before, after or either side too (010 - 6234 5678: 010 一 6234 5678 in the folded view;
    # （010）- 6234 5678: （010）一 6234 5678)
    landline = (rf"(?<![\d+]){country}?(?:\(0\d{{2,3}}\)|（0\d{{2,3}}）|0\d{{2,3}})(?:\s?- ?|\s\s?)?{local}{extension}(?!\d)")
    landline_intl = rf"(?<![\d+]){country}(?:10|2\d|[3-9]\d{{2}})[- ]?{local}{extension}(?!\d)"
    # A record-number label is a kind of record plus a number word: 住院号, 住院号码, 病案编号, 医保卡号, 患者ID.
    record_labels = label_shapes.RECORD_LABEL
    plate = (r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·• -]?"
             r"(?=(?:[A-Z]*\d){3})[A-Z0-9]{5,6}(?![A-Za-z0-9])")
    passport = r"(?<![A-Za-z0-9])(?:[EGDSPHK]\d{8}|E[A-HJ-NP-Z]\d{7}|[CW]\d{8})(?![A-Za-z0-9])"
    # 出生于 / 出生 / 生于 are prose (1980年出生，2020年3月入院): no export frame after them, a comma above all
    dob_labels = r"出生于|出生|生于"
    dob_fields = rf"出生日期|出生年月日|出生年月|出生时间|生日|{label_shapes.EN_DOB_LABEL}"
    months = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]{0,6}\.?"
    # a date of birth as English records write it, only after its label: 02/01/1980, Jan 2, 1980, 2 January 1980
    date_en = (rf"(?:{DAY}|{MONTH})[-/.](?:{DAY}|{MONTH})[-/.]{YEAR}(?!\d)|{months}\s?{DAY},?\s{YEAR}(?!\d)"
               rf"|{DAY}\s?{months},?\s{YEAR}(?!\d)")
    dob_value = rf"(?:{DATE_ANY}|{YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)|{date_en})"
    framed = label_shapes.FRAMED_SEP
    top = rf"{NAME_CH}{{1,8}}?(?:特别行政区|自治区|自治州|省|市|州|盟)"  # a chain must start at this level
    admin = rf"{NAME_CH}{{1,8}}?(?:特别行政区|自治区|自治州|自治县|省|市|州|地区|盟|区|县|旗)"
    local = rf"{NAME_CH}{{1,10}}?(?:街道|镇(?![痛静咳吐定])|乡|村|屯|社区|小区|花园|公寓|大厦|新村|家园|苑)"
    street = rf"{NAME_CH}{{1,10}}?(?:大道|大街|街|路|巷|弄|胡同)"
    # A lane, then its house, unit and room (123弄5号3单元502室), a road section (人民南路四段12号), an estate's
    # phase or zone (2期3栋): the digits a unit may carry after it (12号-3) never take the next unit's own digits
    # (88号3单元 is 88号 + 3单元).
    units = r"号院|号楼|号|弄|段|期|区|栋|幢|楼|单元|室|层|组|排|户"
    number = rf"(?:[\d一二三四五六七八九十百零〇-]+(?:{units})(?:[\d-]+(?![\d一二三四五六七八九十百零〇-]*(?:{units})))?)+"
    place = rf"(?:{local}|{street})"
    # Every address has a level word within its first 11 characters: a cheap lookahead skips the costly
    # alternation at every other start (same matches, measured on the planted and public corpora).
    level = (r"特别行政区|自治|省|市|州|盟|县|地区|区|旗|街道|镇|乡|村|屯|社区|小区|花园|公寓|大厦|新村|家园|苑|大道|"
             r"大街|街|路|巷|弄|胡同")
    # How far before its level / facility word an address / institution may start (their lookaheads), and how
    # many characters may follow a place in a famous hospital's name: the anchored patterns' windows.
    reach_address, reach_institution, reach_famous = 10, 22, 12
    address = (
        rf"{NAME_START}(?={NAME_CH}{{1,{reach_address}}}?(?:{level}))"
        rf"(?:(?:{admin}){{1,4}}{place}{{1,3}}(?:{number})?"
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
    # The facility word (医院, 诊所 ...) comes within 22 Han characters of the start (any Han: the level words
    # such as 自治区 hold characters NAME_CH excludes): a cheap lookahead first.
    facility = r"医院|卫生|诊所|门诊部|医务室|保健院|疾控|疾病预防|急救中心|血站|体检中心|医学院|医科大学"
    institution = (
        rf"{NAME_START}(?=\p{{Han}}{{1,{reach_institution}}}?(?:{facility}))(?!{generic})(?:{NAME_CH}{{1,8}}?(?:自治区|自治州|自治县|[省市县区州旗镇乡]){NAME_TAIL_CH}{{0,10}}?"
        rf"|{NAME_CH}{{2,8}}?(?:医学院|医科大学|大学)(?:附属|第[一二三四五六七八九])?{NAME_CH}{{0,4}}?)"
        r"(?:医院|卫生院|卫生所|卫生室|诊所|门诊部|医务室|保健院|疾控中心|疾病预防控制中心|卫生服务中心|卫生服务站|"
        r"医学院|医科大学|急救中心|血站|体检中心)"
    )
    # Well-known hospitals often carry no city-level suffix (北京协和医院, 南京鼓楼医院, 上海长海医院): after a verb of
    # going or being treated somewhere, a province or major city name (without 市) starting a name that ends in
    # 医院 makes it an institution, unless what follows the place is a kind of hospital (北京的儿童医院 is not
    # matched: 的 ends a name).
    famous = (rf"(?<=[于在至到往赴去入转来从])(?:{PLACES})(?!(?:{KINDS})医院){NAME_CH}{{0,{reach_famous}}}?医院"
              rf"|(?<![\p{{Han}}])(?:{PLACES})(?!(?:{KINDS})医院){NAME_CH}{{1,{reach_famous}}}?医院")
    over89 = r"(?:9\d|1[0-4]\d)"
    account = r"(?=[A-Za-z.-]*[\d_])[A-Za-z0-9][A-Za-z0-9_.-]{4,39}(?![A-Za-z0-9_])"
    record = r"(?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,24}(?![A-Za-z0-9])"
    return [
        ListRecognizer("CN_PHONE", "ChinesePhoneRecognizer", LANGUAGE, [
            Pattern("mobile", _one_script(mobile), 0.9),
            Pattern("landline", _one_script(landline), 0.75),
            Pattern("landline_intl", _one_script(landline_intl), 0.85),
            Pattern("labelled", _labelled(label_shapes.PHONE_LABEL,
                                          _one_script(r"[(（+]?\d(?:[ ./()（）-]{0,3}\d){6,15}(?:\s?转\s?\d{1,5})?(?!\d)"),
                                          many=True, sep=label_shapes.FRAMED_SEP), 0.9),
        ], global_regex_flags=FLAGS),
        # every match holds an @: a batch without one (most record text) is not scanned
        HintedRecognizer("EMAIL", "EmailRecognizer", LANGUAGE, [
            Pattern("email", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", 1.0),
            # spaced around @ (li @ 163.com): only with a common top-level domain, since `x @ w.weight` is code
            Pattern("email_spaced", r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+ @ [A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                                    r"\.(?:com|net|org|edu|gov|cn|hk|tw|io|info|biz|me|cc)(?![A-Za-z0-9-])", 1.0),
        ], global_regex_flags=FLAGS, hint="@"),
        # written to dodge scrapers: zhang.san(at)163.com, li[at]qq[dot]com, wang（at）126.com
        HintedRecognizer("EMAIL", "ObfuscatedEmailRecognizer", LANGUAGE, [
            Pattern("email_obfuscated", rf"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+\s?{OBFUSCATED_AT}\s?[A-Za-z0-9-]+"
                                        rf"(?:(?:\.|\s?{OBFUSCATED_DOT}\s?)[A-Za-z0-9-]+)*(?:\.|\s?{OBFUSCATED_DOT}\s?)"
                                        r"[A-Za-z]{2,}(?![A-Za-z0-9-])", 0.95),
        ], global_regex_flags=FLAGS, hint=OBFUSCATED_AT),
        # spelled with words: zhangsan at 163 dot com, lisi 艾特 126 点 com, wangwu#163.com (cmedins.deid.email_words:
        # a bare `at` only before a mail provider or a domain with a dot spelled as a word)
        HintedRecognizer("EMAIL", "WordEmailRecognizer", LANGUAGE, [
            Pattern("email_words", email_words.EMAIL_WORDS, 0.95),
        ], global_regex_flags=FLAGS, hint=email_words.HINT),
        ListRecognizer("CONTACT_ID", "ContactAccountRecognizer", LANGUAGE, [
            # an account holds a digit or underscore (wxid_ab12, 123456789); a letters-only one only after a colon
            # or 为/是, so `QQ Music` and `WeChat users` in general instructions stay words
            Pattern("labelled", _labelled(CONTACT_LABELS, account, many=True, sep=framed), 0.95),
            Pattern("labelled_key", _labelled(label_shapes.CONTACT_KEY, account, sep=label_shapes.KEY_SEP), 0.95),
            Pattern("labelled_letters", rf"(?:{CONTACT_LABELS}){label_shapes.EXPLICIT_SEP}\K[A-Za-z][A-Za-z0-9_.-]{{4,39}}(?![A-Za-z0-9_])", 0.9),
        ], global_regex_flags=FLAGS),
        ListRecognizer("MEDICAL_RECORD_NUMBER", "RecordNumberRecognizer", LANGUAGE, [
            Pattern("labelled", _labelled(record_labels, record, many=True, sep=framed), 0.95),
            # MRN: 00123456, Hospital No.: ZY2023001234, "zyh":"1234567" (label_shapes: English labels, pinyin keys)
            Pattern("labelled_en", _labelled(label_shapes.EN_RECORD_LABEL, label_shapes.EN_RECORD_VALUE, many=True,
                                             sep=framed), 0.95),
            Pattern("labelled_key", _labelled(label_shapes.RECORD_KEY, record, sep=label_shapes.KEY_SEP), 0.95),
        ], global_regex_flags=FLAGS),
        CompiledRecognizer("LICENSE_PLATE", "LicensePlateRecognizer", LANGUAGE, [Pattern("plate", plate, 0.85)],
                          global_regex_flags=FLAGS),
        ListRecognizer("PASSPORT", "PassportRecognizer", LANGUAGE, [
            Pattern("passport", passport, 0.6),
            Pattern("labelled", _labelled(r"护照号码|护照号|护照|通行证号码|通行证号|通行证", r"[A-Z0-9]{7,12}(?![A-Za-z0-9])",
                                          sep=framed), 0.95),
            Pattern("labelled_en", _labelled(label_shapes.EN_PASSPORT_LABEL, r"(?=[A-Z]*[0-9])[A-Z0-9]{7,12}(?![A-Za-z0-9])",
                                             sep=framed), 0.95),
        ], global_regex_flags=FLAGS),
        CompiledRecognizer("DATE_OF_BIRTH", "DateOfBirthRecognizer", LANGUAGE, [
            Pattern("labelled", _labelled(dob_labels, rf"(?:{DATE_ANY}|{YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d))"), 1.0),
            Pattern("labelled_field", _labelled(dob_fields, dob_value, sep=framed), 1.0),
            Pattern("born", rf"(?<!\d)(?:{DATE_ANY}|{YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|{YEAR}\s*年)"
                            rf"(?=\s*(?:出生|生人|生[，,。；;\s）)]))", 1.0),
        ], global_regex_flags=FLAGS),
        CompiledRecognizer("DATE_TIME", "ChineseDateRecognizer", LANGUAGE, [
            Pattern("ymd_cn", rf"(?<!\d){DATE_CN}", 0.85),
            Pattern("ymd_sep", rf"(?<![\d.]){DATE_SEP}", 0.85),
            Pattern("ymd_hanzi", DATE_HANZI, 0.85),
            Pattern("ym", rf"(?<!\d){YEAR}\s*年\s*{MONTH}\s*月|(?<![\d.]){YEAR}[-/]{MONTH}(?![-/.\d])", 0.7),
            # (?=\d) first: the regex module then skips non-digits fast (3x cheaper, same matches)
            Pattern("md", rf"(?=\d)(?<![\d年]){MONTH}\s*月\s*{DAY}\s*[日号](?!\d)", 0.7),
            Pattern("yymd", rf"(?<!\d)\d{{2}}\s*年\s*{MONTH}\s*月\s*{DAY}\s*[日号]", 0.7),
        ], global_regex_flags=FLAGS),
        CompiledRecognizer("AGE_OVER_89", "AgeOver89Recognizer", LANGUAGE, [
            Pattern("age", rf"(?<![\d.]){over89}(?=\s*(?:周岁|岁))", 0.9),
            Pattern("age_hanzi", r"(?:九十[一二三四五六七八九]?|一百[零一二三四五六七八九十]{0,3})(?=周岁|岁)", 0.9),
            Pattern("labelled", _labelled(r"年龄", rf"{over89}(?![\d.])"), 0.9),
        ], global_regex_flags=FLAGS),
        CompiledRecognizer("CN_ADDRESS", "ChineseAddressRecognizer", LANGUAGE, [
            AnchoredPattern("address", address, 0.8, anchor=level, reach=reach_address, word_start=True, run=NAME_CH),
            AnchoredPattern("village", rf"{NAME_START}{NAME_CH}{{2,8}}?(?:村|屯|庄|镇|乡)(?=人)", 0.7,
                            anchor="[村屯庄镇乡]人", reach=8, word_start=True, run=NAME_CH),
            # 现住院治疗: 现 + 住院, not the label 现住
            Pattern("labelled", _labelled(address_labels, rf"(?!院)(?!{generic_place}){value}"), 0.95),
        ], global_regex_flags=FLAGS),
        CompiledRecognizer("INSTITUTION", "InstitutionRecognizer", LANGUAGE, [
            AnchoredPattern("institution", institution, 0.75, anchor=facility, reach=reach_institution, word_start=True,
                            run=r"\p{Han}"),
            AnchoredPattern("famous_hospital", famous, 0.7, anchor="医院",  # places and name characters: all Han
                            reach=max(map(len, PLACES.split("|"))) + reach_famous, run=r"\p{Han}"),
            Pattern("well_known_hospital", rf"{NAME_START}(?<![0-9])(?:{'|'.join(WELL_KNOWN_HOSPITALS)})医院", 0.7),
        ], global_regex_flags=FLAGS),
        ChineseIdRecognizer(),
        BankCardRecognizer(),
        IpAddressRecognizer(),
    ]


__all__ = ["LANGUAGE", "RecognizerResult", "luhn_ok", "pattern_recognizers"]
