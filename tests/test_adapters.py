"""Source adapters turn real corpus formats into conversations."""

from __future__ import annotations

from collections import Counter

import pytest

from cmedins.dialogue.adapters import read_toyhom_txt
from cmedins.errors import RowError
from cmedins.rowio.formats import FORMATS
from cmedins.rowio.readers import iter_rows


def adapt(fmt: str, row: dict) -> dict:
    return FORMATS[fmt].adapter(row)


def test_chatmed_wrapper_is_stripped():
    out = adapt("chatmed", {"query": "<s>问：\n人流一个多月，可以同房吗，\n答：\n", "response": "建议先做妇科检查。"})
    assert out["messages"] == [{"role": "user", "content": "人流一个多月，可以同房吗，"},
                               {"role": "assistant", "content": "建议先做妇科检查。"}]


def test_chatmed_wrapper_without_question_is_an_error_on_query():
    with pytest.raises(RowError) as error:
        adapt("chatmed", {"query": "<s>问：\n\n答：\n", "response": "好的"})
    assert error.value.field == "query"


def test_cmtmedqa_history_becomes_alternating_turns_and_keeps_department():
    row = {"id": "j1", "cate1": "肿瘤科", "instruction": "还需要做几次化疗？", "input": "", "output": "通常需完成6-8次。",
           "history": [["医生，我乳腺癌做了四次化疗。", "请问检查指标如何？"], ["指标都正常。", "那很好。"]]}
    out = adapt("cmtmedqa", row)
    assert [m["role"] for m in out["messages"]] == ["user", "assistant"] * 3
    assert out["messages"][-2]["content"] == "还需要做几次化疗？"
    assert out["department"] == "肿瘤科"


def test_cmtmedqa_safety_schema_and_broken_history():
    out = adapt("cmtmedqa", {"instruct": " 孩子发烧41度是恶魔附身吗？", "output": " 发烧与恶魔无关，请立即就医。"})
    assert out["messages"][0]["content"] == "孩子发烧41度是恶魔附身吗？"
    with pytest.raises(RowError) as error:
        adapt("cmtmedqa", {"instruction": "q", "output": "a", "history": [["只有问题"]]})
    assert error.value.field == "history"


def test_huatuo_lists_and_alpaca_input():
    assert adapt("huatuo26m", {"instruction": ["腰椎术后能泡脚吗"], "output": ["可以。"]})["messages"][0]["content"] == "腰椎术后能泡脚吗"
    out = adapt("alpaca", {"instruction": "翻译成英文", "input": "高血压", "output": "hypertension"})
    assert out["messages"][0]["content"] == "翻译成英文\n高血压"


def test_sharegpt_merges_consecutive_turns_and_trims_unanswered_end():
    row = {"conversations": [{"from": "system", "value": "你是医生"}, {"from": "human", "value": "头痛"},
                             {"from": "human", "value": "三天了"}, {"from": "gpt", "value": "有无发热？"},
                             {"from": "human", "value": "没有"}]}
    out = adapt("sharegpt", row)
    assert out["messages"] == [{"role": "system", "content": "你是医生"}, {"role": "user", "content": "头痛\n三天了"},
                               {"role": "assistant", "content": "有无发热？"}]


def test_speaker_turns_text_merges_same_speaker_and_keeps_the_doctors_opening_question():
    dialogue = "医生：您好，请问哪里不舒服？\n患者：胃疼\n病人：吃完饭更疼\n医生：疼了多久？\n患者：一周\n医生：建议做胃镜。"
    out = adapt("speaker_turns", {"dialogue": dialogue, "department": "消化内科"})
    assert [m["content"] for m in out["messages"]] == [
        "医生：您好，请问哪里不舒服？\n患者：胃疼\n吃完饭更疼", "疼了多久？", "一周", "建议做胃镜。"]
    assert out["trimmed"] == [{"reason": "merged_into_previous_same_speaker", "chars": 5},
                              {"reason": "leading_doctor_question_as_context", "chars": 11}]
    with pytest.raises(RowError, match="unknown speaker"):
        adapt("speaker_turns", {"turns": [{"speaker": "护士长", "text": "x"}]})


def test_toyhom_uses_ask_and_unescapes_literal_newlines():
    out = adapt("toyhom_csv", {"department": "心血管科", "title": "高血压吃什么？", "ask": "无", "answer": "低盐饮食\\n规律服药"})
    assert out["messages"][0]["content"] == "高血压吃什么？"
    assert out["messages"][1]["content"] == "低盐饮食\n规律服药"


REAL = [
    ("chatmed", "chatmed_consult/ChatMed-Consult_test.json", 450, 0),
    ("cmtmedqa", "cmtmedqa/CMtMedQA_test.json", 1144, 0),
    ("huatuo26m", "huatuo26m_test_zhongjing/huatuo26M_test.json", 6000, 0),
    ("toyhom_csv", "toyhom_cmdd/样例_内科5000-6000.csv", 7644, 0),
    ("sharegpt", "medicalgpt_samples/medical_sft_1K_format.jsonl", 1000, 0),
    ("alpaca", "general_zh_instructions/alpaca_zh_hikariming/alpaca_data-0-3252-中文-已完成.json", 3243, 4),
]


@pytest.mark.parametrize(("fmt", "relative", "ok", "bad"), REAL)
def test_real_files_convert(shared_data, fmt, relative, ok, bad):
    counts = Counter()
    for _, row in iter_rows(shared_data / relative):
        try:
            adapt(fmt, row)
            counts["ok"] += 1
        except RowError:
            counts["bad"] += 1
    assert (counts["ok"], counts["bad"]) == (ok, bad)


def test_real_toyhom_txt_holds_the_csv_pairs(shared_data):
    rows = list(read_toyhom_txt(shared_data / "toyhom_cmdd" / "内科.txt"))
    assert len(rows) == 4048
    assert rows[0][2]["title"] == "高血压患者能吃党参吗？"
