"""Section headings of Chinese medical records and the pattern that finds them in free text.

Real records write one heading many ways: `主诉：`, `主 诉:`, `【主诉】`, `一、主诉`, `1.主诉`, `(2)主诉`, or
`主诉` alone on its line; CCKS-style summaries also number headings mid-paragraph (`…未排大便。4.查体：T36.1C`).
Each heading name maps to a MedicalRecord field; some are sub-headings whose label is worth keeping in the
text (`实验室检查` and `影像学检查` inside 辅助检查, `婚育史` inside 个人史).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

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


def trie_pattern(words: list[str], between: str = "") -> str:
    """One alternation of `words` as a trie (主诉|主要… -> 主(?:诉|要…)), `between` allowed between characters:
    at a candidate position the regex tries the few words sharing its first character instead of every word
    in turn. A longer word is tried before its prefix, as a longest-first alternation would; words differing
    in a character never both match, so their order is free (sorted, for one pattern text everywhere)."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def alternatives(node: dict) -> str:
        branches = []
        for char in sorted(key for key in node if key):
            child = node[char]
            rest = alternatives(child) if set(child) != {""} else ""
            if rest and "" in child:
                rest = f"(?:{between}{rest}|)"  # the longer word first, then the word ending here
            elif rest:
                rest = between + rest
            branches.append(re.escape(char) + rest)
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return alternatives(trie)


# "主 诉" and "主　诉": spaced-out headings are common in printed records.
_NAMES = trie_pattern(list(HEADINGS), between=_SPACE + "*")
# A heading from where it starts: indent, numbering, the name (bare, 【】 or []), colon.
_HEADING = (rf"(?P<indent>{_SPACE}*)(?P<number>{_NUMBER})?{_SPACE}*"
            rf"(?:【(?P<bracketed>{_NAMES})】|\[(?P<squared>{_NAMES})\]|(?P<plain>{_NAMES})(?={_SPACE}*(?:[:：]|$)|{_SPACE}+\S))"
            rf"{_SPACE}*(?P<colon>[:：])?{_SPACE}*")
# A heading starts a line or follows 。；;，, (mid-paragraph: see find_headings). The pattern consumes that break
# character, so that the regex engine scans for one character class instead of trying an assertion at every
# position; the lookahead (any first character a heading can have) skips most commas at once.
_FIRST_CHARS = re.escape(" \t\u3000一二三四五六七八九十（(【[" + "".join(sorted({name[0] for name in HEADINGS})))
_AFTER_BREAK = re.compile(rf"[\n。；;，,](?=[{_FIRST_CHARS}\d①-⑳]){_HEADING}", re.MULTILINE)
_SPACES = re.compile(_SPACE)


class Found(NamedTuple):
    """A heading in a text: its span, its name without spaces, the numbering as written, 【】/[] or bare."""

    start: int
    end: int
    name: str
    number: str | None
    bracketed: bool


def find_headings(text: str) -> list[Found]:
    """The headings of `text`, in order. A match at a line start is a heading (a bare name followed by text
    on its line only when numbered); mid-paragraph (after 。；，) only when numbered and followed by a colon,
    as in `…未排大便。4.查体：`, so that prose such as `，治疗：` is not split.

    Matches are found left to right without overlapping, as one finditer over the text would; the text gets
    a leading newline so that its start is a line start like any other (offsets are the text's own)."""
    found = []
    padded = "\n" + text
    size = len(padded)
    for match in _AFTER_BREAK.finditer(padded):
        _, number, bracketed, squared, plain, colon = match.groups()
        end = match.end()
        if number is None:
            if padded[match.start()] != "\n":
                continue  # mid-paragraph and not numbered: prose
            if plain is not None and colon is None and end != size and padded[end] != "\n":
                continue  # "主诉 发热" is a heading only when numbered: "(2)主诉 发热3天"
        elif colon is None and padded[match.start()] != "\n":
            continue
        raw = plain if plain is not None else bracketed or squared
        found.append(Found(match.start(), end - 1, raw if raw in HEADINGS else _SPACES.sub("", raw), number,
                           plain is None))
    return found
