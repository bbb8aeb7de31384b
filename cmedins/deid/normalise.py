"""Normalised views of a text for detection, with offsets that lead back to the original.

`fold(text)`: a same-length view in which full-width ASCII (`１３８`, `＠`, `－`, `．`, `Ｘ`), the
ideographic space, any dash between two digits (`—`, `–`, `−`), the Chinese digit characters of a number of 7+
digits (`一三八一二三四五六七八`, `一三八 一二三四 五六七八`, `138一二三四5678`) and the letters O / l of one
(`140O5667148`; at its start or a group's only where they make a phone or an ID: `l3812345678`, `O1O-62345678`)
become their ASCII forms, a 一 typed for a phone's dash (`1381234一5678`) a hyphen, and invisible or control
characters (zero-width space, NUL) a space, character for character (NFKC of each character where that is one
character; the Chinese punctuation every pattern already knows, `，：；（）！？`, stays as it is). Same length
means a match in the view has the same offsets in the original: the offset map is the identity.

The residual scan (cmedins.deid.residual) reads its digit groups on this view too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from cmedins.deid import charclass, number_shapes, simplified

KEEP = set("，：；（）！？")  # full-width punctuation native to Chinese text: the patterns match it as is


@cache
def _fold_char(ch: str) -> str:
    if ch == "\u3000":
        return " "
    if "\uff01" <= ch <= "\uff5e" and ch not in KEEP:
        folded = unicodedata.normalize("NFKC", ch)
        return folded if len(folded) == 1 else ch
    return ch


# Only the wide characters that fold to something else are searched for: the punctuation kept as it is (most
# wide characters in Chinese text) is then never visited one by one.
_WIDE_FOLD = {ch: _fold_char(ch) for ch in map(chr, [*range(0xFF01, 0xFF5F), 0x3000]) if _fold_char(ch) != ch}
# Enclosed digits one character wide (①③⑧, ⓵, ❶, ➀, ➊ and their zeros): a phone spelt with them read as no
# number at all. Two-digit ones (⑩ ...) have no one-character view.
_WIDE_FOLD |= {chr(first + i): str(i + 1) for first in (0x2460, 0x24F5, 0x2776, 0x2780, 0x278A) for i in range(9)}
_WIDE_FOLD |= {"\u24ea": "0", "\u24ff": "0", "\U0001f10b": "0", "\U0001f10c": "0"}
_WIDE = re.compile(f"[{''.join(map(re.escape, _WIDE_FOLD))}]")


# Every other script's decimal digits (Arabic-Indic ١٣٨, Devanagari १३८, mathematical 𝟏𝟑𝟖, ...): a number spelt in
# them read as no number to every detector and to the residual scan. A run of them becomes ASCII digits, one for
# one, unless it touches an ASCII or full-width digit: 13812345678٣ is a phone beside another number, not one
# 12-digit number (the phone pattern keeps a number's digits to one script and tries the mixed spelling second).
# Digits that are no decimal digits to Unicode (superscripts ¹³⁸, parenthesised ⑴, with a full stop ⒈: category
# No with a digit value) read as no number either, and fold the same way.
def _is_digit(code: int) -> bool:
    category = unicodedata.category(chr(code))
    return category == "Nd" or (category == "No" and unicodedata.digit(chr(code), None) is not None)


def _other_digit_codes(codes: Iterable[int]) -> list[int]:
    return [code for code in codes if _is_digit(code) and not 0xFF10 <= code <= 0xFF19]


# Every character with a digit value is one str.isdigit accepts, and its C-level filter passes over the 1.1M code
# points in a third of the time of the test above (0.17 -> 0.06 CPU-s in every process that de-identifies).
_OTHER_DIGIT_CLASS = charclass.ranges(_other_digit_codes(map(ord, filter(str.isdigit, map(chr, range(0x80, 0x110000))))))
_OTHER_DIGITS = re.compile(f"(?<![0-9０-９])[{_OTHER_DIGIT_CLASS}]+(?![0-9０-９])")


def _ascii_digits(match: re.Match) -> str:
    return "".join(str(unicodedata.digit(ch)) for ch in match.group())


# Dashes of every width between two digits (138—1234—5678, 021–6234): a hyphen in the view.
_DIGIT_DASH = re.compile(r"(?<=[0-9０-９])[\u2010-\u2015\u2212\ufe58\ufe63](?=[0-9０-９])")


# Invisible characters (zero-width space/joiners, direction marks, word joiner, soft hyphen, BOM) and control
# characters other than tab and line breaks (NUL, ...): a space in the view, wherever they are. Pasted text
# carries them: between digits (138\u200b0013\u200b8000) the number reads as a spaced one; after a label
# (患者\u200b张三, 姓名：\x00张三) the name reads as the one after a space (it read as no name at all, and a NUL
# inside a phone or an ID left part of it unmasked).
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2060-\u2064\ufeff]+")


# A number spelled in Chinese digit characters (手机一三八一二三四五六七八, 身份证一一〇一〇五…), in short groups
# (一三八 一二三四 五六七八, 一六九-一二九〇-五三四四) or mixed with ASCII / full-width digits (一六六18805397,
# 138一二三四5678): a run of digits of either kind, split by short separators as a phone or an ID is (one or two
# spaces, one dash, dot or slash with a space either side or not), of seven or more digits in all and one Chinese
# digit at least, is always a phone, an ID or a record number, never a clinical quantity (those use 十/百 or stay
# short: a year such as 一九六五 has four digits, 三四天, 第一二三), so the view spells its Chinese digits in
# ASCII digits (what is not a Chinese digit stays) for every detector and the scan.
CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "幺": "1", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
             "六": "6", "七": "7", "八": "8", "九": "9",
             # the financial (anti-forgery) numerals, simplified and traditional: 壹叁捌壹贰叁肆伍陆柒捌
             "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "叄": "3", "肆": "4", "伍": "5", "陆": "6",
             "陸": "6", "柒": "7", "捌": "8", "玖": "9"}
_CN = "".join(CN_DIGITS)
_CN_OR_DIGIT = f"[0-9０-９{_CN}]"
_GROUP_SEP = r"(?:[ \u3000]?[-./－．／\u2010-\u2015\u2212][ \u3000]?|[ \u3000]{1,2})"
# A run of seven digits or more (a digit, then each next to the one before or one separator away), whole.
_CN_RUN = re.compile(f"{_CN_OR_DIGIT}(?:{_GROUP_SEP}?{_CN_OR_DIGIT}){{6,}}")


def _repeat(piece: str, times: int) -> str:
    return "" if times == 0 else f"(?:{piece}){{{times}}}"


# Seven digits of a run, one of them Chinese: every run the view folds holds such a window (the trigger; for
# Hyperscan, not for `re`, which tries its seven branches at every position and is slower than _CN_RUN).
_CN_WINDOW = "|".join(_repeat(f"{_CN_OR_DIGIT}{_GROUP_SEP}?", k) + f"[{_CN}]"
                      + _repeat(f"{_GROUP_SEP}?{_CN_OR_DIGIT}", 6 - k) for k in range(7))
_CN_TABLE = str.maketrans(CN_DIGITS)


# 一 alone between two ASCII or full-width digits is a dash (每日10460一11715千焦, 蛋白质100一120克 in real
# text): it splits the run, each side judged on its own, and stays as it is.
_RANGE_DASH = re.compile("(?<=[0-9０-９])一(?=[0-9０-９])")
# ... unless the digits around it make a mobile in a phone's groups (3-4-4, 3-8, 7-4: 1381234一5678,
# 138一1234一5678) or a landline after its area code (021一62345678, and its local number split 4-4 or 3-4 by a
# space or another 一: 021一6234 5678, 0755一8888 6666, 021一6234一5678): a range never runs from such a number,
# so the 一 is the phone's dash typed in Chinese and reads as one ("-") in the view. Other separators may stand
# between the other groups (138一1234 5678), and a space either side of the 一 (010 一 6234 5678: read before as
# the digit 1 of a 12-digit run).
_D = "[0-9０-９]"
_PHONE_SEP = f"(?: ?一 ?|{_GROUP_SEP})"
_DASHED_PHONE = re.compile(
    rf"(?<![0-9０-９])(?:(?P<mobile>{_D}{{3}}{_PHONE_SEP}{_D}{{4}}{_PHONE_SEP}{_D}{{4}}|{_D}{{3}}{_PHONE_SEP}{_D}{{8}}"
    rf"|{_D}{{7}}{_PHONE_SEP}{_D}{{4}})|(?P<landline>{_D}{{3,4}} ?一 ?(?:{_D}{{7,8}}|{_D}{{3,4}}{_PHONE_SEP}{_D}{{4}})))"
    r"(?![0-9０-９])")
# A 一 between digits, a space either side or not: where a phone's dash may be typed in Chinese.
_YI_BETWEEN = re.compile("(?<=[0-9０-９]) ?一 ?(?=[0-9０-９])")
_MOBILE_DIGITS = re.compile(r"1[3-9]\d{9}")
# The area code, 一 (a space either side or not), the local number whole or in two groups (4-4, 3-4).
_LANDLINE_DIGITS = re.compile(r"0(?:10|2\d|[3-9]\d{2}) ?一 ?[2-9](?:\d{6,7}|\d{3}(?: ?一 ?|[- ./]| {1,2})\d{4}"
                              r"|\d{2}(?: ?一 ?|[- ./]| {1,2})\d{4})")
_WIDE_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _dashed_phone(match: re.Match) -> str:
    number = match.group()
    ascii_number = number.translate(_WIDE_DIGITS)
    mobile = match.group("mobile") and _MOBILE_DIGITS.fullmatch("".join(filter(str.isdigit, ascii_number)))
    phone = "一" in number and (mobile or _LANDLINE_DIGITS.fullmatch(ascii_number))  # 021一62345678 is 3-8 too
    return number.replace("一", "-") if phone else number


# The same 一 after an area code in brackets (（0755）一8888 6666, (021)一62345678, （010）一 6234 5678): a hyphen where
# the local number after it (a space between or not), whole or in two groups, makes a landline with that area code.
_PAREN_AREA_YI = re.compile(rf"([(（]0{_D}{{2,3}}[)）] ?)一(?= ?[2-9２-９](?:{_D}{{6,7}}|{_D}{{2,3}}(?: |-|一){_D}{{4}})"
                            r"(?![0-9０-９]))")


def _paren_area_yi(match: re.Match) -> str:
    return match.group(1) + "-"


# One Chinese digit at either end of a run, beside the ASCII or full-width digits (or a separator): a name's last
# character (患者张三13812345678, 王五 13812345678) or a word's (第一, 三楼), not a digit of the number after it.
_LONE_EDGE = re.compile(f"^[{_CN}](?=[0-9０-９]|{_GROUP_SEP})"
                        rf"|(?<=[0-9０-９ \u3000./／．\-－\u2010-\u2015\u2212])[{_CN}]$")


def _cn_part(part: str) -> str:
    head = tail = ""
    if _LONE_EDGE.search(part):
        if _LONE_EDGE.match(part):
            head, part = part[0], part[1:]
        if _LONE_EDGE.search(part):
            part, tail = part[:-1], part[-1]
    digits = sum(ch.isdigit() or ch in CN_DIGITS for ch in part)
    if digits >= 7 and any(ch in CN_DIGITS for ch in part):
        part = part.translate(_CN_TABLE)
    return head + part + tail


def _cn_run(match: re.Match) -> str:
    run = match.group()
    if run.isascii() or not any(ch in CN_DIGITS for ch in run):
        return run
    if "一" in run and _YI_BETWEEN.search(run):
        run = _DASHED_PHONE.sub(_dashed_phone, run)
    if "一" in run and _RANGE_DASH.search(run):
        return "一".join(map(_cn_part, _RANGE_DASH.split(run)))
    return _cn_part(run)


# The letter O (o) for a zero and l (I) for a one inside a number (手机：140O5667148, 身份证号：32010219380821O117,
# 138l2345678): a run of ASCII digits and these letters that starts with a digit, holds seven characters or more,
# and touches no other letter or digit (an X may follow: an ID's check character) reads as that number.
# A word stays: CO2, SpO2, IO, HbA1c, T1DM (a letter before the run, or the run starts with one), 10IU, 2000IU (a
# letter after it), 1OO (too short to be an identifier).
_LETTERS = "OoIl"
_LETTER_NUMBER = re.compile(rf"(?<![A-Za-z0-9])[0-9]+[{_LETTERS}][0-9{_LETTERS}]*(?![A-WYZa-wyz0-9])")
# Its trigger: a digit, then a letter among the next six characters of such a run, seven characters in all.
_LETTER_TRIGGER = "[0-9](?:" + "|".join(_repeat("[0-9]", k) + f"[{_LETTERS}]" + _repeat(f"[0-9{_LETTERS}]", 5 - k)
                                        for k in range(6)) + ")"
_LETTER_TABLE = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1"})


def _letter_number(match: re.Match) -> str:
    run = match.group()
    return run.translate(_LETTER_TABLE) if len(run) >= 7 else run


# The same letters at the start of a number (电话：l3812345678, 身份证号：l10101…, O1O-62345678) or of one of its
# groups (手机 l38 1234 5678, 138 l234 5678, 11O1O1 198OO1O1 123X): a letter starts a word as often (I131,
# O157, IL 6, l 10 mg), so these are read only where they make a number: groups of ASCII digits and these
# letters (each holding a digit, split as a phone's or an ID's are), touching no other letter or digit, of which
# some neighbouring ones, read as digits and joined, are a mobile, a landline with its area code or a resident ID
# with its region's first digit and birth date (the residual scan's shapes). Those groups' letters become digits;
# the rest of the run stays as it is.
_LETTER_GROUP = f"[{_LETTERS}]*[0-9][0-9{_LETTERS}]*"
_LETTER_GROUPS = re.compile(rf"(?<![A-Za-z0-9]){_LETTER_GROUP}(?:{_GROUP_SEP}{_LETTER_GROUP})*[Xx]?"
                            r"(?![A-WYZa-wyz0-9])")
_ONE_GROUP = re.compile(f"[0-9{_LETTERS}]+[Xx]?")
# Its trigger: ten characters of such groups (the shortest number shape, a landline), the first letter at any of
# them, digits before it.
_LETTER_GROUPS_TRIGGER = "|".join(_repeat(f"[0-9](?:{_GROUP_SEP})?", k) + f"[{_LETTERS}]"
                                  + _repeat(f"(?:{_GROUP_SEP})?[0-9{_LETTERS}]", 9 - k) for k in range(10))


def _letter_groups(match: re.Match) -> str:
    run = match.group()
    if not any(ch in _LETTERS for ch in run):
        return run
    groups = [(m.start(), m.end(), m.group().translate(_LETTER_TABLE)) for m in _ONE_GROUP.finditer(run)]
    read = list(run)
    for i in range(len(groups)):
        digits = ""
        for j in range(i, len(groups)):
            digits += groups[j][2]
            if len(digits) > 20:
                break
            if number_shapes.phone_or_id(digits):
                for start, end, group in groups[i:j + 1]:
                    read[start:end] = group
    return "".join(read)


# A text in which none of these occurs, and no traditional character (simplified.holds_traditional: a class of
# 4,221 characters is too long for Hyperscan), is its own folded view (a Hyperscan pass tells it for many texts
# at once: cmedins.deid.prefilter). A full-width letter or digit (１３８Ｏ…) triggers the wide fold, after which
# the letters are read.
FOLD_TRIGGERS = (_CN_WINDOW, _PAREN_AREA_YI.pattern, _OTHER_DIGITS.pattern, _DIGIT_DASH.pattern, _INVISIBLE.pattern,
                 _WIDE.pattern, _LETTER_TRIGGER, _LETTER_GROUPS_TRIGGER)


def fold(text: str) -> str:
    """Same-length ASCII view of full-width characters, of dashes between digits, of numbers spelt with Chinese
    digit characters and of the letters O / l inside a number (module docstring)."""
    if "一" in text and _PAREN_AREA_YI.search(text):
        text = _PAREN_AREA_YI.sub(_paren_area_yi, text)
    if _CN_RUN.search(text):
        text = _CN_RUN.sub(_cn_run, text)
    if _OTHER_DIGITS.search(text):
        text = _OTHER_DIGITS.sub(_ascii_digits, text)
    if _DIGIT_DASH.search(text):
        text = _DIGIT_DASH.sub("-", text)
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub(lambda m: " " * len(m.group()), text)
    text = simplified.simplify(text)  # 張偉 -> 张伟: the name rules and word lists are simplified
    if _WIDE.search(text):
        text = _WIDE.sub(lambda m: _WIDE_FOLD[m.group()], text)
    if _LETTER_NUMBER.search(text):
        text = _LETTER_NUMBER.sub(_letter_number, text)
    if _LETTER_GROUPS.search(text):
        text = _LETTER_GROUPS.sub(_letter_groups, text)
    return text  # the common case: nothing folded, no copy
