"""Signing texts from their lines (cmedins.dedup.lines) gives exactly the whole-text exact hashes and MinHash
signatures, on real public text, on the build's own rows, and on hostile line layouts and Unicode."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from cmedins.dedup.engine import sign_batch
from cmedins.dedup.lines import LineSigner, exact_hash
from cmedins.dedup.normalise import normalise_batch
from cmedins.dedup.signatures import Signer
from tests.test_dedup import edit, patient_question
from tests.test_dedup_banding import _hostile_strings


def _whole_text(texts: list[str], n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The reference: every text normalised and signed whole."""
    normals = normalise_batch(texts)
    exact = np.array([exact_hash(text) if text else 0 for text in normals], dtype=np.uint64)
    return exact, Signer(n, 128, 1).sign(normals)


def _assembling(n: int = 5, **options) -> LineSigner:
    """A signer that assembles every batch from its lines, however few of them repeat."""
    return LineSigner(n, 128, 1, reuse_cutoff=float("inf"), **options)


def _assert_same(signer: LineSigner, texts: list[str]) -> None:
    exact, signatures = signer.sign(texts)
    want_exact, want_signatures = _whole_text(texts, signer.n)
    assert (exact == want_exact).all()
    different = np.flatnonzero((signatures != want_signatures).any(axis=1))
    assert not len(different), f"{len(different)} of {len(texts)} texts signed differently, first at {different[0]}"


def _records(rng: random.Random, count: int) -> list[str]:
    """Record-like texts: sections on their own lines, shared between the texts of one record, blank lines,
    CRLF, short lines and lines with only punctuation."""
    texts = []
    for _ in range(count):
        sections = [f"主诉：{patient_question(rng)[:rng.randint(3, 30)]}", f"现病史：{patient_question(rng)}",
                    "既往史：否认高血压、糖尿病史。", "", "体格检查：T 36.5℃，P 80次/分。", "。", "咳嗽", "\r"]
        for _ in range(rng.randint(1, 6)):  # the tasks of one record share its sections
            lines = rng.sample(sections, rng.randint(1, len(sections)))
            text = rng.choice(["\n", "\r\n", "\n\n"]).join(lines) + "\n" + edit(patient_question(rng), rng, 2)[:20]
            texts.append(text if rng.random() < 0.8 else "\n" + text + "\n")
    return texts


def test_line_signing_equals_whole_text_signing_on_record_like_text():
    rng = random.Random(7)
    signer = _assembling()
    for _ in range(6):  # successive batches reuse the lines learnt before
        _assert_same(signer, _records(rng, 120))


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_line_signing_equals_whole_text_signing_on_hostile_layouts(n):
    """Lines shorter than n, texts shorter than n once normalised, only line breaks, punctuation-only lines
    (normalised to nothing, so two breaks fall on one place), breaks at the start and end, one-character
    lines between breaks (windows straddling two breaks at once)."""
    texts = ["", "\n", "\n\n\n", "a\nb", "ab\ncd\nef\ngh", "一\n二\n三\n四\n五\n六", "，\n。\n、", "短\n",
             "\n患者男性，56岁", "患者男性，56岁\n", "患者\n，\n男性\n\n56岁\n。\n咳嗽三天", "abcdefghij\nk\nlmnopqrst",
             "患者男性56岁咳嗽三天" * 3 + "\n" + "，" * 10 + "\n" + "患者男性56岁咳嗽三天" * 3, "x" * 4, "x" * 5 + "\n",
             "Ｈｂ１２０\nｇ/Ｌ", "\u3000\n\ufeff\n体温↑", "第一行\r\n第二行\r\n"]
    _assert_same(_assembling(n), texts)


def test_line_signing_equals_whole_text_signing_on_hostile_unicode():
    """Characters whose normal form depends on the one before them (a combining mark starting a line composes
    with the previous line's last letter once the break is deleted) must take the whole-text path."""
    rng = random.Random(13)
    signer = _assembling()
    fixed = ["e\n\u0301xyzab", "가\n\u11a8나다라마", "ΟΔΟ\nΣ ΟΔΟΣ", "ｶ\nﾞｷﾞｸﾞｹﾞ", "ﬁ\nİstanbul city"]
    _assert_same(signer, fixed)
    for _ in range(10):
        # lone surrogates taken out: none reaches dedup (the readers replace them with U+FFFD)
        strings = ["".join(char for char in text if not 0xD800 <= ord(char) < 0xE000) for text in _hostile_strings(rng, 300)]
        texts = ["\n".join(strings[i : i + rng.randint(1, 5)]) for i in range(0, 300, 3)]
        _assert_same(signer, texts)


def test_a_full_cache_is_emptied_and_a_batch_larger_than_it_still_signs_right():
    rng = random.Random(17)
    signer = _assembling(capacity=50)
    for size in (10, 40, 200, 5):  # the third batch alone holds more new lines than the cache
        _assert_same(signer, _records(rng, size))
    assert len(signer._slot) <= max(50, len(signer._slot))


def test_a_batch_with_few_repeated_lines_is_signed_whole_with_the_same_result():
    rng = random.Random(23)
    questions = [patient_question(rng) for _ in range(300)]  # one line each, none repeated
    records = _records(rng, 60)  # sections repeated between the texts of a record
    default = LineSigner(5, 128, 1)
    assembled = _assembling()
    _assert_same(default, questions)
    assert not default._slot  # signed whole: nothing learnt
    _assert_same(default, records)
    assert default._slot  # assembled from its lines
    _assert_same(assembled, questions)
    assert len(assembled._slot) == len(set(questions))


def test_sign_batch_is_the_line_signer_except_under_t2s():
    rng = random.Random(19)
    texts = _records(rng, 50) + ["發燒\n三天", "头痛\n五天了"]
    exact, signatures = sign_batch((5, 128, 1, False), texts)
    want_exact, want_signatures = _whole_text(texts)
    assert (exact == want_exact).all() and (signatures == want_signatures).all()
    exact, signatures = sign_batch((5, 128, 1, True), texts)
    normals = normalise_batch(texts, t2s=True)
    assert normals[-2] == "发烧三天"  # OpenCC converts the phrase: the whole-text path
    assert (signatures == Signer(5, 128, 1).sign(normals)).all()


def test_line_signing_equals_whole_text_signing_on_real_public_text(shared_data):
    """Real records (CRLF sections of CCKS 2017, CMB-Clin cases), multi-turn dialogues and QA, in batches."""
    texts = [path.read_text(encoding="utf-8") for path in sorted((shared_data / "ccks2017_emr").rglob("*.txtoriginal.txt"))]
    for case in json.loads((shared_data / "cmb" / "CMB-test-qa.json").read_text("utf-8")):
        texts.append("\n".join(str(value) for value in case.values() if isinstance(value, str)))
    for row in json.loads((shared_data / "cmtmedqa" / "CMtMedQA_test.json").read_text("utf-8")):
        texts.append("\n".join(str(value) for value in row.values() if isinstance(value, str)))
    for row in json.loads((shared_data / "huatuo26m_test_zhongjing" / "huatuo26M_test.json").read_text("utf-8")):
        texts.append("\n".join(row["instruction"] + row["output"]))
    assert len(texts) > 8_000 and sum("\n" in text for text in texts) > 3_000
    signer = _assembling()
    for start in range(0, len(texts), 2048):
        _assert_same(signer, texts[start : start + 2048])
