"""Dedup building blocks: normalisation, shingles, signatures (vs datasketch), LSH clusters, keep rule."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash

from cmedins.dedup.engine import EXACT, KEPT, NEAR, DedupIndex, DedupParams
from cmedins.dedup.normalise import normalise
from cmedins.dedup.select import parse_selection, select_text
from cmedins.dedup.shingles import hash_shingles, shingle_hash32, shingle_hash64, shingles
from cmedins.dedup.signatures import EMPTY, Signer
from cmedins.errors import CmedinsError
from tests.support.cli import run_cli

DISEASES = ["高血压", "糖尿病", "冠心病", "慢性胃炎", "支气管哮喘", "甲状腺结节", "痛风", "乙肝", "偏头痛", "肾结石"]
DRUGS = ["阿司匹林", "二甲双胍", "硝苯地平", "奥美拉唑", "布地奈德", "左甲状腺素", "别嘌醇", "恩替卡韦", "布洛芬"]
SYMPTOMS = ["头晕乏力", "胸闷气短", "上腹部隐痛", "夜间咳嗽", "关节红肿", "口干多饮", "腰部绞痛", "反酸烧心"]


def patient_question(rng: random.Random) -> str:
    """A realistic consultation question of ~80-120 characters."""
    age, days = rng.randint(18, 85), rng.randint(2, 30)
    disease, drug, symptom, other = rng.choice(DISEASES), rng.choice(DRUGS), rng.choice(SYMPTOMS), rng.choice(SYMPTOMS)
    return (f"医生您好，我今年{age}岁，有{disease}病史{rng.randint(1, 20)}年，一直在吃{drug}，"
            f"最近{days}天出现{symptom}，有时还会{other}，血压{rng.randint(110, 180)}/{rng.randint(60, 110)}，"
            f"请问需要调整用药吗？需要做哪些检查？平时饮食要注意什么？")


def edit(text: str, rng: random.Random, substitutions: int) -> str:
    """A near-duplicate: a few characters substituted and punctuation/spacing changed, as reposts do."""
    chars = list(text)
    for position in rng.sample(range(len(chars)), substitutions):
        chars[position] = rng.choice("的了吗呢啊很也")
    return " ".join("".join(chars).replace("，", ",").split("？"))


# --- normalisation and shingles ---------------------------------------------------------------------------

def test_normalise_folds_width_punctuation_space_and_case():
    assert normalise("高血压患者，可以吃阿司匹林吗？\r\n Ｈｂ１２０ｇ/Ｌ\u3000体温↑\ufeff") == "高血压患者可以吃阿司匹林吗hb120gl体温↑"
    assert normalise("高血压患者可以吃阿司匹林吗") == normalise("高血压 患者,可以吃阿司匹林吗?")


def test_t2s_folds_traditional_into_simplified():
    from cmedins.dedup import normalise as module

    module._traditional_to_simplified.cache_clear()
    assert normalise("高血壓患者可以吃阿司匹林嗎", t2s=True) == normalise("高血压患者可以吃阿司匹林吗")
    assert normalise("高血壓", t2s=False) != normalise("高血压")


def test_vectorised_shingle_hashes_match_the_reference_per_text():
    texts = ["高血压患者可以吃阿司匹林吗", "头痛", "", "abcdeabcde", "糖尿病患者可以吃二甲双胍吗"]
    hashes, offsets = hash_shingles(texts, 5)
    assert offsets.tolist() == [0, 9, 10, 10, 16, 25]
    for i, text in enumerate(texts):
        got = sorted(set(hashes[offsets[i]:offsets[i + 1]].tolist()))
        assert got == sorted(shingle_hash64(s) for s in shingles(text, 5))


def test_signatures_equal_datasketch_minhash_bit_for_bit():
    rng = random.Random(3)
    texts = [normalise(patient_question(rng)) for _ in range(20)] + ["头痛", "高血压患者可以吃阿司匹林吗"]
    signatures = Signer(n=5, num_perm=128, seed=1).sign(texts)
    for text, signature in zip(texts, signatures, strict=True):
        reference = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash32)
        reference.update_batch(sorted(shingles(text, 5)))
        assert np.array_equal(reference.hashvalues, signature)


def test_empty_text_gets_an_empty_signature():
    assert (Signer(num_perm=16).sign([""]) == EMPTY).all()


def test_estimated_jaccard_is_close_to_exact_jaccard():
    rng = random.Random(7)
    signer = Signer(n=5, num_perm=256)
    errors = []
    for substitutions in (0, 2, 4, 8, 12, 20, 30, 45):
        for _ in range(8):
            a = normalise(patient_question(rng))
            b = normalise(edit(a, rng, min(substitutions, len(a) - 1)))
            exact = len(shingles(a, 5) & shingles(b, 5)) / len(shingles(a, 5) | shingles(b, 5))
            sig_a, sig_b = signer.sign([a, b])
            errors.append(abs(float((sig_a == sig_b).mean()) - exact))
    # Standard error of a 256-permutation estimate is at most 0.031.
    assert max(errors) < 0.11
    assert float(np.mean(errors)) < 0.03


# --- engine -------------------------------------------------------------------------------------------------

def run_engine(tmp_path, texts, *, groups=None, answers=None, ids=None, **params) -> tuple:
    index = DedupIndex(DedupParams(**params), tmp_path / "work")
    for i, text in enumerate(texts):
        index.add(text, group=groups[i] if groups else "s", answer_chars=answers[i] if answers else 0,
                  row_id=ids[i] if ids else f"{i:04d}")
    return index, index.resolve()


def test_planted_near_duplicates_are_found_and_distinct_questions_kept(tmp_path):
    rng = random.Random(11)
    originals = list(dict.fromkeys(patient_question(rng) for _ in range(300)))
    copies = [edit(text, rng, 1) for text in originals[:100]]  # exact Jaccard 0.84-0.9
    exact_copies = [text.replace("，", ", ") for text in originals[100:130]]  # punctuation only: exact after normalising
    _, result = run_engine(tmp_path, originals + copies + exact_copies)
    status = result.status
    assert (status[: len(originals)] == KEPT).all()  # no distinct question lost
    assert (status[len(originals) : len(originals) + 100] == NEAR).sum() == 100
    assert (result.kept[len(originals) : len(originals) + 100][status[len(originals) : len(originals) + 100] == NEAR]
            == np.arange(100)[status[len(originals) : len(originals) + 100] == NEAR]).all()
    assert (status[len(originals) + 100 :] == EXACT).all()
    assert result.kept[len(originals) + 100 :].tolist() == list(range(100, 130))


def test_questions_sharing_a_template_are_kept_apart(tmp_path):
    templated = [f"{disease}患者可以吃{drug}吗" for disease, drug in zip(DISEASES, DRUGS, strict=False)]
    templated += [f"{disease}患者可以吃{drug}吗？我已经吃了三天了，还要继续吃吗？" for disease, drug
                  in zip(DISEASES, DRUGS[::-1], strict=False)]
    assert "高血压患者可以吃阿司匹林吗" in templated and "糖尿病患者可以吃二甲双胍吗" in templated
    _, result = run_engine(tmp_path, templated)
    assert (result.status == KEPT).all()


def test_keep_rule_longest_answer_then_smallest_id_whatever_the_order(tmp_path):
    question = "医生您好，我有高血压十年了，一直吃硝苯地平，最近头晕乏力，需要换药吗？"
    rows = [("b2", question, 40), ("a1", question + "谢谢", 40), ("c3", question, 10), ("d4", "痛风能喝啤酒吗，尿酸高", 5)]
    kept_ids = []
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        ordered = [rows[i] for i in order]
        index, result = run_engine(tmp_path / str(order), [r[1] for r in ordered], answers=[r[2] for r in ordered],
                                   ids=[r[0] for r in ordered])
        kept_ids.append(sorted(r[0] for r, s in zip(ordered, result.status, strict=True) if s == KEPT))
        names = result.kept_ids(index.ids_path)
        assert {names[int(k)] for k in result.kept[result.status != KEPT]} == {"a1"}
    assert kept_ids == [["a1", "d4"]] * 3


def test_per_source_scope_leaves_cross_source_duplicates_to_the_global_pass(tmp_path):
    rng = random.Random(5)
    question = patient_question(rng)
    texts, groups = [question, question, question, edit(question, rng, 2)], ["a", "a", "b", "b"]
    _, per_source = run_engine(tmp_path / "p", texts, groups=groups, scopes=("per_source",))
    assert per_source.status.tolist() == [KEPT, EXACT, KEPT, NEAR]
    _, both = run_engine(tmp_path / "g", texts, groups=groups, scopes=("per_source", "global"))
    assert both.status.tolist() == [KEPT, EXACT, EXACT, NEAR]
    assert both.scope.tolist() == [-1, 0, 1, 0]
    assert both.stats["scopes"]["global"] == {"exact": 1, "near": 0, "clusters": 1}


def test_rows_without_text_take_no_part(tmp_path):
    _, result = run_engine(tmp_path, [None, "", "，。", None])
    assert (result.status == KEPT).all() and result.stats["candidates"] == 0


def test_bad_params_are_named():
    with pytest.raises(CmedinsError, match="threshold"):
        DedupParams(threshold=1.5)
    with pytest.raises(CmedinsError, match="scope"):
        DedupParams(scopes=("everywhere",))


# --- text selection ------------------------------------------------------------------------------------------

def test_text_selection_per_task_kind():
    row = {"task": "diagnosis", "query": "主诉：头痛三天", "answer": "偏头痛",
           "messages": [{"role": "system", "content": "你是医生"}, {"role": "user", "content": "请诊断：主诉：头痛三天"},
                        {"role": "assistant", "content": "偏头痛"}]}
    selection = parse_selection(None, stage="dedup")
    assert selection["diagnosis"] == "query_answer" and selection["dialogue_multi"] == "user"
    assert select_text(row, "query_answer") == "主诉：头痛三天\n偏头痛"
    assert select_text(row, "user") == "请诊断：主诉：头痛三天"
    assert select_text(row, "conversation") == "请诊断：主诉：头痛三天\n偏头痛"
    assert parse_selection({"general": "conversation"}, stage="dedup")["general"] == "conversation"
    with pytest.raises(CmedinsError, match="unknown task 'chat'"):
        parse_selection({"chat": "user"}, stage="dedup")


def test_dedup_names_an_unreadable_line_too(tmp_path, monkeypatch, capsys):
    source = tmp_path / "qa.jsonl"
    source.write_text('{"text": "头痛三天"}\n{"text": "未闭合\n', encoding="utf-8")
    code, _, stderr = run_cli(monkeypatch, capsys, "dedup", source, "--out", tmp_path / "d.jsonl", "--field", "text")
    assert code == 2 and stderr.strip().startswith(f"error: {source}, row 2: invalid JSON at column ")
    assert not (tmp_path / "d.jsonl").exists()
