"""Chinese person names: a presidio recognizer that runs jieba part-of-speech tagging only where a name can be.

Full posseg over every note is the slow part of Chinese NER (~100k chars/s). Names start with a surname, so
the recognizer first finds surname characters that are not inside a known word (高血压, 由于, 1周), and tags
only the clauses holding such a candidate. Three rules, strongest first:
1. partial names: a surname plus a masking mark (张某某, 杨XX) or an honorific (王先生, 李主任);
2. role context: 患者/家属/医师/签名 ... then surname + given name, kept unless jieba reads it as a common word;
3. no context: jieba's plain cut proposes rare surname-initial words; the POS tagger, run on those clauses
   only, must tag them `nr` (its precision on clinical text is far better than the cut's alone).
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
# Surname characters that are mostly function words: after a role word they need a second look.
FUNCTION_SURNAMES = set("于由和向时常平成全以从与及在将对为同共应左查但那都来尚可能")
# Characters that end a name: verbs and particles that follow one (王芳代诉, 陈明陪同, 李强等).
STOP_AFTER_NAME = set("代陪等于在因是的和及与诉说称同男女之先医护家住入出就来去到已曾未无有系为被由自经")
ROLE_WORDS = set(lexicon.NAME_PREFIX_CONTEXT)
SURNAME_SET = set(lexicon.SURNAMES) | set(lexicon.COMPOUND_SURNAMES)
# A header line names the patient right before the sex: "马淑英，女，84岁", "姓名 王芳 性别 女".
SEX_AFTER = re.compile(rf"(?<![\u4e00-\u9fff])(?:{_surnames})[\u4e00-\u9fff]{{1,2}}"
                       rf"(?=[，,、\s]*(?:男|女)(?:[，,、\s\d]|性)|\s*性别)")
HAN = re.compile(r"[\u4e00-\u9fff]")


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

    def __init__(self, *, nr_score: float = 0.75, context_score: float = 0.95, partial_score: float = 0.9):
        super().__init__(supported_entities=["PERSON"], name="ChineseNameRecognizer", supported_language=LANGUAGE)
        self.nr_score = nr_score
        self.context_score = context_score
        self.partial_score = partial_score

    def load(self) -> None:
        self.tagger = _tagger()
        self.tokenizer = self.tagger.tokenizer
        self.freq = self.tokenizer.FREQ
        self.tags = self.tagger.word_tag_tab
        self.protected_by_char: dict[str, list[str]] = {}
        for term in lexicon.protected_terms():
            self.protected_by_char.setdefault(term[0], []).append(term)

    def analyze(self, text, entities, nlp_artifacts=None):
        results = [self._result(m.start(), m.end(), self.partial_score, "partial") for m in PARTIAL.finditer(text)
                   if not self._common_word(text[max(m.start() - 1, 0):m.start() + 1])]  # 检查医生, 谢谢医生
        results += [self._result(m.start(), m.end(), self.context_score, "sex_after") for m in SEX_AFTER.finditer(text)]
        taken = {i for r in results for i in range(r.start, r.end)}
        for match in ROLE.finditer(text):
            if match.end() not in taken:
                end = self._name_after_role(text, match.end())
                if end:
                    results.append(self._result(match.end(), end, self.context_score, "role_context"))
                    taken.update(range(match.end(), end))
        candidates = [m.start() for m in SURNAME.finditer(text)
                      if m.start() not in taken and self._may_start_name(text, m.start(), m.end())]
        for tokens in self._cut_clauses(text, candidates):
            results.extend(self._names_in(tokens, set(candidates)))
        return results

    def _name_after_role(self, text: str, start: int) -> int | None:
        """End of the name right after a role word, or None. Character rules, no segmentation: the given name
        is two characters unless the second one starts the next word (王芳代诉, 陈明陪同)."""
        match = SURNAME.match(text, start)
        if match is None:
            return None  # the role word ends the text
        surname = match.group()
        if any(text.startswith(term, start) for term in self.protected_by_char.get(text[start], ())):
            return None  # 患者高热, 患者周身, 患者陈述
        if surname in FUNCTION_SURNAMES and not self._tagged_name_at(text, start):
            return None  # 患者于今日, 患者应该, 病人左足: the tagger must read a name here
        first = start + len(surname)
        if first >= len(text) or not HAN.match(text[first]) or text[first] in STOP_AFTER_NAME:
            return None
        second = first + 1
        if (second < len(text) and HAN.match(text[second]) and text[second] not in STOP_AFTER_NAME
                and not self._common_word(text[second:second + 2])):
            return second + 1
        return second

    def _tagged_name_at(self, text: str, start: int) -> bool:
        """Does jieba's POS tagger read a name (nr*) starting at `start` in its clause?"""
        hi = start
        while hi < len(text) and not CLAUSE_BREAK.match(text[hi]):
            hi += 1
        word, tag = next(iter(self.tagger.lcut(text[start:hi])), ("", "x"))
        return tag in NAME_TAGS and len(word) >= 2

    def _common_word(self, word: str) -> bool:
        """A frequent dictionary word that is not a name (周身, 陈述, 高血压 from the protected list)."""
        return self.freq.get(word, 0) >= COMMON_FREQ and self.tags.get(word, "n") not in NAME_TAGS

    def _may_start_name(self, text: str, start: int, end: int) -> bool:
        """Cheap filter: a name is followed by a Han character and is not part of a common word."""
        if start and text[start - 1].isdigit():
            return False  # 1周, 3月
        if end >= len(text) or not HAN.match(text[end]):
            return False
        spans = ((start, start + 2), (start, start + 3), (start, start + 4), (start - 1, end), (start - 2, end))
        return not any(self._common_word(text[max(lo, 0):hi]) for lo, hi in spans if hi - max(lo, 0) > 1)

    def _cut_clauses(self, text: str, candidates: list[int]):
        """Yield [(start, end, word)] for each clause holding a candidate, once. Plain jieba cut (dictionary +
        4-state HMM) is ~4x faster than posseg's tagger, and the dictionary tags decide the rest."""
        seen: set[int] = set()
        for position in candidates:
            lo = hi = position
            while lo > 0 and not CLAUSE_BREAK.match(text[lo - 1]):
                lo -= 1
            while hi < len(text) and not CLAUSE_BREAK.match(text[hi]):
                hi += 1
            if lo in seen:
                continue
            seen.add(lo)
            tokens, pos = [], lo
            for word in self.tokenizer.cut(text[lo:hi]):
                tokens.append((pos, pos + len(word), word))
                pos += len(word)
            yield tokens

    def _names_in(self, tokens, candidates: set[int]):
        """Names without context. The plain cut proposes (a surname token then a rare 1-2 character token, or
        a rare 2-3 character word starting with a surname); jieba's POS tagger, run on proposing clauses
        only, must then tag it `nr` (merged with an adjacent nr token: 马 + 淑英/nrt). Eponyms (巴氏) are not
        names."""
        proposed = False
        for i, (start, _, word) in enumerate(tokens):
            if start not in candidates or not SURNAME.match(word + "_") or word[0] in FUNCTION_SURNAMES:
                continue
            following = tokens[i + 1][2] if i + 1 < len(tokens) else ""
            if (word in SURNAME_SET and self._given_name(following)) or (
                    len(word) <= 3 and not self.freq.get(word) and not ROLE_WORDS.intersection(
                        word[k:j] for k in range(len(word)) for j in range(k + 2, len(word) + 1))):
                proposed = True
                break
        if not proposed:
            return []
        clause_start = tokens[0][0]
        tagged, pos = [], clause_start
        for word, tag in self.tagger.lcut("".join(t[2] for t in tokens)):
            tagged.append((pos, pos + len(word), word, tag))
            pos += len(word)
        results = []
        for i, (start, end, word, tag) in enumerate(tagged):
            if start not in candidates or word[0] in FUNCTION_SURNAMES:
                continue
            following = tagged[i + 1] if i + 1 < len(tagged) else None
            if word in SURNAME_SET and following and following[3] in NAME_TAGS and following[1] - following[0] <= 2:
                end = following[1]
            elif not (tag in NAME_TAGS and 2 <= len(word) <= 4 and SURNAME.match(word + "_")):
                continue
            name = "".join(t[2] for t in tagged if start <= t[0] < end)
            if name.endswith("氏") or self._common_word(name):
                continue
            results.append(self._result(start, end, self.nr_score, "jieba_nr"))
        return results

    def _given_name(self, word: str) -> bool:
        """One or two Han characters that are not a common word and not a clinical word."""
        return (1 <= len(word) <= 2 and all(HAN.match(ch) for ch in word) and word[0] not in STOP_AFTER_NAME
                and not self._common_word(word) and (len(word) == 2 or not self.freq.get(word, 0) > 50_000))

    def _result(self, start: int, end: int, score: float, rule: str) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, score, recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            "rule": rule})
