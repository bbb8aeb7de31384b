"""Score-ranked multi-model preference data (six models' answers to one prompt, each scored 1-10 by GPT-4,
a common public shape): explicit tie rule, margin threshold, provenance on every row, and a reward-model vote
that cannot reverse a clear judge margin (a reply that parrots the patient must never become `chosen`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cmedins.cli import app
from cmedins.contracts.schema import DPORow
from cmedins.errors import RowError
from cmedins.preference.ranked import PairingRule, adjacent_pairs
from cmedins.preference.sources import scored_responses
from cmedins.rowio.readers import iter_rows

MODELS = ("gpt-4", "chatgpt", "huatuogpt", "chatglm2", "doctorglm", "bentsao")
# One prompt per row; scores as GPT-4 gives them (many equal); `rm` a length-loving reward model that likes the
# parroting reply best. The parroting reply repeats the patient's own words and says nothing.
QUESTION_1 = "我今年45岁，最近一周胸口闷痛，爬楼梯时明显，休息几分钟能缓解，有高血压病史，这是怎么回事？需要做什么检查？"
ROWS = [
    {"question": QUESTION_1, "responses": [
        {"model": "gpt-4", "score": 9, "rm": 0.61, "response": "活动时胸闷痛、休息可缓解，加上高血压病史，要警惕稳定型心绞痛。建议尽快到心内科就诊，做心电图、运动负荷试验或冠脉CTA，查血脂血糖；若胸痛持续超过15分钟不缓解或伴出汗，立即拨打120。"},
        {"model": "chatgpt", "score": 8, "rm": 0.55, "response": "您的症状可能与心脏供血不足有关，建议到医院心内科做心电图和心脏彩超，平时控制血压，避免剧烈活动。"},
        {"model": "huatuogpt", "score": 8, "rm": 0.52, "response": "考虑冠心病心绞痛可能，需要完善心电图、心肌酶和冠脉造影等检查，明确诊断后规范治疗。"},
        {"model": "chatglm2", "score": 6, "rm": 0.40, "response": "胸闷可能是心脏问题，也可能是肺部或胃食管反流引起的，建议去医院检查一下。"},
        {"model": "doctorglm", "score": 6, "rm": 0.35, "response": "可能是劳累引起的，注意休息，多喝水。"},
        {"model": "bentsao", "score": 2, "rm": 0.93, "response": "您今年45岁，最近一周胸口闷痛，爬楼梯时明显，休息几分钟能缓解，有高血压病史，您想知道这是怎么回事、需要做什么检查。您最近一周胸口闷痛，爬楼梯时明显。"},
    ]},
    {"question": "宝宝8个月，发烧39度，精神还可以，能用什么退烧药？", "responses": [
        {"model": "gpt-4", "score": 9, "rm": 0.50, "response": "8个月宝宝体温39℃可用对乙酰氨基酚或布洛芬混悬滴剂，按体重给药，两次间隔不少于4-6小时；不要用阿司匹林。若发热超过3天、精神差、抽搐或呼吸急促，请立即就医。"},
        {"model": "chatgpt", "score": 9, "rm": 0.47, "response": "可以按说明书剂量给宝宝用布洛芬或对乙酰氨基酚退热，多喂水，观察精神状态，持续高热要及时就医。"},
        {"model": "huatuogpt", "score": 7, "rm": 0.44, "response": "可以口服美林（布洛芬混悬液），同时物理降温，注意补充水分。"},
        {"model": "chatglm2", "score": 7, "rm": 0.41, "response": "建议物理降温为主，温水擦浴，体温不降再用药。"},
        {"model": "doctorglm", "score": 3, "rm": 0.38, "response": "可以用酒精擦身体降温，效果很快。"},
        {"model": "bentsao", "score": 1, "rm": 0.70, "response": "宝宝8个月，发烧39度，精神还可以，能用什么退烧药？宝宝8个月发烧39度，精神还可以。"},
    ]},
]
PARROTING = {row["responses"][-1]["response"] for row in ROWS}


def test_scored_source_keeps_texts_apart_from_scores_and_names_bad_fields():
    row = scored_responses(ROWS[0])
    assert row["kind"] == "ranking" and row["responses"][0].startswith("活动时胸闷痛")
    assert row["response_meta"][5] == {"model": "bentsao", "score": 2.0, "rm": {"rm": 0.93}}
    with pytest.raises(RowError) as error:
        scored_responses({"question": "头痛", "responses": [{"model": "a", "response": "休息"}, {"response": "x", "score": 1}]})
    assert error.value.field == "responses[0].score"


def test_equal_scores_never_become_a_pair_and_are_counted():
    pairs, dropped = adjacent_pairs(scored_responses(ROWS[0]))  # 9, 8, 8, 6, 6, 2
    assert [(p["chosen_model"], p["rejected_model"], p["score_margin"]) for p in pairs] == [
        ("gpt-4", "chatgpt", 1.0), ("huatuogpt", "chatglm2", 2.0), ("doctorglm", "bentsao", 4.0)]
    assert dropped == {"tied_scores": 2}
    assert all(p["decided_by"] == "score" and p["chosen_score"] > p["rejected_score"] for p in pairs)
    assert pairs[2]["scores"] == {"rm_chosen": 0.35, "rm_rejected": 0.93}


def test_next_lower_rule_and_margin_threshold():
    rule = PairingRule(ties="next_lower", min_margin=2.0)
    pairs, dropped = adjacent_pairs(scored_responses(ROWS[1]), rule)  # 9, 9, 7, 7, 3, 1
    assert [(p["chosen_model"], p["rejected_model"]) for p in pairs] == [
        ("gpt-4", "huatuogpt"), ("chatgpt", "huatuogpt"), ("huatuogpt", "doctorglm"), ("chatglm2", "doctorglm"),
        ("doctorglm", "bentsao")]
    assert dropped == {} and min(p["score_margin"] for p in pairs) == 2.0
    pairs, dropped = adjacent_pairs(scored_responses(ROWS[1]), PairingRule(min_margin=3.0))
    assert [p["score_margin"] for p in pairs] == [4.0] and dropped == {"tied_scores": 2, "below_min_margin": 2}
    with pytest.raises(ValueError):
        PairingRule(ties="keep")


def _build(tmp_path: Path, rm_vote: str) -> tuple[list[dict], dict]:
    source = tmp_path / "scored.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    recipe = tmp_path / "spf.yaml"
    recipe.write_text(f"""
