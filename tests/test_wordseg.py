"""jieba's dictionary read once per process (cmedins.wordseg) changes no segmentation: the card's token counts are
today's global jieba's, and the names tagger is the one a fresh load of the dictionary plus the medical terms
gave. The tagger is built on first use, so the engine that cleans a recipe's free texts skips it when no rule
needs it, and still masks a name when one does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmedins import wordseg
from cmedins.deid import lexicon
from cmedins.publish.plots import jieba_words
from tests.support.fresh_process import run_probe


def real_texts(shared_data: Path, limit: int = 300) -> list[str]:
    """Consultations (query and answer) and inpatient record sections, as the card's rows hold them."""
    texts: list[str] = []
    lines = (shared_data / "chatmed_consult" / "ChatMed-Consult_test.json").read_text(encoding="utf-8").splitlines()
    for line in lines[:limit // 2]:
        row = json.loads(line)
        texts += [row["query"], row["response"]]
    notes = sorted((shared_data / "ccks2017_emr" / "data_origin").rglob("*.txtoriginal.txt"))[:limit // 2]
    texts += [path.read_text(encoding="utf-8") for path in notes]
    return texts


def fresh_names_tagger():
    """The names tagger as cmedins.deid.names built it before the shared load: its own read of everything."""
    import jieba
    import jieba.posseg

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for term in lexicon.protected_terms():
        tokenizer.add_word(term, freq=max(tokenizer.FREQ.get(term, 0), 2000), tag="n")
    tagger = jieba.posseg.POSTokenizer(tokenizer)
    tagger.makesure_userdict_loaded()
    return tagger


def test_the_plots_word_counts_are_the_global_jiebas(shared_data):
    import jieba

    texts = real_texts(shared_data)
    texts += ["", "  \n", "患者 Zhang San，男，45岁。\r\n血压 120/80mmHg，HbA1c 6.5%。", texts[0] + texts[0]]
    count = jieba_words()
    assert [count(text) for text in texts] == [sum(1 for w in jieba.cut(text) if w.strip()) for text in texts]
    assert [count(text) for text in texts] == [sum(1 for w in jieba.cut(text) if w.strip()) for text in texts]


def test_the_names_tagger_is_a_fresh_loads(shared_data):
    from cmedins.deid.names import _tagger

    shared, fresh = _tagger(), fresh_names_tagger()
    assert shared.tokenizer.FREQ == fresh.tokenizer.FREQ and shared.tokenizer.total == fresh.tokenizer.total
    assert shared.word_tag_tab == fresh.word_tag_tab
    for text in real_texts(shared_data, limit=120):
        assert [tuple(pair) for pair in shared.cut(text)] == [tuple(pair) for pair in fresh.cut(text)]
        assert shared.lcut(text, HMM=False) == fresh.lcut(text, HMM=False)


def test_a_private_tokenizer_leaves_the_shared_dictionary_as_it_was():
    import jieba

    before = dict(wordseg.default_tokenizer().FREQ)
    private = wordseg.private_tokenizer()
    private.add_word("王建国医生", freq=5000, tag="n")
    assert "王建国医生" in private.FREQ and "王建国医生" not in wordseg.default_tokenizer().FREQ
    assert before == wordseg.default_tokenizer().FREQ
    assert wordseg.pos_tagger(private).word_tag_tab is not wordseg.pos_tagger(private).word_tag_tab
    assert wordseg.default_tokenizer() is not jieba.dt  # jieba's globals are never the shared one


def test_the_tag_table_parsed_again_is_the_one_posseg_imported():
    import jieba.posseg

    # This process imported jieba.posseg before (not fresh): the table is parsed again, as POSTokenizer does.
    assert wordseg._default_word_tags.__wrapped__() == jieba.posseg.POSTokenizer(jieba.Tokenizer()).word_tag_tab


PROBE = """
import json, sys
from cmedins.deid.gate import clean_free_texts
from cmedins.deid import names
plain = clean_free_texts(["/tmp/cmedins-bench/build-22000-full-local"], where="recipe")
built_for_plain = names._tagger.cache_info().currsize
prompt = clean_free_texts([sys.argv[1]], where="system prompt")
print(json.dumps({"plain": plain, "built_for_plain": built_for_plain, "prompt": prompt,
                  "built": names._tagger.cache_info().currsize}))
"""


def test_free_texts_go_through_the_whole_engine_and_the_tagger_only_when_a_rule_needs_it(tmp_path):
    prompt = "李建国教授认为：患者王建国，男，58岁，联系电话：13912345678，住院号：ZY2023001。"
    result = run_probe(PROBE, prompt, tmp_path)
    assert result["plain"] == ["/tmp/cmedins-bench/build-22000-full-local"] and result["built_for_plain"] == 0
    (cleaned,) = result["prompt"]
    for value in ("李建国", "王建国", "13912345678", "ZY2023001"):
        assert value not in cleaned, cleaned
    assert "教授认为" in cleaned and result["built"] == 1  # the cue rule read the tagger, built then


@pytest.fixture(autouse=True)
def _quiet_jieba():
    import jieba

    jieba.setLogLevel(60)


def test_a_prepared_engine_has_built_the_tagger(deid_engine):
    from cmedins.deid import names

    deid_engine.prepare()
    assert names._tagger.cache_info().currsize == 1
    assert all("tagger" in vars(r) for r in deid_engine.recognizers if hasattr(type(r), "tagger"))
