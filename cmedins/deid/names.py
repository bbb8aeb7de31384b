"""Chinese person names: a presidio recognizer that accepts a name only where the text says a person is meant.

jieba's `nr` tag alone is far too loose for medical text: on public consultations it called drug fragments
(丁啉, 莫沙必), herbs (元胡, 金精粉), words (尤其, 容易) and blessings (祝宝宝) names, while real names there are
rare. So every rule needs context, strongest first:
1. partial names: a surname plus a masking mark (张某某, 杨XX) or an honorific (王先生, 李主任);
2. a header line: the name right before the sex (马淑英，女，84岁 / 姓名 王芳 性别 女);
3. role context: 患者/家属/医师/姓名/之父/其子 ... then surname + given name, by character rules (no
   segmentation); surnames that are mostly function words (于, 向, 由, 和 ...) must also end at a clear
   boundary (患者于强，男 is a name, 患者于今日 is not);
4. a cue after the name (教授, 博士, 研究认为, 医生 ...), confirmed by jieba's POS tagger on that clause only.
The engine then masks every other occurrence of a name found this way in the same record (names.propagate).
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import EntityRecognizer, RecognizerResult

from cmedins.deid import lexicon
from cmedins.deid.recognizers import LANGUAGE

NAME_TAGS = {"nr", "nrfg", "nrt"}
COMMON_FREQ = 20  # jieba dictionary frequency above which a word is a real word, not a rare proper noun
CLAUSE_BREAK = re.compile(r"[，。；;,.!！?？:：、（）()\[\]【】\s\"“”'‘’<>《》/]")

_surnames = "|".join(lexicon.COMPOUND_SURNAMES) + f"|[{lexicon.SURNAMES}]"
_marks = "|".join(re.escape(m) for m in lexicon.PARTIAL_NAME_MARKS)
PARTIAL = re.compile(
    rf"(?:{_surnames})(?:(?:{_marks})(?!日|天|时|年|月|处|种|些|地|医院|院|科|部|项|次|型|类|人|市|县|区)"
    rf"|(?:{'|'.join(lexicon.NAME_SUFFIX_CONTEXT)}))"
)
ROLE = re.compile(rf"(?:{'|'.join(sorted(lexicon.NAME_PREFIX_CONTEXT, key=len, reverse=True))})[：:\s]?\s*(?={_surnames})")
SURNAME = re.compile(rf"(?:{_surnames})(?=\w)")
# Surname characters that are mostly function words (于今日, 向医生, 由家属, 祝宝宝): a name starting with one
# needs a clear boundary after it.
FUNCTION_SURNAMES = set("于由和向时常平成全以从与及在将对为同共应左查但那都来尚可能祝")
# Characters that end a name: verbs and particles that follow one (王芳代诉, 陈明陪同, 李强等).
STOP_AFTER_NAME = set("代陪等于在因是的和及与诉说称同男女之先医护家住入出就来去到已曾未无有系为被由自经他她它们让把给叫")
# Pronouns and place words that start a phrase, not a given name, after 于/向/由 (于我院, 向其, 由外院).
NOT_GIVEN_FIRST = set("我本外该其此这那各每某当上下前后左右内中会能要可也还就均都已才又再仍没不很较更最太")
# What may directly follow a name when its first character is ambiguous (患者于强，男; 家属于明电话).
NAME_END_WORD = re.compile(r"代诉|陪同|陪护|电话|手机|联系|签字|签名|同意|之[父母子女夫妻孙兄弟姐妹]")
NAME_END = re.compile(rf"[^\u4e00-\u9fff]|$|{NAME_END_WORD.pattern}|男|女|平素|"
                      r"既往|主因|因|于|自|近|今|昨|半|[一二两三四五六七八九十几数多]+[年月周天日]|反复|突发|突然|出现|诉")
# Common words that may still be a given name after an ambiguous surname (向浩然, 于宇航, 时建国); nouns only
# when rare enough (于树林 yes, 向医生 no).
GIVEN_TAGS = {"nr", "nrt", "nrfg", "ns", "nz", "a", "i", "n"}
COMMON_NOUN_FREQ = 1000
# Words after a full name that say a person is meant; jieba's tagger must still read the name as nr.
CUE_AFTER = ("教授", "博士", "院士", "研究员", "主任", "主治医师", "医师", "医生", "大夫", "护士",
             "护士长", "老师", "同学", "先生", "女士", "等人", "研究认为", "认为", "指出", "报道")
CUE = re.compile(rf"(?:{_surnames})[\u4e00-\u9fff]{{1,2}}?(?={'|'.join(CUE_AFTER)})")
# Dosage forms after a word make it a drug (龙母壮骨颗粒, 李乐钙片 ...), never a name.
DOSAGE_FORM = re.compile(r"颗粒|胶囊|口服液|注射液|注射剂|冲剂|滴丸|软膏|乳膏|片剂|糖浆|合剂|气雾剂|钙片")
SURNAME_SET = set(lexicon.SURNAMES) | set(lexicon.COMPOUND_SURNAMES)
# A header line names the patient right before the sex: "马淑英，女，84岁", "姓名 王芳 性别 女".
SEX_AFTER = re.compile(rf"(?<![\u4e00-\u9fff])(?:{_surnames})[\u4e00-\u9fff]{{1,2}}"
                       rf"(?=[，,、\s]*(?:男|女)(?:[，,、\s\d]|性)|\s*性别)")
HAN = re.compile(r"[\u4e00-\u9fff]")
SEX_WORD = re.compile(r"[，,、\s]*(?:男|女)性?")
ROLE_BEFORE = re.compile(rf"(?:{'|'.join(sorted(lexicon.NAME_PREFIX_CONTEXT, key=len, reverse=True))})[：:\s]?\s*$")


@lru_cache(maxsize=1)
def _tagger():
    """A private jieba instance (the global one stays untouched for other users) that knows medical terms."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in lexicon.protected_terms():
        tokenizer.add_word(term, freq=max(tokenizer.FREQ.get(term, 0), 2000), tag="n")
    tagger = jieba.posseg.POSTokenizer(tokenizer)
    tagger.makesure_userdict_loaded()
    return tagger