name: scored-test
seed: 3
sources:
  - {{name: six_models, format: scored_responses, path: scored.jsonl, license: Apache-2.0}}
stages:
  - spf_deid: {{}}
  - spf_resolve: {{}}
  - adjacent_pairs: {{ties: drop, min_margin: 2}}
  - rm_vote: {rm_vote}
  - dpo_rows: {{}}
split: {{validation: 0.0}}
""", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["prefs", "build", str(recipe), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [row for _, row in iter_rows(out / "data" / "train-00000-of-00001.parquet")]
    return rows, json.loads((out / "stats.json").read_text(encoding="utf-8"))


def test_build_keeps_provenance_and_never_chooses_the_parroting_reply(tmp_path):
    # SF-Med's 10% flip, asked for explicitly: the weakest RM margins are the parroting pairs (the RM likes
    # them), yet their GPT-4 margin is clear, so they stay as judged.
    rows, stats = _build(tmp_path, "{models: [rm], flip_fraction: 0.34, drop_fraction: 0.0}")
    assert len(rows) == 5
    for row in rows:
        DPORow.model_validate(row)
        assert row["chosen"][0]["content"] not in PARROTING
        assert row["chosen_score"] - row["rejected_score"] == row["score_margin"] >= 1
        assert row["decided_by"] == "score" and row["flipped"] is False and row["chosen_model"] in MODELS[:5]
    parrot = [r for r in rows if r["rejected"][0]["content"] in PARROTING]
    assert [(r["chosen_model"], r["rejected_model"]) for r in parrot] == [("doctorglm", "bentsao")] * 2
    assert parrot[0]["rm_margin"] < 0  # the reward model preferred the parrot
    adjacent = stats["preference"]["adjacent_pairs"]
    assert adjacent == {"pairs": 5, "ties": "drop", "min_margin": 2.0, "candidate_pairs": 10,
                        "dropped_pairs": {"tied_scores": 4, "below_min_margin": 1}}
    assert stats["preference"]["rm_vote"]["flipped"] == 0 and stats["preference"]["rm_vote"]["flip_protected"] == 1
    assert stats["rows"]["input"] == 2 and stats["rows"]["kept"] == 5


def test_unprotected_flip_would_have_made_the_parrot_chosen(tmp_path):
    # What the old default did: with no judge margin protecting the pairs, the same vote swaps a parroting
    # pair. This is the failure the clear_margin rule prevents.
    rows, stats = _build(tmp_path, "{models: [rm], flip_fraction: 0.34, drop_fraction: 0.0, clear_margin: 10}")
    flipped = [r for r in rows if r["flipped"]]
    assert stats["preference"]["rm_vote"]["flipped"] == 1
    assert flipped[0]["chosen"][0]["content"] in PARROTING and flipped[0]["chosen_model"] == "bentsao"
    assert flipped[0]["score_margin"] < 0 and flipped[0]["rm_margin"] > 0
