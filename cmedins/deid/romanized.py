"""Person names written in Latin letters: pinyin (患者Zhang Wei, 姓名：WANG Fang, the Western order Wei Zhang),
Cantonese and Wade-Giles spellings (Chan Tai Man, Chang Hsiao-ming), and a name after a title (Dr. Sun). Records
kept in English, passports and overseas patients write names this way; the Chinese name rules
(cmedins.deid.names) read Han characters only.

Every rule needs context, as the Chinese ones do:
1. a name label (姓名, Name, Patient name, 签名 ...), then two or three capitalised words: any name;
2. a role word (患者, 家属, Patient, 医师 ...), then two or three capitalised words of which the first or the last
   is a romanised surname (SURNAMES);
3. a title (Dr, Mr, Mrs, Ms, Miss, Prof), then one to three capitalised words;
4. two or three capitalised words with a romanised surname first or last, then a sex (，男 / , female).
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult

from cmedins.deid.recognizers import LANGUAGE

# Hanyu Pinyin of the common surnames, then Cantonese / Wade-Giles / Hokkien spellings (Hong Kong, Taiwan,
# overseas): compared without case.
_SURNAME_LIST = """
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie song tang han
feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lv lu ding ren yao shen zhong cui
tan fan jin shi liao jia xia fu fang bai zou meng xiong qin qiu hou duan lei long tao hao gu mao gong shao wan
qian yan dai kong xiang mo qi niu ge xing an yi qiao pang ni zhuang nie zhan geng guan lan jiao yue yin kang shu
ruan ji mei tong ling bi shan ouyang situ zhuge shangguan sima murong
chan wong cheung lee ho leung lau ng chow tsang yeung lam kwok hui chu tse fung kwan yip lai chiu mak tsui siu
tsai hsu chang hsieh tseng kuo chou chien hsiao chiang teng pai kao chao yeh tsao fong kung kong choi choy
"""
SURNAMES = frozenset(_SURNAME_LIST.split())
_WORD = r"(?:[A-Z][a-z]+|[A-Z]{2,})(?:-[A-Za-z][a-z]*)?"  # Zhang, ZHANG, Xiao-ming, Le-I
_NAME = rf"(?P<name>{_WORD}(?: {{1,2}}{_WORD}){{1,2}})(?![A-Za-z])"  # Zhang  Wei: a doubled space too
FULL_NAME = re.compile(rf"{_WORD}(?: {{1,2}}{_WORD}){{1,2}}")  # what the rules but `title` find: names.propagate spreads it
NAME_LABEL = (r"姓名|签名|签字|[Pp]atient [Nn]ame|[Ff]ull [Nn]ame|[Nn]ame of [Pp]atient|NAME|Name")
ROLE = (r"患者|病人|患儿|家属|联系人|医生|医师|主治医师|经治医师|主任|护士|记录者|术者|"
        r"[Pp]atient|PATIENT|[Pp]t\.?|[Dd]octor|[Pp]hysician|[Ss]urgeon|[Nn]urse|[Cc]ontact|[Ss]igned by|[Aa]ttending")
TITLE = r"(?<![A-Za-z])(?:Dr|Mr|Mrs|Ms|Miss|Prof|DR|MR|MRS|MS)(?:\. ?| )"  # a dot or a space: MRCP, MSTN are no titles
SEX = r"\s*[，,]\s*(?:男|女|[Mm]ale|[Ff]emale|M|F)(?![A-Za-z])"
_OPEN = r"[（(【\[『「“\"]?\s*"  # 患者（Zhang Wei）, 姓名【LI Ming】
LABELLED = re.compile(rf"(?:{NAME_LABEL})\s*[：:]?\s*{_OPEN}{_NAME}")
# After a name label, pinyin in lower case (姓名：zhang wei) with a romanised surname first or last.
_LOWER = r"[a-z]+(?:-[a-z]+)?"
LABELLED_LOWER = re.compile(rf"(?:{NAME_LABEL})\s*[：:]?\s*{_OPEN}(?P<name>{_LOWER}(?: {{1,2}}{_LOWER}){{1,2}})(?![A-Za-z])")
ROLE_NAMED = re.compile(rf"(?:{ROLE})\s*[：:]?\s*{_OPEN}{_NAME}")
TITLED = re.compile(rf"{TITLE}(?P<name>{_WORD}(?: {_WORD}){{0,2}})(?![A-Za-z])")
SEX_AFTER = re.compile(rf"(?<![A-Za-z]){_NAME}(?={SEX})")
# Capitalised words that are no name after a label (Patient: Female Adult, Name: Not Available).
NOT_NAMES = frozenset(("the", "a", "an", "not", "no", "none", "unknown", "male", "female", "adult", "child", "yes",
                       "age", "sex", "available", "n/a"))


RULES = ("label", "role", "title", "sex_after", "label_lower")  # one per scan, in order


class RomanizedNameRecognizer(EntityRecognizer):
    """PERSON entities written in Latin letters (see the module docstring)."""

    scans = (LABELLED, ROLE_NAMED, TITLED, SEX_AFTER, LABELLED_LOWER)  # what cmedins.deid.prefilter flags texts for

    def __init__(self, score: float = 0.9):
        super().__init__(supported_entities=["PERSON"], name="RomanizedNameRecognizer", supported_language=LANGUAGE)
        self.score = score

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None, regions=None):
        return [RecognizerResult("PERSON", start, end, self.score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            "rule": rule}) for start, end, rule in self.spans(text, regions)]

    def hits(self, text: str, regions=None) -> list[tuple[str, int, int, float]]:
        """(entity type, start, end, score) tuples, as the engine collects them."""
        return [("PERSON", start, end, self.score) for start, end, _ in self.spans(text, regions)]

    def spans(self, text: str, regions=None) -> list[tuple[int, int, str]]:
        out = []
        for index, (pattern, rule) in enumerate(zip(self.scans, RULES, strict=True)):
            for lo, hi in [(0, len(text))] if regions is None else regions[index]:
                for match in pattern.finditer(text, lo, hi):
                    words = match.group("name").split()
                    if any(word.lower() in NOT_NAMES for word in words):
                        continue
                    if rule in ("role", "sex_after", "label_lower") and not (_surname(words[0]) or _surname(words[-1])):
                        continue
                    out.append((match.start("name"), match.end("name"), rule))
        return out


def _surname(word: str) -> bool:
    return word.lower() in SURNAMES
