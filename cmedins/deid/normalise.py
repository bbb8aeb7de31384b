"""Normalised views of a text for detection, with offsets that lead back to the original.

`fold(text)`: a same-length view in which full-width ASCII (`１３８`, `＠`, `－`, `．`, `Ｘ`), the
ideographic space, any dash between two digits (`—`, `–`, `−`) and runs of 7+ Chinese digit characters
(`一三八一二三四五六七八`) become their ASCII forms, and invisible or control characters (zero-width space, NUL) a
space, character for character (NFKC of each character where that is one
character; the Chinese punctuation every pattern already knows, `，：；（）！？`, stays as it is). Same length
means a match in the view has the same offsets in the original: the offset map is the identity.

`digit_view(text)`: the folded text with separators between digits removed (`138 1234-5678` ->
`13812345678`), plus `positions[i]` = the original offset of view character i: the residual scan reads numbers
here whatever their spelling, and maps every hit back to the original span.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from cmedins.deid import simplified

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


def _digit_ranges() -> str:
    codes = [code for code in range(0x80, 0x110000) if _is_digit(code) and not 0xFF10 <= code <= 0xFF19]
    ranges, start = [], codes[0]
    for before, code in zip(codes, codes[1:] + [None], strict=True):
        if code != before + 1:
            ranges.append(chr(start) if start == before else f"{chr(start)}-{chr(before)}")
            start = code
    return "".join(ranges)


_OTHER_DIGITS = re.compile(f"(?<![0-9０-９])[{_digit_ranges()}]+(?![0-9０-９])")


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


# A number spelled in Chinese digit characters (手机一三八一二三四五六七八, 身份证一一〇一〇五…): a run of seven or
# more is always a phone, an ID or a record number, never a clinical quantity (those use 十/百 or stay short,
# and a year such as 一九六五 has four), so the view spells it in ASCII digits for every detector and the scan.
CN_DIGITS = {"〇": "0", "零": "0", "○": "0", "幺": "1", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
             "六": "6", "七": "7", "八": "8", "九": "9",
             # the financial (anti-forgery) numerals, simplified and traditional: 壹叁捌壹贰叁肆伍陆柒捌
             "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3", "叄": "3", "肆": "4", "伍": "5", "陆": "6",
             "陸": "6", "柒": "7", "捌": "8", "玖": "9"}
_CN_NUMBER = re.compile(f"[{''.join(CN_DIGITS)}]{{7,}}")


# A text in which none of these occurs, and no traditional character (simplified.holds_traditional: a class of
# 4,221 characters is too long for Hyperscan), is its own folded view (a Hyperscan pass tells it for many texts
# at once: cmedins.deid.prefilter).
FOLD_TRIGGERS = (_CN_NUMBER.pattern, _OTHER_DIGITS.pattern, _DIGIT_DASH.pattern, _INVISIBLE.pattern,
                 _WIDE.pattern)


def fold(text: str) -> str:
    """Same-length ASCII view of full-width characters, of dashes between digits and of long runs of Chinese
    digit characters (module docstring)."""
    if _CN_NUMBER.search(text):
        text = _CN_NUMBER.sub(lambda m: "".join(CN_DIGITS[ch] for ch in m.group()), text)
    if _OTHER_DIGITS.search(text):
        text = _OTHER_DIGITS.sub(_ascii_digits, text)
    if _DIGIT_DASH.search(text):
        text = _DIGIT_DASH.sub("-", text)
    if _INVISIBLE.search(text):
        text = _INVISIBLE.sub(lambda m: " " * len(m.group()), text)
    text = simplified.simplify(text)  # 張偉 -> 张伟: the name rules and word lists are simplified
    if not _WIDE.search(text):
        return text  # the common case: nothing to fold, no copy
    return _WIDE.sub(lambda m: _WIDE_FOLD[m.group()], text)


# Characters that may sit inside a written number: spaces, dashes, dots, slashes, brackets around an area code.
NUMBER_SEPARATORS = " \t-.－—–/()（）"


def digit_view(text: str) -> tuple[str, list[int]]:
    """The folded text with separators between two digits dropped, and each view character's original offset.
    A separator run is dropped only when it is short (at most 2 characters) and sits between digits, so
    `2016-10-29` becomes `20161029` and `(+86)138` becomes `(+86138`: the residual checks read shapes there."""
    folded = fold(text)
    out: list[str] = []
    positions: list[int] = []
    i, n = 0, len(folded)
    while i < n:
        ch = folded[i]
        if ch in NUMBER_SEPARATORS and out and out[-1].isdigit():
            j = i
            while j < n and j - i < 3 and folded[j] in NUMBER_SEPARATORS:
                j += 1
            if j - i <= 2 and j < n and folded[j].isdigit():
                i = j
                continue
        out.append(ch)
        positions.append(i)
        i += 1
    return "".join(out), positions
