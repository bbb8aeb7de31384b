"""jieba's default dictionary and part-of-speech table, each read once per process and shared.

Two users segment Chinese text: the card's token-length plot (jieba's default dictionary as it ships) and the
name rules' tagger (cmedins.deid.names: the same dictionary plus medical terms). Each used to read jieba's
dictionary cache on its own (`marshal.load`, ~0.6 CPU-s) and to parse dict.txt for the tags a second time
(~0.26 CPU-s, after `import jieba.posseg` had parsed it for its module-level tagger). Here the dictionary is
loaded once into a tokenizer nobody changes, and a tokenizer that will get words added starts from a copy of it
(~0.01 s): the same FREQ and total a fresh load gives, so the same words.

jieba's own globals (`jieba.dt`, `jieba.posseg.dt`) are never changed here and are not what the users read:
whatever another library does to them cannot change a segmentation of cmedins'.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jieba import Tokenizer
    from jieba.posseg import POSTokenizer


@lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    """jieba's default dictionary, loaded once; shared, so never add words to it (use `private_tokenizer`)."""
    import jieba

    jieba.setLogLevel(60)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def private_tokenizer() -> Tokenizer:
    """A tokenizer of its own over the default dictionary (words may be added), without reading it again."""
    import jieba

    loaded = default_tokenizer()
    tokenizer = jieba.Tokenizer()
    # What Tokenizer.initialize sets after its marshal.load of the same cache file.
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(loaded.FREQ), loaded.total, True
    return tokenizer


@lru_cache(maxsize=1)
def _default_word_tags() -> dict[str, str]:
    """dict.txt's part-of-speech tags. When this call is the process's first import of jieba.posseg (and jieba's
    global dictionary is still the default), the table its import just parsed is taken; otherwise (someone may
    have merged words into it since) it is parsed again, as POSTokenizer does."""
    import jieba

    fresh = "jieba.posseg" not in sys.modules
    import jieba.posseg

    if fresh and jieba.posseg.dt.tokenizer is jieba.dt and jieba.dt.dictionary == jieba.DEFAULT_DICT:
        return dict(jieba.posseg.dt.word_tag_tab)
    return dict(jieba.posseg.POSTokenizer(jieba.Tokenizer()).word_tag_tab)


def pos_tagger(tokenizer: Tokenizer) -> POSTokenizer:
    """`jieba.posseg.POSTokenizer(tokenizer)` for a tokenizer over the default dictionary, without parsing
    dict.txt again: the constructor's two attributes, the tag table a copy of the default one
    (makesure_userdict_loaded then adds the tokenizer's own tagged words, as after the constructor)."""
    import jieba
    import jieba.posseg

    if tokenizer.dictionary != jieba.DEFAULT_DICT:
        return jieba.posseg.POSTokenizer(tokenizer)
    tagger = jieba.posseg.POSTokenizer.__new__(jieba.posseg.POSTokenizer)
    tagger.tokenizer, tagger.word_tag_tab = tokenizer, dict(_default_word_tags())
    return tagger
