"""Hospitals known by a proper name alone (仁济医院, 湘雅医院, 同仁医院): no province, city or university in the
name, so the regex recognizer (which needs one) cannot see them.

Evidence combined: a verb of going or being treated right before (于/在/至/到/往/赴/去/入/转/来/从), 2-5 Han
characters, then 医院; and the characters before 医院 read by jieba's POS tagger (the name recognizer's private
dictionary, with the medical terms) as proper nouns only (place ns, person nr*, other proper nz/nt) or as words
the dictionary does not know. Ordinary words (专业医院, 选择医院, 镇上医院, 南方医院 as "a southern hospital") are
rejected, as are the kinds of hospital (儿童医院, 肿瘤医院).
"""

from __future__ import annotations

import re
from functools import cached_property

from presidio_analyzer import EntityRecognizer, RecognizerResult

from cmedins.deid.recognizers import LANGUAGE

VERBS = set("于在至到往赴去入转来从")
PROPER_TAGS = {"ns", "nr", "nrt", "nrfg", "nz", "nt"}
HAN = re.compile(r"[\u4e00-\u9fff]+")
KIND = re.compile(r"中医|西医|儿童|妇幼|妇产|肿瘤|精神|传染|口腔|眼科|骨科|胸科|男科|妇科|儿科|皮肤|肛肠|康复|整形|美容|专科|"
                  r"人民|中心|附属|大型|正规|当地|本地|外地|上级|基层|社区|乡镇|私立|公立|民营|综合|三甲|二甲")


class ProperNameHospitalRecognizer(EntityRecognizer):
    """INSTITUTION for <verb> + proper name + 医院 (see the module docstring)."""

    def __init__(self, score: float = 0.7):
        super().__init__(supported_entities=["INSTITUTION"], name="ProperNameHospitalRecognizer",
                         supported_language=LANGUAGE)
        self.score = score

    def load(self) -> None:
        pass  # the names tagger, on first use (see ChineseNameRecognizer.tagger)

    @cached_property
    def tagger(self):
        from cmedins.deid.names import _tagger

        return _tagger()

    @cached_property
    def freq(self) -> dict[str, int]:
        return self.tagger.tokenizer.FREQ

    def analyze(self, text, entities, nlp_artifacts=None):
        results = []
        position = text.find("医院")
        while position >= 0:
            start = self._name_start(text, position)
            if start is not None:
                results.append(RecognizerResult("INSTITUTION", start, position + 2, self.score, recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
            position = text.find("医院", position + 2)
        return results

    def hits(self, text: str) -> list[tuple[str, int, int, float]]:
        """(entity type, start, end, score) tuples, as the engine collects them."""
        return [(r.entity_type, r.start, r.end, r.score) for r in self.analyze(text, None)]

    def _name_start(self, text: str, end: int) -> int | None:
        """Start of the longest proper name (2-5 chars) before `end` that a verb precedes, or None."""
        for length in (5, 4, 3, 2):
            start = end - length
            if start < 1 or text[start - 1] not in VERBS:
                continue
            part = text[start:end]
            if HAN.fullmatch(part) and not KIND.search(part) and self._proper(part):
                return start
        return None

    def _proper(self, part: str) -> bool:
        tokens = list(self.tagger.cut(part))
        return all(t.flag in PROPER_TAGS or (len(t.word) > 1 and self.freq.get(t.word, 0) == 0) for t in tokens)