class ChineseNameRecognizer(EntityRecognizer):
    """PERSON entities in Chinese clinical text (see the module docstring for the rules)."""

    def __init__(self, *, cue_score: float = 0.8, context_score: float = 0.95, partial_score: float = 0.9):
        super().__init__(supported_entities=["PERSON"], name="ChineseNameRecognizer", supported_language=LANGUAGE)
        self.cue_score = cue_score
        self.context_score = context_score
        self.partial_score = partial_score

    def load(self) -> None:
        self.tagger = _tagger()
        self.freq = self.tagger.tokenizer.FREQ
        self.tags = self.tagger.word_tag_tab
        self.protected_by_char: dict[str, list[str]] = {}
        for term in lexicon.protected_terms():
            self.protected_by_char.setdefault(term[0], []).append(term)

    def analyze(self, text, entities, nlp_artifacts=None):
        results = [self._result(m.start(), m.end(), self.partial_score, "partial")
                   for m in PARTIAL.finditer(text) if self._partial_ok(text, m.start(), m.end())]
        results += [self._result(m.start(), m.end(), self.context_score, "sex_after")
                    for m in SEX_AFTER.finditer(text) if self._sex_after_ok(text, m.start(), m.end())]
        taken = {i for r in results for i in range(r.start, r.end)}
        for match in ROLE.finditer(text):
            if match.end() not in taken and not self._inside_word(text, match.start()):
                end = self._name_after_role(text, match.end())
                if end:
                    results.append(self._result(match.end(), end, self.context_score, "role_context"))
                    taken.update(range(match.end(), end))
        for match in CUE.finditer(text):
            name = match.group()
            if match.start() not in taken and name[0] not in FUNCTION_SURNAMES and name[0] != name[1]:  # 谢谢
                end = self._tagged_name_at(text, match.start())
                if end == match.end():
                    results.append(self._result(match.start(), end, self.cue_score, "cue"))
        return [r for r in results if not DOSAGE_FORM.match(text, r.end)]

    def _partial_ok(self, text: str, start: int, end: int) -> bool:
        """王先生 and 张某某 are names; 向医生, 谢谢医生, 检查医生 and 但爷爷 are not. After an ambiguous surname a
        doubled mark is a name (患者于某某半年前), a single one needs a role word before or a boundary after."""
        before = text[start - 1] if start else ""
        if before == text[start] or self._common_word(before + text[start]):
            return False
        if text[start] not in FUNCTION_SURNAMES:
            return True
        mark = text[start + 1:end]
        if mark not in lexicon.PARTIAL_NAME_MARKS:
            return False  # an honorific: 向医生, 由护士, 和医生
        return len(mark) > 1 or bool(ROLE_BEFORE.search(text, max(0, start - 6), start)) or bool(NAME_END.match(text, end))

    def _sex_after_ok(self, text: str, start: int, end: int) -> bool:
        """成年男性, 白领女性: a dictionary word right before 男性/女性 is not a name (吉林，男，44岁 is)."""
        sex = SEX_WORD.match(text, end)
        if sex is None or not sex.group().endswith("性"):
            return True
        return not any(self.freq.get(text[start:start + n], 0) >= COMMON_FREQ for n in range(2, end - start + 1))

    def _inside_word(self, text: str, start: int) -> bool:
        """Is this role word the tail of a longer word (辅助手段 holds 助手)? Only the left side is checked: on
        the right, role and name often make a word by chance (之女王鑫, 家属于明, 其子孙冬梅)."""
        return start > 0 and self.freq.get(text[start - 1:start + 1], 0) >= COMMON_FREQ

    def _name_after_role(self, text: str, start: int) -> int | None:
        """End of the name right after a role word, or None. Character rules, no segmentation: the given name
        is two characters unless the second one starts the next word (王芳代诉, 陈明陪同)."""
        match = SURNAME.match(text, start)
        if match is None:
            return None  # the role word ends the text
        surname = match.group()
        if any(text.startswith(term, start) for term in self.protected_by_char.get(text[start], ())):
            return None  # 患者高热, 患者周身, 患者陈述
        first = start + len(surname)
        if first >= len(text) or not HAN.match(text[first]) or text[first] in STOP_AFTER_NAME:
            return None
        if surname in FUNCTION_SURNAMES:
            return self._bounded_name(text, start, first)
        second = first + 1
        end = second
        if (second < len(text) and HAN.match(text[second]) and text[second] not in STOP_AFTER_NAME
                and (not self._common_word(text[second:second + 2]) or NAME_END_WORD.match(text, second + 1))
                and self._may_be_given(text[first:second + 1])):  # 程志明代诉: 明代 is a word, 代诉 wins
            end = second + 1
        head = text[start:first + 1]
        if self._common_word(head) and not (  # 医生关照：, 母亲高兴地说, 患者钱包丢失 are not names, but
                any(NAME_END.match(text, e) for e in {first + 1, end})  # 黎明，男 (a noun), 家属初春梅（
                and (self.tags.get(head) in GIVEN_TAGS or end > first + 1 or NAME_END_WORD.match(text, end))):
            return None  # ... and 其子高欢陪同 (a verb in the dictionary) are
        return end

    def _may_be_given(self, given: str) -> bool:
        """Can this two-character word be a given name (建国, 海燕, 浩然: yes; 帮助, 细胞, 医生: no)?"""
        if not self._common_word(given):
            return True
        tag = self.tags.get(given)
        return tag in GIVEN_TAGS and not (tag == "n" and self.freq[given] >= COMMON_NOUN_FREQ)

    def _bounded_name(self, text: str, start: int, first: int) -> int | None:
        """A name whose surname is mostly a function word (于, 向, 由 ...): neither the surname with the next
        character nor the given name may be an ordinary word (于是, 成功, 于今日, 于外地, 向医生), and the name
        must end at a clear boundary (患者于强，男; 姓名：向宇航　性别; 患者向秋菊平素体健)."""
        if (text[first] in NOT_GIVEN_FIRST or self._common_word(text[start:first + 1])
                or self._common_word(text[start:first + 2])):
            return None
        if not self._may_be_given(text[first:first + 2]):
            return None
        for end in (first + 2, first + 1):
            if (all(HAN.match(ch) and ch not in STOP_AFTER_NAME for ch in text[first:end])
                    and len(text[first:end]) == end - first and NAME_END.match(text, end)):
                return end
        return None

    def _tagged_name_at(self, text: str, start: int) -> int | None:
        """End of the name jieba's POS tagger reads at `start` in its clause (nr*, 2-4 chars), or None."""
        lo = hi = start
        while lo > 0 and not CLAUSE_BREAK.match(text[lo - 1]):
            lo -= 1
        while hi < len(text) and not CLAUSE_BREAK.match(text[hi]):
            hi += 1
        position, words = lo, self.tagger.lcut(text[lo:hi])
        for i, (word, tag) in enumerate(words):
            if position == start:
                if tag in NAME_TAGS and 2 <= len(word) <= 4:
                    return start + len(word)
                following = words[i + 1] if i + 1 < len(words) else None
                if word in SURNAME_SET and following and following.flag in NAME_TAGS and len(following.word) <= 2:
                    return start + len(word) + len(following.word)  # 王/nr + 金兰/nr
                return None
            if position > start:
                return None
            position += len(word)
        return None

    def _common_word(self, word: str) -> bool:
        """A frequent dictionary word that is not a name (周身, 陈述, 高血压 from the protected list)."""
        return self.freq.get(word, 0) >= COMMON_FREQ and self.tags.get(word, "n") not in NAME_TAGS

    def _result(self, start: int, end: int, score: float, rule: str) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            "rule": rule})


def propagate(texts: list[str], findings: list[list]) -> list[list[tuple[int, int]]]:
    """Spans of further occurrences, in any of `texts` (one record), of the full names found in them: a name
    found once with context (患者王建国) is masked where it stands alone too (王建国诉头痛)."""
    names = {text[f.start:f.end] for text, found in zip(texts, findings, strict=True) for f in found
             if f.entity_type == "PERSON" and 2 <= f.end - f.start <= 4}
    names = {name for name in names if not any(mark in name for mark in lexicon.PARTIAL_NAME_MARKS)}
    extra: list[list[tuple[int, int]]] = []
    for text, found in zip(texts, findings, strict=True):
        covered = {i for f in found for i in range(f.start, f.end)}
        spans = []
        for name in names:
            position = text.find(name)
            while position >= 0:
                if position not in covered:
                    spans.append((position, position + len(name)))
                position = text.find(name, position + len(name))
        extra.append(spans)
    return extra
